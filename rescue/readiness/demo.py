"""Demo readiness records for the seeded database (seed/data/readiness.json), linked to seeded records by key."""

from datetime import datetime, timedelta

from sqlalchemy import select

from rescue.clock import local_date
from rescue.models import Certificate, ContactPerson, DrillPlan, Equipment, InspectionRecord, RateTable, TrainingSession
from rescue.models.readiness import FilingState
from rescue.readiness import inspections
from rescue.readiness.kinds import HAZARDS, PLANS
from rescue.registry import registry


def seed_readiness(session, data: dict, ids: dict[str, dict[str, int]], *, area, now: datetime) -> dict[str, int]:
    """Plans, hazard sources, certificates, training, inspections and rates, all marked demo; returns the counts."""
    today = local_date(now)
    ent = ids["enterprises"]

    def day(offset: int):
        return today + timedelta(days=offset)

    for p in data.get("plans", []):
        plan = registry.create_record(
            session,
            PLANS,
            None,
            {
                "enterprise_id": ent[p["enterprise"]],
                "level": p["level"],
                "title": p["title"],
                "version": p["version"],
                "review_date": day(p["review_days"]).isoformat(),
                "demo": True,
            },
            area=area,
            now=now,
        )
        # the seeded drill plans of the enterprise at this level exercise this plan (the first one listed)
        for drill in session.scalars(
            select(DrillPlan).where(
                DrillPlan.enterprise_id == plan.enterprise_id,
                DrillPlan.plan_level == plan.level,
                DrillPlan.emergency_plan_id.is_(None),
            )
        ):
            drill.emergency_plan_id = plan.id
        if p.get("returned"):
            plan.filing_state, plan.filing_comment, plan.decided_by = FilingState.returned, p["returned"], "regulator"
            plan.submitted_dt, plan.decided_dt = now - timedelta(days=10), now - timedelta(days=3)
    for h in data.get("hazard_sources", []):
        values = {k: v for k, v in h.items() if k != "enterprise"} | {"enterprise_id": ent[h["enterprise"]], "demo": True}
        registry.create_record(session, HAZARDS, None, values, area=area, now=now)
    for c in data.get("certificates", []):
        contact = session.get(ContactPerson, ids["contacts"][c["contact"]])
        session.add(
            Certificate(
                enterprise_id=contact.enterprise_id,
                contact_id=contact.id,
                holder_name=contact.name,
                kind=c["kind"],
                number=c["number"],
                issuer=c["issuer"],
                issued_on=day(c["issued_days"]),
                expires_on=day(c["expires_days"]),
                demo=True,
                created_dt=now,
                updated_dt=now,
                last_confirmed_dt=now,
            )
        )
    for t in data.get("trainings", []):
        training = TrainingSession(
            enterprise_id=ent[t["enterprise"]],
            title=t["title"],
            held_on=day(t["held_days"]),
            hours=t["hours"],
            trainer=t.get("trainer", ""),
            demo=True,
            created_dt=now,
            updated_dt=now,
            last_confirmed_dt=now,
        )
        training.attendees = [
            {"name": session.get(ContactPerson, ids["contacts"][a["contact"]]).name, "contact_id": ids["contacts"][a["contact"]]}
            if "contact" in a
            else {"name": a["name"]}
            for a in t.get("attendees", [])
        ]
        session.add(training)
    touched = []
    for i in data.get("inspections", []):
        item = session.get(Equipment, ids["equipment"][i["equipment"]])
        item.inspection_interval_days = i["interval_days"]
        for r in i["records"]:
            session.add(
                InspectionRecord(
                    enterprise_id=item.enterprise_id,
                    equipment_id=item.id,
                    inspected_on=day(r["days"]),
                    result=r["result"],
                    inspector=r["inspector"],
                    note=r.get("note", ""),
                    demo=True,
                    created_dt=now,
                    updated_dt=now,
                    last_confirmed_dt=now,
                )
            )
        touched.append(item.id)
    session.flush()
    inspections.refresh_equipment(session, touched)
    if rates := data.get("rates"):
        session.add(
            RateTable(
                person_hour=rates["person_hour"],
                equipment_hour=rates["equipment_hour"],
                note=rates.get("note", ""),
                set_by="seed",
                created_dt=now,
            )
        )
    session.flush()
    return {k: len(data.get(k, [])) for k in ("plans", "hazard_sources", "certificates", "trainings", "inspections")}
