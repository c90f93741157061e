"""一企主建、多企供养: the enterprises that fund a backbone team and their shares, and the support each team
received (compensation for its deployments) and gave (its deployments)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.errors import NotFoundError, ValidationError
from rescue.models import Deployment, Enterprise, Role, Team, TeamFunding, User
from rescue.models.enums import ResourceKind
from rescue.models.readiness import DeploymentState
from rescue.readiness import compensation, schemas
from rescue.registry import access, audit
from rescue.validation import parse_partly

SHARE_SLACK = 1e-6  # shares typed as thirds add up to 0.99…9 or 1.00…1


def set_fundings(session: Session, actor: User, team_id: int, data: dict, *, now: datetime) -> list[TeamFunding]:
    """Replace the team's funders (the command center alone); every bad entry is reported at once."""
    access.require_role(actor, Role.command_center)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFoundError("队伍不存在")
    obj, errors = parse_partly(schemas.FundingsIn, data)
    if obj is None or obj.fundings is None:
        # some rows could not be read: the others are still checked, each row on its own (every bad field at once)
        rows = data.get("fundings") if isinstance(data, dict) else None
        if not isinstance(rows, list) or len(rows) > 100:
            raise ValidationError(errors)
        valid = []
        for i, row in enumerate(rows):
            one, bad = parse_partly(schemas.FundingShare, row)
            errors.update({f"fundings.{i}.{k}": v for k, v in bad.items()})
            valid.append(one)
    else:
        valid = list(obj.fundings)
    seen: set[int] = set()
    for i, f in enumerate(valid):
        if f is None or f.enterprise_id is None or f"fundings.{i}.enterprise_id" in errors:
            continue
        if f.enterprise_id in seen:
            errors[f"fundings.{i}.enterprise_id"] = "同一企业重复填写"
        elif session.get(Enterprise, f.enterprise_id) is None:
            errors[f"fundings.{i}.enterprise_id"] = "企业不存在"
        seen.add(f.enterprise_id)
    total = sum(f.share for f in valid if f is not None and f.share is not None)
    if total > 1 + SHARE_SLACK:
        errors["fundings"] = f"出资比例合计 {total:g}, 不能超过 1"
    if errors:
        raise ValidationError(errors)
    old = session.scalars(select(TeamFunding).where(TeamFunding.team_id == team_id)).all()
    before = {r.enterprise_id: r.share for r in old}
    for row in old:
        session.delete(row)
    session.flush()
    rows = [TeamFunding(team_id=team_id, enterprise_id=f.enterprise_id, share=f.share) for f in obj.fundings]
    session.add_all(rows)
    after = {f.enterprise_id: f.share for f in obj.fundings}
    audit.record(session, actor, "update", "team-fundings", team_id, team.enterprise_id, {"fundings": (before, after)}, now=now)
    session.flush()
    return rows


def fundings_of(session: Session, team_ids: list[int] | None = None) -> dict[int, list[dict]]:
    """team id → [{enterprise_id, enterprise, share}], largest share first."""
    stmt = select(TeamFunding.team_id, TeamFunding.enterprise_id, Enterprise.name, TeamFunding.share).join(
        Enterprise, Enterprise.id == TeamFunding.enterprise_id
    )
    if team_ids is not None:
        stmt = stmt.where(TeamFunding.team_id.in_(team_ids))
    out: dict[int, list[dict]] = {}
    for team_id, eid, name, share in session.execute(stmt.order_by(TeamFunding.share.desc(), Enterprise.name)):
        out.setdefault(team_id, []).append({"enterprise_id": eid, "enterprise": name, "share": share})
    return out


def _visible(stmt, actor: User):
    # an enterprise sees the teams it keeps or funds; the command center and regulator see all
    if actor.role != Role.enterprise_admin:
        return stmt
    funded = select(TeamFunding.team_id).where(TeamFunding.enterprise_id == actor.enterprise_id)
    return stmt.where((Team.enterprise_id == actor.enterprise_id) | Team.id.in_(funded))


def team_support(session: Session, actor: User) -> list[dict]:
    """Per backbone or funded team: its funders, what it gave (deployments, hours, person-hours, incidents) and
    what it received (compensation for its confirmed deployments under the current rates; drafts pending)."""
    funded = select(TeamFunding.team_id)
    stmt = _visible(select(Team).where(Team.backbone.is_(True) | Team.id.in_(funded)), actor).order_by(Team.name)
    teams = list(session.scalars(stmt))
    ids = [t.id for t in teams]
    funders = fundings_of(session, ids)
    rates = compensation.current_rates(session)
    deps: dict[int, list[Deployment]] = {}
    if ids:
        rows = session.scalars(
            select(Deployment).where(Deployment.resource_kind == ResourceKind.team, Deployment.resource_id.in_(ids))
        )
        for d in rows:
            deps.setdefault(d.resource_id, []).append(d)
    out = []
    for t in teams:
        mine = deps.get(t.id, [])
        counted = [d for d in mine if d.state != DeploymentState.draft]
        received = round(sum(compensation.priced(d, rates)[-1] for d in counted), 2) if rates else None
        shares = funders.get(t.id, [])
        out.append(
            {
                "team_id": t.id,
                "team": t.name,
                "enterprise_id": t.enterprise_id,
                "enterprise": t.enterprise.name if t.enterprise else "",
                "backbone": t.backbone,
                "funders": shares,
                "funded_share": round(sum(f["share"] for f in shares), 4),
                "gave": {
                    "deployments": len(mine),
                    "incidents": len({d.incident_id for d in mine}),
                    "hours": round(sum(d.hours for d in mine), 2),
                    "person_hours": round(sum(d.people * d.hours for d in mine), 2),
                },
                "received": {
                    "amount": received,
                    "confirmed": len(counted),
                    "pending": len(mine) - len(counted),
                },
            }
        )
    return out
