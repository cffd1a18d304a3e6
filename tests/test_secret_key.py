"""The services refuse to start with the built-in or a short ``DUBAN_SECRET_KEY``."""

from __future__ import annotations

import pytest

from duban.cli import main
from duban.settings import DEV_SECRET_KEY, SettingsError, load_settings

GOOD_KEY = "a-long-random-secret-key-of-48-characters-abcdef"


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A clean environment in an empty directory (no .env of the worktree)."""
    monkeypatch.chdir(tmp_path)
    for name in ("DUBAN_SECRET_KEY", "DUBAN_TELEGRAM_TOKEN", "DUBAN_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DUBAN_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path}/k.db")
    return monkeypatch


@pytest.mark.parametrize("command", ["run", "worker", "bot"])
@pytest.mark.parametrize("key", [None, DEV_SECRET_KEY, "short-key"])
def test_services_refuse_a_default_or_short_key(env, capsys, command, key):
    if key is not None:
        env.setenv("DUBAN_SECRET_KEY", key)
    assert main([command]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "DUBAN_SECRET_KEY" in err
    assert "Traceback" not in err
    if key is not None:
        assert key not in err  # the secret is never echoed


def test_a_good_key_passes_the_check(env, capsys):
    env.setenv("DUBAN_SECRET_KEY", GOOD_KEY)
    load_settings().security.require_secret_key()
    # Past the key check, each command stops at its next requirement instead.
    assert main(["worker"]) == 2
    assert "DUBAN_REDIS_URL" in capsys.readouterr().err
    assert main(["bot"]) == 2
    assert "DUBAN_TELEGRAM_TOKEN" in capsys.readouterr().err


def test_the_check_names_the_setting():
    with pytest.raises(SettingsError, match="DUBAN_SECRET_KEY"):
        load_settings(secret_key="x" * 31).security.require_secret_key()
    load_settings(secret_key="x" * 32).security.require_secret_key()


def test_other_commands_still_work_with_the_default_key(env):
    assert main(["init"]) == 0
