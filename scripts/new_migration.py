"""Autogenerate the next Alembic revision from the models: scripts/new_migration.py "message"."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from models.migrate import alembic_config


def main() -> None:
    """Upgrade a scratch SQLite database to head, then diff it against the models."""
    message = sys.argv[1] if len(sys.argv) > 1 else "schema change"
    with tempfile.TemporaryDirectory() as tmp:
        cfg = alembic_config(f"sqlite+aiosqlite:///{Path(tmp) / 'scratch.db'}")
        command.upgrade(cfg, "head")
        head = ScriptDirectory.from_config(cfg).get_current_head() or "0000"
        command.revision(cfg, message=message, autogenerate=True, rev_id=f"{int(head) + 1:04d}")


if __name__ == "__main__":
    main()
