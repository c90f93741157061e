"""The printable response card: one A6 (or A5) page made with reportlab, Chinese in the built-in CID font
STSong-Light (no font file needed), with a QR code that opens the live card."""

from __future__ import annotations

import io
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A5, A6
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import BaseDocTemplate, Frame, KeepInFrame, PageTemplate, Paragraph, Spacer, Table, TableStyle

FONT = "STSong-Light"
PAGE_SIZES = {"A6": A6, "A5": A5}
MARGIN = 5 * mm
QR_SIZE = 24 * mm


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _styles(scale: float) -> dict[str, ParagraphStyle]:
    font = _font()
    base = ParagraphStyle("base", fontName=font, fontSize=7 * scale, leading=9 * scale, wordWrap="CJK")
    return {
        "title": ParagraphStyle("title", parent=base, fontSize=11 * scale, leading=13 * scale),
        "meta": ParagraphStyle(
            "meta", parent=base, fontSize=6 * scale, leading=7.5 * scale, textColor=colors.HexColor("#444444")
        ),
        "head": ParagraphStyle(
            "head",
            parent=base,
            fontSize=7.5 * scale,
            leading=9.5 * scale,
            textColor=colors.white,
            backColor=colors.HexColor("#B22222"),
            borderPadding=(1, 2, 1, 2),
            spaceBefore=2.5 * scale,
            spaceAfter=1.5 * scale,
        ),
        "body": base,
    }


def qr_drawing(url: str, size: float = QR_SIZE) -> Drawing:
    """The QR code of `url` as a vector drawing `size` points wide (error correction M, quiet zone kept)."""
    widget = QrCodeWidget(url, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def _p(text: str, style) -> Paragraph:
    return Paragraph(escape(text), style)


def _story(card: dict, url: str, styles: dict, width: float, *, printed_note: str = "") -> list:
    s = styles
    title = _p(f"应急处置卡　{card['post']}", s["title"])
    meta_lines = [f"{card['enterprise']}", f"卡号 {card['number']}  第{card['version']}版  复核日期 {card['review_date']}"]
    if card.get("area"):
        meta_lines.insert(1, f"区域: {card['area']}")
    if printed_note:
        meta_lines.append(printed_note)
    meta = [_p(line, s["meta"]) for line in meta_lines]
    header = Table([[[title, *meta], qr_drawing(url)]], colWidths=[width - QR_SIZE - 2 * mm, QR_SIZE + 2 * mm])
    header.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    story: list = [header]
    risks = [t["name"] for t in card.get("incident_types", [])] + list(card.get("risks", []))
    if risks:
        story += [_p("主要风险", s["head"]), _p("、".join(risks), s["body"])]
    if card.get("when_to_act"):
        story += [_p("启动条件", s["head"]), _p(card["when_to_act"], s["body"])]
    story.append(_p("应急处置步骤", s["head"]))
    story += [_p(f"{i}. {step}", s["body"]) for i, step in enumerate(card["steps"], start=1)]
    story.append(_p("报告程序与电话", s["head"]))
    chain = "  →  ".join(f"{r['label']}{(' ' + r['name']) if r['name'] else ''} {r['phone']}" for r in card["reporting"])
    story.append(_p(chain, s["body"]))
    if card.get("ppe"):
        story.append(_p("防护用品与应急物资", s["head"]))
        for item in card["ppe"]:
            where = "; ".join(x for x in (item.get("location"), item.get("linked")) if x)
            story.append(_p(f"- {item['item']}: {where}" if where else f"- {item['item']}", s["body"]))
    if card.get("prohibitions"):
        story.append(_p("禁止事项", s["head"]))
        story += [_p(f"× {text}", s["body"]) for text in card["prohibitions"]]
    if card.get("evacuation_route") or card.get("assembly_point"):
        story.append(_p("疏散路线与集合点", s["head"]))
        story.append(
            _p(
                "；".join(
                    x
                    for x in (
                        card.get("evacuation_route"),
                        f"集合点: {card['assembly_point']}" if card.get("assembly_point") else "",
                    )
                    if x
                ),
                s["body"],
            )
        )
    story += [Spacer(1, 1.5 * mm), _p("扫码查看最新版本 (电话、物资位置实时更新)", s["meta"])]
    return story


def render(card: dict, url: str, *, page_size: str = "A6", printed_note: str = "") -> bytes:
    """One page, always: the content is shrunk to fit the page if it is long (`card` as cards.resolve gives it)."""
    size = PAGE_SIZES[page_size]
    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=size,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"应急处置卡 {card['number']} v{card['version']}",
        author=card.get("enterprise", ""),
        subject=url,
    )
    frame = Frame(
        MARGIN,
        MARGIN,
        size[0] - 2 * MARGIN,
        size[1] - 2 * MARGIN,
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
        id="card",
    )
    doc.addPageTemplates([PageTemplate(id="card", frames=[frame])])
    scale = 1.0 if page_size == "A6" else 1.3
    styles = _styles(scale)
    story = _story(card, url, styles, frame._width, printed_note=printed_note)
    doc.build([KeepInFrame(frame._width, frame._height, story, mode="shrink")])
    return buffer.getvalue()
