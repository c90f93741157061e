"""Emergency plans: records, the plan document (PDF), filing (备案) with the regulator, and evaluation due dates."""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from rescue.models import DrillPlan, DrillRun, EmergencyPlan, Enterprise, Role, User
from rescue.models.drills import PLAN_LEVEL_NAMES, DrillRunStatus
from rescue.models.enums import SIX_MONTH_DRILL_INDUSTRIES
from rescue.models.readiness import FILING_STATE_NAMES, FilingState
from rescue.readiness import schemas
from rescue.readiness.kinds import PLANS, require_owner
from rescue.registry import access, audit, registry
from rescue.validation import parse

# 《生产安全事故应急预案管理办法》第三十五条 [U]: mines, metal smelting, construction and dangerous-goods operators
# evaluate their plans every three years; other industries have no fixed cycle unless the plan sets one.
HIGH_RISK_CYCLE_YEARS = 3
HIGH_RISK_INDUSTRIES = SIX_MONTH_DRILL_INDUSTRIES
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
_CHUNK = 1 << 16
# what may follow a submission, and who decides
_SUBMITTABLE = {FilingState.draft, FilingState.returned}


def cycle_years(plan: EmergencyPlan) -> int | None:
    """The plan's evaluation cycle: its own, else three years in high-risk industries, else none."""
    if plan.evaluation_cycle_years:
        return plan.evaluation_cycle_years
    industry = plan.enterprise.industry if plan.enterprise is not None else None
    return HIGH_RISK_CYCLE_YEARS if industry in HIGH_RISK_INDUSTRIES else None


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def evaluation_due(plan: EmergencyPlan) -> date | None:
    """When the next evaluation is due (None: no cycle, or never reviewed)."""
    years = cycle_years(plan)
    base = plan.evaluated_on or plan.review_date
    return _add_years(base, years) if years and base else None


def serialize(plan: EmergencyPlan, *, today: date) -> dict:
    out = registry.serialize(PLANS, plan)
    due = evaluation_due(plan)
    out |= {
        "enterprise": plan.enterprise.name if plan.enterprise else "",
        "level_name": PLAN_LEVEL_NAMES.get(plan.level, plan.level),
        "filing_state_name": FILING_STATE_NAMES.get(plan.filing_state, plan.filing_state),
        "cycle_years": cycle_years(plan),
        "evaluation_due": due.isoformat() if due else None,
        "evaluation_overdue": due is not None and due < today,
        "has_document": bool(plan.document_file),
        "document_url": f"/api/v1/emergency-plans/{plan.id}/document" if plan.document_file else None,
    }
    return out


def create(session: Session, actor: User, data: dict, *, now: datetime) -> EmergencyPlan:
    require_owner(actor, data)
    return registry.create_record(session, PLANS, actor, data, area=None, now=now)


def update(session: Session, actor: User, plan_id: int, data: dict, *, now: datetime) -> EmergencyPlan:
    """Edit a plan; a submitted plan waits for the regulator, an accepted one goes back to draft when changed."""
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if plan.filing_state == FilingState.submitted:
        raise ConflictError("预案已报备, 待监管部门处理, 暂不能修改")
    before = plan.filing_state
    fields = [f for f in PLANS.schema_in.model_fields if f != "demo"]
    old = [getattr(plan, f) for f in fields]
    plan = registry.update_record(session, PLANS, actor, plan_id, data, area=None, now=now)
    if before == FilingState.accepted and old != [getattr(plan, f) for f in fields]:
        plan.filing_state = FilingState.draft
        audit.record(
            session,
            actor,
            "update",
            PLANS.name,
            plan.id,
            plan.enterprise_id,
            {"filing_state": (before, FilingState.draft)},
            now=now,
        )
        session.flush()
    return plan


def submit(session: Session, actor: User, plan_id: int, *, now: datetime) -> EmergencyPlan:
    """draft/returned → submitted: the owner (or the command center) files the plan with the regulator."""
    access.require_write(actor, PLANS)
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if plan.filing_state not in _SUBMITTABLE:
        raise ConflictError(f"预案当前状态为{FILING_STATE_NAMES[plan.filing_state]}, 不能报备")
    missing = {}
    if not plan.document_file:
        missing["document"] = "请先上传预案文件 (PDF)"
    if plan.review_date is None:
        missing["review_date"] = "请先填写评审日期"
    if missing:
        raise ValidationError(missing, "预案材料不全, 不能报备")
    _move(session, actor, plan, FilingState.submitted, now=now)
    plan.submitted_dt = now
    session.flush()
    return plan


def decide(session: Session, actor: User, plan_id: int, data: dict, *, now: datetime) -> EmergencyPlan:
    """submitted → accepted (备案) or returned with the regulator's comments."""
    access.require_role(actor, Role.regulator)
    obj = parse(schemas.FilingDecisionIn, data)
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if plan.filing_state != FilingState.submitted:
        raise ConflictError(f"预案当前状态为{FILING_STATE_NAMES[plan.filing_state]}, 只有已报备的预案可以备案或退回")
    target = FilingState.accepted if obj.decision == "accept" else FilingState.returned
    _move(session, actor, plan, target, now=now, comment=obj.comment)
    plan.filing_comment = obj.comment
    plan.decided_dt = now
    plan.decided_by = actor.display_name or actor.username
    if target == FilingState.accepted:
        plan.filing_number = obj.filing_number or f"备案-{plan.enterprise_id}-{plan.id}-{now:%Y%m%d}"
    session.flush()
    return plan


def _move(session: Session, actor: User, plan: EmergencyPlan, target: FilingState, *, now: datetime, comment: str = "") -> None:
    changes = {"filing_state": (plan.filing_state, target)}
    if comment:
        changes["filing_comment"] = (plan.filing_comment, comment)
    audit.record(session, actor, "update", PLANS.name, plan.id, plan.enterprise_id, changes, now=now)
    plan.filing_state = target


# --- the document ---------------------------------------------------------------------------------


def upload_dir(instance_path: str, configured: str | None = None) -> Path:
    return Path(configured) if configured else Path(instance_path) / "uploads"


def store_document(
    session: Session,
    actor: User,
    plan_id: int,
    stream: BinaryIO,
    filename: str | None,
    *,
    folder: Path,
    now: datetime,
    max_bytes: int = MAX_DOCUMENT_BYTES,
) -> tuple[EmergencyPlan, Path | None]:
    """Check the upload is a PDF (by its first bytes, not its name) within `max_bytes`, and keep it under `folder`.

    The file is written under a generated name. Returns the plan and the replaced file, which the caller
    removes after commit (a failed commit leaves an orphan file at worst, never a record without its file).
    """
    access.require_write(actor, PLANS)
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if plan.filing_state == FilingState.submitted:
        raise ConflictError("预案已报备, 待监管部门处理, 暂不能更换文件")
    head = stream.read(len(PDF_MAGIC))
    if not head:
        raise ValidationError({"file": "文件为空"})
    if head != PDF_MAGIC:
        raise ValidationError({"file": "只接受 PDF 文件 (文件内容不是 PDF)"})
    target_dir = folder / "plans"
    target_dir.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}.pdf"
    path = target_dir / stored
    digest, size = hashlib.sha256(head), len(head)
    try:
        with open(path, "wb") as out:
            out.write(head)
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValidationError({"file": f"文件过大 (上限 {max_bytes // (1024 * 1024)} MB)"})
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    old = plan.document_file
    name = _safe_name(filename)
    audit.record(
        session,
        actor,
        "update",
        PLANS.name,
        plan.id,
        plan.enterprise_id,
        {"document": (plan.document_name or None, name)},
        now=now,
    )
    plan.document_file, plan.document_name, plan.document_size = stored, name, size
    plan.document_sha256, plan.document_dt = digest.hexdigest(), now
    if plan.filing_state == FilingState.accepted:
        plan.filing_state = FilingState.draft  # a new document needs filing again
    session.flush()
    return plan, (target_dir / old if old else None)


def document_path(session: Session, actor: User, plan_id: int, *, folder: Path) -> tuple[Path, str]:
    """The stored PDF of a plan `actor` may read (404 otherwise) and the name to offer it under."""
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if not plan.document_file:
        raise NotFoundError("该预案尚未上传文件")
    return folder / "plans" / plan.document_file, plan.document_name or f"预案{plan.id}.pdf"


def delete(session: Session, actor: User, plan_id: int, *, folder: Path, now: datetime) -> str | None:
    """Delete a plan (not while submitted); returns the stored file to remove after commit."""
    plan = registry.get_record(session, PLANS, actor, plan_id)
    if plan.filing_state == FilingState.submitted:
        raise ConflictError("预案已报备, 待监管部门处理, 暂不能删除")
    if actor.role == Role.enterprise_admin and plan.filing_state == FilingState.accepted:
        raise ForbiddenError("已备案的预案不能删除, 请修订后重新报备")
    stored = plan.document_file
    registry.delete_record(session, PLANS, actor, plan_id, now=now)
    return str(folder / "plans" / stored) if stored else None


def _safe_name(filename: str | None) -> str:
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    name = re.sub(r"[\x00-\x1f\"<>|:*?]", "", name)[:180]
    if not name.lower().endswith(".pdf"):
        name = (name or "预案") + ".pdf"
    return name


# --- compliance -----------------------------------------------------------------------------------


def compliance(session: Session, actor: User, *, today: date) -> dict:
    """Plans overdue for evaluation, plans never reviewed or not filed, and plans never exercised by a held drill.

    "Exercised" means a held drill whose drill plan names this emergency plan (`emergency_plan_id`).
    """
    stmt = access.scope(select(EmergencyPlan), actor, PLANS).order_by(EmergencyPlan.enterprise_id, EmergencyPlan.id)
    plans = list(session.scalars(stmt))
    exercised = set(
        session.scalars(
            select(DrillPlan.emergency_plan_id)
            .join(DrillRun, DrillRun.plan_id == DrillPlan.id)
            .where(DrillRun.status == DrillRunStatus.held, DrillPlan.emergency_plan_id.is_not(None))
        )
    )
    names = dict(session.execute(select(Enterprise.id, Enterprise.name)).all())
    overdue, unreviewed, unfiled, unexercised = [], [], [], []
    for p in plans:
        row = {
            "id": p.id,
            "title": p.title,
            "enterprise_id": p.enterprise_id,
            "enterprise": names.get(p.enterprise_id, ""),
            "level": p.level.value,
            "level_name": PLAN_LEVEL_NAMES.get(p.level, p.level),
            "filing_state": p.filing_state.value,
        }
        due = evaluation_due(p)
        if due is not None and due < today:
            overdue.append(row | {"evaluation_due": due.isoformat(), "days_overdue": (today - due).days})
        if p.review_date is None:
            unreviewed.append(row)
        if p.filing_state != FilingState.accepted:
            unfiled.append(row | {"filing_state_name": FILING_STATE_NAMES[p.filing_state]})
        if p.id not in exercised:
            unexercised.append(row)
    return {
        "today": today.isoformat(),
        "total": len(plans),
        "overdue": overdue,
        "unreviewed": unreviewed,
        "unfiled": unfiled,
        "unexercised": unexercised,
    }


def pending_filings(session: Session) -> list[EmergencyPlan]:
    """Plans submitted for filing and not yet decided, earliest submission first."""
    return list(
        session.scalars(
            select(EmergencyPlan).where(EmergencyPlan.filing_state == FilingState.submitted).order_by(EmergencyPlan.submitted_dt)
        ).all()
    )
