"""What the bot says, in Chinese and English; ``say(locale, key, **values)`` picks one.

The domain's words (lights, decisions, the days phrase) come from ``supervision.labels``.
"""

from __future__ import annotations

from html import escape

from models import Decision
from supervision import labels
from supervision.invites import INVITE_VALIDITY
from supervision.light import Light

ZH: dict[str, str] = {
    "how_to_bind": (
        "您好！本机器人仅为已登记的督查工作人员服务。请联系{office}获取邀请链接，"
        "点击链接后即可绑定。"
    ),
    "private_only": "本机器人只在私聊中使用，请直接私信我。",
    "greet": "{name}，您好！已绑定成功。",
    "already_bound": "{name}，您好！您的账号已绑定。",
    "invite_unknown": "邀请链接无效。请联系{office}重新获取。未做任何绑定。",
    "invite_used": "该邀请链接已被使用。如需重新绑定，请联系{office}获取新的邀请。未做任何绑定。",
    "invite_expired": "该邀请链接已过期（有效期{days}天）。请联系{office}重新获取。未做任何绑定。",
    "no_open": "您目前没有办理中的督查事项。",
    "open_items": "您办理中的督查事项：",
    "item_line": "{light} {title}\n    完成时限 {due}（{days}）",
    "view_only": "    （下级单位事项，仅供查看）",
    "filed": "已收到「{title}」第{number}次报告。当前状态：{light}",
    "completion_filed": "「{title}」办结申请已提交（报告第{number}次），{next}",
    "to_signoff": "待本单位主要负责同志签发后报督查室审核。",
    "to_review": "等待督查室审核。",
    "extension_filed": "「{title}」延期申请已提交：新的完成时限 {date}，等待督查室审核。",
    "confirm_one": "要把这条内容作为「{title}」的进展报告吗？",
    "choose_item": "请选择要报告的事项：",
    "choose_for_complete": "请选择要申请办结的事项：",
    "choose_for_extend": "请选择要申请延期的事项：",
    "ask_report": "请发送「{title}」的进展情况（文字，或图片、文件）。",
    "ask_summary": "请发送「{title}」的办理情况总结（文字，可附图片、文件）。",
    "ask_reason": "请说明「{title}」需要延期的原因。",
    "ask_progress": "请简述目前的进展情况。",
    "ask_date": "请选择或输入新的完成时限（须晚于 {due}），如 2027-01-31 或 1月31日：",
    "ask_comment": "请输入退回意见：",
    "cancelled": "已取消。",
    "nothing_to_cancel": "当前没有进行中的操作。",
    "send_text_or_file": "请发送文字或文件（图片、文档）。暂不支持贴纸、语音、位置等内容。",
    "send_text": "请用文字回答（发送 /cancel 取消）。",
    "not_allowed": "您无权执行此操作。",
    "expired": "该操作已失效（事项或申请已变化）。",
    "apology": "抱歉，处理您的消息时出错了，我们会尽快重试。",
    "unknown_command": "可用命令：/my 我的事项，/report 填报进展，/complete 申请办结，"
    "/extend 申请延期，/settings 接收渠道，/cancel 取消。也可以直接回复提醒消息填报进展。",
    "settings_hint": "用下面的按钮调整顺序（⬆）、去掉（✕）或添加（＋）渠道。",
    "review_none": "目前没有待审核的申请。",
    "review_completion": "办结申请｜「{title}」（{unit}）\n申请人：{who}\n{text}",
    "review_extension": (
        "延期申请｜「{title}」（{unit}）\n申请人：{who}\n原时限 {old} → 新时限 {new}\n"
        "原因：{reason}\n进展：{progress}"
    ),
    "signoff_none": "目前没有待您签发的办结报告。",
    "signoff_item": "待签发｜「{title}」办结报告\n报告人：{who}\n{text}",
    "signed_off": "已签发，报督查室审核。",
    "approved": "已同意。",
    "rejected": "已退回。",
    "report_edited": "报告已更新（原内容已保留在历史记录中）。",
    "btn_yes": "是，提交",
    "btn_cancel": "取消",
    "btn_signoff": "签发",
    "error": "未完成：{message}",
}

EN: dict[str, str] = {
    "how_to_bind": (
        "Hello! This bot serves registered supervision staff only. Ask the {office} for an "
        "invite link and open it to connect your account."
    ),
    "private_only": "This bot works in private chats only; please message me directly.",
    "greet": "Hello {name}, your account is now connected.",
    "already_bound": "Hello {name}, your account is connected.",
    "invite_unknown": "This invite link is not valid. Ask the {office} for a new one. Nothing "
    "was connected.",
    "invite_used": "This invite link was already used. Ask the {office} for a new invite. "
    "Nothing was connected.",
    "invite_expired": "This invite link has expired (valid {days} days). Ask the {office} for a "
    "new one. Nothing was connected.",
    "no_open": "You have no open supervised items.",
    "open_items": "Your open supervised items:",
    "item_line": "{light} {title}\n    due {due} ({days})",
    "view_only": "    (a unit below yours: for reading only)",
    "filed": "Report #{number} on “{title}” received. Status: {light}",
    "completion_filed": "Completion request for “{title}” filed (report #{number}). {next}",
    "to_signoff": "It goes to your unit's principal for sign-off, then to the office.",
    "to_review": "The office will review it.",
    "extension_filed": "Extension request for “{title}” filed: new deadline {date}, awaiting "
    "review.",
    "confirm_one": "File this as a progress report on “{title}”?",
    "choose_item": "Which item is this report for?",
    "choose_for_complete": "Which item do you ask to close?",
    "choose_for_extend": "Which item needs more time?",
    "ask_report": "Send the progress on “{title}” (text, photos or files).",
    "ask_summary": "Send the completion summary for “{title}” (text, optionally files).",
    "ask_reason": "Why does “{title}” need more time?",
    "ask_progress": "Briefly, what has been done so far?",
    "ask_date": "Pick or type the new deadline (after {due}), e.g. 2027-01-31 or 1月31日:",
    "ask_comment": "Please type the reason for returning it:",
    "cancelled": "Cancelled.",
    "nothing_to_cancel": "Nothing to cancel.",
    "send_text_or_file": "Please send text or a file (photo, document); stickers, voice, "
    "locations and the like are not accepted.",
    "send_text": "Please answer in text (send /cancel to stop).",
    "not_allowed": "Not allowed.",
    "expired": "This action has expired (the item or request changed).",
    "apology": "Sorry, something went wrong with your message; it will be retried.",
    "unknown_command": "Commands: /my items, /report progress, /complete ask to close, "
    "/extend ask for more time, /settings channels, /cancel. You can also reply to a reminder.",
    "settings_hint": "Use the buttons to move a channel up (⬆), leave it out (✕) or add it (＋).",
    "review_none": "No requests await review.",
    "review_completion": "Completion request | “{title}” ({unit})\nBy: {who}\n{text}",
    "review_extension": (
        "Extension request | “{title}” ({unit})\nBy: {who}\nDue {old} → {new}\n"
        "Reason: {reason}\nProgress: {progress}"
    ),
    "signoff_none": "No completion reports await your sign-off.",
    "signoff_item": "To sign off | completion report on “{title}”\nBy: {who}\n{text}",
    "signed_off": "Signed off; sent to the office for review.",
    "approved": "Approved.",
    "rejected": "Returned.",
    "report_edited": "Report updated (the earlier text is kept in its history).",
    "btn_yes": "Yes, file it",
    "btn_cancel": "Cancel",
    "btn_signoff": "Sign off",
    "error": "Not done: {message}",
}

#: the light's sign before its word
LIGHT_SIGNS = {Light.GREEN: "🟢", Light.YELLOW: "🟡", Light.RED: "🔴", Light.GREY: "⚪"}


def lang(locale: str | None) -> str:
    """``en`` for English locales, else ``zh``."""
    return labels.lang_of(locale)


def say(locale: str | None, key: str, **values: object) -> str:
    """The text ``key`` in ``locale`` with ``values`` HTML-escaped into it."""
    table = EN if lang(locale) == "en" else ZH
    safe = {k: escape(str(v), quote=False) for k, v in values.items()}
    safe.setdefault("days", str(INVITE_VALIDITY.days))
    return table[key].format(**safe)


def light_label(locale: str | None, light: Light) -> str:
    """The light as an emoji and its word."""
    return f"{LIGHT_SIGNS[light]} {labels.label(light, locale)}"


def decision_label(locale: str | None, decision: Decision) -> str:
    """同意 / 退回 (Approve / Return) on a button."""
    return labels.label(decision, locale, alone=True)


def days_phrase(locale: str | None, n: int) -> str:
    """剩余3个工作日 / 今日到期 / 已逾期2个工作日."""
    return labels.days_phrase(n, locale)
