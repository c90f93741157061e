"""People's certificates with expiry reminders (30 and 7 days before, by SMS and on the portal), and training
sessions (§20 岗位应急培训) with their attendees."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from rescue.clock import local_date
from rescue.db import begin_write
from rescue.errors import ValidationError
from rescue.messaging import queue
from rescue.messaging.gateway import AlertSettings
from rescue.models import Certificate, ContactPerson, Enterprise, RosterShift, TrainingAttendee, TrainingSession, User
from rescue.models.drills import NoticeLog
from rescue.models.readiness import CERTIFICATE_KIND_NAMES
from rescue.models.registry import team_capabilities
from rescue.readiness.kinds import CERTIFICATES, TRAININGS, require_owner
from rescue.registry import access, registry, spreadsheets
from rescue.registry.recipients import enterprise_recipients, sms_phone

REMINDER_DAYS = (30, 7)  # the stages, earliest first


def state(cert: Certificate, today: date) -> tuple[str, int | None]:
    """("valid" | "expiring" | "expired", days left) — expiring within the first reminder stage."""
    if cert.expires_on is None:
        return "valid", None
    left = (cert.expires_on - today).days
    if left < 0:
        return "expired", left
    return ("expiring" if left <= REMINDER_DAYS[0] else "valid"), left


STATE_NAMES = {"valid": "有效", "expiring": "即将到期", "expired": "已过期"}

# capability code → the certificate kind its people must hold; only these capabilities are checked
REQUIRED_CERTIFICATES: dict[str, str] = {
    "mine_rescue": "mine_rescue",
    "mine_ventilation": "mine_rescue",
    "mine_drainage": "mine_rescue",
    "drilling_rescue": "mine_rescue",
    "hazmat_leak_control": "hazchem_safety",
    "chemical_fire": "hazchem_safety",
    "ammonia_leak_control": "hazchem_safety",
    "decontamination": "hazchem_safety",
    "medical_first_aid": "first_aid",
}


CERTIFICATE_FACT_TABLES = ("team_capabilities", "roster_shifts", "contact_people", "certificates")  # what facts read


@dataclass(frozen=True)
class CertificateFacts:
    """What the certificate check reads, for a set of teams: plain values, valid for any later time."""

    caps: dict[int, list[str]]  # team → its capabilities that call for a certificate
    shifts: list[tuple[int, int, datetime, datetime]]  # (team, contact, starts, ends), unended when read
    contacts: dict[int, set[int]]  # team → its contact people
    certificates: list[tuple[int, str, date | None]]  # (contact, kind, expires on) of the required kinds


def certificate_facts(session: Session, team_ids=None, *, since: datetime) -> CertificateFacts:
    """The facts ``degraded_from`` judges, for ``team_ids`` (None: every team); shifts that ended
    before ``since`` are left out (they never count again). Four queries, whatever the number of teams."""
    wanted = team_capabilities.c.capability_code.in_(sorted(REQUIRED_CERTIFICATES))
    if team_ids is not None:
        wanted = wanted & team_capabilities.c.team_id.in_(sorted(set(team_ids)))
    caps: dict[int, list[str]] = {}
    for team_id, code in session.execute(select(team_capabilities.c.team_id, team_capabilities.c.capability_code).where(wanted)):
        caps.setdefault(team_id, []).append(code)
    if not caps:
        return CertificateFacts({}, [], {}, [])
    teams = sorted(caps)
    shifts = [
        tuple(r)
        for r in session.execute(
            select(RosterShift.team_id, RosterShift.contact_id, RosterShift.starts_dt, RosterShift.ends_dt).where(
                RosterShift.team_id.in_(teams), RosterShift.ends_dt > since
            )
        )
    ]
    contacts: dict[int, set[int]] = {}
    for team_id, contact_id in session.execute(
        select(ContactPerson.team_id, ContactPerson.id).where(ContactPerson.team_id.in_(teams))
    ):
        contacts.setdefault(team_id, set()).add(contact_id)
    people = {c for _t, c, _s, _e in shifts}.union(*contacts.values())
    certificates = [
        (contact_id, str(kind), expires_on)
        for contact_id, kind, expires_on in session.execute(
            select(Certificate.contact_id, Certificate.kind, Certificate.expires_on).where(
                Certificate.contact_id.in_(sorted(people)), Certificate.kind.in_(sorted(set(REQUIRED_CERTIFICATES.values())))
            )
        )
    ]
    return CertificateFacts(caps, shifts, contacts, certificates)


def degraded_from(facts: CertificateFacts, team_ids, *, now: datetime) -> dict[int, dict[str, str]]:
    """Per team of ``team_ids``, capability code → reason for the team's capabilities whose required
    certificate (REQUIRED_CERTIFICATES) has lapsed for every on-duty person who holds one.

    On-duty people are those on a roster shift covering `now`; a team with no such shift counts its
    contacts. People with no certificate of the kind at all are left out: nothing is known of them, so a
    team whose on-duty people hold no such certificate is not degraded. A person with any valid
    certificate of the kind (no expiry, or expiring today or later, Beijing date) keeps the capability."""
    ids = set(team_ids)
    caps = {t: codes for t, codes in facts.caps.items() if t in ids}
    if not caps:
        return {}
    people: dict[int, set[int]] = {}
    for team_id, contact_id, starts, ends in facts.shifts:
        if team_id in caps and starts <= now < ends:
            people.setdefault(team_id, set()).add(contact_id)
    for team_id in set(caps) - set(people):
        if team_id in facts.contacts:
            people[team_id] = set(facts.contacts[team_id])
    today = local_date(now)
    # (contact, kind) → True if any of the person's certificates of that kind is valid today
    valid: dict[tuple[int, str], bool] = {}
    for contact_id, kind, expires_on in facts.certificates:
        key = (contact_id, kind)
        valid[key] = valid.get(key, False) or expires_on is None or expires_on >= today
    out: dict[int, dict[str, str]] = {}
    for team_id, codes in caps.items():
        for code in codes:
            kind = REQUIRED_CERTIFICATES[code]
            held = [valid[(c, kind)] for c in people.get(team_id, ()) if (c, kind) in valid]
            if held and not any(held):
                name = CERTIFICATE_KIND_NAMES.get(kind, kind)
                out.setdefault(team_id, {})[code] = f"降级: 在岗人员的{name}均已过期"
    return out


def degraded_capabilities(session: Session, team_ids, *, now: datetime) -> dict[int, dict[str, str]]:
    """``degraded_from`` over the facts read now for ``team_ids``."""
    ids = sorted(set(team_ids))
    if not ids:
        return {}
    return degraded_from(certificate_facts(session, ids, since=now), ids, now=now)


def serialize(cert: Certificate, *, today: date) -> dict:
    out = registry.serialize(CERTIFICATES, cert)
    st, left = state(cert, today)
    out |= {
        "kind_name": CERTIFICATE_KIND_NAMES.get(cert.kind, cert.kind),
        "state": st,
        "state_name": STATE_NAMES[st],
        "days_left": left,
    }
    return out


def create(session: Session, actor: User, data: dict, *, now: datetime) -> Certificate:
    return registry.create_record(session, CERTIFICATES, actor, data, area=None, now=now)


def update(session: Session, actor: User, cert_id: int, data: dict, *, now: datetime) -> Certificate:
    cert = registry.get_record(session, CERTIFICATES, actor, cert_id)
    old_expiry = cert.expires_on
    cert = registry.update_record(session, CERTIFICATES, actor, cert_id, data, area=None, now=now)
    if cert.expires_on != old_expiry:
        cert.reminded = []  # a renewed certificate is reminded again before its new expiry
        session.flush()
    return cert


def expiring(session: Session, actor: User, *, today: date, within_days: int = REMINDER_DAYS[0]) -> list[Certificate]:
    """The caller's certificates expired or expiring within `within_days`, soonest first (the portal's list)."""
    stmt = access.scope(select(Certificate), actor, CERTIFICATES).where(
        Certificate.expires_on.is_not(None), Certificate.expires_on <= today + timedelta(days=within_days)
    )
    return list(session.scalars(stmt.order_by(Certificate.expires_on, Certificate.id)))


def send_expiry_reminders(session_factory, gateway=None, *, now: datetime, settings: AlertSettings | None = None) -> int:
    """The job: text the enterprise's safety manager 30 and 7 days before a certificate expires (once per stage)."""
    settings = settings or AlertSettings()
    today = local_date(now)
    sent = 0
    with session_factory() as session:
        due = session.execute(
            select(Certificate.id, Certificate.expires_on).where(
                Certificate.expires_on.between(today, today + timedelta(days=REMINDER_DAYS[0]))
            )
        ).all()
    for cert_id, expires_on in due:
        left = (expires_on - today).days
        stage = min(d for d in REMINDER_DAYS if left <= d)
        key = f"cert-expiry:{cert_id}:{expires_on.isoformat()}:{stage}"
        with session_factory() as session:
            begin_write(session)
            if session.scalar(select(NoticeLog.id).where(NoticeLog.key == key)) is not None:
                continue
            cert = session.get(Certificate, cert_id)
            holder = cert.contact if cert.contact is not None and sms_phone(cert.contact.phone) else None
            recipients = enterprise_recipients(session, cert.enterprise_id) if cert.enterprise_id else []
            if not recipients and holder is not None:
                recipients = [holder]
            log = NoticeLog(key=key, kind="cert_expiry", outcome="sent" if recipients else "skipped", created_dt=now)
            session.add(log)
            try:
                session.flush()
            except IntegrityError:  # another worker took it
                session.rollback()
                continue
            kind = CERTIFICATE_KIND_NAMES.get(cert.kind, cert.kind)
            text = (
                f"{settings.signature}{cert.holder_name}的{kind}将于{expires_on.month}月{expires_on.day}日到期"
                f"(剩{left}天), 请及时复审换证并在系统中更新。"
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
            cert.reminded = sorted({*(cert.reminded or []), stage}, reverse=True)
            session.commit()
            sent += len(recipients)
    return sent


# --- training -------------------------------------------------------------------------------------


def _attendee_errors(session: Session, actor: User, data: dict, enterprise_id: int | None) -> dict:
    errors = {}
    for i, a in enumerate(data.get("attendees") or [] if isinstance(data, dict) else []):
        cid = a.get("contact_id") if isinstance(a, dict) else None
        if isinstance(cid, int) and not isinstance(cid, bool):
            contact = session.get(ContactPerson, cid)
            owner = enterprise_id if enterprise_id is not None else actor.enterprise_id
            if contact is None or (owner is not None and contact.enterprise_id != owner):
                errors[f"attendees.{i}.contact_id"] = "联系人不存在或属于其他企业"
    return errors


def _with_attendee_checks(session: Session, actor: User, data: dict, enterprise_id: int | None, call):
    """Run `call()` and report attendee errors together with the schema's, all at once."""
    extra = _attendee_errors(session, actor, data, enterprise_id)
    try:
        record = call()
    except ValidationError as exc:
        raise ValidationError(exc.fields | extra, exc.message) from None
    if extra:
        raise ValidationError(extra)
    return record


def create_training(session: Session, actor: User, data: dict, *, now: datetime) -> TrainingSession:
    require_owner(actor, data)
    owner = data.get("enterprise_id") if isinstance(data, dict) else None
    return _with_attendee_checks(
        session,
        actor,
        data,
        owner if isinstance(owner, int) else None,
        lambda: registry.create_record(session, TRAININGS, actor, data, area=None, now=now),
    )


def update_training(session: Session, actor: User, training_id: int, data: dict, *, now: datetime) -> TrainingSession:
    current = registry.get_record(session, TRAININGS, actor, training_id)
    return _with_attendee_checks(
        session,
        actor,
        data,
        current.enterprise_id,
        lambda: registry.update_record(session, TRAININGS, actor, training_id, data, area=None, now=now),
    )


def serialize_training(training: TrainingSession) -> dict:
    out = registry.serialize(TRAININGS, training)
    out["attendee_count"] = len(out["attendees"])
    out["person_hours"] = round(len(out["attendees"]) * training.hours, 1)
    return out


def import_file(
    session: Session,
    actor: User,
    data: bytes,
    *,
    kind,
    filename: str | None,
    dry_run: bool,
    max_rows: int,
    now: datetime,
) -> spreadsheets.ImportResult:
    """Spreadsheet import of certificates or training sessions through the registry's importer (all or nothing);
    attendees linked to another enterprise's contact refuse the whole file, as the form does."""
    result = spreadsheets.import_file(
        session, kind, actor, data, filename=filename, area=None, dry_run=dry_run, max_rows=max_rows, now=now
    )
    if kind is TRAININGS:
        wrong = session.execute(
            select(TrainingSession.title, TrainingAttendee.name)
            .join(TrainingAttendee, TrainingAttendee.training_id == TrainingSession.id)
            .join(ContactPerson, ContactPerson.id == TrainingAttendee.contact_id)
            .where(
                TrainingSession.updated_dt >= now,
                ContactPerson.enterprise_id.is_distinct_from(TrainingSession.enterprise_id),
            )
        ).all()
        if wrong:
            listed = "、".join(f"{title}: {name}" for title, name in wrong[:10])
            raise ValidationError({"file": f"参训人员关联的联系人不存在或属于其他企业 ({listed})"})
    return result


def enterprise_readiness(session: Session, *, today: date) -> list[dict]:
    """Per enterprise with either: trainings held in the last year and certificates expired, by enterprise name."""
    year_ago = today.replace(year=today.year - 1)
    training = dict(
        session.execute(
            select(TrainingSession.enterprise_id, func.count())
            .where(TrainingSession.held_on >= year_ago)
            .group_by(TrainingSession.enterprise_id)
        ).all()
    )
    expired = dict(
        session.execute(
            select(Certificate.enterprise_id, func.count())
            .where(Certificate.expires_on < today)
            .group_by(Certificate.enterprise_id)
        ).all()
    )
    names = dict(session.execute(select(Enterprise.id, Enterprise.name)).all())
    return sorted(
        (
            {"enterprise": names.get(e, ""), "trainings": training.get(e, 0), "expired": expired.get(e, 0)}
            for e in set(training) | set(expired)
            if e
        ),
        key=lambda r: r["enterprise"],
    )
