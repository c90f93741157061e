"""Service compensation (社会化服务补偿): the command center's rate table and a statement per owner per incident,
as data, xlsx (openpyxl) and a printable PDF (reportlab, Chinese in the built-in CID font STSong-Light)."""

from __future__ import annotations

import io
from datetime import datetime
from xml.sax.saxutils import escape

from sqlalchemy import select
from sqlalchemy.orm import Session

from rescue.clock import local
from rescue.errors import NotFoundError, ValidationError
from rescue.models import Deployment, Enterprise, Incident, RateTable, Role, SupplyLot, User
from rescue.readiness import schemas
from rescue.readiness.kinds import DEPLOYMENTS
from rescue.registry import access, audit
from rescue.validation import parse

FONT = "STSong-Light"
KIND_NAMES = {"team": "救援队伍", "equipment": "装备", "expert": "专家", "supply": "物资"}


def current_rates(session: Session) -> RateTable | None:
    return session.scalars(select(RateTable).order_by(RateTable.id.desc()).limit(1)).first()


def rates_json(rates: RateTable | None) -> dict:
    if rates is None:
        return {"person_hour": None, "equipment_hour": {}, "consumables_at_cost": True, "note": "", "set_by": "", "set_at": None}
    return {
        "person_hour": rates.person_hour,
        "equipment_hour": rates.equipment_hour,
        "consumables_at_cost": rates.consumables_at_cost,
        "note": rates.note,
        "set_by": rates.set_by,
        "set_at": rates.created_dt.isoformat(),
    }


def set_rates(session: Session, actor: User, data: dict, *, now: datetime) -> RateTable:
    """A new rate table (the old ones stay as history); the command center alone sets it."""
    access.require_role(actor, Role.command_center)
    obj = parse(schemas.RatesIn, data)
    row = RateTable(
        person_hour=obj.person_hour,
        equipment_hour=obj.equipment_hour,
        consumables_at_cost=obj.consumables_at_cost,
        note=obj.note,
        set_by=actor.username,
        created_dt=now,
    )
    session.add(row)
    session.flush()
    audit.record(session, actor, "update", "rates", row.id, None, {"person_hour": (None, obj.person_hour)}, now=now)
    return row


def priced(d: Deployment, rates: RateTable) -> tuple[float, float, float, float, float, float]:
    """(hours, person amount, equipment rate, equipment amount, consumables amount, total) of one deployment."""
    hours = round(d.hours, 2)
    person = round(d.people * hours * rates.person_hour, 2)
    rate = rates.equipment_hour.get(d.equipment_type, rates.equipment_hour.get("*", 0.0))
    equipment = round(d.equipment_count * hours * rate, 2)
    consumables = 0.0
    if rates.consumables_at_cost:
        consumables = round(sum(c["quantity"] * c.get("unit_cost", 0) for c in d.consumables or []), 2)
    return hours, person, rate, equipment, consumables, round(person + equipment + consumables, 2)


def statement(session: Session, actor: User, incident_id: int, enterprise_id: int) -> dict:
    """What `enterprise_id` is owed for `incident_id` under the current rates, line by line (unconfirmed lines
    shown but not counted)."""
    if actor.role == Role.enterprise_admin and actor.enterprise_id != enterprise_id:
        raise NotFoundError("补偿结算单不存在")
    incident = session.get(Incident, incident_id)
    enterprise = session.get(Enterprise, enterprise_id)
    if incident is None or enterprise is None:
        raise NotFoundError("事件或企业不存在")
    rates = current_rates(session)
    if rates is None:
        raise ValidationError({"rates": "指挥中心尚未设置补偿费率"}, "尚未设置补偿费率")
    deps = session.scalars(
        access.scope(select(Deployment), actor, DEPLOYMENTS)
        .where(Deployment.incident_id == incident_id, Deployment.enterprise_id == enterprise_id)
        .order_by(Deployment.id)
    ).all()
    lines, total = [], 0.0
    for d in deps:
        hours, person, rate, equipment, consumables, amount = priced(d, rates)
        counted = d.state.value != "draft"
        if counted:
            total += amount
        lots = {c["lot_id"]: session.get(SupplyLot, c["lot_id"]) for c in d.consumables or []}
        lines.append(
            {
                "deployment_id": d.id,
                "resource": d.resource_name,
                "kind": d.resource_kind.value,
                "kind_name": KIND_NAMES.get(d.resource_kind.value, d.resource_kind.value),
                "state": d.state.value,
                "dispatched_at": local(d.dispatched_dt),
                "released_at": local(d.released_dt),
                "hours": hours,
                "people": d.people,
                "person_hours": round(d.people * hours, 2),
                "person_amount": person,
                "equipment_count": d.equipment_count,
                "equipment_type": d.equipment_type,
                "equipment_rate": rate,
                "equipment_amount": equipment,
                "consumables": [
                    {
                        "name": lots[c["lot_id"]].name if lots.get(c["lot_id"]) else f"批次{c['lot_id']}",
                        "quantity": c["quantity"],
                        "unit_cost": c.get("unit_cost", 0),
                    }
                    for c in d.consumables or []
                ],
                "consumables_amount": consumables,
                "amount": amount,
                "counted": counted,
            }
        )
    return {
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "place": incident.place,
            "type": incident.type.name if incident.type else incident.type_code,
        },
        "enterprise": {"id": enterprise.id, "name": enterprise.name},
        "rates": rates_json(rates),
        "lines": lines,
        "total": round(total, 2),
        "unconfirmed": sum(not ln["counted"] for ln in lines),
    }


def _rows(st: dict) -> list[list]:
    rows = []
    for ln in st["lines"]:
        goods = "、".join(f"{c['name']}×{c['quantity']:g}" for c in ln["consumables"])
        rows.append(
            [
                ln["resource"],
                ln["kind_name"],
                ln["hours"],
                ln["people"],
                ln["person_amount"],
                ln["equipment_count"],
                ln["equipment_amount"],
                goods,
                ln["consumables_amount"],
                ln["amount"],
                "已确认" if ln["counted"] else "待确认 (不计入)",
            ]
        )
    return rows


HEADER = [
    "资源",
    "类别",
    "时长 (小时)",
    "人数",
    "人员补偿 (元)",
    "装备台数",
    "装备补偿 (元)",
    "消耗物资",
    "物资费用 (元)",
    "小计 (元)",
    "状态",
]


def as_xlsx(st: dict) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "补偿结算单"
    ws.append([f"救援队伍社会化服务补偿结算单 — {st['enterprise']['name']}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append([f"事件 {st['incident']['number']} {st['incident']['type']} @ {st['incident']['place']}"])
    ws.append(
        [
            f"费率: 人员 {st['rates']['person_hour']} 元/人·小时; 装备按类型; 物资{'按成本' if st['rates']['consumables_at_cost'] else '不计'}"
        ]
    )
    ws.append([])
    ws.append(HEADER)
    for cell in ws[5]:
        cell.font = Font(bold=True)
    for row in _rows(st):
        ws.append(row)
    ws.append([])
    ws.append(["合计 (已确认)", "", "", "", "", "", "", "", "", st["total"], ""])
    for col, width in zip("ABCDEFGHIJK", (24, 8, 10, 6, 12, 8, 12, 24, 12, 12, 14), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def as_pdf(st: dict) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    base = ParagraphStyle("base", fontName=FONT, fontSize=9, leading=12, wordWrap="CJK")
    title = ParagraphStyle("title", parent=base, fontSize=15, leading=20)
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="补偿结算单",
    )
    inc = st["incident"]
    story = [
        Paragraph(escape(f"救援队伍社会化服务补偿结算单 — {st['enterprise']['name']}"), title),
        Paragraph(escape(f"事件 {inc['number']}  {inc['type']}  {inc['place']}"), base),
        Paragraph(
            escape(
                f"费率: 人员 {st['rates']['person_hour']} 元/人·小时; 装备按类型 {st['rates']['equipment_hour']}; "
                f"物资{'按成本计' if st['rates']['consumables_at_cost'] else '不计'}"
            ),
            base,
        ),
        Spacer(1, 4 * mm),
    ]
    data = [[Paragraph(escape(h), base) for h in HEADER]]
    data += [[Paragraph(escape(str(v)), base) for v in row] for row in _rows(st)]
    data.append([Paragraph("合计 (已确认)", base), *[""] * 8, Paragraph(escape(f"{st['total']:.2f}"), base), ""])
    table = Table(
        data,
        repeatRows=1,
        colWidths=[45 * mm, 14 * mm, 16 * mm, 11 * mm, 22 * mm, 14 * mm, 22 * mm, 48 * mm, 20 * mm, 22 * mm, 22 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eeeeee")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [table, Spacer(1, 8 * mm), Paragraph("企业确认 (盖章):　　　　　　　　指挥中心审核:　　　　　　　　日期:", base)]
    doc.build(story)
    return buf.getvalue()
