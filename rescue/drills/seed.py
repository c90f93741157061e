"""Demo drill plans for the seed data, with the records of drills held in the past."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from rescue.clock import CHINA
from rescue.drills.plans import apply_plan, schedule_runs
from rescue.drills.schemas import PlanIn
from rescue.models import DrillPlan, DrillRun, RectificationItem
from rescue.models.drills import DrillRunStatus, RectificationStatus, RepeatUnit
from rescue.validation import parse


def seed_drills(session: Session, rows: list[dict], ids: dict[str, dict[str, int]], *, now: datetime) -> int:
    """Load seed plans (times relative to `now`: `starts_in_days`, `held_days_ago`) and their held records."""
    count = 0
    for row in rows:
        starts = (now + timedelta(days=row.get("starts_in_days", 0))).astimezone(CHINA)
        hh, mm = (int(x) for x in row.get("local_time", "09:00").split(":"))
        starts = starts.replace(hour=hh, minute=mm, second=0, microsecond=0)
        data = {k: v for k, v in row.items() if k in PlanIn.model_fields}
        data["enterprise_id"] = ids["enterprises"][row["enterprise"]]
        data["team_ids"] = [ids["teams"][k] for k in row.get("teams", [])]
        data["enterprise_ids"] = [ids["enterprises"][k] for k in row.get("enterprises", [])]
        data["starts_at"] = starts.isoformat()
        obj = parse(PlanIn, data)
        plan = DrillPlan(
            created_by="seed", created_dt=now, updated_dt=now, demo=True, repeat_unit=RepeatUnit.none, repeat_interval=1
        )
        apply_plan(session, plan, obj, set(PlanIn.model_fields), None)
        session.add(plan)
        session.flush()
        for held in row.get("held", []):
            when = (now - timedelta(days=held["days_ago"])).astimezone(CHINA).replace(hour=hh, minute=mm, second=0, microsecond=0)
            run = DrillRun(
                plan=plan,
                sequence=-1,
                scheduled_dt=when,
                status=DrillRunStatus.held,
                actual_start_dt=when,
                actual_end_dt=when + timedelta(minutes=plan.duration_min),
                headcount=held.get("headcount"),
                evaluation=held.get("evaluation", ""),
                rating=held.get("rating"),
                findings=held.get("findings", []),
                recorded_by="seed",
                recorded_dt=when + timedelta(days=1),
                created_dt=now,
            )
            session.add(run)
            for item in held.get("rectifications", []):
                run.rectifications.append(
                    RectificationItem(
                        description=item["description"],
                        owner=item["owner"],
                        due_date=(when + timedelta(days=item.get("due_in_days", 30))).date(),
                        status=RectificationStatus(item.get("status", "open")),
                    )
                )
        session.flush()
        schedule_runs(session, plan, now=now)
        count += 1
    return count
