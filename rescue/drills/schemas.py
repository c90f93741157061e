"""Request and response schemas of drills: plans, starting and recording runs, and what the API returns for them.

The request schemas validate every body (API and portal forms alike, so both report the same messages); the
response schemas shape what `rescue.drills.serialize` returns and document it in the OpenAPI document.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from rescue.errors import ValidationError
from rescue.models.drills import (
    DrillContent,
    DrillForm,
    DrillPurpose,
    DrillRunStatus,
    PlanLevel,
    RectificationStatus,
    ReminderStatus,
    RepeatUnit,
    Rsvp,
)
from rescue.validation import partial

DEFAULT_OFFSETS_MIN = (7 * 24 * 60, 24 * 60, 120)
MAX_OFFSET_MIN = 30 * 24 * 60
RATINGS = ("excellent", "good", "pass", "fail")
RATING_NAMES = {"excellent": "优秀", "good": "良好", "pass": "合格", "fail": "不合格"}


# -- requests --------------------------------------------------------------------------------------


class PlanIn(BaseModel):
    """A drill plan as the API takes it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=40, description="演练名称 (短信中使用, 宜简短)")
    enterprise_id: int = Field(description="组织单位 (企业)")
    content: DrillContent = Field(description="comprehensive 综合演练 / single 单项演练")
    form: DrillForm = Field(description="tabletop 桌面演练 / live 实战演练")
    purpose: DrillPurpose = Field(description="inspection 检验性 / demonstration 示范性 / research 研究性")
    plan_level: PlanLevel = Field(description="comprehensive_plan 综合预案 / special_plan 专项预案 / onsite_plan 现场处置方案")
    emergency_plan_id: int | None = Field(None, ge=1, lt=2**31, description="所检验的应急预案 (同一企业)")
    incident_type: str = Field(min_length=1, max_length=64, description="情景事件类型代码")
    place: str = Field(min_length=1, max_length=30, description="演练地点 (短信中使用)")
    lat: float | None = Field(None, ge=-90, le=90, allow_inf_nan=False, description="默认为组织单位位置")
    lon: float | None = Field(None, ge=-180, le=180, allow_inf_nan=False)
    muster_point: str = Field("", max_length=30)
    scenario: str = Field("", max_length=5000, description="情景与脚本")
    starts_at: AwareDatetime = Field(description="首次开始时间 (带时区, 如 2026-06-10T09:00:00+08:00)")
    duration_min: int = Field(120, ge=10, le=24 * 60)
    repeat: RepeatUnit = Field(RepeatUnit.none, description="none 一次 / weeks 每N周 / months 每N月")
    repeat_interval: int = Field(1, ge=1, le=24)
    repeat_count: int | None = Field(None, ge=1, le=100, description="共举行次数")
    repeat_until: date | None = None
    reminder_offsets_min: list[int] = Field(
        list(DEFAULT_OFFSETS_MIN), max_length=5, description="提前提醒的分钟数, 默认 7 天、1 天、2 小时"
    )
    team_ids: list[int] = Field([], max_length=50, description="参演队伍")
    enterprise_ids: list[int] = Field([], max_length=50, description="参演企业 (组织单位自动参加)")

    @field_validator("reminder_offsets_min")
    @classmethod
    def _offsets(cls, v):
        if any(not 10 <= x <= MAX_OFFSET_MIN for x in v):
            msg = f"每个提醒应在开始前 10–{MAX_OFFSET_MIN} 分钟之间"
            raise ValueError(msg)
        if len(set(v)) != len(v):
            msg = "提醒时间重复"
            raise ValueError(msg)
        return sorted(v, reverse=True)

    @field_validator("team_ids", "enterprise_ids")
    @classmethod
    def _unique(cls, v):
        return list(dict.fromkeys(v))


PlanPatch = partial(PlanIn)


class StartIn(BaseModel):
    """Which run to start (optional body)."""

    model_config = ConfigDict(extra="forbid")
    run_id: int | None = Field(None, description="默认为时间最近的待举行场次")

    @classmethod
    def read(cls, data: object) -> StartIn:
        """The body as given (absent or empty: the nearest run); anything else than {run_id: int} is refused."""
        data = data or {}
        if not isinstance(data, dict) or set(data) - {"run_id"} or not isinstance(data.get("run_id", 0), int):
            raise ValidationError({"run_id": "应为整数"})
        return cls.model_construct(run_id=data.get("run_id"))


class RectificationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: int | None = Field(None, description="更新已有整改项时给出")
    description: str = Field(min_length=2, max_length=300)
    owner: str = Field(min_length=1, max_length=100, description="责任人/责任部门")
    due_date: date
    status: RectificationStatus = RectificationStatus.open
    done_date: date | None = None


class TeamRecordIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    team_id: int
    mustered_at: AwareDatetime | None = Field(None, description="集结完毕时间 (覆盖短信回复的到达时间)")
    acknowledged_at: AwareDatetime | None = None
    present: int | None = Field(None, ge=0, le=10000, description="到场人数")


class AttendanceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    participant_id: int
    attended: bool


class RecordIn(BaseModel):
    """The record of a run: held or cancelled, actual times, attendance and the evaluation."""

    model_config = ConfigDict(extra="forbid")
    run_id: int | None = Field(None, description="默认为进行中的一次, 其次为最近一次待举行的")
    status: DrillRunStatus = Field(description="held 已举行 / cancelled 已取消")
    cancel_reason: str = Field("", max_length=200)
    actual_start: AwareDatetime | None = None
    actual_end: AwareDatetime | None = None
    headcount: int | None = Field(None, ge=0, le=100000, description="参演人数")
    teams: list[TeamRecordIn] = Field([], max_length=50)
    attendance: list[AttendanceIn] = Field([], max_length=500)
    evaluation: str = Field("", max_length=10000, description="评估结论 (AQ/T 9009)")
    rating: str | None = Field(None, description="excellent 优秀 / good 良好 / pass 合格 / fail 不合格")
    findings: list[str] = Field([], max_length=100, description="发现的问题")
    rectifications: list[RectificationIn] = Field([], max_length=100)

    @field_validator("status")
    @classmethod
    def _final(cls, v):
        if v not in (DrillRunStatus.held, DrillRunStatus.cancelled):
            msg = "应为已举行或已取消"
            raise ValueError(msg)
        return v

    @field_validator("rating")
    @classmethod
    def _rating(cls, v):
        if v is not None and v not in RATINGS:
            msg = "应为" + "、".join(RATING_NAMES.values()) + "之一"
            raise ValueError(msg)
        return v


# -- responses (times are ISO 8601 in Beijing time, +08:00) ----------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DrillRunBriefOut(_Out):
    id: int
    sequence: int = Field(description="第几次 (从 0 起; -1: 临时加开或补录)")
    scheduled_at: str
    status: DrillRunStatus
    status_name: str
    incident_id: int | None


class DrillPlanOut(_Out):
    id: int
    name: str
    enterprise_id: int
    enterprise: str | None
    content: DrillContent
    content_name: str
    form: DrillForm
    form_name: str
    purpose: DrillPurpose
    purpose_name: str
    plan_level: PlanLevel
    plan_level_name: str
    emergency_plan_id: int | None = None
    incident_type: str
    incident_type_name: str | None
    place: str
    lat: float | None
    lon: float | None
    muster_point: str
    scenario: str
    starts_at: str
    duration_min: int
    repeat: RepeatUnit
    repeat_interval: int
    repeat_count: int | None
    repeat_until: str | None
    reminder_offsets_min: list[int]
    team_ids: list[int]
    teams: list[str]
    enterprise_ids: list[int]
    active: bool
    demo: bool
    next_run_at: str | None
    last_held_at: str | None
    runs: list[DrillRunBriefOut]


class ParticipantOut(_Out):
    id: int
    name: str
    phone: str
    team_id: int | None
    enterprise_id: int | None
    reply_code: str
    rsvp: Rsvp
    rsvp_at: str | None
    attended: bool | None


class ReminderOut(_Out):
    id: int
    participant_id: int
    offset_min: int
    due_at: str
    status: ReminderStatus
    outbox_id: int | None
    note: str | None


class TeamResultOut(_Out):
    team_id: int
    team: str | None
    assignment_id: int | None
    notified_at: str | None
    acknowledged_at: str | None
    mustered_at: str | None
    ack_s: float | None = Field(description="从通知到确认 (s)")
    muster_s: float | None = Field(description="从通知到集结完毕 (s), 即测得的出动时间")
    present: int | None
    turnout_before_min: float | None
    turnout_after_min: float | None


class RectificationOut(_Out):
    id: int
    description: str
    owner: str
    due_date: str
    status: RectificationStatus
    done_date: str | None


class DrillRunOut(DrillRunBriefOut):
    plan_id: int
    drill: bool
    started_at: str | None
    actual_start: str | None
    actual_end: str | None
    cancel_reason: str | None
    headcount: int | None
    evaluation: str
    rating: str | None
    rating_name: str | None
    findings: list[str]
    recorded_by: str | None
    recorded_at: str | None
    participants: list[ParticipantOut]
    reminders: list[ReminderOut]
    teams: list[TeamResultOut]
    rectifications: list[RectificationOut]


class ComplianceRuleOut(_Out):
    rule: str = Field(description="six_months / yearly_plan / onsite_plan")
    name: str
    basis: str = Field(description="法规依据")
    period_months: int
    last_held: str | None
    due_date: str | None
    days_left: int | None
    status: str = Field(description="ok / due_soon / overdue")
    status_name: str


class ComplianceItemOut(_Out):
    enterprise_id: int
    enterprise: str
    city: str
    county: str
    industry: str
    industry_name: str
    drill_every_6_months: bool
    status: str = Field(description="各项规则中最紧迫的状态: ok / due_soon / overdue")
    status_name: str
    rules: list[ComplianceRuleOut]


class ComplianceCountsOut(_Out):
    ok: int
    due_soon: int
    overdue: int


class ComplianceSummaryOut(_Out):
    totals: ComplianceCountsOut
    by_city: dict[str, ComplianceCountsOut]
    by_industry: dict[str, ComplianceCountsOut]


class ComplianceReportOut(_Out):
    as_of: str = Field(description="统计日期 (北京时间)")
    due_soon_days: int
    summary: ComplianceSummaryOut
    due_soon: list[ComplianceItemOut]
    overdue: list[ComplianceItemOut]
    items: list[ComplianceItemOut]
