"""The glossary's whole sentences (prompts, confirmations, refusals), in Chinese and English.

Part of the one catalogue: `supervision.labels` re-exports `Sentence` and `SENTENCES` and
says them (`say`, `refusal`, `told`); they live here only to keep each module short.
The keys are `supervision.sentence_keys`; imports nothing else of Duban.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from supervision.sentence_keys import Sentence

__all__ = ["SENTENCES", "Sentence"]


#: every sentence: (中文, English); ``{office}`` etc. are filled by `say`
SENTENCES: Final[Mapping[Sentence, tuple[str, str]]] = {
    # the office's name where the settings give none (DUBAN_OFFICE_NAME)
    Sentence.OFFICE: ("督查室", "supervision office"),
    Sentence.HOW_TO_BIND: (
        "您好！本机器人仅为已登记的督查工作人员服务。请联系{office}获取邀请链接，"
        "点击链接后即可绑定。",
        "Hello! This bot serves registered supervision staff only. Ask the {office} for an "
        "invite link and open it to connect your account.",
    ),
    Sentence.PRIVATE_ONLY: (
        "本机器人只在私聊中使用，请直接私信我。",
        "This bot works in private chats only; please message me directly.",
    ),
    Sentence.GREET: ("{name}，您好！已绑定成功。", "Hello {name}, your account is now connected."),
    Sentence.ALREADY_BOUND: (
        "{name}，您好！您的账号已绑定。",
        "Hello {name}, your account is connected.",
    ),
    Sentence.INVITE_UNKNOWN: (
        "邀请链接无效。请联系{office}重新获取。未做任何绑定。",
        "This invite link is not valid. Ask the {office} for a new one. Nothing was connected.",
    ),
    Sentence.INVITE_USED: (
        "该邀请链接已被使用。如需重新绑定，请联系{office}获取新的邀请。未做任何绑定。",
        "This invite link was already used. Ask the {office} for a new invite. "
        "Nothing was connected.",
    ),
    Sentence.INVITE_EXPIRED: (
        "该邀请链接已过期（有效期{days}天）。请联系{office}重新获取。未做任何绑定。",
        "This invite link has expired (valid {days} days). Ask the {office} for a new one. "
        "Nothing was connected.",
    ),
    Sentence.NO_OPEN: ("您目前没有办理中的督查事项。", "You have no open supervised items."),
    Sentence.OPEN_ITEMS: ("您办理中的督查事项：", "Your open supervised items:"),
    Sentence.ITEM_LINE: (
        "{light} {title}\n    完成时限 {due}（{days}）",
        "{light} {title}\n    due {due} ({days})",
    ),
    Sentence.VIEW_ONLY: (
        "    （下级单位事项，仅供查看）",
        "    (a unit below yours: for reading only)",
    ),
    Sentence.FILED: (
        "已收到「{title}」第{number}次报告。当前状态：{light}",
        "Report #{number} on “{title}” received. Status: {light}",
    ),
    Sentence.COMPLETION_FILED: (
        "「{title}」办结申请已提交（报告第{number}次），{next}",
        "Completion request for “{title}” filed (report #{number}). {next}",
    ),
    Sentence.TO_SIGNOFF: (
        "待本单位主要负责同志签发后报督查室审核。",
        "It goes to your unit's principal for sign-off, then to the office.",
    ),
    Sentence.TO_REVIEW: ("等待督查室审核。", "The office will review it."),
    Sentence.EXTENSION_FILED: (
        "「{title}」延期申请已提交：新的完成时限 {date}，等待督查室审核。",
        "Extension request for “{title}” filed: new deadline {date}, awaiting review.",
    ),
    Sentence.CONFIRM_ONE: (
        "要把这条内容作为「{title}」的进展报告吗？",
        "File this as a progress report on “{title}”?",
    ),
    Sentence.CHOOSE_ITEM: ("请选择要报告的事项：", "Which item is this report for?"),
    Sentence.CHOOSE_FOR_COMPLETE: ("请选择要申请办结的事项：", "Which item do you ask to close?"),
    Sentence.CHOOSE_FOR_EXTEND: ("请选择要申请延期的事项：", "Which item needs more time?"),
    Sentence.ASK_REPORT: (
        "请发送「{title}」的进展情况（文字，或图片、文件）。",
        "Send the progress on “{title}” (text, photos or files).",
    ),
    Sentence.ASK_SUMMARY: (
        "请发送「{title}」的办理情况总结（文字，可附图片、文件）。",
        "Send the completion summary for “{title}” (text, optionally files).",
    ),
    Sentence.ASK_REASON: (
        "请说明「{title}」需要延期的原因。",
        "Why does “{title}” need more time?",
    ),
    Sentence.ASK_PROGRESS: ("请简述目前的进展情况。", "Briefly, what has been done so far?"),
    Sentence.ASK_DATE: (
        "请选择或输入新的完成时限（须晚于 {due}），如 2027-01-31 或 1月31日：",
        "Pick or type the new deadline (after {due}), e.g. 2027-01-31 or 2027/1/31:",
    ),
    Sentence.ASK_COMMENT: ("请输入退回意见：", "Please type the reason for returning it:"),
    Sentence.CANCELLED: ("已取消。", "Cancelled."),
    Sentence.NOTHING_TO_CANCEL: ("当前没有进行中的操作。", "Nothing to cancel."),
    Sentence.SEND_TEXT_OR_FILE: (
        "请发送文字或文件（图片、文档）。暂不支持贴纸、语音、位置等内容。",
        "Please send text or a file (photo, document); stickers, voice, locations and the "
        "like are not accepted.",
    ),
    Sentence.SEND_TEXT: (
        "请用文字回答（发送 /cancel 取消）。",
        "Please answer in text (send /cancel to stop).",
    ),
    Sentence.REPORT_EDITED: (
        "报告已更新（原内容已保留在历史记录中）。",
        "Report updated (the earlier text is kept in its history).",
    ),
    Sentence.REVIEW_NONE: ("目前没有待审核的申请。", "No requests await review."),
    Sentence.REVIEW_COMPLETION: (
        "办结申请｜「{title}」（{unit}）\n申请人：{who}\n{text}",
        "Completion request | “{title}” ({unit})\nBy: {who}\n{text}",
    ),
    Sentence.REVIEW_EXTENSION: (
        "延期申请｜「{title}」（{unit}）\n申请人：{who}\n原时限 {old} → 新时限 {new}\n"
        "原因：{reason}\n进展：{progress}",
        "Extension request | “{title}” ({unit})\nBy: {who}\nDue {old} → {new}\n"
        "Reason: {reason}\nProgress: {progress}",
    ),
    Sentence.SIGNOFF_NONE: (
        "目前没有待您签发的办结报告。",
        "No completion reports await your sign-off.",
    ),
    Sentence.SIGNOFF_ITEM: (
        "待签发｜「{title}」办结报告\n报告人：{who}\n{text}",
        "To sign off | completion report on “{title}”\nBy: {who}\n{text}",
    ),
    Sentence.SIGNED_OFF: ("已签发，报督查室审核。", "Signed off; sent to the office for review."),
    Sentence.APPROVED: ("已同意。", "Approved."),
    Sentence.REJECTED: ("已退回。", "Returned."),
    Sentence.NOT_ALLOWED: ("您无权执行此操作。", "Not allowed."),
    Sentence.EXPIRED: (
        "该操作已失效（事项或申请已变化）。",
        "This action has expired (the item or request changed).",
    ),
    Sentence.APOLOGY: (
        "抱歉，处理您的消息时出错了，我们会尽快重试。",
        "Sorry, something went wrong with your message; it will be retried.",
    ),
    Sentence.UNKNOWN_COMMAND: (
        "可用命令：/my 我的事项，/report 填报进展，/complete 申请办结，"
        "/extend 申请延期，/settings 接收渠道，/cancel 取消。也可以直接回复提醒消息填报进展。",
        "Commands: /my items, /report progress, /complete ask to close, "
        "/extend ask for more time, /settings channels, /cancel. You can also reply to a "
        "reminder.",
    ),
    Sentence.SETTINGS_HINT: (
        "用下面的按钮调整顺序（⬆）、去掉（✕）或添加（＋）渠道。",
        "Use the buttons below to move a channel up (⬆), remove it (✕) or add one (＋).",
    ),
    Sentence.ERROR: ("未完成：{message}", "Not done: {message}"),
    Sentence.REASON_REQUIRED: (
        "退回须填写理由，请在审核意见中说明。未作任何更改。",
        "A rejection needs a reason: write it in the comment. Nothing was changed.",
    ),
    Sentence.MESSAGE_EXPIRED: ("消息已过期。", "This message has expired."),
    Sentence.UNKNOWN_BUTTON: ("未知的按钮。", "Unknown button."),
    Sentence.BAD_DATE: ("日期无效。", "That date is not valid."),
    Sentence.NO_SUCH_ASSIGNMENT: ("事项不存在。", "No such item."),
    Sentence.ASSIGNMENT_CLOSED: (
        "该事项已办结或撤销，不能再办理。",
        "The item is closed or cancelled; nothing more can be done on it.",
    ),
    Sentence.NOT_OPEN: ("该事项不在办理中。", "The item is not open."),
    Sentence.NOT_OPEN_FOR_EXTENSION: (
        "该事项不在办理中，不能申请延期。",
        "The item is not open; no extension can be asked.",
    ),
    Sentence.DEADLINE_PASSED: (
        "完成时限 {due} 已过，不能再申请延期。",
        "The deadline {due} has passed; no extension can be asked now.",
    ),
    Sentence.NO_SUCH_REPORT: ("报告不存在。", "No such report."),
    Sentence.REPORT_HANDLED: ("该报告已签发或已处理。", "That report was already handled."),
    Sentence.NO_SUCH_REQUEST: ("申请不存在。", "No such request."),
    Sentence.REQUEST_DECIDED: ("该申请已处理。", "That request was already decided."),
    Sentence.NOT_YOUR_SIGNOFF: ("您无权签发该报告。", "You may not sign off that report."),
    Sentence.REPORT_ON_CLOSED: (
        "该事项已办结或撤销，不能再填报。",
        "The item is closed or cancelled; no more reports can be filed on it.",
    ),
    Sentence.TEXT_TOO_LONG: (
        "内容过长：最多 {limit} 字，收到 {got} 字。",
        "The text is too long: at most {limit} characters, received {got}.",
    ),
    Sentence.BAD_ATTACHMENT_ID: ("附件标识无效。", "An attachment's id is not valid."),
    Sentence.MESSAGE_ALREADY_FILED: (
        "这条消息已作为其他事项的报告。",
        "This message was already filed as a report on another item.",
    ),
    Sentence.MILESTONE_NOT_OF_ITEM: (
        "该阶段性节点不属于本事项。",
        "That milestone is not one of this item's.",
    ),
    Sentence.TOO_MANY_ATTACHMENTS: (
        "附件过多：最多 {max} 个。",
        "Too many attachments: at most {max}.",
    ),
    Sentence.EMPTY_REPORT: (
        "报告内容为空：请发送文字或文件。",
        "The report is empty: send text or a file.",
    ),
    Sentence.ALBUM_ELSEWHERE: (
        "这组文件属于另一份报告。",
        "These files belong to another report.",
    ),
    Sentence.ONLY_AUTHOR_EDITS: (
        "只能修改自己提交的报告。",
        "Only the person who filed a report may change it.",
    ),
    Sentence.EDIT_WINDOW_PASSED: (
        "报告提交已超过 {hours} 小时，不能再修改。",
        "The report was filed more than {hours} hours ago and can no longer be changed.",
    ),
    Sentence.REPORT_REVIEWED: (
        "报告已审核，不能再修改。",
        "The report was reviewed and can no longer be changed.",
    ),
    Sentence.NEW_DATE_NOT_LATER: (
        "新的完成时限须晚于 {due}",
        "The new deadline must be later than {due}",
    ),
    Sentence.EXTENSION_REASON_REQUIRED: ("请说明延期原因", "A reason is required"),
    Sentence.EXTENSION_PROGRESS_REQUIRED: (
        "请说明目前进展",
        "The progress so far is required",
    ),
    Sentence.EXTENSION_PENDING: (
        "已有一份延期申请在审核中",
        "An extension request is already pending",
    ),
    Sentence.COMPLETION_ALREADY_ASKED: (
        "该事项已申请办结或已办结，不能重复申请。",
        "Completion was already asked for, or the item is closed.",
    ),
    Sentence.SUMMARY_REQUIRED: ("请填写办理情况。", "A summary of the work done is required."),
    Sentence.NOTHING_TO_SIGN_OFF: (
        "该报告无需签发或已处理。",
        "That report needs no sign-off, or was already handled.",
    ),
    Sentence.NOT_AWAITING_REVIEW: (
        "该申请已处理或尚待签发。",
        "That request was already decided, or still awaits sign-off.",
    ),
    Sentence.NO_LONGER_ASKING_TO_CLOSE: (
        "该事项已不在申请办结状态。",
        "The item no longer asks to be closed.",
    ),
    Sentence.EXTENSION_DECIDED: (
        "该延期申请已处理。",
        "That extension request was already decided.",
    ),
    Sentence.DEADLINE_CHANGED: (
        "完成时限已被修改，请重新申请。",
        "The deadline changed since the request; please ask again.",
    ),
    Sentence.MAIL_DECIDER_NOT_REGISTERED: (
        "您的邮箱地址未在督办系统登记，不能以邮件审核或签发。",
        "Your address is not registered with Duban, so you cannot review or sign off by e-mail.",
    ),
    Sentence.MAIL_SIGNOFF_WORD: (
        "签发请在回复的第一行写“{sign_off}”或“{approve}”。退回请与承办人联系。",
        "To sign off, write “{sign_off}” or “{approve}” on the first line of your reply. To "
        "send it back, contact the person who filed it.",
    ),
    Sentence.MAIL_REVIEW_WORD: (
        "审核请在回复的第一行写“{approve}”或“{reject}”，后面写审核意见（退回须写明意见）。",
        "To review, write “{approve}” or “{reject}” on the first line of your reply, then "
        "your comment (a return needs one).",
    ),
    Sentence.MAIL_EXTENSION_GONE: (
        "该延期申请已不存在。",
        "That extension request no longer exists.",
    ),
    Sentence.MAIL_REPORT_GONE: ("该办结报告已不存在。", "That completion report no longer exists."),
    Sentence.MONTH: ("{year}年{month}月", "{month_name} {year}"),
    Sentence.WEEKDAYS: ("一二三四五六日", "MTWTFSS"),
    Sentence.WECOM_UNBOUND: (
        "您的企业微信账号尚未在督办系统登记，消息未予登记。请联系督查室绑定账号。",
        "Your WeCom account is not registered with Duban; nothing was filed. "
        "Please ask the supervision office to bind it.",
    ),
    Sentence.WECOM_NOT_ALLOWED: (
        "您无权对该事项执行此操作，未予登记。",
        "You may not do this on that item; nothing was filed.",
    ),
    Sentence.WECOM_GONE: (
        "该事项已办结或不再办理，未予登记。",
        "That item is closed or no longer open; nothing was filed.",
    ),
    Sentence.WECOM_NO_OPEN: (
        "您目前没有办理中的督查事项，消息未予登记。",
        "You have no open items; nothing was filed.",
    ),
    Sentence.WECOM_ASK_REPORT: (
        "请发送「{title}」的进展情况（文字）。发送“取消”放弃。",
        "Send the progress on “{title}” (text). Send “cancel” to stop.",
    ),
    Sentence.WECOM_ASK_CLOSE: (
        "请发送「{title}」的办理情况总结（办结报告）。发送“取消”放弃。",
        "Send the completion report for “{title}”. Send “cancel” to stop.",
    ),
    Sentence.WECOM_ASK_EXTEND: (
        "请发送「{title}」的延期申请，格式如下（发送“取消”放弃）：\n2027-01-20\n原因：……\n进展：……",
        "Send the extension request for “{title}” like this (“cancel” to stop):\n"
        "2027-01-20\nReason: …\nProgress: …",
    ),
    Sentence.WECOM_CHOOSE: (
        "您有多项办理中的事项，请回复序号，把刚才的内容报送到该事项：\n{lines}",
        "You have several open items; reply with a number to file your message there:\n{lines}",
    ),
    Sentence.WECOM_CHOOSE_AGAIN: (
        "请回复 1 到 {n} 之间的序号，或发送“取消”。",
        "Reply with a number from 1 to {n}, or “cancel”.",
    ),
    Sentence.WECOM_FILED: (
        "已收到「{title}」第{number}次进展报告。",
        "Progress report no. {number} on “{title}” received.",
    ),
    Sentence.WECOM_COMPLETION_FILED: (
        "「{title}」办结申请已提交（报告第{number}次），等待审核。",
        "Completion request for “{title}” sent (report no. {number}).",
    ),
    Sentence.WECOM_REFUSED: ("未予登记：{reason}", "Not filed: {reason}"),
    Sentence.WECOM_DETAILS: (
        "{ref} {title}\n责任单位：{unit}\n完成时限：{due}\n状态：{state}",
        "{ref} {title}\nUnit: {unit}\nDue: {due}\nState: {state}",
    ),
    Sentence.WECOM_EMPTY: (
        "内容为空，未予登记。请发送文字。",
        "The message is empty; nothing was filed.",
    ),
    Sentence.WECOM_EXTENSION_FORMAT: (
        "申请延期须写明新的完成时限，例如第一行写“2027-01-20”，下面写“原因：……”和“进展：……”。",
        "An extension request needs the new deadline, e.g. “2027-01-20” on the first line, "
        "then “Reason: …” and “Progress: …”.",
    ),
    Sentence.WECOM_SETTINGS: (
        "{prefs}\n\n按顺序发送，例如“接收渠道 企业微信 电子邮件”；发送“接收渠道 默认”恢复默认。",
        "{prefs}\n\nSend them in order, e.g. “channels wecom_app email”; "
        "“channels default” restores the default.",
    ),
    Sentence.WECOM_SETTINGS_SAVED: ("接收渠道已保存。\n{prefs}", "Channels saved.\n{prefs}"),
    Sentence.MAIL_UNKNOWN_REMINDER: (
        "未能识别您回复的是哪一条督办提醒。请在收到的提醒邮件上直接点“回复”，"
        "保留邮件主题，再填写办理情况。",
        "We could not tell which reminder you are answering. Please press “Reply” on the "
        "reminder e-mail itself, keep its subject, and write your progress there.",
    ),
    Sentence.MAIL_ITEM_GONE: ("该督办事项已不存在。", "That supervised item no longer exists."),
    Sentence.MAIL_SENDER_NOT_REGISTERED: (
        "您的邮箱地址不是该督办事项责任人、责任领导或本单位联络员登记的地址，"
        "回复未予登记。如需报送，请使用在督办系统登记的邮箱回复，或联系督查室。",
        "Your address is not the one registered for this item's responsible person, leader "
        "or your unit's liaison, so the reply was not filed. Reply from your registered "
        "address, or contact the supervision office.",
    ),
    Sentence.MAIL_TOO_LARGE: (
        "邮件过大，超过可接收的大小（附件合计不超过 {limit}），"
        "未予登记。请压缩或删减附件后重新回复，或登录督办系统网页上传。",
        "The e-mail is too large (attachments up to {limit} in all) and was not filed. "
        "Compress or remove attachments and reply again, or upload them on the web pages.",
    ),
    Sentence.MAIL_TOO_MANY_FILES: (
        "附件过多：最多 {max} 个，收到 {got} 个",
        "Too many attachments: at most {max}, received {got}",
    ),
    Sentence.MAIL_FILE_TYPE: (
        "附件“{name}”的类型不在允许范围内（允许：{allowed}）",
        "Attachment “{name}” is of a type not accepted (accepted: {allowed})",
    ),
    Sentence.MAIL_FILE_SIZE: (
        "附件“{name}”大小 {size}，超过单个附件 {max} 的上限",
        "Attachment “{name}” is {size}, over the limit of {max} per file",
    ),
    Sentence.MAIL_TOTAL_SIZE: (
        "附件合计 {total}，超过每封邮件 {max} 的上限",
        "Attachments total {total}, over the limit of {max} per e-mail",
    ),
    Sentence.MAIL_ATTACHMENTS_REFUSED: (
        "{problems}。本次回复未登记，请压缩或删减附件后重新回复，或登录督办系统网页上传。",
        "{problems}. This reply was not filed; compress or remove attachments and reply "
        "again, or upload them on the web pages.",
    ),
    # ``command`` is the word the reply parser reads (申请延期), whatever the reader's language
    Sentence.MAIL_EXTENSION_FORMAT: (
        "申请延期须写明新的完成时限，例如第一行写“{command} 2027-01-20”，"
        "正文写“原因：……”和“进展：……”。",
        "An extension request needs the new deadline, e.g. “{command} 2027-01-20” on the "
        "first line, then “Reason: …” and “Progress: …” below.",
    ),
    Sentence.TEMPLATE_VERSION_MISSING: (
        "该模板没有可恢复的第 {version} 版（恢复默认的记录不能作为版本恢复）。",
        "This template has no version {version} to restore (a reset is not a version).",
    ),
    Sentence.TEMPLATE_RESET_UNCONFIRMED: (
        "请勾选确认后再恢复默认模板；模板未作改动。",
        "Tick the confirmation to reset the template to its default; nothing was changed.",
    ),
    Sentence.DOC_NUMBER_BAD: (
        "发文字号须为 1 至 {limit} 个字符的一行文字，例如“督查通报〔2026〕12号”；未生成文件",
        "The document number must be one line of 1 to {limit} characters; no file was made",
    ),
    Sentence.DOC_NUMBER_PATTERN_BAD: (
        "发文字号格式“{pattern}”须含 {{n}}（本年第几期），可含 {{year}}，不能含其他花括号",
        "The document number pattern “{pattern}” must contain {{n}} (the issue's number in "
        "its year), may contain {{year}}, and no other braces",
    ),
    # forms of the web pages and the use-cases behind them
    Sentence.REOPEN_NOT_CLOSED: (
        "只有已办结的事项才能退回重办",
        "Only a closed item can be sent back to be done again",
    ),
    Sentence.REOPEN_REASON_REQUIRED: (
        "请填写退回重办的理由",
        "Give a reason for sending it back",
    ),
    Sentence.REASON_TOO_LONG: (
        "理由不能超过{max}字",
        "The reason may not be longer than {max} characters",
    ),
    Sentence.REOPEN_DUE_NOT_LATER: (
        "新的完成时限须晚于今天",
        "The new deadline must be after today",
    ),
    Sentence.REOPEN_CONFIRM: (
        "请勾选确认后再退回重办",
        "Tick the confirmation to send it back",
    ),
    Sentence.REOPEN_DUE_REQUIRED: (
        "请填写新的完成时限",
        "Give the new deadline (YYYY-MM-DD)",
    ),
    Sentence.TRANSFER_NOT_OPEN: (
        "只有办理中的任务才能转办",
        "Only open work can be handed over",
    ),
    Sentence.TRANSFER_REASON_REQUIRED: (
        "请填写转办理由",
        "Give a reason for handing it over",
    ),
    Sentence.TRANSFER_TO_WHOM: (
        "请选择转办给哪个单位或哪位责任人",
        "Choose the unit or the person to hand it to",
    ),
    Sentence.TRANSFER_SAME: (
        "转办对象与现在相同",
        "That unit and person have it already",
    ),
    Sentence.TRANSFER_CONFIRM: (
        "请勾选确认后再转办",
        "Tick the confirmation to hand it over",
    ),
    Sentence.UNIT_ALREADY_ON_ITEM: (
        "「{unit}」已是本事项的责任单位",
        "“{unit}” is already on this item",
    ),
    Sentence.OWNER_OUTSIDE_LEAD: (
        "{owner}不是主办单位「{unit}」的人员，不能担任其责任人（请选择该单位的人员）",
        "{owner} is not a member of the lead unit “{unit}” and cannot be its responsible person "
        "(choose one of its people)",
    ),
    Sentence.OWNER_OUTSIDE_CO: (
        "{owner}不是协办单位「{unit}」的人员，不能担任其责任人（请选择该单位的人员）",
        "{owner} is not a member of the co-operating unit “{unit}” and cannot be its "
        "responsible person (choose one of its people)",
    ),
    Sentence.OWNER_OUTSIDE_UNIT: (
        "{owner}不是「{unit}」的人员，不能担任其责任人（请选择该单位的人员）",
        "{owner} is not a member of “{unit}” and cannot be its responsible person "
        "(choose one of its people)",
    ),
    Sentence.SOURCE_UNKNOWN: (
        "没有“{source}”这种事项来源",
        "There is no source “{source}”",
    ),
    Sentence.RECEIVED_ON_BAD: (
        "收到日期须为日期（年-月-日）",
        "The received date must be a date (YYYY-MM-DD)",
    ),
    Sentence.DUE_ON_BAD: (
        "完成时限须为日期（年-月-日），或留空",
        "The deadline must be a date (YYYY-MM-DD), or empty",
    ),
    Sentence.LEAD_UNIT_REQUIRED: (
        "请选择主办单位",
        "Choose the lead unit",
    ),
    Sentence.CO_UNIT_BAD: (
        "协办单位的选择无效：{value}",
        "Not a valid co-operating unit: {value}",
    ),
    Sentence.CO_OWNER_BAD: (
        "协办责任人的选择无效：{value}",
        "Not a valid co-operating unit's person: {value}",
    ),
    Sentence.CO_OWNER_UNIT_NOT_CHOSEN: (
        "所选协办责任人的单位未被选为协办单位：请同时选择该协办单位",
        "A chosen person's unit is not among the co-operating units: choose that unit too",
    ),
    Sentence.CO_OWNER_TWICE: (
        "每个协办单位只能选一名责任人",
        "Choose one responsible person per co-operating unit",
    ),
    Sentence.POLICY_DUE_DAYS: (
        "默认期限须为 1 至 365 个工作日",
        "The default deadline must be 1 to 365 working days",
    ),
    Sentence.POLICY_CO_DAYS: (
        "协办单位反馈时限须为主办时限前 0 至 60 个工作日",
        "Co-operating units' input must be due 0 to 60 working days before the lead's deadline",
    ),
    Sentence.WINDOW_START_BAD: (
        "发送时段的开始须为时间，如 08:30",
        "The send window's start must be a time like 08:30",
    ),
    Sentence.WINDOW_END_BAD: (
        "发送时段的结束须为时间，如 18:00",
        "The send window's end must be a time like 18:00",
    ),
    Sentence.WINDOW_ORDER: (
        "发送时段的开始须早于结束",
        "The send window must start before it ends",
    ),
    Sentence.DIGEST_THRESHOLD: (
        "每日待办阈值须为 1 至 {max} 的整数，留空表示不汇总",
        "The daily digest threshold must be a whole number from 1 to {max}, or blank for none",
    ),
    Sentence.POLICY_NO_STEP: (
        "督办规则至少需要一个环节",
        "A policy needs at least one step",
    ),
    Sentence.STEP_UNKNOWN: (
        "第 {n} 步：没有“{kind}”这个环节",
        "Step {n}: there is no step “{kind}”",
    ),
    Sentence.STEP_OFFSET: (
        "第 {n} 步：相对期限须为 -60 至 60 之间的整数个工作日",
        "Step {n}: the offset must be a whole number of working days from -60 to 60",
    ),
    Sentence.STEP_PERIOD: (
        "第 {n} 步：定期报告须每隔至少 1 个工作日",
        "Step {n}: a periodic report repeats every 1 or more working days",
    ),
    Sentence.STEP_UNKNOWN_VALUES: (
        "第 {n} 步：无法识别的对象或渠道：{values}",
        "Step {n}: unknown recipients or channels: {values}",
    ),
    Sentence.STEP_NO_ROLE: (
        "第 {n} 步：请至少选择一个发送对象",
        "Step {n}: choose at least one recipient",
    ),
    Sentence.STEP_NO_CHANNEL: (
        "第 {n} 步：请至少选择一个渠道",
        "Step {n}: choose at least one channel",
    ),
    Sentence.STEP_UNKNOWN_TEMPLATE: (
        "第 {n} 步：没有“{template}”这个模板",
        "Step {n}: there is no template “{template}”",
    ),
    Sentence.STEP_MILESTONE_TEMPLATE: (
        "第 {n} 步：节点环节只能使用节点模板，其他环节不能使用节点模板",
        "Step {n}: a milestone step takes a milestone template, and only it",
    ),
    Sentence.EXTENSION_DATE_BAD: (
        "申请延至的日期须为日期（年-月-日）",
        "The new date must be a date (YYYY-MM-DD)",
    ),
    Sentence.FILE_TOO_LARGE: (
        "附件“{name}”超过 {mb} MB",
        "“{name}” is larger than {mb} MB",
    ),
    Sentence.FILE_EMPTY: (
        "附件“{name}”是空文件",
        "“{name}” is an empty file",
    ),
    Sentence.FILES_TOO_MANY: (
        "每次报告最多 {max} 个附件",
        "At most {max} files per report",
    ),
    Sentence.ROBOT_NAME_REQUIRED: ("请填写群机器人的名称。", "Give the group robot a name."),
    Sentence.ROBOT_NAME_TOO_LONG: (
        "群机器人的名称不能超过 {max} 个字。",
        "The group robot's name is longer than {max} characters.",
    ),
    Sentence.ROBOT_KIND: (
        "群机器人的类型须为企业微信、钉钉或飞书。",
        "The kind of a group robot must be WeCom, DingTalk or Feishu.",
    ),
    Sentence.ROBOT_URL_REQUIRED: ("请填写 Webhook 地址。", "Enter the webhook URL."),
    Sentence.ROBOT_URL_HTTPS: (
        "Webhook 地址须以 https:// 开头。",
        "The webhook URL must start with https://.",
    ),
    Sentence.ROBOT_URL_HOST: (
        "Webhook 地址的服务器 {host} 不是该类型机器人的服务器（应为 {expected}）。",
        "The webhook URL's server {host} is not this kind of robot's (expected {expected}).",
    ),
    Sentence.ROBOT_URL_SHAPE: (
        "这不是该类型群机器人的 Webhook 地址，应形如 {example}。",
        "This is not a webhook URL of this kind of robot; it looks like {example}.",
    ),
    Sentence.ROBOT_SECRET_UNUSED: (
        "企业微信群机器人没有加签密钥，请留空。",
        "WeCom group robots have no signing secret; leave it empty.",
    ),
    Sentence.ROBOT_SECRET_DINGTALK: (
        "加签密钥不正确：钉钉的加签密钥以 SEC 开头，共 67 个字符。",
        "The signing secret is not right: DingTalk's starts with SEC, 67 characters in all.",
    ),
    Sentence.ROBOT_SECRET_FEISHU: (
        "签名校验密钥不正确：飞书的密钥为 8 位以上的字母和数字。",
        "The signing secret is not right: Feishu's is 8 or more letters and digits.",
    ),
    Sentence.ROBOT_UNIT_REQUIRED: (
        "请选择群机器人所属的单位，或选择“领导群”。",
        "Choose the robot's unit, or “leadership group”.",
    ),
    Sentence.ROBOT_NO_UNIT: ("单位 #{id} 不存在。", "There is no unit #{id}."),
    Sentence.ROBOT_STEPS_REQUIRED: (
        "请至少选择一个群机器人接收的督办环节。",
        "Choose at least one step the robot receives.",
    ),
    Sentence.ROBOT_STEP_UNKNOWN: ("“{step}”不是督办环节。", "“{step}” is not a ladder step."),
    Sentence.ROBOT_NOT_FOUND: ("群机器人 #{id} 不存在。", "There is no group robot #{id}."),
    Sentence.ROBOT_REMOVE_CONFIRM: (
        "删除前请勾选“确认删除”。未做任何更改。",
        "Tick “confirm removal” to remove the robot. Nothing was changed.",
    ),
    Sentence.ROBOT_TEST_TEXT: (
        "【{office}】测试消息：群机器人“{name}”已接入督办系统，今后将在此群发送督办提醒。",
        "[{office}] Test message: the group robot “{name}” is connected to Duban; "
        "reminders will be posted in this group.",
    ),
    Sentence.ROBOT_ACCEPTED: ("机器人已接收：{answer}", "The robot accepted it: {answer}"),
    Sentence.ROBOT_REFUSED: ("机器人拒收：{answer}", "The robot refused it: {answer}"),
    Sentence.ROBOT_UNREACHABLE: (
        "无法连接到机器人：{answer}",
        "The robot could not be reached: {answer}",
    ),
    Sentence.BATCH_NONE_SELECTED: ("请先勾选事项。", "Select at least one item first."),
    Sentence.BATCH_TOO_MANY: (
        "一次最多处理 {max} 个事项，已选 {got} 个。",
        "At most {max} items at a time; {got} were selected.",
    ),
    Sentence.BATCH_REASON_REQUIRED: ("请填写理由。", "A reason is required."),
    Sentence.BATCH_UNIT_REQUIRED: ("请选择转至哪个单位。", "Choose the unit to hand over to."),
    Sentence.BATCH_DATE_REQUIRED: (
        "请填写新的完成时限（如 2027-01-31）。",
        "A new deadline (e.g. 2027-01-31) is required.",
    ),
    Sentence.BATCH_ITEM_UNKNOWN: (
        "事项 #{id} 不存在或不在您的查看范围内。",
        "Item #{id} does not exist or is not yours to see.",
    ),
    Sentence.BATCH_NOT_ACTIVE: (
        "该事项已办结或已撤销。",
        "This item is already closed or cancelled.",
    ),
    Sentence.BATCH_NO_LEAD: ("该事项没有办理中的主办单位。", "This item has no open lead unit."),
    Sentence.BATCH_URGED_TODAY: (
        "今天已向{unit}催办过，不再重复发送。",
        "{unit} was already urged today; it is not sent twice.",
    ),
    Sentence.BATCH_NOBODY_TO_URGE: (
        "{unit}没有可接收催办的人员（责任人或联络员）。",
        "{unit} has nobody to urge (no responsible person or liaison).",
    ),
    Sentence.BATCH_REFUSED: (
        "有 {count} 个事项不能执行此操作，因此全部未执行。请取消勾选这些事项后重试。",
        "{count} of the items cannot take this action, so nothing was done. Deselect them "
        "and try again.",
    ),
    Sentence.NOT_ALLOWED_ON_ITEM: (
        "您无权对该事项执行此操作",
        "You may not do this on that item",
    ),
    Sentence.CHANNELS_OWN_ONLY: (
        "只能修改本人的接收渠道",
        "You may change only your own channels",
    ),
    Sentence.TOKEN_VALID_DAYS: (
        "有效天数须在 1 到 {max} 之间",
        "The validity must be 1 to {max} days",
    ),
    Sentence.MILESTONES_NOT_ALLOWED: ("您无权管理阶段性节点", "not allowed to manage milestones"),
    Sentence.ITEM_NOT_FOUND: ("事项不存在", "item not found"),
    Sentence.MILESTONE_ITEM_CLOSED: ("事项已办结或已撤销，不能再调整节点", "item is closed"),
    Sentence.MILESTONE_NOT_FOUND: ("阶段性节点不存在", "milestone not found"),
}
