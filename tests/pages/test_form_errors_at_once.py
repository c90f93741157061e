"""Every form of the portal, console and regulator pages, submitted with every field invalid or missing, answers
once with every bad field (never a first round of required fields and a second of formats), in Chinese, with
no field code on screen and never a 5xx."""

import re
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest
from flask import message_flashed, template_rendered
from sqlalchemy import select

from rescue.db import utcnow
from rescue.dispatch import replies
from rescue.models import (
    Deployment,
    DrillPlan,
    DrillRun,
    EmergencyPlan,
    ResponseCard,
    Team,
    User,
)
from tests.conftest import Api, make_app
from tests.pages.test_pages import csrf_of, sign_in

LONG = "长" * 6000  # longer than any text field takes


@pytest.fixture
def app(backend, templates, tmp_path):
    """The demo database as shipped: the past incident's deployment drafts give the deployment form a record."""
    app = make_app(templates.copy(backend, seeded=True, past_incident=True), tmp_path)
    yield app
    app.extensions["db"].engine.dispose()


def _refs(app) -> dict:
    """Ids the forms post to: enterprise-a's own records."""
    with app.extensions["db"].session_factory() as s:
        ent = s.scalar(select(User.enterprise_id).where(User.username == "enterprise-a"))
        refs = {
            "team": s.scalar(select(Team.id).where(Team.enterprise_id == ent).order_by(Team.id)),
            "card": s.scalar(select(ResponseCard.id).where(ResponseCard.enterprise_id == ent).order_by(ResponseCard.id)),
            "drill": (drill := s.scalar(select(DrillPlan.id).where(DrillPlan.enterprise_id == ent).order_by(DrillPlan.id))),
            "run": s.scalar(select(DrillRun.id).where(DrillRun.plan_id == drill).order_by(DrillRun.id)),
            "deployment": s.scalar(select(Deployment.id).where(Deployment.enterprise_id == ent)),
            "plan": s.scalar(select(EmergencyPlan.id).where(EmergencyPlan.enterprise_id == ent).order_by(EmergencyPlan.id)),
            "backbone": s.scalar(select(Team.id).where(Team.backbone.is_(True)).order_by(Team.id)),
            "enterprise": ent,
            "reply": replies.flag_unreadable(s, provider="twilio", raw="???", reason="测试", now=utcnow()).id,
        }
        s.commit()  # a flagged reply for the console's review form
        return refs


@dataclass
class Form:
    """A form: who fills it, where it is shown and posted, what is typed, and what must be named as wrong."""

    id: str
    user: str
    page: str  # where the form is shown (for the CSRF token); {team} etc. are filled from the seeded ids
    post: str
    data: dict | Callable[[dict], dict]
    expect: set[str]  # as the page names them: the field keys it renders next to inputs, or the labels it lists
    api: bool = False  # the console's scripted forms post JSON to the API and place its `fields`
    files: dict = field(default_factory=dict)


# the registry forms: one bad value per field (required text left blank, numbers, choices and dates garbled)
REGISTRY = {
    "teams": (
        {
            "name": "",
            "team_type": LONG,
            "level": "bogus",
            "capabilities": "teleport",
            "headcount": "很多",
            "turnout_min": "-3",
            "status": "bogus",
            "lat": "北纬",
            "lon": "200",
            "duty_phone": "12345",
        },
        {"name", "team_type", "level", "capabilities", "headcount", "turnout_min", "status", "lat", "lon", "duty_phone"},
    ),
    "experts": (
        {"name": "", "fields": "teleport", "phone": "12345", "availability": "bogus", "lat": "x", "lon": "y"},
        {"name", "fields", "phone", "availability", "lat", "lon"},
    ),
    "equipment": (
        {"name": "", "equipment_type": "", "quantity": "几台", "status": "bogus", "team_id": "abc", "depot_id": "abc"},
        {"name", "quantity", "status", "team_id", "depot_id"},
    ),
    "supplies": (
        {"code": "12", "name": "", "quantity": "-1", "unit": "", "expiry_date": "2026-13-45", "depot_id": "abc"},
        {"code", "name", "quantity", "expiry_date", "depot_id"},
    ),
    "depots": (
        {"name": "", "level": "bogus", "lat": "x", "lon": "y", "contact_phone": "12345"},
        {"name", "level", "lat", "lon", "contact_phone"},
    ),
    "contacts": (
        {"name": "", "phone": "12345", "role": "bogus", "team_id": "abc"},
        {"name", "phone", "role", "team_id"},
    ),
}

FORMS = [
    Form(
        "login",
        "",
        "/login",
        "/login",
        {"username": "", "password": ""},
        {"username", "password"},
    ),
    Form(
        "password",
        "enterprise-a",
        "/account/password",
        "/account/password",
        {"current": "wrong", "new": "short", "repeat": "other"},
        {"current", "new", "repeat"},
    ),
    Form(
        "closure",
        "dispatcher",
        "/console/closures",
        "/console/closures",
        {
            "shape": "point",
            "lat": "北纬",
            "lon": "",
            "radius_m": "-5",
            "reason": "",
            "kind": "bogus",
            "hours": "很久",
            "expires_at": "明天",
        },
        {"lat", "lon", "radius_m", "reason", "kind", "hours", "expires_at"},
    ),
    Form(
        "reply-review",
        "dispatcher",
        "/console/replies",
        "/console/replies/{reply}",
        {"action": "assign", "assignment_id": "", "status": "bogus", "note": ""},
        {"请选择要关联的指派", "未知的状态"},
    ),
    Form(
        "closure-api",
        "dispatcher",
        "",
        "/api/v1/road-closures",
        {"lat": 31.2, "reason": "", "kind": "bogus", "hours": -1, "expires_at": "明天"},
        {"lon", "radius_m", "reason", "kind", "hours", "expires_at"},
        api=True,
    ),
    Form(
        "incident-api",
        "dispatcher",
        "",
        "/api/v1/incidents",
        {
            "type": "bogus",
            "level": "bogus",
            "place": "不存在的地方",
            "description": LONG,
            "needs": [{"capability": "teleport", "quantity": 0}],
        },
        {"type", "level", "place", "description", "needs"},
        api=True,
    ),
    *[
        Form(f"portal-{kind}", "enterprise-a", f"/portal/{kind}/new", f"/portal/{kind}/new", data, expect)
        for kind, (data, expect) in REGISTRY.items()
    ],
    Form(
        "portal-teams-edit",
        "enterprise-a",
        "/portal/teams/{team}/edit",
        "/portal/teams/{team}/edit",
        REGISTRY["teams"][0],
        REGISTRY["teams"][1],
    ),
    Form("portal-import", "enterprise-a", "/portal/teams", "/portal/teams/import", {"dry_run": "1"}, {"请选择要上传的"}),
    Form(
        "card-new",
        "enterprise-a",
        "/portal/cards/new",
        "/portal/cards/new",
        {
            "number": "",
            "post": "",
            "steps": "",
            "review_date": "明年",
            "owner_contact_id": "abc",
            "incident_types": "bogus",
            "reporting-0-label": "",
            "reporting-0-contact_id": "",
            "reporting-0-phone": "12345",
            "ppe-0-item": "",
            "ppe-0-equipment_id": "abc",
            "ppe-0-depot_id": "",
            "ppe-0-location": "",
        },
        {"number", "post", "steps", "review_date", "owner_contact_id", "incident_types", "reporting-0", "ppe-0"},
    ),
    Form(
        "card-edit",
        "enterprise-a",
        "/portal/cards/{card}/edit",
        "/portal/cards/{card}/edit",
        {
            "post": "",
            "steps": "",
            "review_date": "",
            "owner_contact_id": "999999",
            "incident_types": "bogus",
            "reporting-0-label": "值班",
            "reporting-0-contact_id": "999999",
            "reporting-0-phone": "",
        },
        {"post", "steps", "review_date", "owner_contact_id", "incident_types", "reporting-0"},
    ),
    Form(
        "drill-new",
        "enterprise-a",
        "/portal/drills/new",
        "/portal/drills/new",
        {
            "name": "",
            "incident_type": "bogus",
            "starts_at": "下周",
            "duration_min": "两小时",
            "content": "bogus",
            "form": "bogus",
            "purpose": "bogus",
            "plan_level": "bogus",
            "repeat": "bogus",
            "repeat_interval": "0",
            "lat": "北纬",
            "lon": "200",
            "team_ids": "abc",
            "reminder_offsets_min": "-5",
        },
        {
            "name",
            "incident_type",
            "starts_at",
            "duration_min",
            "content",
            "form",
            "purpose",
            "plan_level",
            "repeat",
            "repeat_interval",
            "lat",
            "lon",
            "team_ids",
            "reminder_offsets_min",
        },
    ),
    Form(
        "drill-edit",
        "enterprise-a",
        "/portal/drills/{drill}/edit",
        "/portal/drills/{drill}/edit",
        {"name": "", "incident_type": "bogus", "starts_at": "下周", "duration_min": "两小时", "content": "bogus"},
        {"name", "incident_type", "starts_at", "duration_min", "content"},
    ),
    Form(
        "drill-record",
        "enterprise-a",
        "/portal/drills/{drill}/runs/{run}",
        "/portal/drills/{drill}/runs/{run}/record",
        {
            "status": "held",
            "actual_start": "上午",
            "actual_end": "下午",
            "headcount": "很多",
            "rating": "bogus",
            "rect-0-description": "",
            "rect-0-owner": "张三",
            "rect-0-due_date": "月底",
            "rect-0-status": "bogus",
        },
        {"actual_start", "actual_end", "headcount", "rating", "rectifications.0.description", "rectifications.0.due_date"},
    ),
    Form(
        "readiness-plan",
        "enterprise-a",
        "/readiness/",
        "/readiness/plans",
        {"level": "bogus", "title": "", "version": "", "review_date": "去年"},
        {"级别", "标题", "版本", "评审日期"},
    ),
    Form(
        "readiness-hazard",
        "enterprise-a",
        "/readiness/",
        "/readiness/hazard-sources",
        {"name": "", "level": "bogus", "lat": "北纬", "lon": "", "substance_0": "bogus", "quantity_0": "很多"},
        {"名称", "级别", "纬度", "危险物质第1行 物质", "危险物质第1行 在线量 (吨)"},
    ),
    Form(
        "readiness-certificate",
        "enterprise-a",
        "/readiness/",
        "/readiness/certificates",
        {
            "holder_name": "",
            "kind": "bogus",
            "number": LONG,
            "issuer": LONG,
            "issued_on": "去年",
            "expires_on": "明年",
            "contact_id": "999999",
        },
        {"持证人", "证书类别", "证书编号", "发证机关", "发证日期", "有效期至", "联系人"},
    ),
    Form(
        "readiness-training",
        "enterprise-a",
        "/readiness/",
        "/readiness/training-sessions",
        {"title": "", "held_on": "昨天", "hours": "半天", "trainer": LONG, "attendees": ""},
        {"标题", "培训日期", "学时", "培训讲师"},
    ),
    Form(
        "readiness-inspection",
        "enterprise-a",
        "/readiness/",
        "/readiness/inspections",
        {"equipment_id": "", "inspected_on": "昨天", "result": "bogus", "inspector": ""},
        {"装备", "检验日期", "检验结果", "检验人"},
    ),
    Form(
        "readiness-deployment",
        "enterprise-a",
        "/readiness/",
        "/readiness/deployments/{deployment}/correct",
        {"people": "很多", "equipment_count": "-2", "note": LONG},
        {"人数", "装备台数", "备注"},
    ),
    Form("readiness-document", "enterprise-a", "/readiness/", "/readiness/plans/{plan}/document", {}, {"文件"}),
    Form(
        "regulator-decision",
        "regulator",
        "/readiness/regulator",
        "/readiness/plans/{plan}/decision",
        {"decision": "bogus", "comment": LONG},
        {"处理", "意见"},
    ),
    Form(
        "rates",
        "dispatcher",
        "/readiness/regulator",
        "/readiness/rates",
        {"person_hour": "很贵", "equipment_hour": "-1", "note": LONG},
        {"人员费率", "装备费率", "备注"},
    ),
    Form(
        "fundings",
        "dispatcher",
        "/readiness/regulator",
        "/readiness/fundings/{backbone}",
        {"enterprise_id": ["abc", "999999"], "percent": ["30", "三成"]},
        {"出资企业第1行 企业", "出资企业第2行 企业", "出资企业第2行 出资比例"},
    ),
]


class _ErrorText(HTMLParser):
    """The text people read as error messages: in .form-error, .error-text, .field-errors and error flashes."""

    CLASSES = {"form-error", "error-text", "field-errors", "error"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        classes = set((dict(attrs).get("class") or "").split())
        if self.depth or classes & self.CLASSES:
            self.depth += 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def _error_text(html: str) -> str:
    parser = _ErrorText()
    parser.feed(html)
    return " ".join(parser.parts)


@contextmanager
def _captured(app):
    rendered, flashed = [], []

    def on_render(sender, template, context, **extra):
        rendered.append(context)

    def on_flash(sender, message, category, **extra):
        flashed.append((category, message))

    template_rendered.connect(on_render, app)
    message_flashed.connect(on_flash, app)
    try:
        yield rendered, flashed
    finally:
        template_rendered.disconnect(on_render, app)
        message_flashed.disconnect(on_flash, app)


def _codes(data: dict) -> set[str]:
    """The field codes a page must not show: every ASCII name the form posts (and its parts)."""
    names = set()
    for key in data:
        names |= {key, *re.split(r"[-_]\d+[-_]?|-", key)}
    return {n for n in names if n and not n.isdigit() and len(n) > 2}


@pytest.mark.parametrize("form", FORMS, ids=[f.id for f in FORMS])
def test_every_bad_field_is_reported_at_once(app, form: Form):
    refs = _refs(app)
    data = form.data(refs) if callable(form.data) else dict(form.data)
    client = app.test_client()
    if form.api:
        res = Api(client, form.user).post(form.post, json=data)
        assert res.status_code == 422, res.json
        fields = {k.split(".")[0] for k in res.json["fields"]}
        assert form.expect <= fields, f"not reported together: {sorted(form.expect - fields)}; got {res.json['fields']}"
        assert all(re.search(r"[\u4e00-\u9fff]", reason) for reason in res.json["fields"].values()), res.json["fields"]
        return
    if form.user:
        sign_in(client, form.user)
    page = client.get(form.page.format(**refs))
    assert page.status_code == 200, page.text[:500]
    data["csrf_token"] = csrf_of(page.text)
    with _captured(app) as (rendered, flashed):
        res = client.post(form.post.format(**refs), data=data)
    assert res.status_code < 500, res.text[:2000]
    errors = next((c["errors"] for c in reversed(rendered) if c.get("errors")), {})
    flashes = " ".join(m for category, m in flashed if category == "error")
    # a one-field form (an upload) answers with its message on the page it came from
    flashes += " ".join(c["import_message"] for c in rendered if c.get("import_message"))
    if errors:
        assert 400 <= res.status_code < 500, res.status_code
        reported = set(errors)
        shown = _error_text(res.text)
        for reason in errors.values():
            assert reason in res.text, reason
    else:
        assert flashes, f"nothing reported: {res.status_code} {res.text[:1000]}"
        reported = {name for name in form.expect if name in flashes}
        shown = flashes
    assert form.expect <= reported, f"not reported together: {sorted(form.expect - reported)}; got {sorted(reported)}"
    assert re.search(r"[\u4e00-\u9fff]", shown), shown
    visible_codes = sorted(c for c in _codes(data) - {"csrf_token"} if re.search(rf"(?<![A-Za-z_]){c}(?![A-Za-z_])", shown))
    assert not visible_codes, f"field codes on screen: {visible_codes} in {shown!r}"
