"""Request and response schemas of the readiness records; they validate input and document the API."""

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from rescue.models.drills import PlanLevel
from rescue.models.enums import ResourceKind
from rescue.models.readiness import CertificateKind, DeploymentState, FilingState, HazardLevel, InspectionResult
from rescue.readiness import substances
from rescue.registry.schemas import Located
from rescue.validation import Name, RefId, Schema

Text = Annotated[str, Field(max_length=2000)]


# a related record read from the ORM object (from_attributes) is shown by its name
NameOf = Annotated[str | None, BeforeValidator(lambda v: getattr(v, "name", v))]


class Owned(Schema):
    """Fields every readiness record answers with."""

    id: int
    enterprise_id: RefId | None = None
    demo: bool
    created_dt: datetime
    updated_dt: datetime


# --- emergency plans ------------------------------------------------------------------------------


class EmergencyPlanIn(Schema):
    level: PlanLevel = Field(description="预案级别: 综合应急预案 / 专项应急预案 / 现场处置方案")
    title: Name
    version: Annotated[str, Field(min_length=1, max_length=30)] = "1.0"
    enterprise_id: RefId | None = None
    review_date: date | None = Field(None, description="评审日期")
    evaluated_on: date | None = Field(None, description="最近评估日期 (评估周期从此起算, 未填则从评审日期起算)")
    evaluation_cycle_years: Annotated[int, Field(ge=1, le=10)] | None = Field(
        None, description="评估周期 (年); 未填按行业: 高危行业 3 年"
    )
    demo: bool = False

    @model_validator(mode="after")
    def _evaluated_after_review(self):
        if self.review_date and self.evaluated_on and self.evaluated_on < self.review_date:
            msg = "评估日期不能早于评审日期"
            raise ValueError(msg)
        return self


class EmergencyPlanOut(EmergencyPlanIn, Owned):
    filing_state: FilingState
    filing_comment: str
    filing_number: str
    submitted_dt: datetime | None
    decided_dt: datetime | None
    decided_by: str
    document_name: str
    document_size: int | None
    document_dt: datetime | None
    # derived for readers
    enterprise: NameOf = None
    level_name: str = ""
    filing_state_name: str = ""
    cycle_years: int | None = None
    evaluation_due: date | None = None
    evaluation_overdue: bool = False
    has_document: bool = False
    document_url: str | None = None


class FilingDecisionIn(Schema):
    decision: Annotated[str, Field(pattern="^(accept|return)$", description="accept 备案 / return 退回")]
    comment: Text = ""
    filing_number: Annotated[str, Field(max_length=50)] = ""

    @model_validator(mode="after")
    def _return_needs_comment(self):
        if self.decision == "return" and not self.comment.strip():
            msg = "退回时须填写意见"
            raise ValueError(msg)
        return self


# --- hazard sources -------------------------------------------------------------------------------


class SubstanceAmount(Schema):
    code: Annotated[str, Field(min_length=1, max_length=50, description="物质代码或中文名 (见 /hazard-sources/substances)")]
    quantity_t: Annotated[float, Field(gt=0, le=1e7, allow_inf_nan=False, description="在线量 (吨)")]

    @field_validator("code")
    @classmethod
    def _known(cls, v):
        code = substances.resolve(v)
        if code is None:
            msg = f"未知的危险物质: {v}"
            raise ValueError(msg)
        return code


class HazardSourceIn(Located):
    name: Name
    level: HazardLevel = Field(description="重大危险源级别 (GB 18218-2018): 一级 最高")
    enterprise_id: RefId | None = None
    place: Annotated[str, Field(max_length=200)] = ""
    substances: list[SubstanceAmount] = Field(min_length=1, max_length=50)
    note: Text = ""
    demo: bool = False


class SubstanceAmountOut(Schema):
    code: str
    quantity_t: float
    name: str = ""
    hazards: list[str] = []
    critical_t: float | None = Field(None, description="临界量 (吨)")


class HazardSourceOut(HazardSourceIn, Owned):
    substances: list[SubstanceAmountOut]
    enterprise: NameOf = None
    level_name: str = ""
    capabilities: list[str] = Field([], description="所含物质要求的能力代码")


# --- certificates and training --------------------------------------------------------------------


class CertificateIn(Schema):
    holder_name: Annotated[str, Field(min_length=1, max_length=50, description="持证人姓名")]
    kind: CertificateKind
    contact_id: RefId | None = Field(None, description="持证人 (联系人)")
    expert_id: RefId | None = Field(None, description="持证人 (专家)")
    enterprise_id: RefId | None = None
    number: Annotated[str, Field(max_length=60)] = ""
    issuer: Annotated[str, Field(max_length=200)] = ""
    issued_on: date = Field(description="发证日期")
    expires_on: date | None = Field(None, description="有效期至")
    demo: bool = False

    @field_validator("expires_on")
    @classmethod
    def _after_issue(cls, v, info: ValidationInfo):
        issued = info.data.get("issued_on")
        if v is not None and issued is not None and v < issued:
            msg = "有效期至不能早于发证日期"
            raise ValueError(msg)
        return v

    @model_validator(mode="after")
    def _one_holder(self):
        if self.contact_id is not None and self.expert_id is not None:
            msg = "持证人只能是联系人或专家之一"
            raise ValueError(msg)
        return self


class CertificateOut(CertificateIn, Owned):
    reminded: list[int] = []
    kind_name: str = ""
    state: Literal["valid", "expiring", "expired"] = "valid"
    state_name: str = ""
    days_left: int | None = Field(None, description="距到期天数 (已过期为负)")


class AttendeeIn(Schema):
    name: Annotated[str, Field(min_length=1, max_length=50)]
    contact_id: RefId | None = None


class TrainingIn(Schema):
    title: Name
    held_on: date
    hours: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] = 2
    enterprise_id: RefId | None = None
    trainer: Annotated[str, Field(max_length=100)] = ""
    topic: Text = ""
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=1000)
    demo: bool = False


class TrainingOut(TrainingIn, Owned):
    attendee_count: int = 0
    person_hours: float = 0


# --- inspections ----------------------------------------------------------------------------------


class InspectionIn(Schema):
    equipment_id: RefId
    inspected_on: date = Field(description="检验日期")
    result: InspectionResult = Field(description="passed 合格 / failed 不合格")
    inspector: Annotated[str, Field(min_length=1, max_length=50)]
    note: Annotated[str, Field(max_length=500)] = ""
    enterprise_id: RefId | None = None
    demo: bool = False


class InspectionOut(InspectionIn, Owned):
    equipment: NameOf = None
    result_name: str = ""


# --- deployments and compensation -----------------------------------------------------------------


class ConsumableIn(Schema):
    lot_id: RefId = Field(description="物资批次 (supplies 的 id)")
    quantity: Annotated[float, Field(gt=0, le=1e7, allow_inf_nan=False)]
    unit_cost: Annotated[float, Field(ge=0, le=1e7, allow_inf_nan=False, description="单价 (元)")] = 0


class DeploymentPatch(Schema):
    """What the owner may correct; times in ISO 8601 with a zone."""

    people: Annotated[int, Field(ge=0, le=10_000)] | None = None
    equipment_count: Annotated[int, Field(ge=0, le=10_000)] | None = None
    arrived_dt: datetime | None = None
    released_dt: datetime | None = None
    consumables: list[ConsumableIn] | None = Field(None, max_length=100)
    note: Annotated[str, Field(max_length=500)] | None = None


class DeploymentOut(Schema):
    id: int
    incident_id: int
    enterprise_id: int | None
    resource_kind: ResourceKind
    resource_id: int
    resource_name: str
    equipment_type: str
    dispatched_dt: datetime
    arrived_dt: datetime | None
    released_dt: datetime
    people: int
    equipment_count: int
    consumables: list[dict]
    state: DeploymentState
    note: str
    confirmed_by: str
    confirmed_dt: datetime | None
    hours: float
    demo: bool


class RatesIn(Schema):
    person_hour: Annotated[float, Field(ge=0, le=1e5, allow_inf_nan=False, description="元/人·小时")]
    equipment_hour: dict[Annotated[str, Field(max_length=100)], Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)]] = (
        Field(default_factory=dict, description='元/台·小时, 按装备类型; "*" 为其他类型')
    )
    consumables_at_cost: bool = True
    note: Annotated[str, Field(max_length=200)] = ""


class FundingShare(Schema):
    enterprise_id: RefId = Field(description="出资企业")
    share: Annotated[float, Field(gt=0, le=1, allow_inf_nan=False, description="出资比例 (0–1]")]


class FundingsIn(Schema):
    """一企主建、多企供养: the enterprises funding a backbone team and their shares (together at most 1)."""

    fundings: list[FundingShare] = Field(max_length=100)
