"""``duban bulletin`` (table and --send queuing) and ``duban token`` on both databases."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from duban.cli import build_parser
from duban.runtime import open_runtime
from duban.settings import load_settings
from models import ApiToken, Bulletin, Notification, Role
from testing import factories as f
from tests.test_bulletins import build_dataset
from web.api_tokens import hash_token


async def run(monkeypatch, engine, *argv: str) -> int:
    """Run one sub-command against the test database, in this event loop."""
    monkeypatch.setenv("DUBAN_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    args = build_parser().parse_args(list(argv))
    async with open_runtime(load_settings()) as rt:
        return await args.handler(args, rt)


async def test_bulletin_prints_the_table(monkeypatch, engine, sessions, capsys):
    async with sessions() as s:
        await build_dataset(s)
    code = await run(
        monkeypatch, engine, "bulletin", "--period", "2026-11", "--today", "2026-12-03"
    )
    assert code == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("督查通报 2026年11月 (2026-11: 2026-11-01 – 2026-11-30")
    lead = lines.index("主办排名:") + 2  # the title line, then the header
    table = [line.split() for line in lines[lead : lead + 4]]
    # The rule changed (issue #12 §5): 主办 and 协办 apart, 庚局 with nothing due unranked.
    assert table == [
        ["1", "甲局", "3", "2", "2", "0", "0", "100.0%"],
        ["2", "丁局", "2", "1", "1", "1", "0", "50.0%"],
        ["2", "丙局", "2", "2", "1", "1", "0", "50.0%"],
        ["4", "乙局", "4", "2", "1", "2", "1", "33.3%"],
    ]
    co = lines.index("协办排名:") + 2
    assert lines[co].split() == ["1", "乙局", "1", "0", "0", "1", "0", "0.0%"]
    assert "本期无到期事项: 庚局（主办）" in out
    assert "合计: 交办 13, 按期办结 5, 逾期 5, 延期 1, 按期率 50.0%" in out
    assert "通报表扬 (总结推广): 甲局" in out
    assert "督促整改: 乙局、丁局、丙局" in out
    assert "逾期未办结 19 个工作日" in out
    assert "  乙局: 逾期 3 项 — " in out
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []  # printing stores nothing


async def test_bulletin_send_queues_rows(monkeypatch, engine, sessions, capsys):
    async with sessions() as s:
        await build_dataset(s)
        await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=777)
        await f.person(s, roles={Role.PRINCIPAL})
        await f.person(s, roles={Role.OWNER})
        await s.commit()
    code = await run(
        monkeypatch, engine, "bulletin", "--period", "2026-11", "--today", "2026-12-03", "--send"
    )
    assert code == 0
    out = capsys.readouterr().out
    async with sessions() as s:
        bulletin = (await s.scalars(select(Bulletin))).one()
        rows = (await s.scalars(select(Notification))).all()
    assert f"bulletin #{bulletin.id} (2026年第1期) stored; queued 3 messages to 2 recipients" in out
    assert len(rows) == 3
    assert {r.kind for r in rows} == {"bulletin"}
    assert all(r.payload == {"bulletin_id": bulletin.id} for r in rows)
    assert bulletin.period == "2026-11" and bulletin.sent_at is not None


async def test_bulletin_send_without_recipients_changes_nothing(monkeypatch, engine, sessions):
    from duban.cli import CliError

    with pytest.raises(CliError, match="nobody to send to"):
        await run(monkeypatch, engine, "bulletin", "--period", "2026-11", "--send")
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []


async def test_token_create_list_revoke(monkeypatch, engine, sessions, capsys):
    async with sessions() as s, s.begin():
        await f.person(s, email="ops@office.cn", roles={Role.VIEWER})
    assert (
        await run(
            monkeypatch, engine, "token", "create", "--email", "OPS@office.cn", "--name", "监控"
        )
        == 0
    )
    out = capsys.readouterr().out
    secret = out.split(": ", 1)[1].split()[0]
    assert secret.startswith("dbn_")
    async with sessions() as s:
        token = (await s.scalars(select(ApiToken))).one()
    assert token.token_hash == hash_token(secret) and secret not in token.token_hash
    assert await run(monkeypatch, engine, "token", "list") == 0
    listed = capsys.readouterr().out
    assert "ops@office.cn" in listed and secret not in listed and "active" in listed
    assert await run(monkeypatch, engine, "token", "revoke", str(token.id)) == 0
    assert "revoked" in capsys.readouterr().out
    from duban.cli import CliError
    from supervision.errors import InvalidTransition, NotFound

    with pytest.raises(InvalidTransition):
        await run(monkeypatch, engine, "token", "revoke", str(token.id))
    with pytest.raises(NotFound):
        await run(monkeypatch, engine, "token", "revoke", "999")
    with pytest.raises(CliError, match="no person"):
        await run(monkeypatch, engine, "token", "create", "--email", "x@y.cn", "--name", "n")


def test_bad_period_is_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DUBAN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/z.db"}
    res = subprocess.run(
        [sys.executable, "-m", "duban.cli", "bulletin", "--period", "2026-13"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert res.returncode == 1
    assert res.stderr.strip().count("\n") == 0
    assert "month must be 01-12" in res.stderr and "Traceback" not in res.stderr


def test_a_command_imports_only_its_own_module():
    # `duban bulletin` must start fast: parsing it imports the bulletin command's module and
    # not the importers, alembic or the web app; a module not named after its command
    # (`import` lives in data.py) and --help still get every command.
    probe = (
        "import sys, duban.cli;"
        "a = duban.cli.build_parser('bulletin').parse_args(['bulletin', '--period', '2026-11']);"
        "print(a.period, 'supervision.importing' in sys.modules, 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["2026-11", "False", "False"]
    args = build_parser("import").parse_args(["import", "units", "u.csv"])
    assert args.command == "import"
    assert {"bulletin", "import", "run"} <= set(build_parser(None)._subparsers._actions[-1].choices)


async def test_bulletin_docx(monkeypatch, engine, sessions, capsys, tmp_path):
    from docx import Document

    async with sessions() as s:
        await build_dataset(s)
    target = tmp_path / "通报.docx"
    argv = ["bulletin", "--period", "2026-11", "--today", "2026-12-03", "--docx", str(target)]
    assert await run(monkeypatch, engine, *argv) == 0
    assert f"wrote {target} (督查通报〔2026〕1号)" in capsys.readouterr().out
    doc = Document(str(target))
    lines = [p.text for p in doc.paragraphs if p.text]
    assert lines[:3] == ["督查室", "督查通报〔2026〕1号", "关于2026年11月督查事项办理情况的通报"]
    assert "二〇二六年十二月三日　　　　" in lines
    ranking = [[c.text for c in row.cells] for row in doc.tables[0].rows]
    # the same rows as the printed table (test_bulletin_prints_the_table)
    assert ranking[1] == ["1", "甲局", "3", "2", "2", "0", "0", "100.0%"]
    assert [r[1] for r in ranking[1:]] == ["甲局", "丁局", "丙局", "乙局"]
    monkeypatch.setenv("DUBAN_BULLETIN_COPY_TO", "市委办公室，市政府办公室")
    argv += ["--number", "督查通报〔2026〕9号", "--lang", "en"]
    assert await run(monkeypatch, engine, *argv) == 0
    lines = [p.text for p in Document(str(target)).paragraphs if p.text]
    assert lines[1:3] == ["督查通报〔2026〕9号", "Bulletin on the supervised items of 2026-11"]
    assert "Copy to: 市委办公室, 市政府办公室." in lines


async def test_bulletin_docx_refusals_change_nothing(monkeypatch, engine, sessions, tmp_path):
    from duban.cli import CliError

    async with sessions() as s:
        await build_dataset(s)
        await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=778)
        await s.commit()
    target = tmp_path / "b.docx"
    base = ["bulletin", "--period", "2026-11", "--today", "2026-12-03", "--send"]
    with pytest.raises(CliError, match="发文字号须为 1 至 50 个字符"):
        await run(monkeypatch, engine, *base, "--docx", str(target), "--number", "x" * 51)
    with pytest.raises(CliError, match="cannot write"):
        await run(monkeypatch, engine, *base, "--docx", str(tmp_path / "no" / "b.docx"))
    async with sessions() as s:  # neither stored nor queued
        assert (await s.scalars(select(Bulletin))).all() == []
        assert (await s.scalars(select(Notification))).all() == []
    assert not target.exists()
