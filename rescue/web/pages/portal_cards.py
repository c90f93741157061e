"""Enterprise portal: response cards — list, form (each save a new version), versions, prints and the PDF."""

from flask import current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from rescue.cards import cards
from rescue.db import utcnow
from rescue.errors import RescueError
from rescue.models import ResponseCard, Role
from rescue.web.auth import current_user
from rescue.web.extensions import get_session
from rescue.web.pages.common import page_roles
from rescue.web.pages.portal import EDITORS, bp

REPORTING_ROWS, PPE_ROWS = 4, 3  # blank rows offered beyond the card's own
CONTENT_LINES = ("steps", "risks", "prohibitions")  # lists typed one item a line
PLACED = {
    "number",
    "post",
    "area",
    "when_to_act",
    "incident_types",
    "risks",
    "steps",
    "prohibitions",
    "reporting",
    "ppe",
    "evacuation_route",
    "assembly_point",
    "review_date",
    "owner_contact_id",
    "short",
    "enterprise_id",
}


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _int_or_none(raw: str | None) -> int | str | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() else (raw or None)  # a non-number goes through for the schema to report


def _rows(form: MultiDict, prefix: str, keys: tuple[str, ...]) -> list[tuple[int, dict]]:
    """(form row, values) of the filled rows of a repeated group such as reporting-0-label."""
    out, i = [], 0
    while f"{prefix}-{i}-{keys[0]}" in form:
        values = {k: form.get(f"{prefix}-{i}-{k}", "").strip() for k in keys}
        if any(values.values()):
            out.append((i, values))
        i += 1
    return out


def _submitted(form: MultiDict, *, creating: bool) -> tuple[dict, dict[str, dict[int, int]]]:
    """The form as the API's card body, and which form row each reporting/PPE entry came from."""
    data = {name: _lines(form.get(name, "")) for name in CONTENT_LINES}
    for name in ("post", "area", "when_to_act", "evacuation_route", "assembly_point"):
        data[name] = form.get(name, "").strip()
    data["incident_types"] = form.getlist("incident_types")
    data["review_date"] = form.get("review_date", "").strip() or None
    data["owner_contact_id"] = _int_or_none(form.get("owner_contact_id"))
    data["short"] = form.get("short", "").strip() or None
    rows = {"reporting": {}, "ppe": {}}
    data["reporting"] = []
    for row, v in _rows(form, "reporting", ("label", "contact_id", "phone")):
        rows["reporting"][len(data["reporting"])] = row
        contact = _int_or_none(v["contact_id"])
        data["reporting"].append({"label": v["label"], "contact_id": contact, "phone": None if contact else (v["phone"] or None)})
    data["ppe"] = []
    for row, v in _rows(form, "ppe", ("item", "equipment_id", "depot_id", "location")):
        rows["ppe"][len(data["ppe"])] = row
        data["ppe"].append(
            {
                "item": v["item"],
                "equipment_id": _int_or_none(v["equipment_id"]),
                "depot_id": _int_or_none(v["depot_id"]),
                "location": v["location"],
            }
        )
    if creating:
        data["number"] = form.get("number", "").strip()
        data["enterprise_id"] = _int_or_none(form.get("enterprise_id"))
    return data, rows


# the columns of a reporting or PPE row, as its table heads say them
ROW_FIELD_NAMES = {
    "label": "名称",
    "contact_id": "联系人",
    "phone": "电话",
    "item": "物品",
    "equipment_id": "装备",
    "depot_id": "储备库",
    "location": "存放位置",
}


def _placed(errors: dict, rows: dict[str, dict[int, int]]) -> dict:
    """The service's error keys (reporting.2.contact_id) moved to the form rows they came from (reporting-3),
    each reason with the column's Chinese name; several problems of one row are listed together."""
    out: dict[str, str] = {}
    for key, reason in errors.items():
        head, _, rest = key.partition(".")
        if head in rows and rest.split(".")[0].isdigit():
            index = int(rest.split(".")[0])
            field = rest.partition(".")[2]
            name = ROW_FIELD_NAMES.get(field, "")
            row = f"{head}-{rows[head].get(index, index)}"
            text = f"{name + ': ' if name else ''}{reason}"
            out[row] = f"{out[row]}；{text}" if row in out else text
        else:
            out.setdefault(head, reason)
    return out


def _form_values(resolved: dict | None) -> dict:
    if resolved is None:
        return {"reporting": [], "ppe": [], "incident_types": []}
    values = dict(resolved)
    values["incident_types"] = [t["code"] for t in resolved["incident_types"]]
    for name in CONTENT_LINES:
        values[name] = "\n".join(resolved[name])
    return values


def _values_from(data: dict) -> dict:
    values = dict(data)
    for name in CONTENT_LINES:
        values[name] = "\n".join(data.get(name) or [])
    return values


def _form_page(
    card: ResponseCard | None, values: dict, errors: dict, *, message: str | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    user = current_user()
    enterprise_id = card.enterprise_id if card else (user.enterprise_id or _int_or_none(request.values.get("enterprise_id")))
    enterprises = [] if user.role == Role.enterprise_admin else cards.enterprise_choices(session)
    options = cards.link_options(session, enterprise_id) if isinstance(enterprise_id, int) else cards.link_options(session, -1)
    return render_template(
        "pages/card_form.html",
        card=card,
        values=values,
        errors=errors,
        message=message,
        options=options,
        enterprises=enterprises,
        enterprise_id=enterprise_id,
        unplaced=[k for k in errors if k not in PLACED and not k.startswith(("reporting-", "ppe-"))],
        reporting_rows=len(values.get("reporting") or []) + REPORTING_ROWS,
        ppe_rows=len(values.get("ppe") or []) + PPE_ROWS,
    ), status


@bp.get("/cards")
@page_roles(*EDITORS)
def list_cards() -> str:
    session = get_session()
    q = request.args.get("q", "").strip()[:100] or None
    rows, total = cards.list_cards(session, current_user(), q=q, limit=500)
    items = [(c, cards.print_status(session, c)) for c in rows]
    return render_template("pages/cards.html", items=items, total=total, q=q or "")


@bp.get("/cards/new")
@page_roles(*EDITORS)
def new_card() -> tuple[str, int]:
    return _form_page(None, _form_values(None), {})


@bp.post("/cards/new")
@page_roles(*EDITORS)
def create_card() -> Response | tuple[str, int]:
    session = get_session()
    data, rows = _submitted(request.form, creating=True)
    if current_user().role == Role.enterprise_admin:
        data["enterprise_id"] = current_user().enterprise_id
    try:
        card = cards.create_card(session, data, actor=current_user(), now=utcnow())
    except RescueError as exc:
        session.rollback()
        return _form_page(None, _values_from(data), _placed(exc.fields, rows), message=exc.message, status=exc.status)
    session.commit()
    flash(f"已编制处置卡 {card.number} (第1版)", "success")
    return redirect(url_for("portal.show_card", card_id=card.id))


@bp.get("/cards/<int:card_id>")
@page_roles(*EDITORS)
def show_card(card_id: int) -> str:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    raw = request.args.get("version", "")
    version = cards.version_of(card, int(raw)) if raw.isdigit() else None
    resolved = cards.resolve(session, card, version)
    return render_template(
        "pages/card_show.html",
        card=card,
        resolved=resolved,
        status=cards.print_status(session, card),
        versions=cards.serialize_versions(session, card),
        live_url=cards.live_url(current_app.config["PUBLIC_URL"], current_app.config["SECRET_KEY"], card.id),
    )


@bp.get("/cards/<int:card_id>/edit")
@page_roles(*EDITORS)
def edit_card(card_id: int) -> tuple[str, int]:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    return _form_page(card, _form_values(cards.resolve(session, card)), {})


@bp.post("/cards/<int:card_id>/edit")
@page_roles(*EDITORS)
def update_card(card_id: int) -> Response | tuple[str, int]:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    before = card.current_version
    data, rows = _submitted(request.form, creating=False)
    try:
        cards.update_card(session, card, data, actor=current_user(), now=utcnow())
    except RescueError as exc:
        session.rollback()
        return _form_page(card, _values_from(data), _placed(exc.fields, rows), message=exc.message, status=exc.status)
    session.commit()
    if card.current_version == before:
        flash("内容没有变化, 未生成新版本", "success")
    else:
        flash(f"已保存为第{card.current_version}版 (旧版本与打印记录保留)", "success")
    return redirect(url_for("portal.show_card", card_id=card.id))
