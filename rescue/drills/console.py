"""What the command-center console shows of drills: the runs in progress or held."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.models import DrillRun
from rescue.models.drills import DrillRunStatus


def active_runs(session: Session, *, limit: int = 50) -> list[DrillRun]:
    """Drill runs running or held, most recently started first."""
    return list(
        session.scalars(
            select(DrillRun)
            .where(DrillRun.status.in_((DrillRunStatus.running, DrillRunStatus.held)))
            .order_by(DrillRun.started_dt.desc().nulls_last(), DrillRun.id.desc())
            .limit(limit)
        )
    )
