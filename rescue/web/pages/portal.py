"""Enterprise portal: an enterprise's own records — list, search, forms, spreadsheets, confirmation."""

from dataclasses import dataclass, fields
from datetime import date, datetime

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from rescue.dispatch import coverage
from rescue.errors import RescueError, ValidationError
from rescue.models import Role, User
from rescue.registry import registry, spreadsheets
from rescue.registry.kinds import KINDS, Kind
from rescue.registry.spreadsheets import Column
from rescue.web import formatting
from rescue.web.auth import current_user
from rescue.web.extensions import get_roads, get_session
from rescue.web.pages.common import page_roles

bp = Blueprint("portal", __name__, url_prefix="/portal")

# the kinds an enterprise keeps, in the order the portal shows them
PORTAL_KINDS = ("teams", "experts", "equipment", "supplies", "depots", "contacts")
KIND_PATH = "<any(" + ", ".join(f'"{k}"' for k in PORTAL_KINDS) + "):kind_name>"
# an enterprise's own record (name, address, location) is edited with the same form, reached from its records
EDIT_PATH = "<any(" + ", ".join(f'"{k}"' for k in (*PORTAL_KINDS, "enterprises")) + "):kind_name>"
LIST_FIELDS = {
    "teams": ("name", "team_type", "level", "capabilities", "headcount", "turnout_min", "status"),
    "experts": ("name", "title", "employer", "fields", "phone", "availability"),
    "equipment": ("name", "equipment_type", "model", "quantity", "status", "next_inspection"),
    "supplies": ("code", "name", "spec", "quantity", "unit", "expiry_date"),
    "depots": ("name", "level", "city", "county", "address", "contact_name"),
    "contacts": ("name", "phone", "role", "organisation", "team_id"),
}
PAGE_SIZE = 50
EDITORS = (Role.enterprise_admin, Role.command_center)


def _kind(kind_name: str) -> Kind:
    return registry.get_kind(kind_name)


@dataclass(frozen=True)
class _LimitedColumn(Column):
    """A column offering only some of its enum's values (the rest are the command center's to set)."""

    withheld: frozenset = frozenset()

    def choices(self) -> dict[str, str]:
        return {v: name for v, name in super().choices().items() if v not in self.withheld}


def _columns(kind: Kind, user: User, record: object | None = None) -> list[Column]:
    """The form's fields: the import template's columns (same schema, same labels); enterprise admins are not
    offered the owner nor what only the command center sets (a record keeps the value it has)."""
    cols = spreadsheets.columns(kind)
    if user.role == Role.enterprise_admin:
        reserved = kind.command_center_fields
        cols = [c for c in cols if c.field != "enterprise_id" and (c.field not in reserved or reserved[c.field] is not None)]
        current = {c.field: getattr(getattr(record, c.field, None), "value", None) for c in cols}
        cols = [
            _LimitedColumn(
                **{f.name: getattr(c, f.name) for f in fields(Column)},
                withheld=frozenset(v.value for v in reserved[c.field]) - {current[c.field]},
            )
            if c.field in reserved
            else c
            for c in cols
        ]
    # people think name first and coordinates after the address
    after = max((i for i, c in enumerate(cols) if c.field in ("city", "county", "place", "address")), default=len(cols) - 1)
    order = {c.field: i for i, c in enumerate(cols)}
    order |= {"name": -1, "lat": after + 0.1, "lon": after + 0.2}
    return sorted(cols, key=lambda c: order[c.field])


def _reference_options(session: Session, user: User) -> dict:
    """Choices for fields that point at other records or codes."""

    def listing(name: str) -> list[tuple[int, str]]:
        rows, _ = registry.list_records(session, KINDS[name], user, registry.Query(filters={}, limit=registry.MAX_LIMIT))
        return [(r.id, r.name) for r in rows]

    capabilities = list(registry.capability_names(session).items())
    return {
        "enterprise_id": listing("enterprises"),  # the command center names the owner (an enterprise never sees this field)
        "team_id": listing("teams"),
        "depot_id": listing("depots"),
        "capabilities": capabilities,
        "fields": capabilities,
    }


def _display(col: Column | None, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if isinstance(value, bool):
        return "是" if value else "否"
    if col is not None and col.enum_cls is not None:
        return col.choices().get(getattr(value, "value", value), str(value))
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _form_value(col: Column, value: object) -> str | list:
    """A record's value as the form shows it."""
    if col.type == "codes":
        return list(value or [])
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if col.enum_cls is not None:
        return getattr(value, "value", value)
    return _display(None, value)


def _submitted(cols: list[Column], form: MultiDict, *, creating: bool) -> tuple[dict, dict]:
    """The form as the same data the API takes, read with the spreadsheet converters (same wording);
    blank fields are left out of a new record and cleared on an edit."""
    data, errors = {}, {}
    for col in cols:
        raw = ";".join(form.getlist(col.field)) if col.type == "codes" else form.get(col.field, "").strip()
        if raw == "":
            if col.type == "codes":
                data[col.field] = []
            elif not creating:
                data[col.field] = "" if col.type == "text" else None
            continue
        value, reason = spreadsheets.convert(col, raw)
        if reason:
            errors[col.field] = reason
        else:
            data[col.field] = value
    return data, errors


@bp.get("/")
@page_roles(*EDITORS)
def show_portal() -> str:
    session = get_session()
    user = current_user()
    counts = {}
    for name in PORTAL_KINDS:
        _, counts[name] = registry.list_records(session, KINDS[name], user, registry.Query(filters={}, limit=1))
    stale = registry.stale_records(session, user, days=current_app.config["FRESHNESS_DAYS"])
    enterprise = registry.get_enterprise(session, user.enterprise_id)
    far = coverage.far_from_roads(session, get_roads(), enterprise_id=user.enterprise_id)
    return render_template(
        "pages/portal.html",
        far_total=len(far),
        kinds=[KINDS[n] for n in PORTAL_KINDS],
        counts=counts,
        stale=stale,
        enterprise=enterprise,
        days=current_app.config["FRESHNESS_DAYS"],
    )


@bp.post("/confirm")
@page_roles(Role.enterprise_admin)
def confirm_data() -> Response:
    session = get_session()
    user = current_user()
    count = registry.confirm_enterprise(session, user, user.enterprise_id)
    session.commit()
    flash(f"已确认本企业 {count} 条数据为最新", "success")
    return redirect(url_for("portal.show_portal"))


def _list_page(
    kind: Kind, *, import_errors: list | None = None, import_message: str | None = None, status: int = 200
) -> tuple[str, int]:
    session = get_session()
    user = current_user()
    q = request.args.get("q", "").strip()[:100] or None
    try:
        page_no = max(int(request.args.get("page", 1)), 1)
    except ValueError:
        page_no = 1
    query = registry.Query(
        filters={}, q=q, sort="name" if "name" in kind.sortable else None, limit=PAGE_SIZE, offset=(page_no - 1) * PAGE_SIZE
    )
    rows, total = registry.list_records(session, kind, user, query)
    cols = {c.field: c for c in spreadsheets.columns(kind)}
    fields = LIST_FIELDS[kind.name]
    names = registry.capability_names(session)

    def cell(field: str, record: object) -> str:
        value = getattr(record, field, None)
        if field in kind.code_fields:
            value = [names.get(code, code) for code in value]
        if field in ("phone", "duty_phone", "contact_phone"):
            return formatting.phone(value)
        if field == "team_type":
            return formatting.TEAM_TYPE_NAMES.get(value, value or "")
        return _display(cols.get(field), value)

    table = [(r, [cell(f, r) for f in fields]) for r in rows]
    headers = [formatting.list_header(spreadsheets.LABELS.get(f, f)) for f in fields]
    return render_template(
        "pages/portal_list.html",
        kind=kind,
        kinds=[KINDS[n] for n in PORTAL_KINDS],
        headers=headers,
        table=table,
        total=total,
        q=q or "",
        page_no=page_no,
        pages=max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1),
        import_errors=import_errors,
        import_message=import_message,
    ), status


@bp.get(f"/{KIND_PATH}")
@page_roles(*EDITORS)
def list_records(kind_name: str) -> tuple[str, int]:
    return _list_page(_kind(kind_name))


@bp.post(f"/{KIND_PATH}/import")
@page_roles(*EDITORS)
def import_records(kind_name: str) -> Response | tuple[str, int]:
    kind = _kind(kind_name)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _list_page(kind, import_message="请选择要上传的 .xlsx 或 CSV 文件", status=422)
    dry_run = request.form.get("dry_run") == "1"
    session = get_session()
    try:
        result = spreadsheets.import_file(
            session,
            kind,
            current_user(),
            upload.read(),
            filename=upload.filename,
            area=current_app.config["SERVICE_AREA"],
            dry_run=dry_run,
            max_rows=current_app.config.get("IMPORT_MAX_ROWS", spreadsheets.MAX_ROWS),
        )
    except spreadsheets.RowErrors as exc:
        session.rollback()
        return _list_page(kind, import_errors=exc.rows, import_message=exc.message, status=422)
    except ValidationError as exc:
        session.rollback()
        return _list_page(kind, import_message=exc.fields.get("file") or exc.message, status=422)
    if dry_run:
        session.rollback()
        flash(f"检查通过: 可新增 {result.created} 条, 更新 {result.updated} 条 (未导入)", "success")
    else:
        session.commit()
        flash(f"导入成功: 新增 {result.created} 条, 更新 {result.updated} 条", "success")
    return redirect(url_for("portal.list_records", kind_name=kind.name))


def _form_page(
    kind: Kind, record: object | None, values: dict, errors: dict, message: str | None = None, status: int = 200
) -> tuple[str, int]:
    user = current_user()
    return render_template(
        "pages/portal_form.html",
        kind=kind,
        record=record,
        cols=_columns(kind, user, record),
        values=values,
        errors=errors,
        labels={c.field: formatting.list_header(c.label) for c in spreadsheets.columns(kind)},
        message=message,
        options=_reference_options(get_session(), user),
        back=url_for("portal.list_records", kind_name=kind.name) if kind.name in PORTAL_KINDS else url_for("portal.show_portal"),
    ), status


@bp.get(f"/{KIND_PATH}/new")
@page_roles(*EDITORS)
def new_record(kind_name: str) -> tuple[str, int]:
    return _form_page(_kind(kind_name), None, {}, {})


@bp.post(f"/{KIND_PATH}/new")
@page_roles(*EDITORS)
def create_record(kind_name: str) -> Response | tuple[str, int]:
    kind = _kind(kind_name)
    return _save(kind, None)


@bp.get(f"/{EDIT_PATH}/<int:record_id>/edit")
@page_roles(*EDITORS)
def edit_record(kind_name: str, record_id: int) -> tuple[str, int]:
    kind = _kind(kind_name)
    record = registry.get_record(get_session(), kind, current_user(), record_id)
    values = {c.field: _form_value(c, getattr(record, c.field, None)) for c in _columns(kind, current_user(), record)}
    return _form_page(kind, record, values, {})


@bp.post(f"/{EDIT_PATH}/<int:record_id>/edit")
@page_roles(*EDITORS)
def update_record(kind_name: str, record_id: int) -> Response | tuple[str, int]:
    kind = _kind(kind_name)
    record = registry.get_record(get_session(), kind, current_user(), record_id)
    return _save(kind, record)


def _save(kind: Kind, record: object | None) -> Response | tuple[str, int]:
    """Validate with the API's own schemas and checks; show every bad field next to its input."""
    session = get_session()
    user = current_user()
    cols = _columns(kind, user, record)
    values = {c.field: (request.form.getlist(c.field) if c.type == "codes" else request.form.get(c.field, "")) for c in cols}
    data, errors = _submitted(cols, request.form, creating=record is None)
    area = current_app.config["SERVICE_AREA"]
    try:
        # the fields that could be read go through the API's checks even when others could not, so that every
        # bad field is reported at once (a field that could not be read keeps its own reason)
        if record is None:
            saved = registry.create_record(session, kind, user, data, area=area)
        else:
            saved = registry.update_record(session, kind, user, record.id, data, area=area)
        if errors:
            raise ValidationError(errors)
    except RescueError as exc:
        session.rollback()
        fields = {k.split(".")[0]: v for k, v in exc.fields.items()} | errors
        status = 422 if errors or isinstance(exc, ValidationError) else exc.status
        return _form_page(kind, record, values, fields, exc.message, status)
    session.commit()
    flash(f"已保存{kind.label}: {saved.name}", "success")
    if kind.name not in PORTAL_KINDS:  # the enterprise itself: its page is the portal's front page
        return redirect(url_for("portal.show_portal"))
    return redirect(url_for("portal.list_records", kind_name=kind.name))


@bp.post(f"/{KIND_PATH}/<int:record_id>/delete")
@page_roles(*EDITORS)
def delete_record(kind_name: str, record_id: int) -> Response:
    kind = _kind(kind_name)
    session = get_session()
    try:
        registry.delete_record(session, kind, current_user(), record_id)
    except RescueError as exc:
        if exc.status == 404:
            abort(404)
        session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("portal.edit_record", kind_name=kind.name, record_id=record_id))
    session.commit()
    flash(f"已删除{kind.label}", "success")
    return redirect(url_for("portal.list_records", kind_name=kind.name))
