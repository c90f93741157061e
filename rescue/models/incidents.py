"""Incidents, their needs, dispatches, assignments with their event history, and road closures."""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.accounts import User
from rescue.models.enums import (
    OPEN_ASSIGNMENT_STATUSES,
    AssignmentStatus,
    IncidentLevel,
    IncidentStatus,
    ResourceKind,
    enum_type,
)
from rescue.models.registry import IncidentType

_OPEN = text("status IN (" + ", ".join(f"'{s}'" for s in OPEN_ASSIGNMENT_STATUSES) + ")")


class Incident(Base):
    """An accident placed by the command center (or a drill scenario run in drill mode)."""

    __tablename__ = "incidents"
    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    type_code: Mapped[str] = mapped_column(ForeignKey("incident_types.code"))
    level: Mapped[IncidentLevel] = mapped_column(enum_type(IncidentLevel))
    status: Mapped[IncidentStatus] = mapped_column(enum_type(IncidentStatus), default=IncidentStatus.open, index=True)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    drill: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    type: Mapped[IncidentType] = relationship()
    created_by: Mapped[User | None] = relationship()
    needs: Mapped[list["IncidentNeed"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentNeed.position"
    )


class IncidentNeed(Base):
    """One thing the incident needs: a capability (teams, people, items) or a supply by code."""

    __tablename__ = "incident_needs"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("(capability_code IS NULL) <> (supply_code IS NULL)", name="capability_or_supply"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    capability_code: Mapped[str | None] = mapped_column(ForeignKey("capabilities.code"))
    supply_code: Mapped[str | None] = mapped_column(String(7))
    quantity: Mapped[float] = mapped_column(Float, default=1)
    unit: Mapped[str] = mapped_column(String(20), default="team")

    incident: Mapped[Incident] = relationship(back_populates="needs")


class Dispatch(Base):
    """One decision to mobilise resources, with the ranking the dispatcher saw and its escalation rules."""

    __tablename__ = "dispatches"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # the ranked candidates shown at decision time, per need (the escalation order)
    ranking: Mapped[dict] = mapped_column(JSON, default=dict)
    acks_needed: Mapped[int] = mapped_column(Integer, default=1)
    wave_timeout_s: Mapped[int] = mapped_column(Integer, default=300)
    max_waves: Mapped[int] = mapped_column(Integer, default=3)
    note: Mapped[str] = mapped_column(Text, default="")

    incident: Mapped[Incident] = relationship()
    assignments: Mapped[list["Assignment"]] = relationship(back_populates="dispatch", order_by="Assignment.id")


class Assignment(Base):
    """A resource called to an incident, and where it stands."""

    __tablename__ = "assignments"
    __table_args__ = (
        # a reply code identifies one open assignment; closed ones free their code
        Index("uq_assignments_open_reply_code", "reply_code", unique=True, sqlite_where=_OPEN, postgresql_where=_OPEN),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatches.id", ondelete="CASCADE"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("incident_needs.id", ondelete="SET NULL"))
    resource_kind: Mapped[ResourceKind] = mapped_column(enum_type(ResourceKind))
    resource_id: Mapped[int] = mapped_column(Integer)
    resource_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[float] = mapped_column(Float, default=1)
    status: Mapped[AssignmentStatus] = mapped_column(enum_type(AssignmentStatus), default=AssignmentStatus.notified, index=True)
    reply_code: Mapped[str] = mapped_column(String(8))
    wave: Mapped[int] = mapped_column(Integer, default=1)
    rank: Mapped[int] = mapped_column(Integer, default=0)
    eta_s: Mapped[float | None] = mapped_column(Float)
    reported_eta_min: Mapped[int | None] = mapped_column(Integer)
    escalated_from_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # when silence escalates (None: no timer running)
    deadline_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    acknowledged_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
    on_scene_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)

    dispatch: Mapped[Dispatch] = relationship(back_populates="assignments")
    incident: Mapped[Incident] = relationship()
    events: Mapped[list["AssignmentEvent"]] = relationship(back_populates="assignment", order_by="AssignmentEvent.id")


class AssignmentEvent(Base):
    """One step on an incident's timeline: a status change, a reply, a receipt, an escalation."""

    __tablename__ = "assignment_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignments.id", ondelete="CASCADE"), index=True)
    at_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(64), default="system")

    assignment: Mapped[Assignment | None] = relationship(back_populates="events")


class RoadClosure(Base):
    """A closed stretch of road (near a point, or inside a polygon) until it expires."""

    __tablename__ = "road_closures"
    __table_args__ = (CheckConstraint("(lat IS NOT NULL AND radius_m > 0) OR polygon IS NOT NULL", name="point_or_polygon"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    radius_m: Mapped[float | None] = mapped_column(Float)
    # GeoJSON Polygon coordinates: [[[lon, lat], ...]]
    polygon: Mapped[list | None] = mapped_column(JSON)
    # impassable (道路中断: blocks response routing) | traffic_control (交通管制: emergency vehicles pass)
    kind: Mapped[str] = mapped_column(String(20), default="impassable", server_default="impassable")
    expires_dt: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_dt: Mapped[datetime | None] = mapped_column(UTCDateTime)
