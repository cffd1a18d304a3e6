"""SQLAlchemy 2 tables, one module per aggregate. Imports nothing from the other layers."""

from models.audit import AuditEvent
from models.auth import ApiToken, LoginAttempt, LoginThrottle, WebSession
from models.base import Base
from models.bulletin import Bulletin
from models.calendar import CalendarDay
from models.chat import InviteToken, TelegramUpdate
from models.item import ACTIVE_STATES, Assignment, AssignmentRole, Item, ItemState, Source
from models.mail import InboundMail, InboundOutcome
from models.milestone import Milestone, MilestoneState
from models.notification import (
    DeliveryAttempt,
    DeliveryOutcome,
    GroupWebhook,
    Notification,
    NotificationStatus,
)
from models.org import Person, PersonRole, Role, Unit
from models.policy import LadderStep, Policy, StepKind
from models.report import (
    Attachment,
    Extension,
    ExtensionState,
    Report,
    ReportKind,
    ReportRevision,
    ReviewState,
)
from models.template import Template, TemplateVersion

__all__ = [
    "ACTIVE_STATES",
    "ApiToken",
    "Assignment",
    "AssignmentRole",
    "Attachment",
    "AuditEvent",
    "Base",
    "Bulletin",
    "CalendarDay",
    "DeliveryAttempt",
    "DeliveryOutcome",
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
    "Milestone",
    "MilestoneState",
    "Notification",
    "NotificationStatus",
    "Person",
    "PersonRole",
    "Policy",
    "Report",
    "ReportKind",
    "ReportRevision",
    "ReviewState",
    "Role",
    "Source",
    "StepKind",
    "TelegramUpdate",
    "Template",
    "TemplateVersion",
    "Unit",
    "WebSession",
]
