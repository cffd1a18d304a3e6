"""UI strings of the admin pages in Chinese (default) and English; imports nothing of Duban.

Templates call ``t("key")``; an unknown key raises KeyError so a typo fails a page test
instead of showing a blank. The language is the ``lang`` cookie, else the person's locale.
"""

from __future__ import annotations

from typing import Final

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
LANG_COOKIE: Final = "lang"

STRINGS: Final[dict[str, tuple[str, str]]] = {
    # layout
    "app.title": ("督办系统", "Duban"),
    "nav.dashboard": ("总览", "Dashboard"),
    "nav.items": ("督查事项", "Items"),
    "nav.reviews": ("待审核", "Reviews"),
    "nav.import": ("导入", "Import"),
    "nav.people": ("人员", "People"),
    "nav.units": ("单位", "Units"),
    "nav.templates": ("消息模板", "Templates"),
    "nav.policies": ("督办规则", "Policies"),
    "nav.calendar": ("工作日历", "Calendar"),
    "nav.deliveries": ("发送记录", "Delivery log"),
    "nav.api_tokens": ("API 令牌", "API tokens"),
    "nav.bulletins": ("督查通报", "Bulletins"),
    "nav.logout": ("退出", "Log out"),
    "lang.switch": ("English", "中文"),
    # login
    "login.title": ("登录", "Log in"),
    "login.email": ("电子邮箱", "Email"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad": ("邮箱或密码不正确。", "Wrong email or password."),
    "login.locked": (
        "登录失败次数过多，请15分钟后再试。",
        "Too many failed attempts; try again in 15 minutes.",
    ),
    "login.no_access": ("此账号没有网页访问权限。", "This account has no web access."),
    # common
    "common.save": ("保存", "Save"),
    "common.cancel": ("取消", "Cancel"),
    "common.edit": ("编辑", "Edit"),
    "common.filter": ("筛选", "Filter"),
    "common.all": ("全部", "All"),
    "common.none": ("无", "None"),
    "common.yes": ("是", "Yes"),
    "common.no": ("否", "No"),
    "common.actions": ("操作", "Actions"),
    "common.prev": ("上一页", "Previous"),
    "common.next": ("下一页", "Next"),
    "common.page": (
        "第 {page} / {pages} 页，共 {total} 条",
        "Page {page} of {pages}, {total} in all",
    ),
    "common.errors": ("请更正以下问题：", "Please correct the following:"),
    "common.saved": ("已保存。", "Saved."),
    "common.back": ("返回", "Back"),
    "common.name": ("名称", "Name"),
    "common.code": ("代码", "Code"),
    "common.when": ("时间", "When"),
    "common.who": ("操作人", "Who"),
    "common.state": ("状态", "State"),
    "common.comment": ("意见", "Comment"),
    "common.empty": ("暂无记录。", "Nothing here yet."),
    "common.readonly": ("只读账号", "Read-only account"),
    # lights and states
    "light.green": ("绿灯", "Green"),
    "light.yellow": ("黄灯", "Yellow"),
    "light.red": ("红灯", "Red"),
    "light.grey": ("已结束", "Done"),
    "state.open": ("办理中", "Open"),
    "state.completion_requested": ("申请办结", "Completion requested"),
    "state.closed": ("已办结", "Closed"),
    "state.cancelled": ("已撤销", "Cancelled"),
    "source.instruction": ("领导批示", "Leader's instruction"),
    "source.document": ("文件要求", "Document"),
    "source.meeting": ("会议决定", "Meeting decision"),
    "source.annual_task": ("年度重点工作", "Annual key task"),
    "source.proposal": ("建议提案", "Proposal"),
    "source.mailbox": ("省长信箱", "Governor's mailbox"),
    "source.other": ("其他", "Other"),
    "role.lead": ("主办", "Lead"),
    "role.co": ("协办", "Co-operating"),
    # dashboard
    "dash.title": ("督办总览", "Dashboard"),
    "dash.by_light": ("按红黄绿灯", "By light"),
    "dash.per_unit": ("各单位办理情况", "Per unit"),
    "dash.unit": ("单位", "Unit"),
    "dash.assigned": ("交办数", "Assigned"),
    "dash.closed_on_time": ("按时办结", "Closed on time"),
    "dash.overdue": ("逾期", "Overdue"),
    "dash.extensions": ("延期", "Extensions"),
    "dash.rate": ("按时办结率", "On-time rate"),
    "dash.period": ("统计期间", "Period"),
    "dash.chart": ("按时办结率图", "On-time rate chart"),
    "dash.overdue_list": ("逾期事项", "Overdue items"),
    "dash.calendar_warning": (
        "{years} 年尚无官方节假日安排，相关期限按周一至周五临时计算，请在“工作日历”导入。",
        "No official holiday schedule for {years}; deadlines there use Mon–Fri provisionally."
        " Import one under Calendar.",
    ),
    # items
    "items.title": ("督查事项", "Supervised items"),
    "items.new": ("新建事项", "New item"),
    "items.ref": ("文号", "Reference"),
    "items.title_field": ("标题", "Title"),
    "items.source": ("事项来源", "Source"),
    "items.unit": ("责任单位", "Unit"),
    "items.light": ("灯号", "Light"),
    "items.due_on": ("完成时限", "Due"),
    "items.due_from": ("期限自", "Due from"),
    "items.due_to": ("期限至", "Due to"),
    "items.q": ("搜索", "Search"),
    "items.received_on": ("收到日期", "Received"),
    "items.urgent": ("急件", "Urgent"),
    "items.objective": ("目标任务", "Objective"),
    "items.content": ("工作内容", "Work content"),
    "items.lead_unit": ("主办单位", "Lead unit"),
    "items.co_units": ("协办单位", "Co-operating units"),
    "items.owner": ("责任人", "Responsible person"),
    "items.leader": ("责任领导", "Leader"),
    "items.due_hint": (
        "留空则按规则自动计算：{due}",
        "Leave empty for the rule's default: {due}",
    ),
    "items.provisional": ("（临时，按周一至周五计算）", "(provisional, Mon–Fri)"),
    "items.assignments": ("交办单位", "Assignments"),
    "items.timeline": ("办理过程", "Timeline"),
    "items.cancel": ("撤销事项", "Cancel item"),
    "items.cancel_reason": ("撤销原因", "Reason for cancelling"),
    "items.edit": ("编辑事项", "Edit item"),
    "items.not_found": ("事项不存在。", "No such item."),
    "items.report": ("报送进展", "File a report"),
    "items.report_text": ("进展情况", "Progress"),
    "items.report_kind": ("类型", "Kind"),
    "items.kind.progress": ("进展报告", "Progress report"),
    "items.kind.completion": ("办结申请", "Completion report"),
    "items.extension": ("申请延期", "Request an extension"),
    "items.ext_reason": ("延期理由", "Reason"),
    "items.ext_progress": ("目前进展", "Progress so far"),
    "items.ext_new_due": ("申请延至", "New date"),
    "items.attachments": ("附件", "Attachments"),
    # timeline kinds
    "tl.audit": ("操作", "Change"),
    "tl.notification": ("通知", "Message"),
    "tl.attempt": ("发送尝试", "Delivery attempt"),
    "tl.report": ("报告", "Report"),
    "tl.extension": ("延期申请", "Extension"),
    "tl.review": ("审核", "Review"),
    # reviews
    "reviews.title": ("待审核申请", "Pending requests"),
    "reviews.completions": ("办结申请", "Completion requests"),
    "reviews.extensions": ("延期申请", "Extension requests"),
    "reviews.approve": ("同意", "Approve"),
    "reviews.reject": ("退回", "Reject"),
    "reviews.requested_by": ("申请人", "Requested by"),
    "reviews.old_due": ("原期限", "Old due date"),
    "reviews.new_due": ("申请期限", "New due date"),
    "reviews.decided": ("已处理。", "Decided."),
    # import
    "import.title": ("导入督查事项", "Import items"),
    "import.file": ("CSV 或 XLSX 文件", "CSV or XLSX file"),
    "import.check": ("检查（不保存）", "Check (dry run)"),
    "import.commit": ("确认导入", "Import now"),
    "import.row": ("行", "Row"),
    "import.error": ("错误", "Error"),
    "import.ok": ("检查通过：{n} 行可以导入。", "Check passed: {n} rows can be imported."),
    "import.done": (
        "已导入：新建 {created}，更新 {updated}，未变 {unchanged}。",
        "Imported: {created} created, {updated} updated, {unchanged} unchanged.",
    ),
    "import.has_errors": (
        "发现 {n} 处错误，未导入任何数据。",
        "{n} errors found; nothing was imported.",
    ),
    # people and units
    "people.title": ("人员", "People"),
    "people.new": ("新增人员", "New person"),
    "people.email": ("电子邮箱", "Email"),
    "people.phone": ("电话", "Phone"),
    "people.unit": ("单位", "Unit"),
    "people.roles": ("角色", "Roles"),
    "people.locale": ("语言", "Language"),
    "people.active": ("启用", "Active"),
    "people.password": ("新密码（留空不改）", "New password (empty: unchanged)"),
    "people.bound": ("已绑定 Telegram", "Telegram bound"),
    "people.invite": ("邀请绑定", "Invite to the bot"),
    "people.invite_link": (
        "邀请链接（7天内有效，仅显示一次）：",
        "Invite link (valid 7 days, shown once):",
    ),
    "units.title": ("单位", "Units"),
    "units.new": ("新增单位", "New unit"),
    "units.parent": ("上级单位", "Parent unit"),
    "units.active": ("启用", "Active"),
    "roles.owner": ("责任人", "Owner"),
    "roles.liaison": ("联络员", "Liaison"),
    "roles.leader": ("责任领导", "Leader"),
    "roles.principal": ("主要负责同志", "Principal"),
    "roles.supervisor": ("督查室工作人员", "Supervisor"),
    "roles.admin": ("管理员", "Admin"),
    "roles.viewer": ("只读", "Viewer"),
    # templates
    "tpl.title": ("消息模板", "Message templates"),
    "tpl.step": ("环节", "Step"),
    "tpl.channel": ("渠道", "Channel"),
    "tpl.locale": ("语言", "Language"),
    "tpl.override": ("已自定义", "Customised"),
    "tpl.default": ("默认", "Default"),
    "tpl.preview": ("预览", "Preview"),
    "tpl.preview_item": ("预览用事项", "Item for the preview"),
    "tpl.sample": ("示例数据", "Sample data"),
    "tpl.reset": ("恢复默认", "Reset to default"),
    "tpl.history": ("修改历史", "History"),
    "tpl.version": ("版本", "Version"),
    "tpl.line": ("第 {line} 行", "line {line}"),
    "tpl.part": ("部分", "Part"),
    # policies
    "pol.title": ("督办规则", "Escalation policies"),
    "pol.due_days": ("默认期限（工作日）", "Default deadline (working days)"),
    "pol.window": ("发送时段", "Send window"),
    "pol.workdays_only": ("仅工作日发送", "Working days only"),
    "pol.kind": ("环节", "Step"),
    "pol.offset": ("相对期限（工作日）", "Offset (working days)"),
    "pol.roles": ("对象", "To"),
    "pol.channels": ("渠道", "Channels"),
    "pol.template": ("模板", "Template"),
    "pol.ignore_window": ("不受时段限制", "Ignore window"),
    "pol.active": ("启用", "Active"),
    "pol.urgent": ("急件", "Urgent"),
    # calendar
    "cal.title": ("工作日历", "Working-day calendar"),
    "cal.year": ("年份", "Year"),
    "cal.coverage": ("数据来源", "Coverage"),
    "cal.coverage.official": ("官方数据", "Official data"),
    "cal.coverage.schedule": ("已导入安排", "Imported schedule"),
    "cal.coverage.fallback": ("临时（周一至周五）", "Fallback (Mon–Fri)"),
    "cal.import": ("导入官方节假日安排", "Import an official schedule"),
    "cal.override": ("单日调整", "Single-day override"),
    "cal.day": ("日期", "Day"),
    "cal.is_workday": ("工作日", "Working day"),
    "cal.note": ("说明", "Note"),
    "cal.changed": ("以下事项的期限因此改变：", "These items' deadlines changed:"),
    "cal.items_in_use": ("在用事项", "Items in use"),
    # deliveries
    "dl.title": ("发送记录", "Delivery log"),
    "dl.failed_only": ("只看失败", "Failed only"),
    "dl.kind": ("类型", "Kind"),
    "dl.recipient": ("接收人", "Recipient"),
    "dl.channel": ("渠道", "Channel"),
    "dl.status": ("状态", "Status"),
    "dl.attempts": ("尝试", "Attempts"),
    "dl.error": ("错误", "Error"),
    "dl.retry": ("重新发送", "Retry"),
    # timeline: audited entities and actions
    "ent.item": ("事项", "Item"),
    "ent.assignment": ("交办", "Assignment"),
    "ent.report": ("报告", "Report"),
    "ent.extension": ("延期申请", "Extension"),
    "act.create": ("新建", "created"),
    "act.update": ("修改", "changed"),
    "act.transition": ("状态变更", "state changed"),
    "act.filed": ("报送", "filed"),
    "act.edited": ("修改", "edited"),
    "act.requested": ("提出申请", "requested"),
    "act.signed_off": ("签发", "signed off"),
    "act.approved": ("同意", "approved"),
    "act.rejected": ("退回", "rejected"),
    "act.decided": ("审核", "decided"),
    "flash.saved": ("已保存。", "Saved."),
    "flash.decided": ("已处理。", "Decided."),
    "flash.retried": ("已安排重新发送。", "Queued for another try."),
    "flash.reset": ("已恢复默认模板。", "Reset to the default."),
    "dl.retried": ("已安排重新发送。", "Queued for another try."),
}


def pick_lang(cookie: str | None, person_locale: str | None) -> str:
    """The UI language: a valid cookie, else the person's locale, else Chinese."""
    for candidate in (cookie, person_locale):
        if candidate in LANGS:
            return str(candidate)
    return DEFAULT_LANG


def translate_or(key: str, lang: str, fallback: str) -> str:
    """The string ``key`` in ``lang``, or ``fallback`` when there is no such key."""
    return translate(key, lang) if key in STRINGS else fallback


def translate(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``{name}`` placeholders filled."""
    zh, en = STRINGS[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text
