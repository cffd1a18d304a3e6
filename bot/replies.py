"""A person's reply to a reminder: a progress report, filed in batches and confirmed at once.

The first router the dispatcher tries. It takes a private reply with text or files from
someone in no dialog, and hands it to the report filer (`supervision.reports.ReplyFiler`),
which files everything arriving together in one transaction: the update is stored as
handled with its report, and the person, the reminder, the assignment and the light come
from that batch, so this handler opens no session of its own. The confirmation is returned
as a Bot API method: in webhook mode it rides in the webhook's answer, otherwise the
dispatcher sends it.

Whatever the filer does not file (a stranger, a reply to something other than a reminder,
a reply to a review or sign-off request, a replay, a report a rule refuses) or a batch that
failed goes on to the next routers, whose handlers answer it as they always have.
"""

from __future__ import annotations

from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import StateFilter
from aiogram.methods import SendMessage
from aiogram.types import Message, Update

from bot.common import content_of, status_row
from bot.config import BotConfig
from bot.reports import confirmation
from bot.routing import Routes
from supervision.clock import Clock, local_today
from supervision.reports import ChatReply, Receipt, ReplyFiler, ReplyNotFiled

router = Routes("replies")


async def reply_in_private(message: Message) -> bool:
    """A person's private reply to a message, with text or files: neither a /command nor
    part of an album (an album's messages are joined by the album handler)."""
    sender = message.from_user
    return (
        message.chat.type == "private"
        and sender is not None
        and not sender.is_bot
        and message.reply_to_message is not None
        and message.media_group_id is None
        and not (message.text or "").startswith("/")
        and not content_of(message).empty
    )


def receipt_of(update: Update) -> Receipt:
    """The update as the update log keeps it (`bot.updates.UpdateReceipts`)."""
    payload = update.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
    return Receipt(update.update_id, payload)


@router.message(StateFilter(None), reply_in_private)
async def reply_to_reminder(
    message: Message,
    event_update: Update,
    filer: ReplyFiler,
    clock: Clock,
    config: BotConfig,
) -> SendMessage | None:
    """File the reply on its reminder's assignment; answer with title, number and light."""
    assert message.from_user is not None and message.reply_to_message is not None
    content = content_of(message)
    reply = ChatReply(
        sender=message.from_user.id,
        chat_id=message.chat.id,
        message_id=message.message_id,
        replied_to=message.reply_to_message.message_id,
        text=content.text,
        attachments=content.attachments,
        receipt=receipt_of(event_update),
    )
    try:
        outcome = await filer.file(reply)
    except Exception:  # the filer logged it and committed nothing: the update goes on alone
        raise SkipHandler from None
    if isinstance(outcome, ReplyNotFiled):
        raise SkipHandler  # the next routers answer it
    row = status_row(
        outcome.assignment,
        outcome.item,
        today=local_today(clock, config.tz),
        calendar=outcome.calendar,
        config=config,
    )
    text = confirmation(outcome.author, outcome.report, message.message_id, row)
    return message.answer(text) if text is not None else None
