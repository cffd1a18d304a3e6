"""UI strings of the admin pages in Chinese (default) and English.

Templates call ``t("key")``; an unknown key raises KeyError so a typo fails a page test
instead of showing a blank. The language is the ``lang`` cookie, else the person's locale.
The domain's words (``source.*``, ``state.*``, ``light.*``…) come from the glossary,
``supervision.labels``; this module only names their keys.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from models import (
    AssignmentRole,
    AuditAction,
    AuditEntity,
    Channel,
    Decision,
    DeliveryOutcome,
    ItemState,
    MessageKind,
    MilestoneState,
    NotificationStatus,
    Origin,
    ReportKind,
    ReviewState,
    Role,
    Source,
    StepChannel,
    StepKind,
)
from supervision.labels import Document, label
from supervision.light import Light
from supervision.template_words import MessageLanguage, TemplatePart

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
LANG_COOKIE: Final = "lang"

_UI: Final[dict[str, tuple[str, str]]] = {
    # layout
    "app.title": ("督办系统", "Duban"),
    "nav.dashboard": ("总览", "Dashboard"),
    "nav.items": ("督查事项", "Items"),
    "nav.reviews": ("待审核", "Reviews"),
    "nav.waiting": ("{n} 项待审核", "{n} awaiting a decision"),
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
    "nav.menu": ("☰ 菜单", "☰ Menu"),
    "lang.switch": ("English", "中文"),
    # login
    "login.title": ("登录", "Log in"),
    "login.email": ("电子邮箱", "Email"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Log in"),
    "login.bad": ("邮箱或密码不正确。", "Wrong email or password."),
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
    "common.total": ("共 {total} 条", "{total} in all"),
    "common.first": ("第一页", "First page"),
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
    # error pages: a title and what to do, by status (a stale form has its own)
    "error.400": ("无法处理此请求", "Bad request"),
    "error.400.hint": (
        "请求的内容不完整或有误，未做任何更改。请返回上一页重试。",
        "The request was incomplete or wrong; nothing was changed. Go back and try again.",
    ),
    "error.403": ("无权访问", "Not allowed"),
    "error.403.hint": (
        "您的账号无权打开此页面或执行此操作。如需权限，请联系管理员。",
        "Your account may not open this page or do this. Ask an administrator if you need to.",
    ),
    "error.csrf": ("页面已过期", "This page has expired"),
    "error.csrf.hint": (
        "表单已失效（可能已在别处退出登录，或页面打开太久），未做任何更改。请刷新页面后重试。",
        "The form is no longer valid (you may have logged out elsewhere, or the page was open "
        "too long); nothing was changed. Reload the page and try again.",
    ),
    "error.404": ("页面不存在", "Not found"),
    "error.404.hint": (
        "您要找的页面或记录不存在，或不在您的查看范围内。",
        "The page or record does not exist, or is outside what you may see.",
    ),
    "error.405": ("不支持此操作", "Not supported"),
    "error.405.hint": (
        "此页面不接受这种请求方式。请从菜单进入后再操作。",
        "This page does not accept that kind of request. Start again from the menu.",
    ),
    "error.409": ("操作未执行", "Not done"),
    "error.409.hint": (
        "记录的状态已经改变，此操作不再适用，未做任何更改。请刷新页面查看最新状态。",
        "The record has changed and this no longer applies; nothing was changed. Reload the "
        "page to see where it stands.",
    ),
    "error.413": ("内容过大", "Too large"),
    "error.413.hint": (
        "上传的内容超过了允许的大小，未做任何更改。",
        "What was sent is larger than allowed; nothing was changed.",
    ),
    "error.500": ("系统出错", "Something went wrong"),
    "error.500.hint": (
        "处理请求时出错，已记入系统日志。请稍后重试；如仍不行，请联系管理员。",
        "An error occurred and was written to the system log. Try again later; if it "
        "persists, tell an administrator.",
    ),
    "error.home": ("回到首页", "Back to the start page"),
    # dashboard
    "dash.title": ("督办总览", "Dashboard"),
    "dash.by_light": ("按红黄绿灯", "By light"),
    "dash.per_unit": ("各单位办理情况", "Per unit"),
    "dash.unit": ("单位", "Unit"),
    "dash.assigned": ("交办数", "Assigned"),
    "dash.closed_on_time": ("按时办结", "Closed on time"),
    "dash.overdue": ("逾期", "Overdue"),
    "dash.extensions": ("延期", "Extensions"),
    "dash.rate": ("按期率", "On-time rate"),
    "dash.period": ("统计期间", "Period"),
    "dash.bad_period": (
        "无法识别统计期间“{period}”：请填写月（2026-11）、周（2026-W47）或季度（2026-Q4）。",
        "Period “{period}” is not understood: use a month (2026-11), an ISO week (2026-W47) "
        "or a quarter (2026-Q4).",
    ),
    "dash.future_period": (
        "统计期间“{period}”尚未开始（{start} 起），下面是本月的情况。",
        "Period “{period}” has not started yet (it starts on {start}); this month is shown.",
    ),
    "dash.chart": ("按期率图", "On-time rate chart"),
    "dash.matrix": ("各单位在办事项红黄绿灯", "Open items by unit and light"),
    "dash.open": ("在办合计", "Open"),
    "dash.overdue_list": ("逾期事项", "Overdue items"),
    "dash.overdue_total": (
        "共 {total} 项，逾期最久的在前",
        "{total} in all, longest overdue first",
    ),
    "dash.days_late": ("逾期工作日", "Working days late"),
    "dash.overdue_all": ("在事项列表中查看全部", "See them all in the items list"),
    "dash.calendar_warning": (
        "{years} 年尚无官方节假日安排，相关期限按周一至周五（除法定节假日外）临时计算，"
        "调休未计入，请在“工作日历”导入。",
        "No official holiday schedule for {years}; deadlines there count Mon–Fri less the "
        "statutory holidays provisionally (调休 unknown)."
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
    "items.co_owners": ("协办责任人", "Co-operating units' responsible people"),
    "items.co_owners_hint": (
        "每个协办单位可选一名本单位人员；未选的协办单位由其联络员负责",
        "One member per co-operating unit; a unit left without one is handled by its liaisons",
    ),
    "items.leader": ("责任领导", "Leader"),
    "items.due_hint": (
        "留空则按规则自动计算：{due}",
        "Leave empty for the rule's default: {due}",
    ),
    "items.original_due": ("（原定 {date}，已延期）", "(originally {date}; extended)"),
    "items.provisional": (
        "（临时，按周一至周五及法定节假日计算）",
        "(provisional, Mon–Fri less holidays)",
    ),
    "items.assignments": ("交办单位", "Assignments"),
    "items.timeline": ("办理过程", "Timeline"),
    "items.cancel": ("撤销事项", "Cancel item"),
    "items.cancel_reason": ("撤销原因", "Reason for cancelling"),
    "items.reopen": ("退回重办", "Send back to be done again"),
    "items.transfer": ("转办", "Hand over"),
    "items.transfer_unit": ("转至单位", "To unit"),
    "items.transfer_same_unit": ("（本单位内换责任人）", "(same unit, another person)"),
    "items.transfer_reason": ("转办理由", "Reason for handing over"),
    "items.transfer_confirm": (
        "确认转办：接办单位和责任人将收到转办通知，原责任人不再负责",
        "Confirm: the new unit and person are told; the previous owner is no longer responsible",
    ),
    "items.reopen_reason": ("退回理由", "Reason for sending it back"),
    "items.reopen_due": ("新的完成时限", "New deadline"),
    "items.reopen_confirm": (
        "确认退回：已办结的单位将重新办理，提醒按新的完成时限重新开始",
        "Confirm: the units reopen the item and the reminders restart from the new deadline",
    ),
    "milestones.title": ("阶段性节点", "Milestones"),
    "milestones.name": ("节点名称", "Milestone"),
    "milestones.due_on": ("节点时限", "Due"),
    "milestones.unit": ("责任单位", "Responsible unit"),
    "milestones.completed_at": ("完成于 {date}", "done on {date}"),
    "milestones.add": ("新增节点", "Add a milestone"),
    "milestones.edit": ("修改", "Edit"),
    "milestones.done": ("标记完成", "Mark done"),
    "milestones.none_chosen": ("（无）", "(none)"),
    "items.edit": ("编辑事项", "Edit item"),
    "items.not_found": ("事项不存在。", "No such item."),
    "items.report": ("报送进展", "File a report"),
    "items.report_text": ("进展情况", "Progress"),
    "items.report_kind": ("类型", "Kind"),
    "items.extension": ("申请延期", "Request an extension"),
    "items.ext_reason": ("延期原因", "Reason"),
    "items.ext_progress": ("目前进展", "Progress so far"),
    "items.ext_new_due": ("申请延至", "New date"),
    "items.attachments": ("附件", "Attachments"),
    # reviews
    "reviews.total": ("共 {total} 项", "{total} in all"),
    "reviews.from_start": ("回到第一页", "Back to the first page"),
    "reviews.title": ("待审核申请", "Pending requests"),
    "reviews.completions": ("办结申请", "Completion requests"),
    "reviews.extensions": ("延期申请", "Extension requests"),
    "reviews.requested_by": ("申请人", "Requested by"),
    "reviews.old_due": ("原期限", "Old due date"),
    "reviews.new_due": ("申请期限", "New due date"),
    "reviews.decided": ("已处理。", "Decided."),
    "reviews.comment": ("审核意见", "Comment"),
    "reviews.comment_hint": ("审核意见（退回时必填）", "Comment (required to reject)"),
    "reviews.approve_extension": ("同意延期至 {date}", "Approve: extend to {date}"),
    "reviews.approve_completion": ("同意办结", "Approve completion"),
    "reviews.reject_with_reason": ("退回：请填写理由", "Reject (give a reason)"),
    "reviews.no_decision": (
        "未作出决定：请点击「同意」或「退回」按钮。",
        "No decision taken: click Approve or Reject.",
    ),
    # import
    "import.title": ("数据导入", "Import"),
    "import.file": ("CSV 或 XLSX 文件", "CSV or XLSX file"),
    "import.hint": (
        "列名可用中文或英文；CSV 可为 UTF-8 或 GBK 编码。先检查，全部无误才写入。",
        "Headers may be Chinese or English; a CSV may be UTF-8 or GBK. The file is checked "
        "first and written only when every row is right.",
    ),
    "import.templates": (
        "下载导入模板（含示例行和填写说明）：",
        "Templates (an example row and notes):",
    ),
    "import.choose_file": ("请选择要导入的文件。", "Choose a file to import."),
    "import.bad_form": (
        "表单已失效，请重新选择文件检查。",
        "The form is no longer valid: choose the file and check it again.",
    ),
    "import.check": ("检查（不保存）", "Check (dry run)"),
    "import.commit": ("确认导入", "Import now"),
    "import.row": ("行", "Row"),
    "import.column": ("列", "Column"),
    "import.error": ("错误", "Error"),
    "import.ok": ("检查通过：{n} 行可以导入。", "Check passed: {n} rows can be imported."),
    "import.done": ("导入完成。", "Imported."),
    "import.created": ("新增", "Created"),
    "import.updated": ("更新", "Updated"),
    "import.unchanged": ("未变", "Unchanged"),
    "import.deadlines": ("完成时限需留意的事项", "Deadlines to check"),
    "import.ref": ("文号", "Ref"),
    "import.due_on": ("完成时限", "Deadline"),
    "import.computed": ("计算所得", "computed"),
    "import.provisional": ("待确认", "provisional"),
    "import.more": ("另有 {n} 项未列出。", "{n} more not listed."),
    # people and units
    "people.title": ("人员", "People"),
    "people.new": ("新增人员", "New person"),
    "people.email": ("电子邮箱", "Email"),
    "people.phone": ("电话", "Phone"),
    "people.wecom_userid": ("企业微信账号", "WeCom userid"),
    "people.dingtalk_userid": ("钉钉用户ID", "DingTalk userid"),
    "people.feishu_user_id": ("飞书 user_id / open_id", "Feishu user_id / open_id"),
    "people.unit": ("单位", "Unit"),
    "people.roles": ("角色", "Roles"),
    "people.locale": ("语言", "Language"),
    "people.active": ("启用", "Active"),
    "people.password": ("新密码（留空不改）", "New password (empty: unchanged)"),
    "people.bound": ("已绑定 Telegram", "Telegram bound"),
    "people.invite": ("邀请绑定", "Invite to the bot"),
    "people.wecom_bound": ("已绑定企业微信", "WeCom bound"),
    "people.invite_wecom": ("邀请绑定企业微信", "Invite to link WeCom"),
    "people.invite_wecom_hint": (
        "请在企业微信中打开此链接（已通过电子邮件发送给本人）。",
        "Open this link inside WeCom (it was also e-mailed to the person).",
    ),
    "people.invite_link": (
        "邀请链接（{days}天内有效，仅显示一次）：",
        "Invite link (valid {days} days, shown once):",
    ),
    "units.title": ("单位", "Units"),
    "units.new": ("新增单位", "New unit"),
    "units.parent": ("上级单位", "Parent unit"),
    "units.active": ("启用", "Active"),
    # a ladder step's recipients: the office's supervisors as a group
    "roles.supervisors": ("督查室", "The supervision office"),
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
    "tpl.part": ("部分", "Part"),
    "tpl.customised_count": ("{n} 处已自定义", "{n} customised"),
    "tpl.all_default": ("全部为默认模板", "all default"),
    "tpl.preview_real": ("所选事项的真实数据", "The chosen item's real data"),
    "tpl.preview_sample": ("示例数据", "Sample data"),
    "tpl.no_item": (
        "此类消息不针对具体事项，用示例数据预览。",
        "This message is not about one item: it is previewed with sample data.",
    ),
    "tpl.plain_part": ("纯文本部分", "Plain-text part"),
    "tpl.other_parts": ("本消息的其他部分和语言", "Other parts and languages of this message"),
    "tpl.panel": ("可用变量和宏", "Variables and macros"),
    "tpl.panel_hint": ("点击即插入到光标处。", "Click one to insert it at the cursor."),
    "tpl.variables": ("变量", "Variables"),
    "tpl.macros": ("公共宏", "Macros"),
    "tpl.helpers": ("格式和过滤器", "Formatting and filters"),
    "tpl.import_macros": (
        "导入公共宏：使用 {alias}.… 之前，模板开头须有此行",
        "imports the shared macros: needed at the top before any {alias}.…",
    ),
    "tpl.length": ("长度", "Length"),
    "tpl.unit.chars": ("字符", "characters"),
    "tpl.unit.utf8": ("字节", "bytes"),
    "tpl.unit.tg": ("字符（不计标签）", "characters (tags not counted)"),
    "tpl.over_limit": ("超过渠道上限", "over the channel's limit"),
    "tpl.error_at": ("错误位置：第 {line} 行", "The error is on line {line}"),
    "tpl.diff": ("与默认模板比较", "Compared with the default"),
    "tpl.diff_same": ("与默认模板相同。", "The same as the default."),
    "tpl.default_side": ("默认模板", "Default"),
    "tpl.current_side": ("当前内容", "This template"),
    "tpl.restore": ("恢复此版本", "Restore this version"),
    "tpl.restored_from": ("恢复自第 {version} 版", "restored from version {version}"),
    "tpl.reset_entry": ("（恢复默认）", "(reset to default)"),
    "tpl.show": ("查看内容", "Show"),
    "tpl.reset_title": ("恢复默认模板", "Reset to the default"),
    "tpl.reset_explain": (
        "恢复默认后，下列自定义内容不再使用（仍保留在修改历史中，可随时恢复）。",
        "After the reset these customised lines are no longer used (they stay in the "
        "history and can be restored).",
    ),
    "tpl.reset_confirm": ("我确认恢复默认模板", "I confirm the reset to the default"),
    # policies
    "pol.title": ("督办规则", "Escalation policies"),
    "pol.due_days": ("默认期限（工作日）", "Default deadline (working days)"),
    "pol.co_lead_days": ("协办反馈提前（工作日）", "Co-unit input due (working days early)"),
    "pol.co_lead_days_hint": (
        "协办单位须在主办单位完成时限前若干个工作日向主办单位反馈，其提醒按此时限进行",
        "Co-operating units owe their input to the lead unit this many working days before "
        "the lead's deadline; their reminders follow that date",
    ),
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
    "pol.urgent_suffix": ("（急件）", " (urgent)"),
    "pol.digest_threshold": ("每日待办阈值（条）", "Daily digest threshold (messages)"),
    "pol.digest_hint": (
        "同一人员在一个发送时段内的督办消息超过此数时，合并为一条每日待办；留空不合并。"
        "同一时段的多条交办通知始终合并为一条。",
        "When one person's messages in one send window exceed this number, they are sent "
        "as one daily digest; blank: never. Several assignment notices in one window are "
        "always sent as one.",
    ),
    # calendar
    "cal.title": ("工作日历", "Working-day calendar"),
    "cal.year": ("年份", "Year"),
    "cal.coverage": ("数据来源", "Coverage"),
    "cal.coverage.official": ("官方数据", "Official data"),
    "cal.coverage.schedule": ("已导入安排", "Imported schedule"),
    "cal.coverage.fallback": (
        "临时（周一至周五，除法定节假日）",
        "Fallback (Mon–Fri less holidays)",
    ),
    "cal.import": ("导入官方节假日安排", "Import an official schedule"),
    "cal.override": ("单日调整", "Single-day override"),
    "cal.day": ("日期", "Day"),
    "cal.is_workday": ("工作日", "Working day"),
    "cal.note": ("说明", "Note"),
    "cal.changed": ("以下事项的期限因此改变：", "These items' deadlines changed:"),
    "cal.items_in_use": ("在用事项", "Items in use"),
    "cal.detail.official": ("系统附带的官方数据", "official data bundled with Duban"),
    "cal.detail.schedule": (
        "已导入的官方安排，列出 {days} 天",
        "imported official schedule, {days} days listed",
    ),
    "cal.detail.fallback": (
        "尚无官方安排：相关期限为临时，导入官方安排后重新计算",
        "no official schedule yet: deadlines are provisional until one is imported",
    ),
    "cal.detail.overrides": ("单日调整 {n} 处", "{n} single-day override(s)"),
    "cal.file_columns": ("文件列：", "File columns:"),
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
    "dl.st.logged": ("未发送（仅记入日志）", "Not sent (logged only)"),
    "dl.logged_note": (
        "日志渠道（演示或测试）：消息只写入系统日志，没有发给任何人。",
        "Log channel (demo or test): written to the system log, sent to no one.",
    ),
    "dl.logged_instead": (
        "{channel} 渠道未配置：消息只写入系统日志，没有发给接收人。",
        "The {channel} channel is not configured: written to the system log, not sent.",
    ),
    "dl.outcome.logged": ("仅记入日志", "logged only"),
    "flash.saved": ("已保存。", "Saved."),
    "flash.decided": ("已处理。", "Decided."),
    "flash.retried": ("已安排重新发送。", "Queued for another try."),
    "flash.reset": ("已恢复默认模板。", "Reset to the default."),
    "flash.restored": ("已恢复所选版本。", "The chosen version was restored."),
    "dl.retried": ("已安排重新发送。", "Queued for another try."),
    # bulletins
    "bulletin.title": ("督查通报", "Bulletins"),
    "bulletin.period": ("期间", "Period"),
    "bulletin.period_hint": (
        "如 2026-11（月）、2026-W47（周）、2026-Q4（季度）",
        "e.g. 2026-11 (month), 2026-W47 (ISO week), 2026-Q4 (quarter)",
    ),
    "bulletin.preview": ("预览", "Preview"),
    "bulletin.issued": ("已发布通报", "Issued bulletins"),
    "bulletin.none": ("暂无", "None yet"),
    "bulletin.number": ("期号", "Number"),
    "bulletin.created": ("生成时间", "Created"),
    "bulletin.sent": ("发送时间", "Sent"),
    "bulletin.not_sent": ("未发送", "not sent"),
    "bulletin.as_of": ("统计截至", "As of"),
    "bulletin.rank": ("排名", "Rank"),
    "bulletin.section.all": ("排名", "Ranking"),
    "bulletin.section.lead": ("主办单位排名", "Ranking — lead units"),
    "bulletin.section.co": ("协办单位排名", "Ranking — co-operating units"),
    "bulletin.section.unranked": ("本期无到期事项", "Nothing due this period (not ranked)"),
    "bulletin.days_late_total": ("共逾期工作日", "working days late in all"),
    "bulletin.milestones": ("年度重点工作节点按期率", "Milestone punctuality of annual tasks"),
    "bulletin.ms_done": ("完成节点", "Done"),
    "bulletin.ms_late": ("逾期完成", "Done late"),
    "bulletin.ms_open_overdue": ("逾期未完成", "Overdue, open"),
    "bulletin.ms_rate": ("节点按期率", "On-time rate"),
    "bulletin.unit": ("单位", "Unit"),
    "bulletin.assigned": ("交办", "Assigned"),
    "bulletin.closed": ("办结", "Closed"),
    "bulletin.on_time": ("按期办结", "On time"),
    "bulletin.overdue": ("逾期", "Overdue"),
    "bulletin.extensions": ("延期", "Extensions"),
    "bulletin.rate": ("按期率", "On-time rate"),
    "bulletin.totals": ("合计", "Total"),
    "bulletin.formula": (
        "按期率 = 按期办结 ÷（期内办结 + 逾期未办结）",
        "On-time rate = closed on time ÷ (closed in period + open overdue)",
    ),
    "bulletin.overdue_items": ("逾期事项", "Overdue items"),
    "bulletin.days_overdue": ("逾期工作日", "Working days late"),
    "bulletin.closed_late": ("逾期办结", "closed late"),
    "bulletin.still_open": ("逾期未办结", "still open"),
    "bulletin.praised": ("通报表扬（总结推广）", "Praised (practice to share)"),
    "bulletin.urged": ("督促整改", "Urged to rectify"),
    "bulletin.download": ("下载", "Download"),
    "bulletin.send_title": ("发布并发送", "Issue and send"),
    "bulletin.recipients": ("接收人", "Recipients"),
    "bulletin.no_address": ("无可用渠道", "no chat or e-mail"),
    "bulletin.send": ("发布并发送", "Issue and send"),
    "bulletin.queued": ("已排队消息", "Messages queued"),
    "bulletin.no_recipients": ("请至少选择一名接收人", "Choose at least one recipient"),
    "bulletin.ref": ("文号", "Ref"),
    "bulletin.item": ("事项", "Item"),
    "bulletin.due": ("完成时限", "Due"),
    "bulletin.back": ("返回列表", "Back to the list"),
    # office documents (DOCX): 督办单 / 催办单 of an item, 督查通报 of a period
    "doc.download": ("下载公文（DOCX）", "Documents (DOCX)"),
    "doc.number": ("发文字号", "Document number"),
    "doc.number_hint": (
        "留空则按本室格式自动编号",
        "Leave empty to number it by the office's pattern",
    ),
    "doc.make": ("生成通报（DOCX）", "Make the bulletin (DOCX)"),
    "doc.ref": ("文号", "Reference"),
    "doc.matter": ("事项", "Matter"),
    "doc.source": ("事项来源", "Source"),
    "doc.requirement": ("要求", "Requirement"),
    "doc.assigned_on": ("交办时间", "Assigned on"),
    "doc.due": ("完成时限", "Deadline"),
    "doc.leader": ("牵头领导", "Leader in charge"),
    "doc.units": ("责任单位（主办/协办）", "Units (lead / co-operating)"),
    "doc.owners": ("责任人", "Responsible persons"),
    "doc.state": ("办理状态", "State"),
    "doc.timing": ("时限情况", "Against the deadline"),
    "doc.latest": ("最新进展", "Latest progress"),
    "doc.none": ("暂无", "None yet"),
    "doc.receipt": ("签收栏", "Receipt"),
    "doc.receipt_unit": ("签收单位", "Unit"),
    "doc.receipt_person": ("签收人", "Signed by"),
    "doc.receipt_date": ("签收日期", "Date"),
    "doc.blank_date": ("　　年　　月　　日", "____ / ____ / ________"),
    "doc.sheet_note": (
        "请责任单位收到后及时签收，按要求和时限办理，并通过督办系统报送办理情况。",
        "The units are asked to sign for this sheet, do the work as required by the deadline "
        "and report their progress through Duban.",
    ),
    "doc.urge_note": (
        "该事项{timing}。请责任单位抓紧办理，尽快报送办理情况；确需延期的，请按程序申请延期。",
        "This item is {timing}. The units are asked to press on with it and report their "
        "progress at once; if more time is truly needed, ask for an extension as the rules say.",
    ),
    "doc.bulletin_title": (
        "关于{period}督查事项办理情况的通报",
        "Bulletin on the supervised items of {period}",
    ),
    "doc.main_to": ("{units}：", "To: {units}"),
    "doc.all_units": ("各有关单位", "all units concerned"),
    "doc.intro": (
        "现将{period}督查事项办理情况（统计截至{as_of}）通报如下。",
        "The supervised items of {period} stood as follows on {as_of}.",
    ),
    "doc.totals": (
        "本期共交办事项{assigned}项，办结{closed}项，其中按期办结{on_time}项；逾期{overdue}项；"
        "同意延期{extensions}项；总体按期率{rate}。",
        "This period {assigned} assignments were in hand and {closed} closed, {on_time} of "
        "them on time; {overdue} were overdue; {extensions} extensions were approved; the "
        "on-time rate was {rate}.",
    ),
    "doc.nothing_ranked": ("本期无单位有到期事项。", "No unit had anything due this period."),
    "doc.unranked": ("本期无到期事项的单位：{units}。", "Units with nothing due: {units}."),
    "doc.praise": ("表扬与督促", "Praise and urging"),
    "doc.praised": (
        "对{units}予以通报表扬，其经验做法值得总结推广。",
        "{units} are praised; their practice is worth sharing.",
    ),
    "doc.urged": ("对以下单位予以督促整改：", "The following units are urged to rectify:"),
    "doc.urged_units": ("对{units}予以督促整改。", "{units} are urged to rectify."),
    "doc.urged_line": (
        "{unit}：逾期{count}项，共逾期{days}（{items}）。",
        "{unit}: {count} overdue, {days} late in all ({items}).",
    ),
    "doc.closing": (
        "请被督促整改的单位认真分析原因，限期整改到位，并将整改情况报送{office}。",
        "The units urged are asked to find the causes, put them right within the time set, "
        "and report what they did to the {office}.",
    ),
    "doc.copy_to": ("抄送：{offices}。", "Copy to: {offices}."),
    "doc.printed": ("{date}印发", "Issued {date}"),
    # API tokens
    "token.title": ("API 令牌", "API tokens"),
    "token.intro": (
        "令牌以所属人员的角色访问 /api/v1（文档：/api/v1/openapi.json）。"
        "令牌只在创建时显示一次，系统仅保存其哈希。",
        "A token acts with its person's roles on /api/v1 (document: /api/v1/openapi.json). "
        "It is shown once, when created; only its hash is kept.",
    ),
    "token.person": ("人员", "Person"),
    "token.name": ("用途", "Name"),
    "token.created": ("创建时间", "Created"),
    "token.last_used": ("最近使用", "Last used"),
    "token.never": ("从未", "never"),
    "token.state": ("状态", "State"),
    "token.active": ("有效", "active"),
    "token.revoked": ("已吊销", "revoked"),
    "token.expired": ("已过期", "expired"),
    "token.expires": ("有效期至", "Expires"),
    "token.valid_days": ("有效天数", "Valid for (days)"),
    "token.no_expiry": ("长期（直至吊销）", "until revoked"),
    "token.bad_days": ("有效天数须为正整数。", "The validity must be a whole number of days."),
    "token.revoke": ("吊销", "Revoke"),
    "token.create": ("创建令牌", "Create token"),
    "token.none": ("暂无", "None yet"),
    "token.shown_once": (
        "请立即复制保存此令牌，关闭本页后将无法再次查看：",
        "Copy this token now; it will not be shown again:",
    ),
    "token.choose_person": ("请选择人员", "Choose a person"),
}

#: key prefix of each glossary enum on the pages: ``t("source." ~ item.source)``
GLOSSARY_KEYS: Final[tuple[tuple[str, type[StrEnum]], ...]] = (
    ("light.", Light),
    ("state.", ItemState),
    ("milestones.state.", MilestoneState),
    ("source.", Source),
    ("role.", AssignmentRole),
    ("roles.", Role),
    ("step.", StepKind),
    ("step.", MessageKind),
    ("channel.", Channel),
    ("step_channel.", StepChannel),
    ("status.", NotificationStatus),
    ("outcome.", DeliveryOutcome),
    ("origin.", Origin),
    ("review.", ReviewState),
    ("items.kind.", ReportKind),
    ("decision.", Decision),
    ("ent.", AuditEntity),
    ("act.", AuditAction),
    ("tpl.part.", TemplatePart),
    ("tpl.lang.", MessageLanguage),
    ("doc.kind.", Document),
)


STRINGS: Final[dict[str, tuple[str, str]]] = _UI | {
    prefix + member: (label(member, "zh"), label(member, "en", alone=True))
    for prefix, enum in GLOSSARY_KEYS
    for member in enum
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
