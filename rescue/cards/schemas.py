"""Request and response schemas of response cards: what the API and the portal form take, and what they return."""

from __future__ import annotations

import re
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SHORT_MAX = 60


# -- requests --------------------------------------------------------------------------------------------


class ReportingIn(BaseModel):
    """One step of the reporting chain: a contact (phone read live) or a public number (119, 120, 110)."""

    model_config = ConfigDict(extra="forbid")
    label: str = Field(min_length=1, max_length=20, description="如 班长、调度室、消防")
    contact_id: int | None = None
    phone: str | None = Field(None, max_length=20, description="仅用于 110/119/120 等公共号码或固定电话")

    @model_validator(mode="after")
    def _one(self):
        if (self.contact_id is None) == (self.phone is None):
            msg = "请选择联系人或填写电话 (二选一)"
            raise ValueError(msg)
        if self.phone is not None and not re.fullmatch(r"\+?[0-9-]{3,20}", self.phone):
            msg = "电话号码格式不正确"
            raise ValueError(msg)
        return self


class PpeIn(BaseModel):
    """Where a piece of PPE or a supply is kept: linked to equipment or a depot, or a free location."""

    model_config = ConfigDict(extra="forbid")
    item: str = Field(min_length=1, max_length=40)
    equipment_id: int | None = None
    depot_id: int | None = None
    location: str = Field("", max_length=60)


def _items_1_to_80(items: list[str] | None) -> list[str] | None:
    """Steps, risks and prohibitions: each item 1–80 characters (one line of the printed card)."""
    if items is not None and any(not text.strip() or len(text) > 80 for text in items):
        msg = "每项应为 1–80 字"
        raise ValueError(msg)
    return items


class CardIn(BaseModel):
    """A response card as the API takes it."""

    model_config = ConfigDict(extra="forbid")
    enterprise_id: int
    number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9\-_/]+$", description="卡号, 如 NXSH-CZK-001")
    post: str = Field(min_length=1, max_length=60, description="岗位")
    area: str = Field("", max_length=60, description="区域/装置")
    incident_types: list[str] = Field([], max_length=10, description="适用的事件类型代码")
    risks: list[str] = Field([], max_length=10, description="主要风险")
    when_to_act: str = Field("", max_length=200, description="启动条件")
    steps: list[str] = Field(min_length=1, max_length=10, description="应急处置步骤, 按顺序")
    reporting: list[ReportingIn] = Field(min_length=1, max_length=8, description="报告程序与电话")
    ppe: list[PpeIn] = Field([], max_length=10, description="防护用品与应急物资位置")
    prohibitions: list[str] = Field([], max_length=8, description="禁止事项")
    evacuation_route: str = Field("", max_length=120)
    assembly_point: str = Field("", max_length=60)
    review_date: date
    owner_contact_id: int | None = Field(None, description="负责复核的人 (提前提醒)")
    short: str | None = Field(None, max_length=SHORT_MAX, description="短信与响应页用的简要处置 (省略时由步骤生成)")

    _texts = field_validator("steps", "risks", "prohibitions")(classmethod(lambda cls, v: _items_1_to_80(v)))


class CardPatch(BaseModel):
    """A change to a card: any content field (a new version is written)."""

    model_config = ConfigDict(extra="forbid")
    post: str | None = Field(None, min_length=1, max_length=60)
    area: str | None = Field(None, max_length=60)
    incident_types: list[str] | None = Field(None, max_length=10)
    risks: list[str] | None = Field(None, max_length=10)
    when_to_act: str | None = Field(None, max_length=200)
    steps: list[str] | None = Field(None, min_length=1, max_length=10)
    reporting: list[ReportingIn] | None = Field(None, min_length=1, max_length=8)
    ppe: list[PpeIn] | None = Field(None, max_length=10)
    prohibitions: list[str] | None = Field(None, max_length=8)
    evacuation_route: str | None = Field(None, max_length=120)
    assembly_point: str | None = Field(None, max_length=60)
    review_date: date | None = None
    owner_contact_id: int | None = None
    short: str | None = Field(None, max_length=SHORT_MAX)
    active: bool | None = None

    _texts = field_validator("steps", "risks", "prohibitions")(classmethod(lambda cls, v: _items_1_to_80(v)))


# -- responses (times are ISO 8601 in Beijing time, +08:00) ----------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IncidentTypeRefOut(_Out):
    code: str
    name: str


class ReportingOut(_Out):
    label: str
    contact_id: int | None
    name: str = Field(description="联系人姓名 (实时读取; 公共号码为空)")
    phone: str


class PpeOut(_Out):
    item: str
    equipment_id: int | None
    depot_id: int | None
    location: str
    linked: str | None = Field(None, description="链接的装备或储备库 (实时读取); 无链接时省略")
    status: str | None = Field(None, description="链接装备的状态; 无装备链接时省略")


class CardOut(_Out):
    """A card as it reads now (or one of its versions), with the state of its last print and the QR code's link."""

    id: int
    card_id: int
    number: str
    version: int
    current_version: int
    enterprise_id: int
    enterprise: str
    post: str
    area: str
    incident_types: list[IncidentTypeRefOut]
    risks: list[str]
    when_to_act: str
    steps: list[str]
    reporting: list[ReportingOut]
    ppe: list[PpeOut]
    prohibitions: list[str]
    evacuation_route: str
    assembly_point: str
    review_date: str
    owner_contact_id: int | None
    short: str
    version_created_at: str | None
    active: bool
    demo: bool
    review_due: str
    printed: bool
    last_printed_at: str | None
    last_printed_version: int | None
    changed_since_printed: bool
    changes: list[str]
    live_url: str


class PrintOut(_Out):
    id: int
    printed_at: str | None
    printed_by: str
    page_size: str


class CardVersionOut(_Out):
    version: int
    created_at: str | None
    created_by: str
    current: bool
    prints: list[PrintOut]
