"""Message templates (消息模板): the sandboxed Jinja renderer, its limits, escaping and context.

A package, one module per concern: ``keys`` (names), ``views`` (what templates see, the sample
context), ``filters``, ``escaping``, ``sandbox``, ``fitting`` (channel limits), ``errors``,
``jobs`` (what a render worker runs), ``pool`` (the render workers), ``renderer``. This
module re-exports the public names.

Admin templates are untrusted code. They only ever run in a render worker process
(``pool``) under hard limits: a wall-clock timeout per render (the worker is killed and
replaced), an address-space cap and a CPU-time backstop. Inside, ``ImmutableSandboxedEnvironment``
with ``StrictUndefined`` and per-channel escaping of every value. Imports only jinja2/markupsafe
and ``templates`` (data); no DB; admin overrides arrive through a ``TemplateStore``.

Template files
--------------
``templates/{locale}/{step}.{channel}.{part}.j2``; ``part`` is ``text``, or for email also
``subject`` and ``html``. ``channel`` ``group`` is shared by ``wecom``, ``dingtalk`` and
``feishu`` unless a channel-specific file exists. Resolution for one part: admin override
(channel, then ``group``) → default file (channel, then ``group``), first in the requested
locale, then in ``zh``. Shared macros live in ``templates/{locale}/_macros.j2``; overrides may
``{% import "zh/_macros.j2" as m %}``. ``include``, ``import`` and ``extends`` reach only the
set's shared files (``{locale}/_*.j2``: macros and the e-mail layout), nothing else.

Variables available to templates
--------------------------------
- ``step`` (``remind`` ``urge`` ``overdue`` ``escalate`` ``periodic`` ``review_request``
  ``review_outcome`` ``signoff_request`` ``invite`` ``bulletin`` ``mail_reply`` ``due_moved``),
  ``channel``, ``locale``
- ``office_name`` (default 督查室), ``recipient_name``, ``reply_hint`` (bool: Telegram replies
  are accepted), ``links`` (dict: ``item``, ``report``, ``extension``, ``review``, ``bulletin``,
  ``web`` … when known), ``generated_on`` (date)
- ``item`` (or none for invite/bulletin): ``ref`` 文号, ``title``, ``source``,
  ``source_label``, ``objective`` 目标任务, ``content`` 工作内容, ``urgent`` 急件,
  ``received_on``, ``due_on``, ``due_is_provisional`` (30-working-day default applied)
- ``assignment``: ``unit_name``, ``role`` (lead/co), ``role_label`` 主办/协办, ``due_on``,
  ``due_weekday_label``, ``days_left`` (working days, negative when overdue), ``light``
  (green/yellow/red), ``owner_name`` 责任人, ``leader_name`` 责任领导
- ``last_report`` (or none): ``kind`` (progress/completion), ``text``, ``created_at``,
  ``author_name``; ``days_since_report`` (int or none); ``report_interval_days`` (int or none)
- ``pending`` (review_request: ``completion`` or ``extension``), ``requester_name``
- ``extension``: ``reason``, ``progress``, ``old_due_on``, ``new_due_on``, ``requested_by``
- ``mail_reply`` (the answer to an e-mail reply): ``outcome`` (filed/refused), ``command``
  (progress/completion/extension/review/sign_off), ``reason`` (why it was refused),
  ``subject`` (of the sender's e-mail), ``report_number``; ``item``/``assignment`` are none
  when the reply matched no reminder or its sender may not act on the item
- ``review``: ``subject`` (completion/extension), ``decision`` (approved/rejected),
  ``comment``, ``reviewer_name``
- ``invite_link``, ``invite_expires_on``, ``invite_app`` (the app the invite binds)
- ``reason`` (reopened: why the item was sent back, 退回重办; transferred: why, 转办)
- ``bulletin``: ``number``, ``period_label``, ``issued_on``, ``rows`` (``rank``,
  ``unit_name``, ``assigned``, ``closed_on_time``, ``overdue``, ``extensions``,
  ``on_time_rate`` 0..1), ``overdue_items`` (``ref``, ``title``, ``unit_name``, ``due_on``,
  ``days_overdue``), ``praised_units``

Filters: ``cn_date`` (2026年11月12日（星期四）), ``en_date`` (Thu 12 Nov 2026), ``cn_datetime``,
``en_datetime``, ``days_phrase`` (剩余3个工作日 / 已逾期2个工作日, by locale), ``percent``,
``excerpt(n)``. Formatting helpers escape their arguments for the channel: ``b(text)``,
``i(text)``, ``link(text, url)``, ``quote(text)``, ``code(text)``.
Not available: ``|attr``, ``|safe``, ``|urlize``, ``|xmlattr``, ``|pprint``,
``{% autoescape %}``, ``lipsum``, ``str.format`` (use ``|format``), attributes starting
with ``_``. Work is bounded from outside (``RenderLimits``: 2 seconds and 256 MB by default);
raw output stops at 200,000 characters, the source at 20,000.
"""

from __future__ import annotations

from notifier.templating.allowlists import TELEGRAM_TAGS, sanitize_email_html
from notifier.templating.errors import (
    TemplateError,
    TemplateInvalid,
    TemplateMissing,
    TemplateRenderFailed,
    TemplateSyntaxInvalid,
    TemplateTooLong,
    TemplateUnknownVariable,
    TemplateUnsafe,
)
from notifier.templating.escaping import escape_feishu, escape_header, escape_markdown, escape_plain
from notifier.templating.filters import cn_date, cn_datetime, days_phrase_for, en_date, en_datetime
from notifier.templating.fitting import (
    OUTPUT_LIMITS,
    Limit,
    fit_html,
    fit_plain,
    fit_telegram,
    markdown_title,
    measure,
    telegram_tag_problems,
    telegram_visible_length,
)
from notifier.templating.keys import (
    CHANNELS,
    DEFAULT_LOCALE,
    DEFAULT_TEMPLATES_DIR,
    GROUP,
    GROUP_CHANNELS,
    LOCALES,
    STEPS,
    WECOM_APP,
    parts_for,
    template_channels,
)
from notifier.templating.pool import RenderLimits, RenderPool, default_pool
from notifier.templating.renderer import (
    InMemoryTemplateStore,
    Renderer,
    RenderRequest,
    TemplateStore,
    validate,
)
from notifier.templating.sandbox import MAX_SOURCE_CHARS
from notifier.templating.views import (
    AssignmentView,
    BulletinMilestoneRow,
    BulletinOverdueItem,
    BulletinRow,
    BulletinView,
    DigestEntry,
    DigestView,
    ExtensionView,
    ItemUnitView,
    ItemView,
    MailReplyView,
    MessageContext,
    MilestoneView,
    RenderedMessage,
    ReportView,
    ReviewView,
    sample_context,
)

__all__ = [
    "CHANNELS",
    "DEFAULT_LOCALE",
    "DEFAULT_TEMPLATES_DIR",
    "GROUP",
    "GROUP_CHANNELS",
    "LOCALES",
    "MAX_SOURCE_CHARS",
    "OUTPUT_LIMITS",
    "STEPS",
    "TELEGRAM_TAGS",
    "WECOM_APP",
    "AssignmentView",
    "BulletinMilestoneRow",
    "BulletinOverdueItem",
    "BulletinRow",
    "BulletinView",
    "DigestEntry",
    "DigestView",
    "ExtensionView",
    "InMemoryTemplateStore",
    "ItemUnitView",
    "ItemView",
    "Limit",
    "MailReplyView",
    "MessageContext",
    "MilestoneView",
    "RenderLimits",
    "RenderPool",
    "RenderRequest",
    "RenderedMessage",
    "Renderer",
    "ReportView",
    "ReviewView",
    "TemplateError",
    "TemplateInvalid",
    "TemplateMissing",
    "TemplateRenderFailed",
    "TemplateStore",
    "TemplateSyntaxInvalid",
    "TemplateTooLong",
    "TemplateUnknownVariable",
    "TemplateUnsafe",
    "cn_date",
    "cn_datetime",
    "days_phrase_for",
    "default_pool",
    "en_date",
    "en_datetime",
    "escape_feishu",
    "escape_header",
    "escape_markdown",
    "escape_plain",
    "fit_html",
    "fit_plain",
    "fit_telegram",
    "markdown_title",
    "measure",
    "parts_for",
    "sample_context",
    "sanitize_email_html",
    "telegram_tag_problems",
    "telegram_visible_length",
    "template_channels",
    "validate",
]  # fmt: skip
