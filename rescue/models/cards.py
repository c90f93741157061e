"""Response cards (应急处置卡) for key posts: the card, its immutable versions and every print."""

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rescue.db import Base, UTCDateTime, utcnow
from rescue.models.registry import ContactPerson, Enterprise


class ResponseCard(Base):
    """A key post's card; its content lives in versions (editing adds one), links resolve live when shown."""

    __tablename__ = "response_cards"
    __table_args__ = (UniqueConstraint("enterprise_id", "number", name="uq_response_cards_enterprise_number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    post: Mapped[str] = mapped_column(String(60))
    area: Mapped[str] = mapped_column(String(60), default="")
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    review_date: Mapped[date] = mapped_column(index=True)
    # who is reminded before the review date (else the enterprise's safety manager)
    owner_contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact_people.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    demo: Mapped[bool] = mapped_column(Boolean, default=False)
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    owner_contact: Mapped[ContactPerson | None] = relationship()
    versions: Mapped[list["ResponseCardVersion"]] = relationship(
        back_populates="card", order_by="ResponseCardVersion.version", cascade="all, delete-orphan"
    )


class ResponseCardVersion(Base):
    """One version of a card's content (never changed once written); links are ids resolved when shown."""

    __tablename__ = "response_card_versions"
    __table_args__ = (UniqueConstraint("card_id", "version", name="uq_response_card_versions_card_version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("response_cards.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    # post, area, incident_types, risks, when_to_act, steps, reporting, ppe, prohibitions,
    # evacuation_route, assembly_point, review_date, owner_contact_id, short
    content: Mapped[dict] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64), default="system")
    created_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    card: Mapped[ResponseCard] = relationship(back_populates="versions")
    prints: Mapped[list["CardPrint"]] = relationship(
        back_populates="version", order_by="CardPrint.id", cascade="all, delete-orphan"
    )


class CardPrint(Base):
    """A print of a version, with the live data as printed (so it stays viewable and changes can be noticed)."""

    __tablename__ = "card_prints"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("response_cards.id", ondelete="CASCADE"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("response_card_versions.id", ondelete="CASCADE"), index=True)
    printed_dt: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    printed_by: Mapped[str] = mapped_column(String(64), default="system")
    page_size: Mapped[str] = mapped_column(String(4), default="A6")
    # sha256 of the resolved linked data (contacts, equipment, depots) at print time
    fingerprint: Mapped[str] = mapped_column(String(64))
    snapshot: Mapped[dict] = mapped_column(JSON)

    version: Mapped[ResponseCardVersion] = relationship(back_populates="prints")
