"""Response card views: CRUD with versions, the printable one-page PDF (printing records a print), the live card
the QR code opens, and an HTML print view."""

from flask import Response, current_app, render_template, request

from rescue.cards import cards, pdf
from rescue.cards.schemas import CardIn, CardOut, CardPatch, CardVersionOut
from rescue.clock import CHINA
from rescue.db import utcnow
from rescue.errors import NotFoundError, ValidationError
from rescue.models import ResponseCard, ResponseCardVersion, Role
from rescue.web.api import bp, json_body, page
from rescue.web.api.openapi import documented
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_session

_WRITERS = (Role.command_center, Role.enterprise_admin)
_PDF = {
    "version": {"type": "integer", "description": "默认为当前版本"},
    "size": {"type": "string", "enum": ["A6", "A5"], "description": "默认 A6"},
    "preview": {"type": "boolean", "description": "true: 只预览, 不记为已打印"},
}


def _live_url(card_id: int) -> str:
    return cards.live_url(current_app.config["PUBLIC_URL"], current_app.config["SECRET_KEY"], card_id)


def _out(card: ResponseCard, version: ResponseCardVersion | None = None) -> dict:
    return cards.serialize(get_session(), card, version=version, live_url=_live_url(card.id))


def _version_arg(card: ResponseCard) -> ResponseCardVersion | None:
    raw = request.args.get("version")
    if raw is None:
        return None
    if not raw.isdigit():
        raise ValidationError({"version": "应为整数"})
    return cards.version_of(card, int(raw))


@bp.get("/cards")
@roles_required()
@documented(
    "处置卡列表",
    response=CardOut,
    listing=True,
    query={
        "enterprise_id": {"type": "integer"},
        "q": {"type": "string"},
        "changed": {"type": "boolean", "description": "true: 打印后联系人/装备有变更的"},
        "limit": {"type": "integer"},
        "offset": {"type": "integer"},
    },
)
def list_cards() -> dict:
    errors: dict[str, str] = {}
    args = request.args
    for name in set(args) - {"enterprise_id", "q", "changed", "limit", "offset"}:
        errors[name] = "未知的查询参数"
    values: dict[str, int | None] = {}
    for name, default in (("enterprise_id", None), ("limit", 50), ("offset", 0)):
        raw = args.get(name)
        if raw is None:
            values[name] = default
        elif not raw.isdigit():
            errors[name] = "应为整数"
        else:
            values[name] = int(raw)
    if args.get("changed") not in (None, "true", "false"):
        errors["changed"] = "应为 true 或 false"
    if errors:
        raise ValidationError(errors)
    limit = min(max(values["limit"], 1), 500)
    session = get_session()
    changed = None if args.get("changed") is None else args["changed"] == "true"
    rows, total = cards.list_cards(
        session,
        current_user(),
        enterprise_id=values["enterprise_id"],
        q=args.get("q"),
        changed=changed,
        limit=limit,
        offset=values["offset"],
    )
    return page([_out(c) for c in rows], total, limit, values["offset"])


@bp.post("/cards")
@roles_required(*_WRITERS)
@documented("编制处置卡 (第1版)", body=CardIn, response=CardOut, status=201)
def create_card() -> tuple[dict, int]:
    session = get_session()
    card = cards.create_card(session, json_body(), actor=current_user(), now=utcnow())
    session.commit()
    return _out(card), 201


@bp.get("/cards/<int:card_id>")
@roles_required()
@documented(
    "处置卡 (联系人电话、装备与储备库实时读取); ?version=n 查看旧版本", response=CardOut, query={"version": {"type": "integer"}}
)
def get_card(card_id: int) -> dict:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    return _out(card, _version_arg(card))


@bp.patch("/cards/<int:card_id>")
@roles_required(*_WRITERS)
@documented("修改处置卡 (生成新版本; 已打印的版本仍可查看)", body=CardPatch, response=CardOut)
def update_card(card_id: int) -> dict:
    session = get_session()
    card = cards.update_card(
        session, cards.get_card(session, card_id, current_user()), json_body(), actor=current_user(), now=utcnow()
    )
    session.commit()
    return _out(card)


@bp.delete("/cards/<int:card_id>")
@roles_required(*_WRITERS)
@documented("停用处置卡 (版本与打印记录保留)", response=CardOut)
def delete_card(card_id: int) -> dict:
    session = get_session()
    card = cards.update_card(
        session, cards.get_card(session, card_id, current_user()), {"active": False}, actor=current_user(), now=utcnow()
    )
    session.commit()
    return _out(card)


@bp.get("/cards/<int:card_id>/versions")
@roles_required()
@documented("处置卡的全部版本与打印记录", response=CardVersionOut, listing=True)
def list_card_versions(card_id: int) -> dict:
    session = get_session()
    items = cards.serialize_versions(session, cards.get_card(session, card_id, current_user()))
    return page(items, len(items), len(items), 0)


@bp.get("/cards/<int:card_id>/versions/<int:version>")
@roles_required()
@documented("处置卡的某一版本", response=CardOut)
def get_card_version(card_id: int, version: int) -> dict:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    return _out(card, cards.version_of(card, version))


@bp.get("/cards/<int:card_id>.pdf")
@roles_required()
@documented("可打印的处置卡 (单页 A6/A5 PDF, 含打开实时版本的二维码); 打印即记录", query=_PDF)
def get_card_pdf(card_id: int) -> Response:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    version = _version_arg(card) or cards.current(card)
    size = request.args.get("size", "A6").upper()
    if size not in pdf.PAGE_SIZES:
        raise ValidationError({"size": "应为 A6 或 A5"})
    resolved = cards.resolve(session, card, version)
    data = pdf.render(resolved, _live_url(card.id), page_size=size)
    if request.args.get("preview") != "true":
        cards.record_print(session, card, version, resolved, actor=current_user(), now=utcnow(), page_size=size)
        session.commit()
    name = f"card-{card.number}-v{version.version}.pdf"
    return Response(data, mimetype="application/pdf", headers={"Content-Disposition": f"inline; filename={name}"})


@bp.get("/cards/<int:card_id>/prints/<int:print_id>.pdf")
@roles_required()
@documented("按当时打印的内容重新生成某次打印的 PDF (联系人电话等为打印时的)")
def get_card_print_pdf(card_id: int, print_id: int) -> Response:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    printed = cards.get_print(session, card, print_id)
    note = f"打印于 {printed.printed_dt.astimezone(CHINA):%Y-%m-%d %H:%M}"
    data = pdf.render(printed.snapshot, _live_url(card.id), page_size=printed.page_size, printed_note=note)
    return Response(data, mimetype="application/pdf")


@bp.get("/cards/<int:card_id>/print")
@roles_required()
@documented("处置卡的 HTML 打印视图 (A6)")
def show_card_print(card_id: int) -> str:
    session = get_session()
    card = cards.get_card(session, card_id, current_user())
    return render_template(
        "cards/card.html",
        card=cards.resolve(session, card, _version_arg(card)),
        live_url=_live_url(card.id),
        status=cards.print_status(session, card),
        printable=True,
    )


@bp.get("/cards/<int:card_id>/live")
@documented("二维码打开的实时处置卡 (凭卡上链接的 k 参数访问, 无需登录)", query={"k": {"type": "string"}})
def show_live_card(card_id: int) -> str:
    session = get_session()
    card = cards.get_card(session, card_id)
    if not card.active or not cards.check_link_key(current_app.config["SECRET_KEY"], card_id, request.args.get("k")):
        raise NotFoundError("处置卡不存在")
    return render_template(
        "cards/card.html", card=cards.resolve(session, card), live_url=_live_url(card.id), status=None, printable=False
    )
