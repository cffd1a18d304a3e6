"""Settings: defaults, validation with one clear line, secrets never printed."""

from __future__ import annotations

import pytest

from duban.settings import SettingsError, load_settings, parse_smtp_url


def test_defaults(monkeypatch):
    for key in ("DUBAN_DATABASE_URL", "DUBAN_REDIS_URL", "DUBAN_WEB_PORT"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings(_env_file=None)
    assert s.database_url == "sqlite+aiosqlite:///./duban.db"
    assert s.single_process and s.web_port == 8080 and s.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DUBAN_WEB_PORT", "99999", "DUBAN_WEB_PORT"),
        ("DUBAN_DATABASE_URL", "mysql://x", "DUBAN_DATABASE_URL"),
        ("DUBAN_TIMEZONE", "Mars/Base", "DUBAN_TIMEZONE"),
        ("DUBAN_SMTP_URL", "http://x", "DUBAN_SMTP_URL"),
        ("DUBAN_REDIS_URL", "localhost:6379", "DUBAN_REDIS_URL"),
        ("DUBAN_LOG_LEVEL", "chatty", "DUBAN_LOG_LEVEL"),
    ],
)
def test_bad_setting_names_itself(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value)


def test_secrets_are_not_printed(monkeypatch):
    monkeypatch.setenv("DUBAN_TELEGRAM_TOKEN", "123:SECRET-TOKEN")
    monkeypatch.setenv("DUBAN_SMTP_URL", "smtp://u:p%40ss@mail.example:2525?starttls=true")
    s = load_settings(_env_file=None)
    assert "SECRET-TOKEN" not in repr(s) and "p@ss" not in repr(s)
    smtp = s.smtp
    assert smtp is not None and smtp.host == "mail.example" and smtp.port == 2525
    assert smtp.starttls and smtp.username == "u"
    assert smtp.password is not None and smtp.password.get_secret_value() == "p@ss"


def test_smtps_defaults_to_465():
    assert parse_smtp_url("smtps://mail.example").port == 465


@pytest.mark.parametrize(("value", "expected"), [(None, None), ("", None), ("1:T", "1:T")])
def test_bot_token_is_none_when_unset_or_empty(monkeypatch, value, expected):
    monkeypatch.delenv("DUBAN_TELEGRAM_TOKEN", raising=False)
    if value is not None:
        monkeypatch.setenv("DUBAN_TELEGRAM_TOKEN", value)
    assert load_settings(_env_file=None).bot_token == expected
