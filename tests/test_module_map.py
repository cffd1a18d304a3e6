"""docs/DEVELOPING.md's module map names every module of the packages once, and nothing else."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("supervision", "notifier", "bot", "web", "duban", "models", "testing")
#: Not modules with a rule of their own: Alembic's revisions and environment.
SKIPPED = ("models/migrations/",)


def _modules() -> set[str]:
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = path.relative_to(ROOT).as_posix()
            if name == f"{package}/__init__.py" or name.startswith(SKIPPED):
                continue
            found.add(name)
    return found


def _mapped() -> list[str]:
    text = (ROOT / "docs" / "DEVELOPING.md").read_text(encoding="utf-8")
    section = text.split("\n## Module map\n", 1)[1].split("\n## ", 1)[0]
    entries, package = [], None
    for line in section.splitlines():
        if heading := re.fullmatch(r"\*\*(\w+)/\*\*", line):
            package = heading.group(1)
        elif entry := re.match(r"- `([\w/]+\.py)`: \S", line):
            assert package is not None, line
            entries.append(f"{package}/{entry.group(1)}")
    return entries


def test_every_module_is_in_the_map_once() -> None:
    mapped = _mapped()
    assert len(mapped) == len(set(mapped)), "a module is listed twice"
    assert sorted(_modules() - set(mapped)) == [], "add these to docs/DEVELOPING.md's map"
    assert sorted(set(mapped) - _modules()) == [], "these are gone: drop them from the map"
