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
from supervision.labels import label
from supervision.light import Light

LANGS: Final = ("zh", "en")
DEFAULT_LANG: Final = "zh"
LANG_COOKIE: Final = "lang"

_UI: Final[dict[str, tuple[str, str]]] = {
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
    "dash.chart": ("按期率图", "On-time rate chart"),
    "dash.overdue_list": ("逾期事项", "Overdue items"),
    "dash.overdue_more": (
        "仅列出最早到期的 {shown} 项，共 {total} 项：查看全部",
        "The {shown} that fell due first of {total}: see them all",
    ),
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
    "items.days": ("剩余/逾期（工作日）", "Days left / late (working days)"),
    "items.sort_hint": ("点击列名排序", "Click a column name to sort"),
    "items.sort": ("排序", "Order by"),
    "items.sort_dir": ("顺序", "Direction"),
    "items.sorted_asc": ("升序", "ascending"),
    "items.sorted_desc": ("降序", "descending"),
    "items.select": ("选择", "Select"),
    "items.select_all": ("全选本页", "Select this page"),
    "items.ledger": ("导出台账（XLSX）", "Export the ledger (XLSX)"),
    "items.batch": ("批量操作", "Batch action"),
    "items.batch_action": ("对所选事项", "For the selected items"),
    "items.batch_reason": ("理由", "Reason"),
    "items.batch_unit": ("转至单位（转办）", "To unit (hand over)"),
    "items.batch_due": ("新的完成时限（延期）", "New deadline (extend)"),
    "items.batch_review": ("下一步：确认", "Next: confirm"),
    "items.batch.urge": ("立即催办", "Urge now"),
    "items.batch.transfer": ("转办", "Hand over"),
    "items.batch.extend": ("延期", "Extend"),
    "items.batch.cancel": ("撤销", "Cancel"),
    "items.batch_confirm_title": ("确认批量操作：{action}", "Confirm the batch: {action}"),
    "items.batch_intro": (
        "以下是对每个事项将要执行的操作。确认后一并执行；任何一项不能执行时，全部不执行。",
        "This is what will happen to each item. On confirming it is done to all of them at "
        "once; if any item cannot take it, nothing is done.",
    ),
    "items.batch_effect": ("将要执行", "What will happen"),
    "items.batch_refused": ("不能执行", "Cannot be done"),
    "items.batch_confirm": ("确认执行", "Confirm"),
    "items.batch_urge_to": ("{unit}：催办 {people}", "{unit}: urge {people}"),
    "items.batch_transfer_to": ("主办单位 {before} → {after}", "Lead unit {before} → {after}"),
    "items.batch_extend_to": ("完成时限 {before} → {after}", "Deadline {before} → {after}"),
    "items.batch_cancel_to": ("{before} → {after}", "{before} → {after}"),
    # the 台账 (ledger) export
    "ledger.sheet": ("督查事项台账", "Items ledger"),
    "ledger.no": ("序号", "No."),
    "ledger.ref": ("文号", "Reference"),
    "ledger.title": ("事项", "Item"),
    "ledger.source": ("来源", "Source"),
    "ledger.assigned_on": ("交办时间", "Assigned on"),
    "ledger.leader": ("牵头领导", "Leader in charge"),
    "ledger.units": ("责任单位（主办/协办）", "Units (lead / co-operating)"),
    "ledger.owners": ("责任人", "Responsible people"),
    "ledger.due_on": ("完成时限", "Deadline"),
    "ledger.latest": ("最新进展", "Latest progress"),
    "ledger.completion": ("办结情况", "Completion"),
    "ledger.light": ("红黄灯", "Light"),
    # timeline kinds
    "tl.audit": ("操作", "Change"),
    "tl.notification": ("通知", "Message"),
    "tl.attempt": ("发送尝试", "Delivery attempt"),
    "tl.report": ("报告", "Report"),
    "tl.extension": ("延期申请", "Extension"),
    "tl.review": ("审核", "Review"),
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
    # reading an uploaded file (supervision.tabular.TableError keys)
    "table.too_large": ("文件超过 {mb} MB。", "the file is larger than {mb} MB."),
    "table.unsupported": (
        "不支持的文件类型 {suffix}：请使用 .csv（UTF-8）或 .xlsx 文件。",
        "unsupported file type {suffix}: use .csv (UTF-8) or .xlsx",
    ),
    "table.not_utf8": (
        "文件不是 UTF-8 文本：请另存为“CSV UTF-8”（或 XLSX）后重试。",
        "the file is not UTF-8 text; save it as “CSV UTF-8” (or as XLSX) and try again",
    ),
    "table.empty": ("文件为空：没有表头行。", "the file is empty: it has no header row"),
    "table.duplicate_column": (
        "第 1 行，{column}：表头中该列出现了两次。",
        "row 1, {column}: the column appears twice in the header",
    ),
    "table.bad_csv": ("第 {row} 行：不是有效的 CSV。", "row {row}: not valid CSV"),
    "table.bad_xlsx": (
        "无法读取该 XLSX 工作簿（{reason}）。",
        "not a readable XLSX workbook ({reason})",
    ),
    "table.no_sheet": ("工作簿中没有工作表。", "the workbook has no sheet"),
    "table.too_many_rows": (
        "文件超过 {limit:,} 行。",
        "the file has more than {limit:,} rows",
    ),
    "table.too_many_columns": (
        "第 {row} 行：第 {limit} 列之后还有内容（最多 {limit} 列）。",
        "row {row}: a value beyond column {limit} (at most {limit} columns)",
    ),
    "table.too_many_cells": (
        "第 {row} 行：已填写的单元格超过 {limit:,} 个。",
        "row {row}: the file has more than {limit:,} filled cells",
    ),
    "table.too_big_unpacked": (
        "工作簿解压后达 {mb:,} MB，超过上限 {limit} MB。",
        "the workbook unpacks to {mb:,} MB, more than {limit} MB",
    ),
    "table.too_many_parts": (
        "不是工作簿：文件包含超过 {limit} 个部件。",
        "not a workbook: the file holds more than {limit} parts",
    ),
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
    "tpl.line": ("第 {line} 行", "line {line}"),
    "tpl.part": ("部分", "Part"),
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
    "flash.batch_done": ("批量操作已完成。", "The batch action is done."),
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
    "bulletin.section.lead": ("主办单位排名", "Ranking — lead units (主办)"),
    "bulletin.section.co": ("协办单位排名", "Ranking — co-operating units (协办)"),
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
