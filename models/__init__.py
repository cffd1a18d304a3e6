"""SQLAlchemy 2 tables, one module per aggregate. Imports nothing from the other layers."""

from models.audit import AuditAction, AuditEntity, AuditEvent
from models.auth import ApiToken, LoginAttempt, LoginThrottle, WebSession
from models.base import Base, EnumUnion
from models.bulletin import Bulletin
from models.calendar import CalendarDay
from models.chat import InviteToken, TelegramUpdate
from models.item import (
    ACTIVE_STATES,
    OPEN_LEAD,
    OPEN_WORK,
    Assignment,
    AssignmentRole,
    Item,
    ItemState,
    Source,
    in_open_work,
)
from models.mail import InboundMail, InboundOutcome
from models.milestone import Milestone, MilestoneState
from models.notification import (
    GROUP_CHANNELS,
    Channel,
    DeliveryAttempt,
    DeliveryOutcome,
    GroupWebhook,
    MessageKind,
    Notification,
    NotificationStatus,
)
from models.org import Person, PersonRole, Role, Unit
from models.policy import LadderStep, Policy, StepChannel
from models.report import (
    Attachment,
    Decision,
    Extension,
    ExtensionState,
    Origin,
    Report,
    ReportKind,
    ReportRevision,
    RequestKind,
    ReviewState,
)
from models.steps import MILESTONE_STEPS, StepKind
from models.template import Template, TemplateVersion
from models.wecom import WeComDialog, WeComInbound

__all__ = [
    "ACTIVE_STATES",
    "GROUP_CHANNELS",
    "MILESTONE_STEPS",
    "OPEN_LEAD",
    "OPEN_WORK",
    "ApiToken",
    "Assignment",
    "AssignmentRole",
    "Attachment",
    "AuditAction",
    "AuditEntity",
    "AuditEvent",
    "Base",
    "Bulletin",
    "CalendarDay",
    "Channel",
    "Decision",
    "DeliveryAttempt",
    "DeliveryOutcome",
    "EnumUnion",
    "Extension",
    "ExtensionState",
    "GroupWebhook",
    "InboundMail",
    "InboundOutcome",
    "InviteToken",
    "Item",
    "ItemState",
    "LadderStep",
    "LoginAttempt",
    "LoginThrottle",
    "MessageKind",
    "Milestone",
    "MilestoneState",
    "Notification",
    "NotificationStatus",
    "Origin",
    "Person",
    "PersonRole",
    "Policy",
    "Report",
    "ReportKind",
    "ReportRevision",
    "RequestKind",
    "ReviewState",
    "Role",
    "Source",
    "StepChannel",
    "StepKind",
    "TelegramUpdate",
    "Template",
    "TemplateVersion",
    "Unit",
    "WeComDialog",
    "WeComInbound",
    "WebSession",
    "in_open_work",
]
