"""The emergency resource database: enterprises, teams, experts, equipment, supplies, depots, contacts."""

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, Float, ForeignKey, Integer, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.enums import (
    Availability,
    ContactRole,
    EquipmentStatus,
    Industry,
    Level,
    MineRescueGrade,
    TeamStatus,
    enum_type,
)


class Capability(Base):
    """A capability code (what a resource can do) with its Chinese name."""

    __tablename__ = "capabilities"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(32), default="rescue")


class IncidentType(Base):
    """An incident type of one industry with its requirement template."""

    __tablename__ = "incident_types"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[Industry] = mapped_column(enum_type(Industry))
    # [{"capability": code, "quantity": n, "unit": "team|person|item"}]
    requirements: Mapped[list] = mapped_column(JSON, default=list)
    # [{"code": GB/T 38565 code, "quantity": n}]
    supplies: Mapped[list] = mapped_column(JSON, default=list)


class Tracked:
    """Columns every registry record has: owner, demo flag, audit times and last confirmation."""

    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    last_confirmed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _located() -> tuple:
    return (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )


class Enterprise(Tracked, Base):
    """An enterprise that hosts resources and must drill."""

    __tablename__ = "enterprises"
    __table_args__ = _located()
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    industry: Mapped[Industry] = mapped_column(enum_type(Industry))
    drill_every_6_months: Mapped[bool] = mapped_column(Boolean, default=False)
    city: Mapped[str] = mapped_column(String(50))
    county: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)

    @property
    def enterprise_id(self) -> int:
        return self.id


class Depot(Tracked, Base):
    """A reserve depot (储备库) holding supplies and equipment."""

    __tablename__ = "depots"
    __table_args__ = _located()
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[Level] = mapped_column(enum_type(Level))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    city: Mapped[str] = mapped_column(String(50), default="")
    county: Mapped[str] = mapped_column(String(50), default="")
    address: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(20), default="")

    enterprise: Mapped[Enterprise | None] = relationship()


# one row (id 1): the registry's revision, one up with every change to the tables dispatch reads
# (database triggers, migration 0011); epoch tells databases apart (see rescue.dispatch.resources)
registry_revision = Table(
    "registry_revision",
    Base.metadata,
    Column("id", Integer, primary_key=True),
    Column("epoch", String(32), nullable=False),
    Column("value", BigInteger, nullable=False),
)
team_capabilities = Table(
    "team_capabilities",
    Base.metadata,
    Column("team_id", ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("capability_code", ForeignKey("capabilities.code"), primary_key=True),
)
expert_fields = Table(
    "expert_fields",
    Base.metadata,
    Column("expert_id", ForeignKey("experts.id", ondelete="CASCADE"), primary_key=True),
    Column("capability_code", ForeignKey("capabilities.code"), primary_key=True),
)
equipment_capabilities = Table(
    "equipment_capabilities",
    Base.metadata,
    Column("equipment_id", ForeignKey("equipment.id", ondelete="CASCADE"), primary_key=True),
    Column("capability_code", ForeignKey("capabilities.code"), primary_key=True),
)


class Team(Tracked, Base):
    """A rescue team (救援队伍) with its base, capabilities and readiness."""

    __tablename__ = "teams"
    __table_args__ = (
        *_located(),
        CheckConstraint("headcount >= 0", name="headcount_nonneg"),
        CheckConstraint("vehicles >= 0", name="vehicles_nonneg"),
        CheckConstraint("turnout_min >= 0", name="turnout_nonneg"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[Level] = mapped_column(enum_type(Level))
    team_type: Mapped[str] = mapped_column(String(50))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    city: Mapped[str] = mapped_column(String(50), default="")
    county: Mapped[str] = mapped_column(String(50), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    headcount: Mapped[int] = mapped_column(Integer, default=0)
    vehicles: Mapped[int] = mapped_column(Integer, default=0)
    mine_rescue_grade: Mapped[MineRescueGrade | None] = mapped_column(enum_type(MineRescueGrade))
    turnout_min: Mapped[float] = mapped_column(Float, default=10)
    duty_24h: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[TeamStatus] = mapped_column(enum_type(TeamStatus), default=TeamStatus.available, index=True)
    backbone: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    duty_phone: Mapped[str] = mapped_column(String(20), default="")
    commander_name: Mapped[str] = mapped_column(String(50), default="")
    commander_phone: Mapped[str] = mapped_column(String(20), default="")

    enterprise: Mapped[Enterprise | None] = relationship()
    capability_rows: Mapped[list[Capability]] = relationship(secondary=team_capabilities, order_by=Capability.code)

    @property
    def capabilities(self) -> list[str]:
        return [c.code for c in self.capability_rows]


class Expert(Tracked, Base):
    """An expert (专家) who advises on site or remotely."""

    __tablename__ = "experts"
    __table_args__ = _located()
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    title: Mapped[str] = mapped_column(String(100), default="")
    employer: Mapped[str] = mapped_column(String(200), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(50), default="")
    county: Mapped[str] = mapped_column(String(50), default="")
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    availability: Mapped[Availability] = mapped_column(enum_type(Availability), default=Availability.available)
    remote_ok: Mapped[bool] = mapped_column(Boolean, default=True)

    enterprise: Mapped[Enterprise | None] = relationship()
    field_rows: Mapped[list[Capability]] = relationship(secondary=expert_fields, order_by=Capability.code)

    @property
    def fields(self) -> list[str]:
        return [c.code for c in self.field_rows]


class Equipment(Tracked, Base):
    """Equipment (装备) kept by a team or in a depot; it moves from there."""

    __tablename__ = "equipment"
    __table_args__ = (
        CheckConstraint("quantity >= 0", name="quantity_nonneg"),
        CheckConstraint("(team_id IS NULL) <> (depot_id IS NULL)", name="one_custodian"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    equipment_type: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(100), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[EquipmentStatus] = mapped_column(enum_type(EquipmentStatus), default=EquipmentStatus.operational)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="RESTRICT"), index=True)
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("depots.id", ondelete="RESTRICT"), index=True)
    next_inspection: Mapped[date | None]
    # readiness: the inspection regime (None: not judged) and the last record, kept by rescue.readiness.inspections
    inspection_interval_days: Mapped[int | None] = mapped_column(Integer)
    last_inspection_on: Mapped[date | None]
    last_inspection_passed: Mapped[bool | None] = mapped_column(Boolean)

    enterprise: Mapped[Enterprise | None] = relationship()
    team: Mapped[Team | None] = relationship()
    depot: Mapped[Depot | None] = relationship()
    capability_rows: Mapped[list[Capability]] = relationship(secondary=equipment_capabilities, order_by=Capability.code)

    @property
    def capabilities(self) -> list[str]:
        return [c.code for c in self.capability_rows]

    @property
    def custodian(self) -> Team | Depot:
        return self.team or self.depot

    @property
    def lat(self) -> float:
        return self.custodian.lat

    @property
    def lon(self) -> float:
        return self.custodian.lon


class SupplyLot(Tracked, Base):
    """A lot of supplies (物资) in a depot, coded by GB/T 38565-2020."""

    __tablename__ = "supply_lots"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_nonneg"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(7), index=True)
    name: Mapped[str] = mapped_column(String(200))
    spec: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[float] = mapped_column(Float)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id", ondelete="RESTRICT"), index=True)
    expiry_date: Mapped[date | None]

    enterprise: Mapped[Enterprise | None] = relationship()
    depot: Mapped[Depot] = relationship()

    @property
    def lat(self) -> float:
        return self.depot.lat

    @property
    def lon(self) -> float:
        return self.depot.lon


class ContactPerson(Tracked, Base):
    """A person to reach, linked to a team and/or an enterprise."""

    __tablename__ = "contact_people"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), index=True)
    role: Mapped[ContactRole] = mapped_column(enum_type(ContactRole), default=ContactRole.member)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"), index=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), index=True)

    enterprise: Mapped[Enterprise | None] = relationship()
    team: Mapped[Team | None] = relationship()
