"""The readiness collections as registry kinds: the registry's CRUD, ownership checks, audit and spreadsheets
run on them unchanged (they are not in the registry's KINDS: freshness does not apply, their own due dates do)."""

import re

from rescue.models import (
    Certificate,
    ContactPerson,
    Deployment,
    EmergencyPlan,
    Equipment,
    Expert,
    HazardSource,
    InspectionRecord,
    TrainingSession,
)
from rescue.models.drills import PLAN_LEVEL_NAMES, PlanLevel
from rescue.models.readiness import (
    CERTIFICATE_KIND_NAMES,
    HAZARD_LEVEL_NAMES,
    INSPECTION_RESULT_NAMES,
    CertificateKind,
    HazardLevel,
    InspectionResult,
)
from rescue.readiness import schemas
from rescue.registry import spreadsheets
from rescue.registry.kinds import Kind

_SORT = ("id", "updated_dt")

PLANS = Kind(
    "emergency-plans",
    "应急预案",
    EmergencyPlan,
    schemas.EmergencyPlanIn,
    schemas.EmergencyPlanOut,
    filters=("enterprise_id", "level", "filing_state"),
    text_columns=("title", "version"),
    sortable=(*_SORT, "title", "review_date", "evaluated_on"),
    tracked=False,
)
HAZARDS = Kind(
    "hazard-sources",
    "重大危险源",
    HazardSource,
    schemas.HazardSourceIn,
    schemas.HazardSourceOut,
    filters=("enterprise_id", "level"),
    text_columns=("name", "place"),
    sortable=(*_SORT, "name", "level"),
    located=True,
    tracked=False,
)
CERTIFICATES = Kind(
    "certificates",
    "证书",
    Certificate,
    schemas.CertificateIn,
    schemas.CertificateOut,
    filters=("enterprise_id", "kind", "contact_id", "expert_id"),
    references={"contact_id": ContactPerson, "expert_id": Expert},
    text_columns=("holder_name", "number", "issuer"),
    sortable=(*_SORT, "holder_name", "issued_on", "expires_on"),
    tracked=False,
)
TRAININGS = Kind(
    "training-sessions",
    "培训",
    TrainingSession,
    schemas.TrainingIn,
    schemas.TrainingOut,
    filters=("enterprise_id",),
    text_columns=("title", "trainer", "topic"),
    sortable=(*_SORT, "title", "held_on"),
    tracked=False,
)
INSPECTIONS = Kind(
    "inspections",
    "装备检验记录",
    InspectionRecord,
    schemas.InspectionIn,
    schemas.InspectionOut,
    filters=("enterprise_id", "equipment_id", "result"),
    references={"equipment_id": Equipment},
    text_columns=("inspector", "note"),
    sortable=(*_SORT, "inspected_on"),
    tracked=False,
)
DEPLOYMENTS = Kind(
    "deployments",
    "出动记录",
    Deployment,
    schemas.DeploymentPatch,
    schemas.DeploymentOut,
    filters=("enterprise_id", "incident_id", "state", "resource_kind"),
    text_columns=("resource_name", "note"),
    sortable=(*_SORT, "dispatched_dt"),
    tracked=False,
)
READINESS_KINDS = {k.name: k for k in (PLANS, HAZARDS, CERTIFICATES, TRAININGS, INSPECTIONS, DEPLOYMENTS)}

# spreadsheet headers and choice names of the readiness fields, beside the registry's own; a header is shared by
# every kind with that field name, so an existing one (e.g. "title": 职称 of experts) is never replaced
_LABELS = {
    "title": "标题",
    "version": "版本",
    "review_date": "评审日期",
    "evaluated_on": "最近评估日期",
    "evaluation_cycle_years": "评估周期 (年)",
    "holder_name": "持证人",
    "kind": "证书类别",
    "expert_id": "专家",
    "number": "证书编号",
    "issuer": "发证机关",
    "issued_on": "发证日期",
    "expires_on": "有效期至",
    "equipment_id": "装备",
    "inspected_on": "检验日期",
    "result": "检验结果",
    "inspector": "检验人",
    "held_on": "培训日期",
    "hours": "学时",
    "trainer": "培训讲师",
    "topic": "培训内容",
    "attendees": "参训人员",
}
for _field, _label in _LABELS.items():
    spreadsheets.LABELS.setdefault(_field, _label)
    for _kind in READINESS_KINDS.values():  # where another kind's header (experts' 职称) took the name
        if _field in _kind.schema_in.model_fields and spreadsheets.LABELS[_field] != _label:
            spreadsheets.KIND_LABELS[(_kind.name, _field)] = _label
spreadsheets.ENUM_NAMES.update(
    {
        PlanLevel: PLAN_LEVEL_NAMES,
        HazardLevel: HAZARD_LEVEL_NAMES,
        CertificateKind: CERTIFICATE_KIND_NAMES,
        InspectionResult: INSPECTION_RESULT_NAMES,
    }
)


_ATTENDEE_SEP = re.compile(r"[;；\n、,，]+")


def _read_attendees(text: str) -> list[dict]:
    """Attendees from a cell: "马建国; 李娟:李娟" → [{"name": "马建国", "contact_id": None}, {"name": "李娟",
    "contact_id": "李娟"}]: after the colon the contact the attendee is (its name as the contact list shows it, found
    on import; or its ID)."""
    out = []
    for item in filter(None, (part.strip() for part in _ATTENDEE_SEP.split(text))):
        name, sep, ref = item.replace("：", ":").partition(":")
        # contact_id always given: an update compares the whole list, and a left-out key would differ from None
        entry: dict = {"name": name.strip(), "contact_id": None}
        if sep:
            ref = ref.strip()
            if not ref:
                msg = f"参训人员「{name.strip()}」冒号后应为联系人名称 (格式: 姓名[:联系人]; 姓名)"
                raise ValueError(msg)
            entry["contact_id"] = int(ref) if ref.isascii() and ref.isdigit() else ref
        out.append(entry)
    return out


def _write_attendees(items: list[dict]) -> str:
    return "; ".join(f"{a['name']}:{a['contact_id']}" if a.get("contact_id") else a["name"] for a in items)


spreadsheets.register_item_type(
    schemas.AttendeeIn,
    "attendees",
    "参训人员列表 (姓名[:联系人])",
    read=_read_attendees,
    write=_write_attendees,
    example="马建国; 李娟:李娟",
    refs={"contact_id": "contacts"},
)
# headers of earlier versions, when these columns took ids
spreadsheets.LEGACY_LABELS.update({"expert_id": ("专家ID",), "equipment_id": ("装备ID",)})


def require_owner(actor, data) -> None:
    """The command center names the enterprise a new record belongs to (an admin's records are its own)."""
    from rescue.errors import ValidationError
    from rescue.models import Role

    if actor.role != Role.enterprise_admin and isinstance(data, dict) and data.get("enterprise_id") is None:
        raise ValidationError({"enterprise_id": "必填 (记录所属企业)"})
