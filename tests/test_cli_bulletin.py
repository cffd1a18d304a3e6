"""``duban bulletin`` (table and --send queuing) and ``duban token`` on both databases."""

from __future__ import annotations

import re
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
    assert lines[0] == (
        "关于2026年11月督查事项办理情况的通报 (2026-11-01 – 2026-11-30, 统计截至 2026-11-30)"
    )
    lead = lines.index("主办单位排名:") + 2  # the title line, then the header
    assert lines[lead - 1].split() == [
        "排名",
        "单位",
        "交办",
        "办结",
        "按期办结",
        "逾期",
        "延期",
        "按期率",
    ]
    table = [line.split() for line in lines[lead : lead + 4]]
    # The rule changed (issue #12 §5): 主办 and 协办 apart, 庚局 with nothing due unranked.
    assert table == [
        ["1", "甲局", "3", "2", "2", "0", "0", "100.0%"],
        ["2", "丁局", "2", "1", "1", "1", "0", "50.0%"],
        ["2", "丙局", "2", "2", "1", "1", "0", "50.0%"],
        ["4", "乙局", "4", "2", "1", "2", "1", "33.3%"],
    ]
    co = lines.index("协办单位排名:") + 2
    assert lines[co].split() == ["1", "乙局", "1", "0", "0", "1", "0", "0.0%"]
    assert "本期无到期事项: 庚局（主办）" in out
    assert "合计: 交办 13, 按期办结 5, 逾期 5, 延期 1, 按期率 50.0%" in out
    assert "通报表扬（总结推广）: 甲局" in out
    assert "督促整改: 乙局、丁局、丙局" in out
    assert "丁局（主办）, 完成时限 2026-11-03, 逾期未办结, 已逾期19个工作日" in out
    assert re.search(r"\n  乙局：逾期3项，共逾期12个工作日（督〔2026〕\d+号 6个工作日、", out)
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []  # printing stores nothing


# What may stay Chinese in an English printout: unit names, item refs and the stored number.
_NAMES = re.compile(r"[甲乙丙丁庚]局|督〔2026〕\d+号|督查通报〔2026〕\d+号|2026年第\d+期")
_CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def english_only(text: str) -> list[str]:
    """The Chinese characters left in ``text`` once the names it may carry are taken out."""
    return _CJK.findall(_NAMES.sub("", text))


@pytest.mark.parametrize("how", ["office", "flag"])
async def test_bulletin_prints_in_english(monkeypatch, engine, sessions, capsys, how):
    async with sessions() as s:
        await build_dataset(s)
    argv = ["bulletin", "--period", "2026-11", "--today", "2026-12-03"]
    if how == "office":  # the office's language is the default ...
        monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "en")
    else:  # ... and --lang overrides it
        monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "zh")
        argv += ["--lang", "en"]
    assert await run(monkeypatch, engine, *argv) == 0
    out = capsys.readouterr().out
    assert english_only(out) == []
    lines = out.splitlines()
    assert lines[0] == (
        "Bulletin on the supervised items of 2026-11 (2026-11-01 – 2026-11-30, As of 2026-11-30)"
    )
    lead = lines.index("Ranking — lead units:") + 2
    assert lines[lead].split() == ["1", "甲局", "3", "2", "2", "0", "0", "100.0%"]
    assert "Ranking — co-operating units:" in lines
    assert "Nothing due this period (not ranked): 庚局 (lead unit)" in out
    assert "Total: Assigned 13, On time 5, Overdue 5, Extensions 1, On-time rate 50.0%" in out
    assert "丁局 (lead unit), Due 2026-11-03, still open, 19 working days overdue" in out
    assert "Praised (practice to share): 甲局" in out
    assert "Urged to rectify: 乙局, 丁局, 丙局" in out
    assert re.search(
        r"\n  乙局: 3 overdue, 12 working days late in all \(督〔2026〕\d+号 6 working days, ", out
    )


async def test_bulletin_in_the_office_language_when_sent(monkeypatch, engine, sessions, capsys):
    async with sessions() as s:
        await build_dataset(s)
        await f.person(s, roles={Role.SUPERVISOR}, telegram_user_id=779)
        await s.commit()
    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "en")
    argv = ["bulletin", "--period", "2026-11", "--today", "2026-12-03", "--send"]
    assert await run(monkeypatch, engine, *argv) == 0
    out = capsys.readouterr().out
    assert english_only(out) == []
    async with sessions() as s:
        stored = (await s.scalars(select(Bulletin))).one()
    assert (
        f"bulletin #{stored.id} (2026年第1期) stored; queued 2 messages to 1 recipients "
        "(supervisors and unit principals)"
    ) in out


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
    assert f"通报 #{bulletin.id}（2026年第1期）已保存；已向 2 名接收人" in out
    assert "排队发送 3 条消息" in out
    assert len(rows) == 3
    assert {r.kind for r in rows} == {"bulletin"}
    assert all(r.payload == {"bulletin_id": bulletin.id} for r in rows)
    assert bulletin.period == "2026-11" and bulletin.sent_at is not None


async def test_bulletin_send_without_recipients_changes_nothing(monkeypatch, engine, sessions):
    from duban.cli import CliError

    with pytest.raises(CliError, match=r"^没有接收人：请先添加督查人员或单位负责人$"):
        await run(monkeypatch, engine, "bulletin", "--period", "2026-11", "--send")
    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", "en")
    with pytest.raises(CliError, match=r"^nobody to send to: add supervisors or unit principals"):
        await run(monkeypatch, engine, "bulletin", "--period", "2026-11", "--send")
    with pytest.raises(CliError, match=r"^没有接收人"):  # --lang speaks for the office here too
        await run(monkeypatch, engine, "bulletin", "--period", "2026-11", "--send", "--lang", "zh")
    async with sessions() as s:
        assert (await s.scalars(select(Bulletin))).all() == []


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        ("zh", "--today '12/03' 不是日期，应形如 2026-12-03"),
        ("en", "--today '12/03' is not a date"),
    ],
)
async def test_bulletin_bad_today_in_the_office_language(monkeypatch, engine, lang, said):
    from duban.cli import CliError

    monkeypatch.setenv("DUBAN_OFFICE_LOCALE", lang)
    with pytest.raises(CliError) as caught:
        await run(monkeypatch, engine, "bulletin", "--period", "2026-11", "--today", "12/03")
    assert str(caught.value).startswith(said)


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
    assert f"已写入 {target}（督查通报〔2026〕1号）" in capsys.readouterr().out
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
    out = capsys.readouterr().out  # --lang speaks for the printout as for the document
    assert f"wrote {target} (督查通报〔2026〕9号)" in out
    assert english_only(out.replace(str(target), "")) == []  # the file's name is the user's
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
    with pytest.raises(CliError, match=r"^无法写入 .*b.docx："):
        await run(monkeypatch, engine, *base, "--docx", str(tmp_path / "no" / "b.docx"))
    with pytest.raises(CliError, match=r"^cannot write .*b.docx: "):
        await run(
            monkeypatch, engine, *base, "--docx", str(tmp_path / "no" / "b.docx"), "--lang", "en"
        )
    with pytest.raises(
        CliError, match=r"^The document number must be one line of 1 to 50 characters"
    ):
        await run(
            monkeypatch, engine, *base, "--docx", str(target), "--number", "x" * 51, "--lang", "en"
        )
    async with sessions() as s:  # neither stored nor queued
        assert (await s.scalars(select(Bulletin))).all() == []
        assert (await s.scalars(select(Notification))).all() == []
    assert not target.exists()
