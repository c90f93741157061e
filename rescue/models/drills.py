"""Drills (AQ/T 9007-2019): plans, their runs, participants with RSVP codes, reminders, results and rectifications."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Column, Float, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.enums import enum_type
from rescue.models.incidents import Incident
from rescue.models.registry import ContactPerson, Enterprise, IncidentType, Team


class DrillContent(enum.StrEnum):
    """By content: 综合演练 / 单项演练."""

    comprehensive = "comprehensive"
    single = "single"


class DrillForm(enum.StrEnum):
    """By form: 桌面演练 / 实战演练."""

    tabletop = "tabletop"
    live = "live"


class DrillPurpose(enum.StrEnum):
    """By purpose: 检验性 / 示范性 / 研究性."""

    inspection = "inspection"
    demonstration = "demonstration"
    research = "research"


class PlanLevel(enum.StrEnum):
    """Which emergency plan the drill exercises (《应急预案管理办法》第三十三条 counts them apart)."""

    comprehensive_plan = "comprehensive_plan"
    special_plan = "special_plan"
    onsite_plan = "onsite_plan"


class RepeatUnit(enum.StrEnum):
    none = "none"
    weeks = "weeks"
    months = "months"


class DrillRunStatus(enum.StrEnum):
    """scheduled → running → held | cancelled (a run never started past its day stays scheduled until recorded)."""

    scheduled = "scheduled"
    running = "running"
    held = "held"
    cancelled = "cancelled"


class ReminderStatus(enum.StrEnum):
    """pending → queued (an outbox row was written) | missed (too late to be useful) | cancelled."""

    pending = "pending"
    queued = "queued"
    missed = "missed"
    cancelled = "cancelled"


class Rsvp(enum.StrEnum):
    pending = "pending"
    yes = "yes"
    no = "no"


class RectificationStatus(enum.StrEnum):
    open = "open"
    in_progress = "in_progress"
    done = "done"


DRILL_CONTENT_NAMES = {"comprehensive": "综合演练", "single": "单项演练"}
DRILL_FORM_NAMES = {"tabletop": "桌面演练", "live": "实战演练"}
DRILL_PURPOSE_NAMES = {"inspection": "检验性", "demonstration": "示范性", "research": "研究性"}
PLAN_LEVEL_NAMES = {"comprehensive_plan": "综合应急预案", "special_plan": "专项应急预案", "onsite_plan": "现场处置方案"}
RUN_STATUS_NAMES = {"scheduled": "待举行", "running": "进行中", "held": "已举行", "cancelled": "已取消"}

drill_plan_teams = Table(
    "drill_plan_teams",
    Base.metadata,
    Column("plan_id", ForeignKey("drill_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
)
drill_plan_enterprises = Table(
    "drill_plan_enterprises",
    Base.metadata,
    Column("plan_id", ForeignKey("drill_plans.id", ondelete="CASCADE"), primary_key=True),
    Column("enterprise_id", ForeignKey("enterprises.id", ondelete="CASCADE"), primary_key=True),
)


class DrillPlan(Base):
    """A planned drill of one organiser: what, where, who, and when (once or every N weeks/months)."""

    __tablename__ = "drill_plans"
    __table_args__ = (
        CheckConstraint("repeat_interval >= 1", name="repeat_interval_positive"),
        CheckConstraint("duration_min > 0", name="duration_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    content: Mapped[DrillContent] = mapped_column(enum_type(DrillContent))
    form: Mapped[DrillForm] = mapped_column(enum_type(DrillForm))
    purpose: Mapped[DrillPurpose] = mapped_column(enum_type(DrillPurpose))
    plan_level: Mapped[PlanLevel] = mapped_column(enum_type(PlanLevel))
    # the emergency plan this drill exercises (compliance: a plan no held drill exercised is "never exercised")
    emergency_plan_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_plans.id", ondelete="SET NULL"), index=True)
    incident_type_code: Mapped[str] = mapped_column(ForeignKey("incident_types.code"))
    place: Mapped[str] = mapped_column(String(100))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    muster_point: Mapped[str] = mapped_column(String(30), default="")
    scenario: Mapped[str] = mapped_column(Text, default="")
    starts_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_min: Mapped[int] = mapped_column(Integer, default=120)
    repeat_unit: Mapped[RepeatUnit] = mapped_column(enum_type(RepeatUnit), default=RepeatUnit.none)
    repeat_interval: Mapped[int] = mapped_column(Integer, default=1)
    repeat_count: Mapped[int | None] = mapped_column(Integer)
    repeat_until: Mapped[date | None]
    # minutes before the start, largest first; default 7 days, 1 day, 2 hours
    reminder_offsets_min: Mapped[list] = mapped_column(JSON, default=lambda: [10080, 1440, 120])
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    incident_type: Mapped[IncidentType] = relationship()
    teams: Mapped[list[Team]] = relationship(secondary=drill_plan_teams, order_by=Team.id)
    enterprises: Mapped[list[Enterprise]] = relationship(secondary=drill_plan_enterprises, order_by=Enterprise.id)
    runs: Mapped[list["DrillRun"]] = relationship(
        back_populates="plan", order_by="DrillRun.scheduled_dt", cascade="all, delete-orphan"
    )


class DrillRun(Base):
    """One occurrence of a plan: scheduled, then run (drill incident), then recorded and evaluated (AQ/T 9009)."""

    __tablename__ = "drill_runs"
    __table_args__ = (UniqueConstraint("plan_id", "scheduled_dt", name="uq_drill_runs_plan_scheduled"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("drill_plans.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    scheduled_dt: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[DrillRunStatus] = mapped_column(enum_type(DrillRunStatus), default=DrillRunStatus.scheduled, index=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    started_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_start_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    headcount: Mapped[int | None] = mapped_column(Integer)
    # evaluation (AQ/T 9009): a summary, a rating and the findings (list of texts)
    evaluation: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[str | None] = mapped_column(String(16))
    findings: Mapped[list] = mapped_column(JSON, default=list)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    recorded_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan: Mapped[DrillPlan] = relationship(back_populates="runs")
    incident: Mapped[Incident | None] = relationship()
    participants: Mapped[list["DrillParticipant"]] = relationship(
        back_populates="run", order_by="DrillParticipant.id", cascade="all, delete-orphan"
    )
    results: Mapped[list["DrillTeamResult"]] = relationship(
        back_populates="run", order_by="DrillTeamResult.team_id", cascade="all, delete-orphan"
    )
    rectifications: Mapped[list["RectificationItem"]] = relationship(
        back_populates="run", order_by="RectificationItem.id", cascade="all, delete-orphan"
    )


class DrillParticipant(Base):
    """A person told about a run (for a participating team or enterprise), with the code they RSVP with."""

    __tablename__ = "drill_participants"
    __table_args__ = (UniqueConstraint("run_id", "phone", name="uq_drill_participants_run_phone"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="SET NULL"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    reply_code: Mapped[str] = mapped_column(String(8), index=True)
    rsvp: Mapped[Rsvp] = mapped_column(enum_type(Rsvp), default=Rsvp.pending)
    rsvp_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attended: Mapped[bool | None] = mapped_column(Boolean)

    run: Mapped[DrillRun] = relationship(back_populates="participants")
    contact: Mapped[ContactPerson | None] = relationship()
    team: Mapped[Team | None] = relationship()


class DrillReminderRow(Base):
    """One reminder SMS owed to one participant `offset_min` before a run; written to the outbox exactly once."""

    __tablename__ = "drill_reminders"
    __table_args__ = (
        UniqueConstraint("participant_id", "offset_min", name="uq_drill_reminders_participant_offset"),
        CheckConstraint("offset_min > 0", name="offset_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"), index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("drill_participants.id", ondelete="CASCADE"), index=True)
    offset_min: Mapped[int] = mapped_column(Integer)
    due_dt: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    status: Mapped[ReminderStatus] = mapped_column(enum_type(ReminderStatus), default=ReminderStatus.pending, index=True)
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    handled_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(100), default="")

    participant: Mapped[DrillParticipant] = relationship()


class DrillTeamResult(Base):
    """What a run measured for one team, and how it changed the team's turnout time."""

    __tablename__ = "drill_team_results"
    __table_args__ = (UniqueConstraint("run_id", "team_id", name="uq_drill_team_results_run_team"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"), index=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"))
    notified_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mustered_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ack_s: Mapped[float | None] = mapped_column(Float)
    muster_s: Mapped[float | None] = mapped_column(Float)
    turnout_before_min: Mapped[float | None] = mapped_column(Float)
    turnout_after_min: Mapped[float | None] = mapped_column(Float)
    present: Mapped[int | None] = mapped_column(Integer)

    run: Mapped[DrillRun] = relationship(back_populates="results")
    team: Mapped[Team] = relationship()


class RectificationItem(Base):
    """A rectification (整改) item from a drill's evaluation: what, who owns it, by when, where it stands."""

    __tablename__ = "drill_rectifications"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("drill_runs.id", ondelete="CASCADE"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(100))
    due_date: Mapped[date]
    status: Mapped[RectificationStatus] = mapped_column(enum_type(RectificationStatus), default=RectificationStatus.open)
    done_date: Mapped[date | None]

    run: Mapped[DrillRun] = relationship(back_populates="rectifications")


class NoticeLog(Base):
    """Notices sent once per key (compliance and card-review reminders): the key makes the job idempotent."""

    __tablename__ = "notice_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    # sent | skipped (a later stage was due at the same time, or nobody can take SMS)
    outcome: Mapped[str] = mapped_column(String(16), default="sent")
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
