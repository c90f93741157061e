"""Seeding loads the Ningxia data through the same checks as the API, once."""

from sqlalchemy import func, select

from rescue.config import DEFAULTS
from rescue.models import AuditEntry, Enterprise, Team, User
from seed import loader


def test_seeded_database_has_the_backbone_and_demo_users(session):
    assert session.scalar(select(func.count()).select_from(Team).where(Team.backbone.is_(True))) == 8
    assert session.scalar(select(func.count()).select_from(Team)) >= 48
    assert session.scalar(select(func.count()).select_from(Enterprise)) >= 30
    users = {u.username: u for u in session.scalars(select(User))}
    assert {"dispatcher", "regulator", "enterprise-a", "enterprise-b"} <= set(users)
    assert users["enterprise-a"].enterprise_id != users["enterprise-b"].enterprise_id


def test_seed_twice_loads_nothing_more(session):
    before = session.scalar(select(func.count()).select_from(Team))
    audits = session.scalar(select(func.count()).select_from(AuditEntry))
    result = loader.seed(session, area=DEFAULTS["SERVICE_AREA"], demo=True)
    session.commit()
    assert result.seeded is False
    assert session.scalar(select(func.count()).select_from(Team)) == before
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == audits


def test_seed_command_on_empty_database(empty_app):
    runner = empty_app.test_cli_runner()
    first = runner.invoke(args=["seed"])
    assert first.exit_code == 0, first.output
    assert "已加载种子数据" in first.output
    second = runner.invoke(args=["seed"])
    assert "未重复加载" in second.output


def test_demo_data_tells_a_story(api):
    """A trainee sees stale records, a mixed compliance picture and a drill coming up."""
    dispatcher = api("dispatcher")
    assert dispatcher.get("/api/v1/freshness?days=90").json["total"] >= 20
    cities = dispatcher.get("/api/v1/drills/compliance").json["summary"]["by_city"].values()
    totals = {status: sum(c[status] for c in cities) for status in ("ok", "due_soon", "overdue")}
    assert totals["ok"] >= 10 and totals["due_soon"] >= 5 and totals["overdue"] >= 10, totals
    plans = dispatcher.get("/api/v1/drills?limit=200").json["items"]
    assert [p for p in plans if p["next_run_at"] and 0 < _days_until(p["next_run_at"]) <= 3]


def _days_until(moment: str) -> float:
    from datetime import UTC, datetime

    return (datetime.fromisoformat(moment) - datetime.now(UTC)).total_seconds() / 86400
