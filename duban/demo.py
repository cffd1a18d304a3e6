"""Demo data: a provincial supervision office with units, people and items (``duban demo``).

Idempotent: units and people go through the import, items are created only when their ref
is missing, and the reports, the extension and the reviews come only with a new item. Dates
are relative to the runtime clock, so the lights are mixed on any day. A bulletin of the month
of the demo's completion is issued (not sent) once, with a praised and an urged unit.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models import (
    Assignment,
    AssignmentRole,
    Bulletin,
    Extension,
    Item,
    ItemState,
    Origin,
    Person,
    Report,
    ReportKind,
    ReviewState,
    Source,
    Unit,
)
from supervision.access import scope_for
from supervision.accounts import hash_password
from supervision.audit import Actor, record
from supervision.bulletins import compute_bulletin, freeze_bulletin
from supervision.calendar import WorkCalendar
from supervision.clock import Clock, local_today
from supervision.errors import ValidationFailed
from supervision.importing import ImportResult, import_rows
from supervision.items import (
    AssigneeSpec,
    ItemContext,
    ItemSpec,
    SaveOutcome,
    list_items,
    save_item,
)
from supervision.lifecycle import transition_assignment
from supervision.light import Light
from supervision.milestones import MilestoneSpec, add_milestone, complete_milestone
from supervision.periods import parse_period
from supervision.policy import ensure_default_policies
from supervision.tabular import Table

DEMO_PASSWORD = "duban-demo"  # noqa: S105 -- the documented demo login, not a secret
DOMAIN = "demo.gov.cn"

UNITS: tuple[tuple[str, str, str], ...] = (
    ("SZF", "省人民政府", ""),
    ("DCS", "省政府办公厅督查室", "SZF"),
    ("FGW", "省发展和改革委员会", "SZF"),
    ("JYT", "省教育厅", "SZF"),
    ("CZT", "省财政厅", "SZF"),
    ("ZJT", "省住房和城乡建设厅", "SZF"),
    ("WJW", "省卫生健康委员会", "SZF"),
    ("NJ", "南京市人民政府", "SZF"),
    ("NJ-JN", "南京市江宁区人民政府", "NJ"),
    ("SZ", "苏州市人民政府", "SZF"),
    ("XZ", "徐州市人民政府", "SZF"),
)

# name, email user, unit, roles
PEOPLE: tuple[tuple[str, str, str, str], ...] = (
    ("张伟", "zhangwei", "FGW", "owner"),
    ("李娜", "lina", "FGW", "liaison"),
    ("王强", "wangqiang", "FGW", "leader"),
    ("刘洋", "liuyang", "FGW", "principal"),
    ("陈静", "chenjing", "NJ", "owner;liaison"),
    ("杨磊", "yanglei", "NJ", "leader"),
    ("赵敏", "zhaomin", "NJ", "principal"),
    ("黄勇", "huangyong", "JYT", "owner;liaison"),
    ("周芳", "zhoufang", "JYT", "leader;principal"),
    ("吴涛", "wutao", "CZT", "owner;liaison"),
    ("徐丽", "xuli", "CZT", "leader;principal"),
    ("孙杰", "sunjie", "ZJT", "owner;liaison"),
    ("马红", "mahong", "ZJT", "leader;principal"),
    ("朱琳", "zhulin", "WJW", "owner;liaison"),
    ("胡军", "hujun", "WJW", "leader;principal"),
    ("郭鹏", "guopeng", "SZ", "owner;liaison"),
    ("何玲", "heling", "SZ", "leader;principal"),
    ("高飞", "gaofei", "XZ", "owner;liaison"),
    ("林雪", "linxue", "XZ", "leader;principal"),
    ("罗斌", "luobin", "NJ-JN", "owner;liaison;leader;principal"),
    ("郑华", "zhenghua", "DCS", "supervisor"),
    ("梁晨", "liangchen", "DCS", "supervisor"),
    ("宋佳", "songjia", "DCS", "viewer"),
)
LOGIN_USERS = ("zhenghua", "liangchen", "songjia")
#: people bound to WeCom (企业微信) in the demo, by their userid (the e-mail user): reminders
#: reach them as cards, and they answer in WeCom (``scripts/demo --with-fakes``)
WECOM_USERS = ("zhangwei", "lina", "chenjing", "huangyong", "luobin", "zhenghua")
OWNER_OF = {
    "FGW": "zhangwei",
    "NJ": "chenjing",
    "JYT": "huangyong",
    "CZT": "wutao",
    "ZJT": "sunjie",
    "WJW": "zhulin",
    "SZ": "guopeng",
    "XZ": "gaofei",
    "NJ-JN": "luobin",
}
LEADER_OF = {
    "FGW": "wangqiang",
    "NJ": "yanglei",
    "JYT": "zhoufang",
    "CZT": "xuli",
    "ZJT": "mahong",
    "WJW": "hujun",
    "SZ": "heling",
    "XZ": "linxue",
    "NJ-JN": "luobin",
}


@dataclass(frozen=True, slots=True)
class DemoItem:
    """One demo item; days are calendar days relative to today (due None: the default rule)."""

    n: int
    title: str
    source: Source
    lead: str
    received_ago: int
    due_in: int | None
    co: tuple[str, ...] = ()
    urgent: bool = False
    objective: str = ""
    content: str = ""
    reports_ago: tuple[int, ...] = ()  # progress reports, days ago
    extra: str = ""  # "extension", "completion" or "closed"
    # 阶段性节点 of the lead unit: (name, due in days, done days ago or None while open).
    milestones: tuple[tuple[str, int, int | None], ...] = ()


ITEMS: tuple[DemoItem, ...] = (
    DemoItem(
        1,
        "贯彻落实国务院常务会议部署的稳经济一揽子政策措施",
        Source.MEETING,
        "FGW",
        55,
        -6,
        co=("CZT", "NJ"),
        objective="政策措施全部落地见效，按时报告贯彻落实情况",
        content="制定实施细则，明确责任分工和时间节点，按月调度进展",
        reports_ago=(30,),
        extra="extension",
    ),
    DemoItem(
        2,
        "省长批示：加快推进保障性住房建设",
        Source.INSTRUCTION,
        "ZJT",
        20,
        2,
        co=("NJ", "SZ"),
        urgent=True,
        objective="年底前完成年度保障性住房开工任务",
        content="作为急件送主要负责同志阅批，指定分管领导牵头办理，报告办理结果",
        reports_ago=(4,),
    ),
    DemoItem(
        3,
        "政府工作报告年度重点工作目标分解：推进义务教育优质均衡发展",
        Source.ANNUAL_TASK,
        "JYT",
        60,
        None,
        objective="目标分解、任务细化、明确时序进度",
        content="将年度重点工作分解到责任处室，明确责任领导和工作要求",
    ),
    DemoItem(
        4,
        "人大代表建议办理：加强基层医疗卫生服务能力",
        Source.PROPOSAL,
        "WJW",
        40,
        25,
        objective="按时答复代表，做到件件有落实",
        content="与代表沟通对接，提出办理意见并反馈",
        reports_ago=(12, 3),
    ),
    DemoItem(
        5,
        "政协委员提案办理：持续优化营商环境",
        Source.PROPOSAL,
        "FGW",
        35,
        30,
        co=("SZ",),
        objective="提案办理满意率达到100%",
        content="梳理营商环境短板，提出整改措施并答复委员",
        reports_ago=(2,),
    ),
    DemoItem(
        6,
        "省长信箱来信办理：反映小区加装电梯审批难问题",
        Source.MAILBOX,
        "NJ",
        8,
        None,
        co=("ZJT",),
        objective="及时回复来信群众，解决实际问题",
        content="核实情况，简化审批流程，向来信人反馈办理结果",
    ),
    DemoItem(
        7,
        "联合督查：与省委督查室联合督查乡村振兴重点任务推进情况",
        Source.MEETING,
        "XZ",
        45,
        10,
        co=("NJ-JN",),
        objective="形成联合督查报告，推动问题整改",
        content="全省政府系统上下配合，共同完成涉及面广、难度较大的督查事项",
    ),
    DemoItem(
        8,
        "邀请人大代表、政协委员视察检查重点民生实事项目",
        Source.OTHER,
        "SZ",
        15,
        28,
        objective="认真听取意见建议，改进政府工作",
        content="组织代表委员和政府参事实地视察检查并座谈",
        reports_ago=(1,),
    ),
    DemoItem(
        9,
        "组织新闻调查：安全生产专项整治情况",
        Source.OTHER,
        "NJ-JN",
        25,
        1,
        objective="全面报道真实情况，及时反映存在问题",
        content="协调媒体开展新闻调查，宣传典型经验",
    ),
    DemoItem(
        10,
        "民意调查：群众反映强烈的物业服务热点难点问题",
        Source.OTHER,
        "ZJT",
        30,
        -2,
        objective="掌握群众满意度，适时向社会公开督查情况",
        content="运用电话、网站、问卷等方式开展民意调查",
    ),
    DemoItem(
        11,
        "建设政府系统督查工作信息化管理平台",
        Source.ANNUAL_TASK,
        "CZT",
        50,
        40,
        co=("FGW",),
        objective="实现政府系统督查工作信息互联互通",
        content="在政府专网和内网建设平台，完善建议提案和省长信箱网上办理系统",
        reports_ago=(20, 5),
        milestones=(
            ("完成需求调研和总体方案", -20, 22),
            ("完成平台开发和系统联调", 2, None),
            ("平台上线试运行", 30, None),
        ),
    ),
    DemoItem(
        12,
        "国务院办公厅文件要求报告事项：进一步优化政务服务提升行政效能",
        Source.DOCUMENT,
        "FGW",
        28,
        None,
        co=("JYT", "WJW"),
        objective="按时向国务院办公厅报告贯彻落实情况",
        content="对照文件逐项梳理任务，形成贯彻落实情况报告",
        reports_ago=(6,),
    ),
    DemoItem(
        13,
        "省政府常务会议决定：实施城市更新行动",
        Source.MEETING,
        "ZJT",
        12,
        45,
        co=("NJ", "SZ", "XZ"),
        objective="年度城市更新项目全部开工",
        content="编制城市更新专项规划，建立项目库并按季度调度",
    ),
    DemoItem(
        14,
        "国务院领导同志批示件：某地食品安全事件调查处理",
        Source.INSTRUCTION,
        "WJW",
        5,
        3,
        co=("SZ",),
        urgent=True,
        objective="查明原因，依法处理，按时报告结果",
        content="指定分管领导牵头办理，报告办理情况由主要负责同志签发",
    ),
    DemoItem(
        15,
        "年度重点工作：新增城镇就业目标任务",
        Source.ANNUAL_TASK,
        "CZT",
        58,
        20,
        objective="全年新增城镇就业目标任务按序时进度完成",
        content="落实就业补助资金，按月报送进展",
    ),
    DemoItem(
        16,
        "年度重点工作：打好大气污染防治攻坚战",
        Source.ANNUAL_TASK,
        "XZ",
        40,
        None,
        objective="PM2.5平均浓度下降目标按期完成",
        content="落实重点行业减排措施，开展常态化督查",
        reports_ago=(9,),
    ),
    DemoItem(
        17,
        "文件要求：做好冬季供暖保障工作",
        Source.DOCUMENT,
        "NJ",
        32,
        6,
        objective="确保群众温暖过冬",
        content="落实供暖能源保障和应急预案",
        reports_ago=(10,),
        extra="completion",
    ),
    DemoItem(
        18,
        "省长批示：做好岁末年初安全生产工作",
        Source.INSTRUCTION,
        "NJ-JN",
        45,
        15,
        objective="排查整治安全隐患，报告办理结果",
        content="开展安全生产大检查，建立隐患整改台账",
        reports_ago=(25,),
        extra="closed",
    ),
    DemoItem(
        19,
        "省长批示：做好元旦春节期间重要民生商品保供稳价工作",
        Source.INSTRUCTION,
        "FGW",
        0,  # received today: its 交办通知 goes out in the next send window
        10,
        co=("NJ",),
        urgent=True,  # 急件: the units' principals get the notice too (seed 二(二))
        objective="节日期间重要民生商品供应充足、价格基本稳定",
        content="加强市场监测预警，组织货源储备投放，及时报告保供稳价情况",
    ),
)


@dataclass(slots=True)
class DemoSummary:
    """What ``duban demo`` did and what the data looks like now."""

    units: ImportResult
    people: ImportResult
    items_created: int = 0
    items_present: int = 0
    passwords_set: int = 0
    lights: Counter[Light] = field(default_factory=Counter)
    logins: list[str] = field(default_factory=list)
    bulletin: str = ""

    def lines(self) -> list[str]:
        """A summary for people."""
        lights = ", ".join(
            f"{light.value} {self.lights[light]}"
            for light in (Light.RED, Light.YELLOW, Light.GREEN, Light.GREY)
        )
        out = [
            self.units.summary(),
            self.people.summary(),
            f"items: {self.items_created} created, {self.items_present} already present",
            f"lights: {lights}",
            self.bulletin,
            "web logins (password duban-demo):",
        ]
        out += [f"  {login}" for login in self.logins]
        return out


COMPLETION_SUBMITTED_AGO = 2  # days before the clock: the demo's completion reports


def demo_ref(n: int) -> str:
    """The ref of demo item ``n``."""
    return f"督〔演示〕{n:02d}号"


def _email(user: str) -> str:
    return f"{user}@{DOMAIN}"


async def load_demo(session: AsyncSession, *, clock: Clock, tz: ZoneInfo) -> DemoSummary:
    """Load the demo into the session's transaction (the caller commits)."""
    actor = Actor.system("demo")
    await ensure_default_policies(session)
    units = await import_rows(
        session,
        "units",
        Table([{"code": c, "name": n, "parent_code": p} for c, n, p in UNITS]),
        dry_run=False,
        actor=actor,
        clock=clock,
    )
    _raise_on(units)
    people = await import_rows(
        session,
        "people",
        Table(
            [
                {
                    "name": n,
                    "email": _email(u),
                    "unit": unit,
                    "roles": roles,
                    "locale": "zh",
                    "wecom_userid": u if u in WECOM_USERS else "",
                }
                for n, u, unit, roles in PEOPLE
            ]
        ),
        dry_run=False,
        actor=actor,
        clock=clock,
    )
    _raise_on(people)
    summary = DemoSummary(units=units, people=people)
    by_email = {
        p.email: p
        for p in (
            await session.scalars(select(Person).where(Person.email.like(f"%@{DOMAIN}")))
        ).all()
    }
    for user in LOGIN_USERS:
        person = by_email[_email(user)]
        summary.logins.append(f"{person.email} ({'/'.join(sorted(person.roles))})")
        if person.password_hash is None:
            person.password_hash = hash_password(DEMO_PASSWORD)
            summary.passwords_set += 1
    unit_ids = {u.code: u.id for u in (await session.scalars(select(Unit))).all()}
    today = local_today(clock, tz)
    context = ItemContext()
    supervisor = by_email[_email("zhenghua")]
    for spec in ITEMS:
        ref = demo_ref(spec.n)
        if await session.scalar(select(Item.id).where(Item.ref == ref)) is not None:
            summary.items_present += 1
            continue
        received = today - timedelta(days=spec.received_ago)
        due = None if spec.due_in is None else max(today + timedelta(days=spec.due_in), received)
        saved = await save_item(
            session,
            ItemSpec(
                ref=ref,
                title=spec.title,
                source=spec.source,
                received_on=received,
                due_on=due,
                urgent=spec.urgent,
                objective=spec.objective,
                content=spec.content,
                lead=AssigneeSpec(
                    unit_ids[spec.lead],
                    by_email[_email(OWNER_OF[spec.lead])].id,
                    by_email[_email(LEADER_OF[spec.lead])].id,
                ),
                co=tuple(
                    AssigneeSpec(unit_ids[c], by_email[_email(OWNER_OF[c])].id) for c in spec.co
                ),
            ),
            actor=actor,
            clock=clock,
            context=context,
        )
        assert saved.outcome is SaveOutcome.CREATED
        summary.items_created += 1
        if spec.received_ago > 0:
            # Assigned in the past: its 交办通知 went out then, not at the first scan now.
            await session.execute(
                update(Assignment)
                .where(Assignment.item_id == saved.item.id)
                .values(assign_noticed_at=Assignment.assigned_at)
            )
        await _add_history(session, saved.item, spec, supervisor, clock=clock)
        await _add_milestones(session, saved.item, spec, supervisor, clock=clock, today=today)
    calendar = await context.calendar(session)
    rows = await list_items(session, today=today, calendar=calendar, tz=tz)
    summary.lights = Counter(r.light for r in rows if r.ref.startswith("督〔演示〕"))
    summary.bulletin = await _issue_bulletin(
        session, today=today, calendar=calendar, tz=tz, clock=clock, actor=Actor.of(supervisor)
    )
    await session.flush()
    return summary


async def _issue_bulletin(
    session: AsyncSession,
    *,
    today: date,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    clock: Clock,
    actor: Actor,
) -> str:
    """Issue the bulletin of the month the demo's closed item was submitted in, once."""
    submitted = today - timedelta(days=COMPLETION_SUBMITTED_AGO)
    period = parse_period(f"{submitted.year}-{submitted.month:02d}")
    stored = await session.scalar(select(Bulletin).where(Bulletin.period == period.key))
    if stored is None:
        data = await compute_bulletin(session, period, today=today, calendar=calendar, tz=tz)
        stored = await freeze_bulletin(session, data, actor=actor, clock=clock)
    praised = "、".join(stored.data.get("praised_units", [])) or "—"
    urged = "、".join(stored.data.get("urged_units", [])) or "—"
    return f"bulletin {stored.data['number']} ({period.key}): 通报表扬 {praised}; 督促整改 {urged}"


def _raise_on(result: ImportResult) -> None:
    if not result.ok:
        raise ValidationFailed(
            "the demo data does not fit this database: " + "; ".join(map(str, result.errors)),
            [str(e) for e in result.errors],
        )


async def _add_milestones(
    session: AsyncSession,
    item: Item,
    spec: DemoItem,
    supervisor: Person,
    *,
    clock: Clock,
    today: date,
) -> None:
    """The item's milestones (时序进度), added and completed by the office as in real use; a
    done one is dated back to when it was done."""
    if not spec.milestones:
        return
    scope = await scope_for(session, supervisor)
    actor = Actor.of(supervisor)
    lead = MilestoneSpec(
        "",
        today,
        (await session.scalars(select(Unit.id).where(Unit.code == spec.lead))).one(),
        await session.scalar(select(Person.id).where(Person.email == _email(OWNER_OF[spec.lead]))),
        await session.scalar(select(Person.id).where(Person.email == _email(LEADER_OF[spec.lead]))),
    )
    for name, due_in, done_ago in spec.milestones:
        milestone = await add_milestone(
            session,
            scope=scope,
            actor=actor,
            item_id=item.id,
            spec=replace(lead, name=name, due_on=today + timedelta(days=due_in)),
            clock=clock,
        )
        if done_ago is not None:
            await complete_milestone(
                session, scope=scope, actor=actor, milestone_id=milestone.id, clock=clock
            )
            milestone.completed_at = clock.now() - timedelta(days=done_ago)


async def _add_history(
    session: AsyncSession,
    item: Item,
    spec: DemoItem,
    supervisor: Person,
    *,
    clock: Clock,
) -> None:
    """Progress reports, and the extension or review the demo item asks for."""
    lead = await session.scalar(
        select(Assignment).where(
            Assignment.item_id == item.id, Assignment.role == AssignmentRole.LEAD
        )
    )
    assert lead is not None
    now = clock.now()
    number = 0
    for ago in sorted(spec.reports_ago, reverse=True):
        number += 1
        at = now - timedelta(days=ago)
        session.add(
            Report(
                assignment_id=lead.id,
                number=number,
                author_id=lead.owner_id,
                kind=ReportKind.PROGRESS,
                text=f"第{number}次进展：{spec.content}，已完成阶段性任务。",
                channel=Origin.CHAT if number % 2 else Origin.WEB,
                review_state=ReviewState.NONE,
                created_at=at,
            )
        )
        lead.last_report_at = at
    system = Actor.system("demo")
    if spec.extra == "extension":
        extension = Extension(
            assignment_id=lead.id,
            requested_by_id=lead.owner_id,
            reason="涉及多个部门协调，配套资金尚未全部下达",
            progress="实施细则已印发，资金拨付完成70%",
            old_due_on=lead.due_on,
            new_due_on=lead.due_on + timedelta(days=21),
            state=ReviewState.PENDING,
            channel=Origin.CHAT,
            created_at=now - timedelta(days=1),
        )
        session.add(extension)
        await session.flush()
        record(
            session,
            clock=clock,
            actor=system,
            entity="extension",
            entity_id=extension.id,
            action="requested",
            to_state=ReviewState.PENDING,
            detail={"assignment_id": lead.id, "new_due_on": extension.new_due_on.isoformat()},
        )
    if spec.extra in ("completion", "closed"):
        number += 1
        closed = spec.extra == "closed"
        report = Report(
            assignment_id=lead.id,
            number=number,
            author_id=lead.owner_id,
            kind=ReportKind.COMPLETION,
            text="各项任务已全部完成，特申请办结。",
            channel=Origin.CHAT,
            review_state=(ReviewState.APPROVED if closed else ReviewState.PENDING).value,
            reviewed_by_id=supervisor.id if closed else None,
            reviewed_at=now - timedelta(days=1) if closed else None,
            review_comment="同意办结" if closed else None,
            created_at=now - timedelta(days=COMPLETION_SUBMITTED_AGO),
        )
        session.add(report)
        lead.last_report_at = report.created_at
        await session.flush()
        await transition_assignment(
            session, lead, ItemState.COMPLETION_REQUESTED, actor=system, clock=clock
        )
        if closed:
            await transition_assignment(
                session, lead, ItemState.CLOSED, actor=Actor.of(supervisor), clock=clock
            )
    await session.flush()
