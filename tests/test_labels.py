"""The glossary (supervision.labels) is the one source of the domain's words, and what uses it
says them the same way: web pages, bot, CLI, message templates."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import string
from datetime import date
from enum import Enum, StrEnum
from pathlib import Path

import pytest

import models
from bot import texts
from models import (
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Decision,
    ItemState,
    Notification,
    ReportKind,
    Role,
    Source,
    StepKind,
)
from notifier.context import ContextConfig, build_context
from notifier.templating import MessageContext, Renderer, sample_context
from notifier.templating.filters import days_phrase_for
from supervision import labels
from supervision.calendar import WorkCalendar
from supervision.errors import ValidationFailed
from supervision.light import DUE_SOON_WORKING_DAYS, Light, light_for
from supervision.outbox import notify_person
from supervision.policy import DEFAULT_LADDER, StepSpec, build_policy, reply_within
from testing import factories as f
from web.i18n import GLOSSARY_KEYS, STRINGS

ROOT = Path(__file__).resolve().parent.parent


def _model_enums() -> list[type[StrEnum]]:
    return [
        obj
        for _, obj in inspect.getmembers(models, inspect.isclass)
        if issubclass(obj, StrEnum) and obj is not StrEnum
    ]


# --- the catalogue ----------------------------------------------------------------------


@pytest.mark.parametrize("enum", list(labels.CATALOGUE), ids=lambda e: e.__name__)
def test_every_member_has_a_chinese_and_an_english_word(enum: type[StrEnum]) -> None:
    words = labels.CATALOGUE[enum]
    assert set(words) == set(enum), f"{enum.__name__}: the catalogue and the enum differ"
    for member in enum:
        zh, en = words[member]
        assert zh.strip() and en.strip(), member
        assert re.search(r"[\u4e00-\u9fff]", zh) or zh == "Telegram", (member, zh)
        assert not re.search(r"[\u4e00-\u9fff]", en), (member, en)
        assert labels.label(member, "zh") == zh and labels.label(member, "en") == en


def test_every_domain_enum_of_the_models_is_in_the_catalogue() -> None:
    missing = [e.__name__ for e in _model_enums() if e not in labels.CATALOGUE]
    assert missing == []
    assert Light in labels.CATALOGUE


def test_the_glossary_words() -> None:
    """The office's words (issue #12 §6), one pair each."""
    zh = {m: labels.label(m) for m in StepKind}
    assert [zh[k] for k in (StepKind.REMIND, StepKind.URGE, StepKind.OVERDUE)] == [
        "提醒",
        "催办",
        "逾期督办",
    ]
    assert zh[StepKind.ESCALATE] == "升级督办"
    assert labels.labels(ItemState) == {
        "open": "办理中",
        "completion_requested": "办结待审核",
        "closed": "已办结",
        "cancelled": "已撤销",
    }
    assert labels.labels(Decision) == {"approve": "同意", "reject": "退回"}
    assert labels.label(ReportKind.COMPLETION) == "办结报告"
    assert labels.label(Light.GREY) == "已办结"
    assert labels.label(Role.PRINCIPAL) == "主要负责同志"


def test_the_glossary_page_lists_the_catalogue() -> None:
    page = (ROOT / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    for enum, words in labels.CATALOGUE.items():
        assert f"### `{enum.__name__}`" in page
        for value, (zh, en) in words.items():
            assert f"| `{value}` | {zh} | {en} |" in page, (enum.__name__, value)


def test_every_audited_action_and_entity_has_its_words() -> None:
    """The timeline names each audit event from the catalogue: a new ``action=``/``entity=``
    written anywhere must be added to AuditAction/AuditEntity (and get its words)."""
    written: dict[str, set[str]] = {"action": set(), "entity": set()}
    for folder in ("bot", "web", "notifier", "supervision", "duban"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            for field, value in re.findall(r'\b(action|entity)="([a-z_.]+)"', text):
                written[field].add(value)
    written["action"] -= {"store_true", "store_false", "append", "count"}  # argparse's
    assert written["action"] <= set(AuditAction)
    assert written["entity"] <= set(AuditEntity)


def test_unknown_stored_values_show_as_they_are() -> None:
    assert labels.label_of(Source, "from_mars") == "from_mars"
    assert labels.label_of(Source, None) == ""
    assert labels.label_of(Source, "mailbox", "en-GB") == "governor's mailbox"
    assert labels.step_label("overdue") == "逾期督办"
    assert labels.step_label("invite", "en") == "invitation"
    assert labels.step_label("no_such_kind") == "no_such_kind"


def test_one_days_phrase_for_bot_and_templates() -> None:
    for n in (3, 1, 0, -1, -2):
        for locale in ("zh", "en"):
            phrase = labels.days_phrase(n, locale)
            assert texts.days_phrase(locale, n) == phrase
            assert days_phrase_for(n, locale) == phrase
    assert labels.days_phrase(3) == "剩余3个工作日"
    assert labels.days_phrase(0) == "今日到期"
    assert labels.days_phrase(-2) == "已逾期2个工作日"
    assert labels.days_phrase(1, "en") == "1 working day left"


def test_pages_bot_and_buttons_use_the_catalogue() -> None:
    for prefix, enum in GLOSSARY_KEYS:
        for member in enum:
            zh, en = STRINGS[prefix + member]
            assert zh == labels.label(member, "zh")
            assert en == labels.label(member, "en", alone=True)
    assert STRINGS["source.proposal"] == ("建议提案", "Deputies' proposal")
    assert texts.light_label("zh", Light.GREY) == "⚪ 已办结"
    assert texts.decision_label("en", Decision.REJECT) == "Return"


#: words the glossary replaced; none may be shown to anyone again
RETIRED = ("批准", "驳回", "按时办结率")
#: where a retired word is only read, never shown: people still write 批准/驳回 in e-mail
#: replies, and the reply parser understands them as 同意/退回
READ_ONLY = {"supervision/mail_parsing.py"}


def test_retired_words_appear_nowhere_a_user_could_see_them() -> None:
    found = []
    for folder in ("bot", "web", "notifier", "supervision", "duban", "templates"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in {".py", ".j2", ".html"}:
                continue
            if path.relative_to(ROOT).as_posix() in READ_ONLY:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{path.relative_to(ROOT)}: {w}" for w in RETIRED if w in text]
    assert found == []


# --- the sample context follows the real rules --------------------------------------------


def test_the_sample_light_is_the_real_rule() -> None:
    """The preview's light comes from supervision.light: 4 or 5 working days before the
    deadline is green (the rule's "due soon" is 3), 1 day is yellow, after it red."""
    assert DUE_SOON_WORKING_DAYS == 3
    lights = {s: sample_context(s).assignment for s in ("remind", "urge", "overdue")}
    assert {s: a.light for s, a in lights.items() if a} == {
        "remind": "green",
        "urge": "yellow",
        "overdue": "red",
    }
    remind = lights["remind"]
    assert remind is not None and remind.days_left > DUE_SOON_WORKING_DAYS
    assert remind.light_label == "绿灯"
    calendar = WorkCalendar()
    due = date(2026, 11, 12)
    assert (
        light_for(
            state="open",
            due_on=due,
            today=calendar.add_workdays(due, -DUE_SOON_WORKING_DAYS).day,
            last_report_on=date(2026, 11, 1),
            started_on=date(2026, 10, 9),
            calendar=calendar,
        )
        == Light.YELLOW
    )


def test_the_sample_numbers_of_days_come_from_the_default_policy() -> None:
    ctx = sample_context("remind")
    assert not _enums_in(ctx)
    assert ctx.item is not None and ctx.item.default_due_days == 30
    assert ctx.reply_within_days == reply_within(DEFAULT_LADDER, "remind") == 4
    assert sample_context("escalate").reply_within_days is None
    assert sample_context("remind", "en").item.source_label == "leader's instruction"  # type: ignore[union-attr]


# --- messages -----------------------------------------------------------------------------


@pytest.mark.parametrize("channel", ["wecom", "dingtalk", "feishu"])
async def test_a_group_robot_addresses_the_unit_without_tongzhi(channel: str) -> None:
    ctx = dataclasses.replace(sample_context("remind"), recipient_name="市住房和城乡建设局")
    message = await Renderer().render("remind", channel, "zh", ctx)
    assert "市住房和城乡建设局：" in message.text
    assert "同志：" not in message.text


@pytest.mark.parametrize("channel", ["telegram", "email", "wecom", "log"])
async def test_no_message_greets_or_urges_a_blank_name(channel: str) -> None:
    """「请同志督促落实」 and a bare 「同志：」 cannot be written."""

    def nameless(step: str) -> MessageContext:
        ctx = sample_context(step)
        assert ctx.assignment is not None
        blank = dataclasses.replace(ctx.assignment, leader_name="")
        return dataclasses.replace(ctx, recipient_name="", assignment=blank)

    for step in ("remind", "overdue", "escalate", "review_outcome"):
        message = await Renderer().render(step, channel, "zh", nameless(step))
        for text in (message.text, message.html or ""):
            assert "请同志" not in text and "\n同志：" not in text and ">同志：" not in text
            assert not text.startswith("同志")
    overdue = await Renderer().render("overdue", "telegram", "zh", nameless("overdue"))
    assert "请分管领导督促落实" in overdue.text


async def test_a_person_is_still_addressed_as_tongzhi() -> None:
    message = await Renderer().render("remind", "telegram", "zh", sample_context("remind"))
    assert "王建国同志：" in message.text


async def test_decisions_and_lights_in_messages_use_the_glossary() -> None:
    outcome = sample_context("review_outcome")
    message = await Renderer().render("review_outcome", "telegram", "zh", outcome)
    assert "审核结果</b>：同意" in message.text
    assert outcome.review is not None
    returned = dataclasses.replace(
        outcome, review=dataclasses.replace(outcome.review, decision="rejected")
    )
    message = await Renderer().render("review_outcome", "email", "zh", returned)
    assert "审核结果：退回" in message.text
    log = await Renderer().render("review_outcome", "log", "zh", returned)
    assert "·退回]" in log.text
    english = dataclasses.replace(returned, words=labels.words("en"))
    in_english = await Renderer().render("review_outcome", "telegram", "en", english)
    assert "has been returned" in in_english.text
    assert "延期申请" in message.text
    closed = sample_context("remind")
    assert closed.assignment is not None
    closed = dataclasses.replace(
        closed,
        assignment=dataclasses.replace(closed.assignment, light="grey", light_label="已办结"),
    )
    message = await Renderer().render("remind", "telegram", "zh", closed)
    assert "（已办结）" in message.text


def _enums_in(value: object) -> list[object]:
    """The enum members anywhere inside a context's views."""
    if isinstance(value, Enum):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [e for fd in dataclasses.fields(value) for e in _enums_in(getattr(value, fd.name))]
    if isinstance(value, dict):
        return [e for k, v in value.items() for e in (*_enums_in(k), *_enums_in(v))]
    if isinstance(value, list | tuple):
        return [e for v in value for e in _enums_in(v)]
    return []


async def _overdue_context(session, clock, *, offsets: tuple[int, int], due_days: int):  # type: ignore[no-untyped-def]
    """An overdue row for an item of a policy whose overdue and escalate steps are at
    ``offsets`` and whose default deadline is ``due_days`` working days."""
    overdue, escalate = offsets
    policy = build_policy(
        "领导批示",
        Source.INSTRUCTION,
        False,
        (
            StepSpec(StepKind.REMIND, -5, ("owner",), ("chat",)),
            StepSpec(StepKind.OVERDUE, overdue, ("owner",), ("chat",)),
            StepSpec(StepKind.ESCALATE, escalate, ("principal",), ("chat",)),
        ),
    )
    policy.due_working_days = due_days
    session.add(policy)
    unit = await f.unit(session)
    owner = await f.person(session, unit=unit, roles={Role.OWNER}, telegram_user_id=78)
    item = await f.item(session, source=Source.INSTRUCTION, due_on=date(2026, 10, 28))
    item.due_is_default = True
    a = await f.assignment(session, item=item, unit=unit, owner=owner)
    [row_id] = await notify_person(
        session,
        person=owner,
        kind="overdue",
        key=f"a{a.id}:overdue:t",
        channels=["chat"],
        not_before=clock.now(),
        now=clock.now(),
        assignment_id=a.id,
        item_id=item.id,
        payload={"step": "overdue"},
    )
    await session.commit()
    row = await session.get_one(Notification, row_id)
    return await build_context(
        session, row, config=ContextConfig(), clock=clock, calendar=WorkCalendar()
    )


async def test_days_in_an_overdue_message_come_from_the_items_policy(session, clock) -> None:
    built = await _overdue_context(session, clock, offsets=(1, 5), due_days=20)
    ctx = built.context
    assert ctx.reply_within_days == 4
    assert ctx.item is not None and ctx.item.default_due_days == 20
    assert ctx.assignment is not None and ctx.assignment.role_label == "主办"
    assert ctx.assignment.light_label == labels.label(Light(ctx.assignment.light))
    assert ctx.words["decision"]["approved"] == "同意"
    assert not _enums_in(ctx), "views travel to render workers, which do not load the models"
    message = await Renderer().render("overdue", "telegram", "zh", ctx)
    assert "于收到本通知后4个工作日内报送" in message.text
    assert "按20个工作日计" in message.text
    assert "2个工作日内" not in message.text and "按30个工作日计" not in message.text


def test_a_co_unit_is_named_with_the_catalogues_word() -> None:
    assert labels.co_marked("市教育局", AssignmentRole.CO) == "市教育局（协办）"
    assert labels.co_marked("市教育局", AssignmentRole.LEAD) == "市教育局"
    assert labels.co_marked("Education", "co", "en") == "Education (co-operating unit)"


def test_a_co_units_duty_and_deadline_are_the_catalogues_words() -> None:
    zh, en = labels.words("zh"), labels.words("en")
    assert zh["duty"] == {"lead": "承办", "co": "协办（配合办理）"}
    assert zh["deadline"] == {"lead": "完成时限", "co": "反馈时限"}
    assert en["deadline"]["lead"] == "Deadline"
    page = (ROOT / "docs" / "GLOSSARY.md").read_text(encoding="utf-8")
    for name, table in (("DUTY", labels.DUTY), ("DEADLINE", labels.DEADLINE)):
        assert f"### `{name}`" in page
        for role, (zh_word, en_word) in table.items():
            assert f"| `{role}` | {zh_word} | {en_word} |" in page


# --- sentences: the bot, WeCom and e-mail answers say them from the catalogue --------------

#: modules that speak to people (bot, WeCom, e-mail answers, message buttons) and must take
#: every word from the catalogue
SPEAKERS = [
    *sorted((ROOT / "bot").glob("*.py")),
    ROOT / "supervision" / "wecom_replies.py",
    ROOT / "supervision" / "mail_replies.py",
    # the use-cases whose refusals those answers pass on
    ROOT / "supervision" / "requests.py",
    ROOT / "supervision" / "reports.py",
    ROOT / "supervision" / "mail_decisions.py",
    ROOT / "notifier" / "channels" / "telegram.py",  # the buttons under messages
]
HAN = re.compile(r"[\u4e00-\u9fff]")


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the docstring nodes of a module, its classes and functions."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def chinese_literals(source: str) -> list[str]:
    """The string literals of ``source`` (f-string parts included) that hold Chinese,
    docstrings and comments aside."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in skip
        and HAN.search(node.value)
    ]


def test_the_check_finds_a_chinese_literal_and_spares_docstrings() -> None:
    source = '"""模块说明."""\n# 注释\ndef f():\n    """函数说明."""\n    return f"已取消 {x}"\n'
    assert chinese_literals(source) == ["已取消 "]
    assert chinese_literals('x = "cancel"  # 取消\n') == []


@pytest.mark.parametrize("path", SPEAKERS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_speakers_write_no_chinese_of_their_own(path: Path) -> None:
    """Every word the bot and the WeCom dialogs say is a catalogue entry (labels.SENTENCES,
    labels.CATALOGUE), never a literal in the module."""
    assert chinese_literals(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("sentence", list(labels.Sentence), ids=str)
def test_every_sentence_has_a_chinese_and_an_english_text(sentence: labels.Sentence) -> None:
    zh, en = labels.SENTENCES[sentence]
    assert HAN.search(zh) and en.strip() and not HAN.search(en), sentence
    fields = {name for _, name, _, _ in string.Formatter().parse(zh) if name}
    en_fields = {name for _, name, _, _ in string.Formatter().parse(en) if name}
    # the month's heading names the month in English only
    assert fields - {"month"} == en_fields - {"month_name"}, sentence
    assert labels.say(sentence, "zh", **dict.fromkeys(fields | en_fields, "x")).strip()


def test_sentences_are_keyed_by_the_catalogue_only() -> None:
    assert set(labels.SENTENCES) == set(labels.Sentence)


def test_the_bot_escapes_values_into_the_catalogues_sentence() -> None:
    said = texts.say("zh", labels.Sentence.GREET, name="<b>王</b>")
    assert said == labels.say(labels.Sentence.GREET, "zh", name="&lt;b&gt;王&lt;/b&gt;")
    assert texts.say("en-US", labels.Sentence.CANCELLED) == "Cancelled."


def test_a_refusal_is_said_in_each_readers_language() -> None:
    error = labels.refusal(ValidationFailed, labels.Sentence.DEADLINE_PASSED, due="2026-12-01")
    zh = "完成时限 2026-12-01 已过，不能再申请延期。"
    en = "The deadline 2026-12-01 has passed; no extension can be asked now."
    assert str(error) == f"{zh} ({en})" and error.errors == [str(error)]  # logs and the API
    assert labels.told(error, "zh") == zh and labels.told(error, "en") == en
    assert texts.told("zh", error) == "未完成：" + zh
    assert labels.told(ValidationFailed("原样"), "en") == "原样"  # not from the catalogue


def test_several_problems_are_listed_and_said_in_each_language() -> None:
    error = labels.refusals(
        ValidationFailed,
        [
            (labels.Sentence.NEW_DATE_NOT_LATER, {"due": "2026-12-01"}),
            (labels.Sentence.EXTENSION_REASON_REQUIRED, {}),
        ],
    )
    assert error.errors == [
        "新的完成时限须晚于 2026-12-01 (The new deadline must be later than 2026-12-01)",
        "请说明延期原因 (A reason is required)",
    ]
    assert labels.told(error, "zh") == "新的完成时限须晚于 2026-12-01；请说明延期原因"
    assert labels.told(error, "en-GB") == (
        "The new deadline must be later than 2026-12-01; A reason is required"
    )
