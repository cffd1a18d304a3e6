"""Settings: defaults, validation with one clear line, secrets never printed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from duban.settings import Settings, SettingsError, env_names, load_settings, parse_smtp_url

ROOT = Path(__file__).resolve().parent.parent


def test_defaults(monkeypatch):
    for key in ("DUBAN_DATABASE_URL", "DUBAN_REDIS_URL", "DUBAN_WEB_PORT"):
        monkeypatch.delenv(key, raising=False)
    s = load_settings(_env_file=None)
    assert s.database.url == "sqlite+aiosqlite:///./duban.db"
    assert s.single_process and s.web.port == 8080 and s.office.timezone == "Asia/Shanghai"


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("DUBAN_WEB_PORT", "99999", "DUBAN_WEB_PORT"),
        ("DUBAN_DATABASE_URL", "mysql://x", "DUBAN_DATABASE_URL"),
        ("DUBAN_TIMEZONE", "Mars/Base", "DUBAN_TIMEZONE"),
        ("DUBAN_SMTP_URL", "http://x", "DUBAN_SMTP_URL"),
        ("DUBAN_REDIS_URL", "localhost:6379", "DUBAN_REDIS_URL"),
        ("DUBAN_LOG_LEVEL", "chatty", "DUBAN_LOG_LEVEL"),
        ("DUBAN_BULLETIN_NUMBER", "督查通报〔{year}〕号", "DUBAN_BULLETIN_NUMBER"),
        ("DUBAN_BULLETIN_NUMBER", "督查通报{n}{x}", "{n}"),
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
    smtp = s.mail.smtp
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
    assert load_settings(_env_file=None).telegram.bot_token == expected


def test_every_setting_is_documented_in_env_example():
    """.env.example names every setting (set or commented out) under a comment saying what it
    is, so the example cannot drift from the code."""
    example = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    documented = {}
    for i, line in enumerate(example):
        match = re.match(r"^(?:# )?(DUBAN_[A-Z_]+)=", line)
        if match:
            documented[match.group(1)] = example[i - 1]
    assert set(documented) == set(env_names())
    for name, comment in documented.items():
        assert comment.startswith("# ") and not re.match(r"^# DUBAN_", comment), name


def test_env_example_values_are_the_defaults(monkeypatch):
    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    assert load_settings(_env_file=ROOT / ".env.example") == load_settings(_env_file=None)


def test_settings_come_in_groups_under_their_old_names(monkeypatch):
    monkeypatch.setenv("DUBAN_WEB_PORT", "8081")
    monkeypatch.setenv("DUBAN_DELIVERY_CONCURRENCY", "7")
    monkeypatch.setenv("DUBAN_RENDER_WORKERS", "3")
    s = load_settings(_env_file=None, session_idle_minutes=45, telegram_bot_username="bot")
    assert s.web.port == 8081 and s.web.session_idle_minutes == 45
    assert s.notifier.delivery_concurrency == 7 and s.render.workers == 3
    assert s.telegram.bot_username == "bot"
    assert s.web.base_url == "http://127.0.0.1:8081"
    direct = Settings(database_url="sqlite+aiosqlite:///x.db", web_port=9)
    assert direct.database.url == "sqlite+aiosqlite:///x.db" and direct.web.port == 9


def test_wecom_settings_and_notifier_config(monkeypatch):
    from duban.process import notifier_config
    from testing.fakes.wecom import new_aes_key

    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    assert notifier_config(load_settings(_env_file=None)).wecom is None
    key = new_aes_key()
    monkeypatch.setenv("DUBAN_WECOM_CORP_ID", "ww01")
    monkeypatch.setenv("DUBAN_WECOM_AGENT_ID", "1000002")
    monkeypatch.setenv("DUBAN_WECOM_SECRET", "app-secret-value")
    monkeypatch.setenv("DUBAN_WECOM_TOKEN", "cbtoken")
    monkeypatch.setenv("DUBAN_WECOM_AES_KEY", key)
    s = load_settings(_env_file=None)
    assert s.wecom.sending and s.wecom.receiving
    assert "app-secret-value" not in repr(s) and key not in repr(s)
    config = notifier_config(s).wecom
    assert config is not None and config.agent_id == 1000002 and config.secret == "app-secret-value"
    assert "app-secret-value" not in repr(config)
    monkeypatch.setenv("DUBAN_WECOM_AES_KEY", "too-short")
    with pytest.raises(SettingsError, match="43"):
        load_settings(_env_file=None)


def test_dingtalk_and_feishu_settings_and_notifier_config(monkeypatch):
    from duban.process import notifier_config
    from notifier.channels import build_channels
    from supervision.clock import SystemClock

    for name in env_names():
        monkeypatch.delenv(name, raising=False)
    config = notifier_config(load_settings(_env_file=None))
    assert config.dingtalk is None and config.feishu is None
    monkeypatch.setenv("DUBAN_DINGTALK_APP_KEY", "dingkey")
    monkeypatch.setenv("DUBAN_DINGTALK_APP_SECRET", "ding-secret-value")
    monkeypatch.setenv("DUBAN_DINGTALK_AGENT_ID", "3000001")
    monkeypatch.setenv("DUBAN_FEISHU_APP_ID", "cli_x")
    monkeypatch.setenv("DUBAN_FEISHU_APP_SECRET", "feishu-secret-value")
    monkeypatch.setenv("DUBAN_FEISHU_API_BASE", "https://open.larksuite.com")
    monkeypatch.setenv("DUBAN_FEISHU_USER_RATE", "0.2")
    s = load_settings(_env_file=None)
    assert s.dingtalk.sending and s.feishu.sending
    assert "ding-secret-value" not in repr(s) and "feishu-secret-value" not in repr(s)
    config = notifier_config(s)
    assert config.dingtalk is not None and config.dingtalk.agent_id == 3000001
    assert config.feishu is not None and config.feishu.api_base == "https://open.larksuite.com"
    assert config.feishu.user_rate == 0.2 and "feishu-secret-value" not in repr(config)
    channels = build_channels(config, clock=SystemClock())
    assert channels.get("dingtalk_app").kind == "dingtalk_app"
    assert channels.get("feishu_app").kind == "feishu_app"
    monkeypatch.setenv("DUBAN_DINGTALK_AGENT_ID", "not-a-number")
    with pytest.raises(SettingsError, match="DUBAN_DINGTALK_AGENT_ID"):
        load_settings(_env_file=None)
