"""The ORM models; importing this package registers every table on Base.metadata."""

from rescue.models.accounts import ApiToken, AppState, AuditEntry, User
from rescue.models.alerts import (
    CallEventEntry,
    DeliveryReceiptEntry,
    EscalationChainEntry,
    InboundMessage,
    OutboxMessage,
    OutboxStatus,
    ResponderToken,
    RosterShift,
    SmsOptOut,
)
from rescue.models.cards import CardPrint, ResponseCard, ResponseCardVersion
from rescue.models.drills import (
    DrillParticipant,
    DrillPlan,
    DrillReminderRow,
    DrillRun,
    DrillTeamResult,
    NoticeLog,
    RectificationItem,
)
from rescue.models.enums import Role
from rescue.models.incidents import Assignment, AssignmentEvent, Dispatch, Incident, IncidentNeed, RoadClosure
from rescue.models.registry import (
    Capability,
    ContactPerson,
    Depot,
    Enterprise,
    Equipment,
    Expert,
    IncidentType,
    SupplyLot,
    Team,
)

__all__ = [
    "ApiToken",
    "AppState",
    "Assignment",
    "AssignmentEvent",
    "AuditEntry",
    "CallEventEntry",
    "Capability",
    "CardPrint",
    "ContactPerson",
    "DeliveryReceiptEntry",
    "Depot",
    "Dispatch",
    "DrillParticipant",
    "DrillPlan",
    "DrillReminderRow",
    "DrillRun",
    "DrillTeamResult",
    "Enterprise",
    "Equipment",
    "EscalationChainEntry",
    "Expert",
    "InboundMessage",
    "Incident",
    "IncidentNeed",
    "IncidentType",
    "NoticeLog",
    "OutboxMessage",
    "OutboxStatus",
    "RectificationItem",
    "ResponderToken",
    "ResponseCard",
    "ResponseCardVersion",
    "RoadClosure",
    "Role",
    "RosterShift",
    "SmsOptOut",
    "SupplyLot",
    "Team",
    "User",
]
