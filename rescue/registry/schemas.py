"""Request and response schemas of the registry; they validate input and generate the OpenAPI document."""

from datetime import date, datetime
from typing import Annotated

from pydantic import AwareDatetime, Field, ValidationInfo, field_validator

from contacts.errors import InvalidPhoneError
from contacts.phones import normalize_phone
from rescue.codes import credit_code_error, supply_code_error
from rescue.models.enums import (
    Availability,
    ContactRole,
    EquipmentStatus,
    Industry,
    Level,
    MineRescueGrade,
    TeamStatus,
)
from rescue.validation import Count, Name, Quantity, RefId, Schema, Short, context_value, in_service_area


class Located(Schema):
    lat: float = Field(description="纬度 (WGS-84)", allow_inf_nan=False)
    lon: float = Field(description="经度 (WGS-84)", allow_inf_nan=False)

    _lat_ok, _lon_ok = in_service_area()


def _known_codes(codes, info: ValidationInfo):
    known = context_value(info, "capabilities")
    if codes is None or known is None:
        return codes
    unknown = [c for c in codes if c not in known]
    if unknown:
        msg = "未知的能力代码: " + ", ".join(unknown)
        raise ValueError(msg)
    return list(dict.fromkeys(codes))


def _phone(v, *, required: bool):
    if v is None or (v == "" and not required):
        return v
    try:
        return normalize_phone(v)
    except InvalidPhoneError as exc:
        raise ValueError(exc.reason) from None


class Record(Schema):
    """Fields every registry record answers with."""

    id: int
    enterprise_id: RefId | None = None
    demo: bool
    created_dt: datetime
    updated_dt: datetime
    last_confirmed_dt: datetime


class EnterpriseIn(Located):
    name: Name
    credit_code: str = Field(description="统一社会信用代码 (18位, GB 32100-2015)")
    industry: Industry
    drill_every_6_months: bool | None = Field(None, description="默认按行业 (应急条例第八条)")
    city: Short
    county: Short
    address: Annotated[str, Field(max_length=300)] = ""
    demo: bool = False

    @field_validator("credit_code")
    @classmethod
    def _credit(cls, v):
        if v is not None:
            v = v.upper()
            if err := credit_code_error(v):
                raise ValueError(err)
        return v


class EnterpriseOut(EnterpriseIn, Record):
    drill_every_6_months: bool


class DepotIn(Located):
    name: Name
    level: Level
    enterprise_id: RefId | None = None
    city: Short = ""
    county: Short = ""
    address: Annotated[str, Field(max_length=300)] = ""
    contact_name: Short = ""
    contact_phone: str = ""
    demo: bool = False

    @field_validator("contact_phone")
    @classmethod
    def _phone(cls, v):
        return _phone(v, required=False)


class DepotOut(DepotIn, Record):
    pass


class TeamIn(Located):
    name: Name
    level: Level
    team_type: Short
    capabilities: list[str] = Field(min_length=1, description="能力代码, 见 /capabilities")
    enterprise_id: RefId | None = None
    city: Short = ""
    county: Short = ""
    place: Annotated[str, Field(max_length=200)] = ""
    headcount: Count = 0
    vehicles: Count = 0
    mine_rescue_grade: MineRescueGrade | None = None
    turnout_min: Annotated[float, Field(ge=0, le=24 * 60, allow_inf_nan=False)] = 10
    duty_24h: bool = False
    status: TeamStatus = TeamStatus.available
    backbone: bool = False
    verified: bool = False
    duty_phone: str = ""
    commander_name: Short = ""
    commander_phone: str = ""
    demo: bool = False

    _codes = field_validator("capabilities")(_known_codes)

    @field_validator("duty_phone", "commander_phone")
    @classmethod
    def _phones(cls, v):
        return _phone(v, required=False)


class TeamOut(TeamIn, Record):
    pass


class ExpertIn(Located):
    name: Short = Field(min_length=1)
    fields: list[str] = Field(min_length=1, description="专业领域 (能力代码)")
    title: Annotated[str, Field(max_length=100)] = ""
    employer: Annotated[str, Field(max_length=200)] = ""
    enterprise_id: RefId | None = None
    phone: str
    city: Short = ""
    county: Short = ""
    availability: Availability = Availability.available
    remote_ok: bool = True
    demo: bool = False

    _codes = field_validator("fields")(_known_codes)

    @field_validator("phone")
    @classmethod
    def _phone(cls, v):
        return _phone(v, required=True)


class ExpertOut(ExpertIn, Record):
    pass


class EquipmentIn(Schema):
    name: Name
    equipment_type: Annotated[str, Field(max_length=100)] = ""
    capabilities: list[str] = Field(default_factory=list)
    model: Annotated[str, Field(max_length=100)] = ""
    quantity: Count = 1
    status: EquipmentStatus = EquipmentStatus.operational
    enterprise_id: RefId | None = None
    team_id: RefId | None = Field(None, description="保管队伍 (与 depot_id 二选一)")
    depot_id: RefId | None = Field(None, description="存放仓库 (与 team_id 二选一)")
    next_inspection: date | None = None
    inspection_interval_days: (
        Annotated[int, Field(ge=1, le=3650, description="检验周期 (天); 填写后超期或不合格即停用")] | None
    ) = None
    demo: bool = False

    _codes = field_validator("capabilities")(_known_codes)


class EquipmentOut(EquipmentIn, Record):
    lat: float
    lon: float
    last_inspection_on: date | None = None
    last_inspection_passed: bool | None = None


class SupplyLotIn(Schema):
    code: str = Field(description="GB/T 38565-2020 物资编码 (7位)")
    name: Name
    spec: Annotated[str, Field(max_length=200)] = ""
    unit: Annotated[str, Field(min_length=1, max_length=20)]
    quantity: Quantity
    enterprise_id: RefId | None = None
    depot_id: RefId
    expiry_date: date | None = None
    demo: bool = False

    @field_validator("code")
    @classmethod
    def _code(cls, v):
        if v is not None and (err := supply_code_error(v)):
            raise ValueError(err)
        return v


class SupplyLotOut(SupplyLotIn, Record):
    lat: float
    lon: float


class ContactIn(Schema):
    name: Short = Field(min_length=1)
    phone: str
    role: ContactRole = ContactRole.member
    organisation: Annotated[str, Field(max_length=200)] = ""
    enterprise_id: RefId | None = None
    team_id: RefId | None = None
    demo: bool = False

    @field_validator("phone")
    @classmethod
    def _phone(cls, v):
        return _phone(v, required=True)


class ContactOut(ContactIn, Record):
    pass


class RosterShiftIn(Schema):
    team_id: RefId
    contact_id: RefId = Field(description="值班人员 (联系人)")
    enterprise_id: RefId | None = None
    starts_dt: AwareDatetime = Field(description="开始时间 (ISO 8601, 带时区)")
    ends_dt: AwareDatetime = Field(description="结束时间 (ISO 8601, 带时区)")
    note: Annotated[str, Field(max_length=200)] = ""

    @field_validator("ends_dt")
    @classmethod
    def _ends_after_start(cls, v, info: ValidationInfo):
        starts = info.data.get("starts_dt")
        if v is not None and starts is not None and v <= starts:
            msg = "结束时间应晚于开始时间"
            raise ValueError(msg)
        return v


class RosterShiftOut(RosterShiftIn):
    id: int


class EscalationStepIn(Schema):
    team_id: RefId
    position: Annotated[int, Field(ge=0, le=50, description="顺序 (0 最先)")]
    contact_id: RefId
    enterprise_id: RefId | None = None


class EscalationStepOut(EscalationStepIn):
    id: int


class CapabilityIn(Schema):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    category: Annotated[str, Field(max_length=32)] = "rescue"


class CapabilityOut(CapabilityIn):
    pass


class Requirement(Schema):
    capability: str
    quantity: Annotated[int, Field(ge=1, le=1000)] = 1
    unit: str = "team"


class SupplyRequirement(Schema):
    code: str
    quantity: Quantity

    @field_validator("code")
    @classmethod
    def _code(cls, v):
        if err := supply_code_error(v):
            raise ValueError(err)
        return v


class IncidentTypeIn(Schema):
    code: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,63}$")]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    industry: Industry
    requirements: list[Requirement] = Field(default_factory=list)
    supplies: list[SupplyRequirement] = Field(default_factory=list)

    @field_validator("requirements")
    @classmethod
    def _codes(cls, v, info: ValidationInfo):
        if v is not None:
            _known_codes([r.capability for r in v], info)
        return v


class IncidentTypeOut(IncidentTypeIn):
    pass


class ImportResultOut(Schema):
    """What a bulk import did (or, with dry_run, would do)."""

    created: int
    updated: int
    dry_run: bool
