"""Readiness records the 2017 guidance asks enterprises to keep (§15, §20–22): emergency plans, major hazard
sources, people's certificates, training sessions, equipment inspections, and deployment records with the
rate table that prices them."""

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.drills import PlanLevel
from rescue.models.enums import ResourceKind, enum_type
from rescue.models.registry import ContactPerson, Enterprise, Equipment, Expert, Tracked


class FilingState(enum.StrEnum):
    """备案: the enterprise submits, the regulator accepts or returns with comments."""

    draft = "draft"
    submitted = "submitted"
    accepted = "accepted"
    returned = "returned"


FILING_STATE_NAMES = {"draft": "草稿", "submitted": "已报备", "accepted": "已备案", "returned": "已退回"}


class HazardLevel(enum.StrEnum):
    """重大危险源 levels of GB 18218-2018 (一级 the most dangerous)."""

    grade1 = "grade1"
    grade2 = "grade2"
    grade3 = "grade3"
    grade4 = "grade4"


HAZARD_LEVEL_NAMES = {"grade1": "一级", "grade2": "二级", "grade3": "三级", "grade4": "四级"}


class CertificateKind(enum.StrEnum):
    rescue_qualification = "rescue_qualification"
    special_operation = "special_operation"
    first_aid = "first_aid"
    hazchem_safety = "hazchem_safety"
    mine_rescue = "mine_rescue"
    safety_manager = "safety_manager"
    other = "other"


CERTIFICATE_KIND_NAMES = {
    "rescue_qualification": "救援人员资格",
    "special_operation": "特种作业操作证",
    "first_aid": "急救证",
    "hazchem_safety": "危化品安全培训合格证",
    "mine_rescue": "矿山救护队员资格",
    "safety_manager": "安全管理人员证",
    "other": "其他",
}


class InspectionResult(enum.StrEnum):
    passed = "passed"
    failed = "failed"


INSPECTION_RESULT_NAMES = {"passed": "合格", "failed": "不合格"}


class DeploymentState(enum.StrEnum):
    """Built from the timeline (draft), then the owner confirms it as is or corrected."""

    draft = "draft"
    confirmed = "confirmed"
    corrected = "corrected"


DEPLOYMENT_STATE_NAMES = {"draft": "待确认", "confirmed": "已确认", "corrected": "已更正"}


class EmergencyPlan(Tracked, Base):
    """An enterprise's emergency plan (应急预案) with its document, review and filing state."""

    __tablename__ = "emergency_plans"
    __table_args__ = (
        CheckConstraint("evaluation_cycle_years IS NULL OR evaluation_cycle_years BETWEEN 1 AND 10", name="cycle_range"),
        CheckConstraint("document_size IS NULL OR document_size >= 0", name="document_size_nonneg"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    level: Mapped[PlanLevel] = mapped_column(enum_type(PlanLevel))
    title: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(30), default="1.0")
    review_date: Mapped[date | None]  # 评审 (expert review) date
    evaluated_on: Mapped[date | None]  # last evaluation (评估); the cycle counts from here, else from the review
    evaluation_cycle_years: Mapped[int | None] = mapped_column(Integer)  # None: by industry
    filing_state: Mapped[FilingState] = mapped_column(enum_type(FilingState), default=FilingState.draft, index=True)
    filing_comment: Mapped[str] = mapped_column(Text, default="")
    filing_number: Mapped[str] = mapped_column(String(50), default="")
    submitted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(64), default="")
    # the stored PDF: a generated file name under the upload folder, never a path from the client
    document_name: Mapped[str] = mapped_column(String(200), default="")
    document_file: Mapped[str] = mapped_column(String(80), default="")
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_sha256: Mapped[str] = mapped_column(String(64), default="")
    document_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enterprise: Mapped[Enterprise] = relationship()

    @property
    def name(self) -> str:
        return self.title


class HazardSource(Tracked, Base):
    """A major hazard source (重大危险源) with the hazardous substances held there."""

    __tablename__ = "hazard_sources"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[HazardLevel] = mapped_column(enum_type(HazardLevel), index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    # [{"code": substance code (see rescue/readiness/substances.json), "quantity_t": tonnes}]
    substances: Mapped[list] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")

    enterprise: Mapped[Enterprise] = relationship()


class Certificate(Tracked, Base):
    """A certificate held by a person (a contact or an expert) with its issue and expiry dates."""

    __tablename__ = "certificates"
    __table_args__ = (
        CheckConstraint("expires_on IS NULL OR expires_on >= issued_on", name="expiry_after_issue"),
        CheckConstraint("NOT (contact_id IS NOT NULL AND expert_id IS NOT NULL)", name="one_holder"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="CASCADE"), index=True)
    expert_id: Mapped[int | None] = mapped_column(ForeignKey("experts.id", ondelete="CASCADE"), index=True)
    holder_name: Mapped[str] = mapped_column(String(50))
    kind: Mapped[CertificateKind] = mapped_column(enum_type(CertificateKind))
    number: Mapped[str] = mapped_column(String(60), default="")
    issuer: Mapped[str] = mapped_column(String(200), default="")
    issued_on: Mapped[date]
    expires_on: Mapped[date | None] = mapped_column(index=True)
    # days-before-expiry marks already reminded (30, 7), so each reminder goes once
    reminded: Mapped[list] = mapped_column(JSON, default=list)

    contact: Mapped[ContactPerson | None] = relationship()
    expert: Mapped[Expert | None] = relationship()

    @property
    def name(self) -> str:
        return f"{self.holder_name} {CERTIFICATE_KIND_NAMES.get(self.kind, self.kind)}"


class TrainingSession(Tracked, Base):
    """A training session (§20 岗位应急培训) with its attendees."""

    __tablename__ = "training_sessions"
    __table_args__ = (CheckConstraint("hours > 0", name="hours_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    held_on: Mapped[date]
    hours: Mapped[float] = mapped_column(Float, default=1)
    trainer: Mapped[str] = mapped_column(String(100), default="")
    topic: Mapped[str] = mapped_column(Text, default="")

    attendee_rows: Mapped[list["TrainingAttendee"]] = relationship(
        cascade="all, delete-orphan", order_by="TrainingAttendee.id", back_populates="training"
    )

    @property
    def name(self) -> str:
        return self.title

    @property
    def attendees(self) -> list[dict]:
        return [{"name": a.name, "contact_id": a.contact_id} for a in self.attendee_rows]

    @attendees.setter
    def attendees(self, items: list[dict]) -> None:
        # the registry's generic update sets list fields as a whole
        self.attendee_rows = [TrainingAttendee(name=i["name"], contact_id=i.get("contact_id")) for i in items]


class TrainingAttendee(Base):
    __tablename__ = "training_attendees"
    id: Mapped[int] = mapped_column(primary_key=True)
    training_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="SET NULL"))

    training: Mapped[TrainingSession] = relationship(back_populates="attendee_rows")


class InspectionRecord(Tracked, Base):
    """One inspection of an equipment item: date, result, inspector, note."""

    __tablename__ = "inspection_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    equipment_id: Mapped[int] = mapped_column(ForeignKey("equipment.id", ondelete="CASCADE"), index=True)
    inspected_on: Mapped[date]
    result: Mapped[InspectionResult] = mapped_column(enum_type(InspectionResult))
    inspector: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(String(500), default="")

    equipment: Mapped[Equipment] = relationship()

    @property
    def name(self) -> str:
        return f"{self.equipment.name if self.equipment else ''} {self.inspected_on.isoformat()}"


class RateTable(Base):
    """The compensation rates set by the command center; the newest row applies (earlier rows kept as history)."""

    __tablename__ = "rate_tables"
    id: Mapped[int] = mapped_column(primary_key=True)
    person_hour: Mapped[float] = mapped_column(Float)  # 元 per person-hour
    # {"<equipment_type>": 元 per equipment-hour, "*": any other type}
    equipment_hour: Mapped[dict] = mapped_column(JSON, default=dict)
    consumables_at_cost: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    set_by: Mapped[str] = mapped_column(String(64), default="")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Deployment(Base):
    """What one dispatched resource did for one incident, built from the timeline, confirmed by its owner."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("assignment_id", name="uq_deployments_assignment_id"),
        CheckConstraint("people >= 0", name="people_nonneg"),
        CheckConstraint("equipment_count >= 0", name="equipment_count_nonneg"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    resource_kind: Mapped[ResourceKind] = mapped_column(enum_type(ResourceKind))
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_name: Mapped[str] = mapped_column(String(200))
    equipment_type: Mapped[str] = mapped_column(String(100), default="")
    dispatched_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    arrived_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_dt: Mapped[datetime] = mapped_column(UTCDateTime)
    people: Mapped[int] = mapped_column(Integer, default=0)
    equipment_count: Mapped[int] = mapped_column(Integer, default=0)
    # [{"lot_id": supply lot, "quantity": n, "unit_cost": 元}] drawn from supply lots (reducing them)
    consumables: Mapped[list] = mapped_column(JSON, default=list)
    state: Mapped[DeploymentState] = mapped_column(enum_type(DeploymentState), default=DeploymentState.draft)
    note: Mapped[str] = mapped_column(String(500), default="")
    confirmed_by: Mapped[str] = mapped_column(String(64), default="")
    confirmed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def name(self) -> str:
        return self.resource_name

    @property
    def hours(self) -> float:
        return max(0.0, (self.released_dt - self.dispatched_dt).total_seconds() / 3600.0)


class TeamFunding(Base):
    """一企主建、多企供养: an enterprise funding a (backbone) team, with its share."""

    __tablename__ = "team_fundings"
    __table_args__ = (
        UniqueConstraint("team_id", "enterprise_id", name="uq_team_fundings_team_id"),
        CheckConstraint("share > 0 AND share <= 1", name="share_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    share: Mapped[float] = mapped_column(Float)
