"""The bot edge's own configuration, built by the composition root from the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from zoneinfo import ZoneInfo

from supervision.labels import Sentence, say


@dataclass(frozen=True)
class BotConfig:
    """What the bot needs: token and API server, the office's zone and name, limits."""

    token: str = field(repr=False)
    api_base: str | None = None
    username: str | None = None
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    office_name: str = field(default_factory=lambda: say(Sentence.OFFICE))
    base_url: str = "http://127.0.0.1:8080"
    edit_window: timedelta = timedelta(hours=48)
    max_attempts: int = 5
