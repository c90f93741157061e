"""Request and response schemas of incidents, ranking, planning, routes, closures and coverage."""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from rescue.dispatch.assignments import MAX_RESOURCES
from rescue.models.enums import INCIDENT_LEVEL_NAMES, AssignmentStatus, IncidentLevel, IncidentStatus
from rescue.validation import Schema, context_value, in_service_area

_LEVEL_BY_NAME = {v: k for k, v in INCIDENT_LEVEL_NAMES.items()}
NeedQuantity = Annotated[float, Field(gt=0, le=1e9, allow_inf_nan=False)]


class NeedIn(Schema):
    """One need: a capability (teams, items, experts by ``unit``) or a supply by GB/T 38565 code."""

    capability: str | None = Field(None, max_length=64, description="能力代码")
    supply_code: str | None = Field(None, max_length=7, description="物资代码 (GB/T 38565-2020, 7 位)")
    quantity: NeedQuantity = 1
    unit: Literal["team", "person", "item"] | str | None = Field(
        None, max_length=20, description="team (队伍) | item (装备件数) | person (专家); 物资为计量单位"
    )

    @model_validator(mode="after")
    def _one_of(self):
        if (self.capability is None) == (self.supply_code is None):
            msg = "需求应给出 capability 或 supply_code 之一"
            raise ValueError(msg)
        return self

    @field_validator("capability")
    @classmethod
    def _known_capability(cls, v, info: ValidationInfo):
        known = context_value(info, "capabilities")
        if v is not None and known is not None and v not in known:
            msg = f"未知的能力代码: {v}"
            raise ValueError(msg)
        return v

    @field_validator("supply_code")
    @classmethod
    def _supply_code(cls, v):
        if v is not None and not (len(v) == 7 and v.isdigit()):
            msg = "物资代码应为 7 位数字 (GB/T 38565-2020)"
            raise ValueError(msg)
        return v

    @field_validator("unit")
    @classmethod
    def _unit(cls, v, info: ValidationInfo):
        if v is not None and info.data.get("capability") is not None and v not in ("team", "person", "item"):
            msg = "能力需求的单位应为 team, person 或 item"
            raise ValueError(msg)
        return v


def _level(v):
    if isinstance(v, str) and v.strip() in _LEVEL_BY_NAME:
        return _LEVEL_BY_NAME[v.strip()]
    return v


class IncidentIn(Schema):
    type: str = Field(min_length=1, max_length=64, description="事件类型代码 (incident-types)")
    level: IncidentLevel = Field(description="general/larger/major/especially_major 或 一般/较大/重大/特别重大")
    lat: float | None = Field(None, allow_inf_nan=False, description="纬度")
    lon: float | None = Field(None, allow_inf_nan=False, description="经度")
    crs: Literal["wgs84", "gcj02"] = Field("wgs84", description="坐标系: wgs84 (默认) 或 gcj02 (高德/腾讯地图)")
    place: str | None = Field(None, max_length=200, description="地名 (县城、乡镇、园区); 无坐标时按地名定位")
    description: str = Field("", max_length=5000)
    drill: bool = False
    needs: list[NeedIn] | None = Field(None, max_length=100, description="省略时使用事件类型的需求模板")

    _norm_level = field_validator("level", mode="before")(classmethod(lambda cls, v: _level(v)))

    _lat_ok, _lon_ok = in_service_area()

    @field_validator("type")
    @classmethod
    def _known_type(cls, v, info: ValidationInfo):
        known = context_value(info, "incident_types")
        if known is not None and v not in known:
            msg = f"未知的事件类型: {v}"
            raise ValueError(msg)
        return v


class IncidentPatch(Schema):
    level: IncidentLevel | None = None
    status: IncidentStatus | None = None
    description: str | None = Field(None, max_length=5000)
    place: str | None = Field(None, min_length=1, max_length=200, description="地名标签 (不改变坐标)")
    needs: list[NeedIn] | None = Field(None, max_length=100, description="替换全部需求")

    _norm_level = field_validator("level", mode="before")(classmethod(lambda cls, v: _level(v)))


class NeedOut(Schema):
    id: int
    capability: str | None = None
    supply_code: str | None = None
    name: str = ""
    quantity: float
    unit: str


class IncidentCardOut(Schema):
    id: int
    title: str
    post: str
    short: str
    hazard_source_id: int | None = None


class IncidentOut(Schema):
    id: int
    number: str
    type: str
    type_name: str
    level: IncidentLevel
    level_name: str
    status: IncidentStatus
    lat: float
    lon: float
    place: str
    description: str
    drill: bool
    created_at: datetime
    closed_at: datetime | None = None
    needs: list[NeedOut]
    cards: list[IncidentCardOut] = Field([], description="事故点所在重大危险源岗位的应急处置卡")


class CandidateOut(Schema):
    rank: int
    kind: Literal["team", "equipment", "supply", "expert"]
    id: int
    name: str
    owner: str
    eta_s: float
    travel_s: float | None
    turnout_s: float
    offroad_s: float | None = None
    distance_m: float | None = Field(description="道路米数 (不含越野段)")
    offroad_m: float | None = Field(None, description="越野米数 (两端越野段, 或直线越野接近)")
    direct: bool = Field(False, description="直线越野接近 (无路或道路更慢)")
    enters_closure_m: float = Field(0.0, description="为抵达封闭区内的现场而驶入封闭区的米数")
    declined: bool = Field(False, description="已拒绝本事件的调派 (排在其他资源之后)")
    warnings: list[str] = Field([], description="如 需越野/徒步接近")
    route: dict | None = Field(None, description="GeoJSON LineString")
    via: str = Field("", description="主要道路, 如 G6、G20 (短信 '经G6约45分钟')")
    via_refs: list[str] = []
    amount: float = Field(description="可提供的队伍数/件数/人数/物资数量")
    reasons: list[str]
    stale: bool = False
    remote: bool = False
    cumulative: float | None = Field(None, description="按排名累计可提供的数量")


class ExcludedOut(Schema):
    kind: str
    id: int
    name: str
    reasons: list[str]


class RankedNeedOut(Schema):
    need_id: int
    capability: str | None = None
    supply_code: str | None = None
    name: str
    quantity: float
    unit: str
    resource_kind: Literal["team", "equipment", "supply", "expert"]
    assigned: float | None = Field(None, description="已指派的数量")
    candidates: list[CandidateOut]
    covered_eta_s: float | None = Field(None, description="按到达顺序累计满足数量的时间 (s)")
    assigned: float = Field(0, description="已调派数量 (未结束的任务)")
    dispatched: str | None = Field(None, description="已调派 n/m")
    empty_reason: str | None = Field(None, description="无候选时的原因: 均在执行任务、已拒绝、道路封闭、已过期或无登记")
    excluded: list[ExcludedOut] | None = None


class CandidatesOut(Schema):
    incident_id: int
    computed_at: datetime
    warnings: list[str] = Field([], description="如 事发地距道路过远 (需越野/徒步接近)、事发地位于封闭区内")
    scene_offroad_m: float = Field(0, description="事发地到最近道路的直线米数")
    needs: list[RankedNeedOut]


class PlanAssignmentOut(Schema):
    need_id: int
    kind: str
    id: int
    name: str
    quantity: float
    eta_s: float
    via: str = ""
    remote: bool = False


class UncoveredOut(Schema):
    need_id: int
    capability: str | None = None
    supply_code: str | None = None
    shortfall: float
    reason: str = ""


class PlanOut(Schema):
    incident_id: int
    assignments: list[PlanAssignmentOut]
    uncovered: list[UncoveredOut]
    partial: list[PlanAssignmentOut] = []
    makespan_s: float
    optimal: bool


class CoverItemOut(Schema):
    name: str
    kind: str
    county: str
    lat: float
    lon: float
    arrival_s: float | None
    met: bool
    source: dict | None
    lost: bool = False


class CoverageOut(Schema):
    capability: str
    minutes: float
    exclude: list[str]
    items: list[CoverItemOut]
    met: int
    missed: int
    lost: list[str]
    computed_at: datetime


# -- dispatches, assignments, the timeline and SMS ------------------------------------------------------------

StrictCount = Annotated[int, Field(strict=True)]
ResourceKindName = Literal["team", "expert", "equipment", "supply"]


class ResourceIn(Schema):
    """One resource to dispatch; `eta_s`, `via` and `name` may come back as the ranking gave them."""

    kind: ResourceKindName
    id: StrictCount
    need_id: StrictCount | None = None
    quantity: float = Field(1, gt=0, allow_inf_nan=False, strict=True)
    eta_s: float | None = Field(None, strict=True)
    via: str | None = Field(None, max_length=200)
    name: str | None = Field(None, max_length=200)


class DispatchIn(Schema):
    resources: list[ResourceIn] | None = Field(None, description="省略时使用自动方案 (plan)")
    acks_needed: StrictCount | None = Field(None, ge=1, le=MAX_RESOURCES)
    wave_timeout_s: StrictCount | None = Field(None, ge=30, le=24 * 3600)
    max_waves: StrictCount | None = Field(None, ge=1, le=20)
    muster_point: str | None = Field(None, max_length=30)
    task: str | None = Field(None, max_length=20)
    note: str | None = Field(None, max_length=500)


class MessageOut(Schema):
    id: int | None
    assignment_id: int | None = None
    purpose: str | None = None
    channel: str = "sms"
    channel_name: str = "短信"
    template: str | None = None
    chain_step: int | None = None
    to: str
    recipient: str
    reply_code: str | None = None
    text: str | None = None
    segments: int
    chars: int
    encoding: str | None = None
    status: str
    attempts: int | None = None
    provider_id: str | None = None
    possibly_duplicated: bool
    last_error: str | None = None
    error_code: str | None = None
    next_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    delivered_at: datetime | None = None


class AssignmentOut(Schema):
    id: int | None
    dispatch_id: int | None = None
    incident_id: int | None = None
    need_id: int | None = None
    kind: str
    resource_id: int
    name: str
    quantity: float | None = None
    status: str
    reply_code: str
    wave: int
    rank: int
    eta_s: float | None
    reported_eta_min: int | None = None
    escalated_from_id: int | None = None
    deadline_at: datetime | None = None
    acknowledged_at: datetime | None = None
    on_scene_at: datetime | None = Field(None, description="到场时间 (解除后仍保留)")
    ack_channel: str | None = Field(None, description="确认方式: sms 短信, voice 语音按键, link 链接, dispatcher 调度员")
    ack_channel_name: str | None = None
    ack_s: float | None = Field(None, description="从该方式首次发出到确认的秒数")
    messages: list[MessageOut] | None = None


class DispatchOut(Schema):
    id: int | None
    incident_id: int
    created_at: datetime | None = None
    acks_needed: int
    wave_timeout_s: int
    max_waves: int
    assignments: list[AssignmentOut]
    preview: bool | None = Field(None, description="预览: 未保存, 未发送")


class EventOut(Schema):
    id: int
    at: datetime
    kind: str
    assignment_id: int | None
    resource: str | None = None
    from_status: str | None
    to_status: str | None
    message: str
    actor: str
    detail: dict | None


class InboundOut(Schema):
    direction: Literal["in"] = "in"
    id: int
    from_: str = Field(alias="from")
    text: str
    received_at: datetime
    kind: str | None
    code: str | None
    eta_min: int | None
    outcome: str | None
    assignment_id: int | None
    incident_id: int | None
    needs_review: bool
    reviewed_by: str | None


class CorrectionIn(Schema):
    # note first: the check of status reads it
    note: str = Field("", max_length=500)
    status: AssignmentStatus | None = Field(None, validate_default=True)
    escalate: bool = Field(True, strict=True, description="更正为拒绝/失败/未应答时是否自动改派 (默认是)")

    @field_validator("status")
    @classmethod
    def _status_or_note(cls, v, info: ValidationInfo):
        if v is None and not info.data.get("note"):
            msg = "请提供 status 或 note"
            raise ValueError(msg)
        return v


class ReviewIn(Schema):
    assignment_id: StrictCount | None = None
    status: AssignmentStatus | None = None
    note: str = Field("", max_length=500)
