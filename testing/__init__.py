"""Test support shared by tests/ and bench/: fakes of the network edges, data builders,
databases and services for a run. Part of the project (installed with it) so benchmarks
never import from tests/.

- ``testing.databases``: a PostgreSQL database per run, the schema, emptying tables, Redis.
- ``testing.factories``: small builders for rows, every argument defaulted.
- ``testing.bot_world`` / ``testing.bot_harness``: the bot tests' office and the real
  dispatcher against the fake Bot API.
- ``testing.fakes.telegram``: the fake Telegram Bot API server on 127.0.0.1.
- ``testing.notifier_support``: outbox rows, a fake SMTP server, channel registries.
- ``testing.fault_support``: seeded reminder rows and ``duban worker`` as a child process.
- ``testing.load``: wall-clock limits stretched by the machine's load.
- ``testing.xlsx_files``: hand-built workbooks, hostile ones included.
"""

from supervision.schedule import OFFICE_TZ

#: The office's time zone, in which test clocks and dates are written.
SHANGHAI = OFFICE_TZ

__all__ = ["SHANGHAI"]
