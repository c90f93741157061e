"""Equipment inspections: records per item, the item's due date, and whether it is serviceable.

An item under an inspection regime (an interval in days) is unserviceable when its inspection is overdue or its
last inspection failed; ranking leaves it out with the reason. Items without an interval are not judged.
The last result and due date are kept on the equipment row, so ranking's registry snapshot sees every change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rescue.clock import local_date
from rescue.db import begin_write
from rescue.errors import ValidationError
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import Equipment, InspectionRecord, User
from rescue.models.drills import NoticeLog
from rescue.models.readiness import INSPECTION_RESULT_NAMES, InspectionResult
from rescue.readiness.kinds import INSPECTIONS
from rescue.registry import access, registry, spreadsheets
from rescue.registry.kinds import KINDS
from rescue.registry.recipients import enterprise_recipients, sms_phone

REMINDER_DAYS = (30, 7)  # days before an inspection falls due, earliest first


def due_date(interval_days: int | None, last_on: date | None, next_inspection: date | None) -> date | None:
    """When the next inspection is due: last inspection + interval, else the date the owner entered."""
    if interval_days and last_on:
        return last_on + timedelta(days=interval_days)
    return next_inspection


def unserviceable_reason(row, today: date) -> str | None:
    """Why an equipment row (ORM object or a row with the same column names) may not be dispatched, or None.

    Only items with an inspection interval are judged; a failed last inspection counts in any case.
    """
    if row.last_inspection_passed is False:
        return f"最近一次检验不合格 ({row.last_inspection_on.isoformat() if row.last_inspection_on else '日期不详'}), 停用待修"
    if not row.inspection_interval_days:
        return None
    due = due_date(row.inspection_interval_days, row.last_inspection_on, row.next_inspection)
    if due is None:
        return "已设检验周期但无检验记录, 视为超期未检"
    if due < today:
        return f"超期未检验 (应于 {due.isoformat()} 前检验)"
    return None


def refresh_equipment(session: Session, equipment_ids) -> None:
    """Recompute each item's last inspection and due date from its records (after any change to them)."""
    for eid in set(equipment_ids):
        item = session.get(Equipment, eid)
        if item is None:
            continue
        last = session.scalars(
            select(InspectionRecord)
            .where(InspectionRecord.equipment_id == eid)
            .order_by(InspectionRecord.inspected_on.desc(), InspectionRecord.id.desc())
            .limit(1)
        ).first()
        on = last.inspected_on if last else None
        passed = (last.result == InspectionResult.passed) if last else None
        if (item.last_inspection_on, item.last_inspection_passed) != (on, passed):
            item.last_inspection_on, item.last_inspection_passed = on, passed
        if on and item.inspection_interval_days:
            due = on + timedelta(days=item.inspection_interval_days)
            if item.next_inspection != due:
                item.next_inspection = due
    session.flush()


def _check_date(data: dict, today: date) -> None:
    raw = data.get("inspected_on") if isinstance(data, dict) else None
    if isinstance(raw, str):
        try:
            if date.fromisoformat(raw) > today:
                raise ValidationError({"inspected_on": "检验日期不能晚于今天"})
        except ValueError:
            pass  # the schema names the bad format


def create(session: Session, actor: User, data: dict, *, today: date, now: datetime) -> InspectionRecord:
    _check_date(data, today)
    record = registry.create_record(session, INSPECTIONS, actor, data, area=None, now=now)
    refresh_equipment(session, [record.equipment_id])
    return record


def update(session: Session, actor: User, record_id: int, data: dict, *, today: date, now: datetime) -> InspectionRecord:
    _check_date(data, today)
    before = registry.get_record(session, INSPECTIONS, actor, record_id).equipment_id
    record = registry.update_record(session, INSPECTIONS, actor, record_id, data, area=None, now=now)
    refresh_equipment(session, [before, record.equipment_id])
    return record


def delete(session: Session, actor: User, record_id: int, *, now: datetime) -> None:
    eid = registry.get_record(session, INSPECTIONS, actor, record_id).equipment_id
    registry.delete_record(session, INSPECTIONS, actor, record_id, now=now)
    refresh_equipment(session, [eid])


def import_file(
    session: Session, actor: User, data: bytes, *, filename: str | None, dry_run: bool, max_rows: int, now: datetime
) -> spreadsheets.ImportResult:
    """Spreadsheet import of records through the registry's importer, then the items' due dates refreshed."""
    before = set(session.scalars(select(InspectionRecord.id)))
    result = spreadsheets.import_file(
        session, INSPECTIONS, actor, data, filename=filename, area=None, dry_run=dry_run, max_rows=max_rows, now=now
    )
    touched = session.scalars(select(InspectionRecord.equipment_id).where(InspectionRecord.id.not_in(before))).all()
    touched += session.scalars(select(InspectionRecord.equipment_id).where(InspectionRecord.updated_dt >= now)).all()
    refresh_equipment(session, touched)
    return result


def serialize(record: InspectionRecord) -> dict:
    out = registry.serialize(INSPECTIONS, record)
    out["equipment"] = record.equipment.name if record.equipment else ""
    out["result_name"] = INSPECTION_RESULT_NAMES.get(record.result, record.result)
    return out


def equipment_status(session: Session, actor: User, *, today: date, only_unserviceable: bool = False) -> list[dict]:
    """The caller's equipment under an inspection regime (or failed), with due dates and serviceability."""
    kind = KINDS["equipment"]
    stmt = access.scope(select(Equipment), actor, kind).where(
        (Equipment.inspection_interval_days.is_not(None)) | (Equipment.last_inspection_passed.is_(False))
    )
    out = []
    for item in session.scalars(stmt.order_by(Equipment.enterprise_id, Equipment.id)):
        reason = unserviceable_reason(item, today)
        if only_unserviceable and reason is None:
            continue
        due = due_date(item.inspection_interval_days, item.last_inspection_on, item.next_inspection)
        out.append(
            {
                "equipment_id": item.id,
                "name": item.name,
                "enterprise_id": item.enterprise_id,
                "interval_days": item.inspection_interval_days,
                "last_inspection_on": item.last_inspection_on.isoformat() if item.last_inspection_on else None,
                "last_inspection_passed": item.last_inspection_passed,
                "due": due.isoformat() if due else None,
                "days_left": (due - today).days if due else None,
                "serviceable": reason is None,
                "reason": reason,
            }
        )
    return out


def send_due_reminders(session_factory, gateway=None, *, now: datetime, settings: AlertSettings | None = None) -> int:
    """The job: text the owner's safety manager 30 and 7 days before an item's inspection falls due (once per
    stage and due date; a new inspection moves the due date and starts the stages afresh)."""
    settings = settings or AlertSettings()
    today = local_date(now)
    with session_factory() as session:
        rows = session.execute(
            select(
                Equipment.id,
                Equipment.inspection_interval_days,
                Equipment.last_inspection_on,
                Equipment.next_inspection,
            ).where(
                Equipment.enterprise_id.is_not(None),
                Equipment.inspection_interval_days.is_not(None) | Equipment.next_inspection.is_not(None),
            )
        ).all()
    due_items = []
    for eid, interval, last_on, next_on in rows:
        due = due_date(interval, last_on, next_on)
        if due is not None and 0 <= (due - today).days <= REMINDER_DAYS[0]:
            due_items.append((eid, due))
    sent = 0
    for eid, due in due_items:
        left = (due - today).days
        stage = min(d for d in REMINDER_DAYS if left <= d)
        key = f"inspection-due:{eid}:{due.isoformat()}:{stage}"
        with session_factory() as session:
            begin_write(session)
            if session.scalar(select(NoticeLog.id).where(NoticeLog.key == key)) is not None:
                continue
            item = session.get(Equipment, eid)
            recipients = enterprise_recipients(session, item.enterprise_id)
            log = NoticeLog(key=key, kind="inspection_due", outcome="sent" if recipients else "skipped", created_dt=now)
            session.add(log)
            try:
                session.flush()
            except IntegrityError:  # another worker took it
                session.rollback()
                continue
            text = (
                f"{settings.signature}装备「{item.name}」应于{due.month}月{due.day}日前检验(剩{left}天), "
                "超期未检将停用、不参与调度, 请及时安排检验并在系统中登记。"
            )
            for contact in recipients:
                row = queue.enqueue(
                    session,
                    to_phone=sms_phone(contact.phone),
                    body=text,
                    purpose="notice",
                    now=now,
                    contact_id=contact.id,
                    recipient_name=contact.name,
                )
                session.flush()
                log.outbox_id = log.outbox_id or row.id
            session.commit()
            sent += len(recipients)
    return sent


def recent(session: Session, actor: User, *, limit: int = 50) -> list[InspectionRecord]:
    """The inspection records the caller may see, latest inspection first."""
    return list(
        session.scalars(
            access.scope(select(InspectionRecord), actor, INSPECTIONS).order_by(InspectionRecord.inspected_on.desc()).limit(limit)
        ).all()
    )
