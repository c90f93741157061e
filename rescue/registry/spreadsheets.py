"""Bulk import and export of registry records as CSV and Excel (.xlsx): Chinese column headers, and records and
capabilities named as people know them, chosen from drop-down lists (see rescue.registry.names)."""

import csv
import enum
import io
import json
import math
import re
import types
import typing
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import date, datetime

from pydantic import AwareDatetime
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from rescue.clock import CHINA
from rescue.errors import NotFoundError, RescueError, ValidationError
from rescue.models import Role, User
from rescue.models.enums import (
    INDUSTRY_NAMES,
    LEVEL_NAMES,
    TEAM_STATUS_NAMES,
    Availability,
    ContactRole,
    EquipmentStatus,
    Industry,
    Level,
    MineRescueGrade,
    TeamStatus,
)
from rescue.registry import access, audit, registry
from rescue.registry.kinds import Kind
from rescue.registry.names import ANY, SUPPLY_CODES, NameBook, UnknownName, noun, ref_of
from rescue.registry.schemas import Requirement, SupplyRequirement

MAX_ROWS = 5000
MAX_EXPORT_ROWS = 100_000
MAX_LISTED_ERRORS = 1000
MAX_SCANNED_ROWS = 100_000  # blank rows included, so a sheet of a million empty rows stops early
# an upload is at most 5 MB, but deflate packs 300 MB of repeated cells into less: bound what it expands to
MAX_XLSX_ENTRIES = 200
MAX_XLSX_UNCOMPRESSED = 40 * 1024 * 1024  # a full 5000-row sheet of every column is about 10 MB
MAX_SHARED_STRINGS = 16 * 1024 * 1024  # openpyxl keeps them all in memory, even read-only
MAX_COLUMNS = 200
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell
FORMATS = ("xlsx", "csv")
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_MIMETYPE = "text/csv; charset=utf-8"

# Chinese column headers, one per field name, shared by every kind that has the field
LABELS: dict[str, str] = {
    "id": "ID",
    "code": "代码",
    "name": "名称",
    "credit_code": "统一社会信用代码",
    "industry": "行业",
    "drill_every_6_months": "每半年演练",
    "city": "市",
    "county": "县区",
    "address": "地址",
    "lat": "纬度",
    "lon": "经度",
    "level": "级别",
    "enterprise_id": "所属企业",
    "team_id": "队伍",
    "depot_id": "储备库",
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "team_type": "队伍类型",
    "capabilities": "能力 (多个用 、 分隔)",
    "fields": "专业领域 (多个用 、 分隔)",
    "place": "驻地",
    "headcount": "人数",
    "vehicles": "车辆数",
    "mine_rescue_grade": "矿山救护资质等级",
    "turnout_min": "出动准备时间 (分钟)",
    "duty_24h": "24小时值守",
    "status": "状态",
    "backbone": "骨干队伍",
    "verified": "已核实",
    "duty_phone": "值班电话",
    "commander_name": "队长姓名",
    "commander_phone": "队长电话",
    "title": "职称",
    "employer": "工作单位",
    "phone": "电话",
    "availability": "可用状态",
    "remote_ok": "可远程支持",
    "equipment_type": "装备类型",
    "model": "型号",
    "quantity": "数量",
    "next_inspection": "下次检验日期",
    "inspection_interval_days": "检验周期 (天)",
    "spec": "规格",
    "unit": "计量单位",
    "expiry_date": "有效期至",
    "role": "角色",
    "organisation": "所属单位",
    "category": "类别",
    "requirements": "所需能力 (能力:数量[:单位], 多个用 ; 分隔)",
    "supplies": "所需物资 (物资:数量, 多个用 ; 分隔)",
    "contact_id": "联系人",
    "position": "顺序 (0 最先)",
    "starts_dt": "开始时间 (北京时间)",
    "ends_dt": "结束时间 (北京时间)",
    "note": "备注",
}

# a kind's own header where the shared one would mislead: (kind name, field) → header
KIND_LABELS: dict[tuple[str, str], str] = {}
# headers of earlier versions (ids and codes), still read so that files and systems made with them import
LEGACY_LABELS: dict[str, tuple[str, ...]] = {
    "enterprise_id": ("企业ID", "企业"),
    "team_id": ("队伍ID",),
    "depot_id": ("储备库ID",),
    "contact_id": ("联系人ID",),
    "capabilities": ("能力代码 (多个用 ; 分隔)", "能力代码"),
    "fields": ("专业领域代码 (多个用 ; 分隔)", "专业领域代码"),
    "requirements": ("所需能力 (代码:数量[:单位], 多个用 ; 分隔)",),
    "supplies": ("所需物资 (编码:数量, 多个用 ; 分隔)",),
}
# the input prompt of list-of-item cells, after "pick one, type more"
_ITEM_PROMPTS = {"requirements": " (如 名称:数量:单位)", "supplies": " (如 名称:数量)"}
# what a multi-valued cell is written with; reading also takes the other separators of _NAME_SEP
LIST_SEPARATOR = "、"
# units of an incident type's capability needs as people write them; the stored value is the code
UNIT_NAMES = {"team": "支", "person": "人", "item": "件"}
_UNIT_CODES = {name: code for code, name in UNIT_NAMES.items()} | {"队": "team", "名": "person", "台": "item", "套": "item"}

# Chinese names of enumeration values; an import accepts either the name or the value
ENUM_NAMES: dict[type[enum.Enum], dict[str, str]] = {
    Industry: INDUSTRY_NAMES,
    Level: LEVEL_NAMES,
    TeamStatus: TEAM_STATUS_NAMES,
    MineRescueGrade: {"special": "特级", "grade1": "一级", "grade2": "二级", "grade3": "三级"},
    EquipmentStatus: {"operational": "完好", "unserviceable": "待修", "deployed": "已出动"},
    Availability: {"available": "可用", "busy": "忙碌", "unavailable": "不可用"},
    ContactRole: {
        "commander": "指挥长",
        "deputy": "副指挥长",
        "duty": "值班员",
        "member": "成员",
        "manager": "负责人",
        "liaison": "联络员",
    },
}

_TYPE_NAMES = {
    "text": "文本",
    "int": "整数",
    "float": "数字",
    "bool": "是/否",
    "date": "日期 (YYYY-MM-DD)",
    "datetime": "时间 (北京时间 YYYY-MM-DD HH:MM)",
    "enum": "选项",
    "ref": "名称 (从下拉列表选择)",
    "codes": "名称列表",
    "requirements": "能力需求列表",
    "supplies": "物资需求列表",
}
_EXAMPLES = {
    "name": "示例名称",
    "credit_code": "91640000MA76XXXXXX",
    "city": "银川市",
    "county": "金凤区",
    "address": "银川市金凤区示例路1号",
    "lat": 38.4872,
    "lon": 106.2309,
    "contact_name": "张三",
    "contact_phone": "13800000000",
    "team_type": "危化品救援",
    "place": "宁东能源化工基地",
    "headcount": 30,
    "vehicles": 5,
    "turnout_min": 10,
    "duty_phone": "0951-1234567",
    "commander_name": "李四",
    "commander_phone": "13900000000",
    "title": "高级工程师",
    "employer": "示例单位",
    "phone": "13800000000",
    "equipment_type": "排水设备",
    "model": "ZX-100",
    "quantity": 1,
    "next_inspection": "2026-06-30",
    "code": "example_code",
    "spec": "10 kg/袋",
    "unit": "件",
    "expiry_date": "2027-12-31",
    "starts_dt": "2026-12-01 08:00",
    "ends_dt": "2026-12-01 20:00",
    "organisation": "示例单位",
    "category": "rescue",
}
_KIND_EXAMPLES = {
    ("supplies", "code"): "1010101",
    ("supplies", "name"): "棉帐篷",
    ("capabilities", "code"): "rope_rescue",
    ("capabilities", "name"): "绳索救援",
    ("incident-types", "code"): "chemical_leak",
}
_TRUE = {"是", "有", "√", "true", "1", "yes", "y", "t"}
_FALSE = {"否", "无", "×", "false", "0", "no", "n", "f"}
_LIST_SEP = re.compile(r"[;；,，、\s]+")
_NAME_SEP = re.compile(r"[;；,，、\n]+")  # names may hold spaces (汽车起重机 25t)
_ITEM_SEP = re.compile(r"[;；\n]+")
_PAIR_SEP = re.compile(r"\s*[:：*×]\s*")
# strings Excel would run as formulas; a leading apostrophe keeps them text (stripped again on import)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


@dataclass(frozen=True)
class Column:
    """One spreadsheet column: the field it fills and how its cells are read and written."""

    field: str
    label: str
    type: str  # a key of _TYPE_NAMES
    required: bool
    description: str = ""
    enum_cls: type[enum.Enum] | None = None
    ref: str | None = None  # the list (a KINDS name) whose records the cells name; see rescue.registry.names

    def choices(self) -> dict[str, str]:
        """Allowed values → Chinese names (the value itself when none is known)."""
        names = ENUM_NAMES.get(self.enum_cls, {})
        return {m.value: names.get(m.value, m.value) for m in self.enum_cls} if self.enum_cls else {}


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    rows: int = 0


class RowErrors(ValidationError):
    """Some rows of an import are bad and nothing was applied; `rows` lists every bad cell."""

    def __init__(self, rows: list[dict]):
        self.rows = rows[:MAX_LISTED_ERRORS]
        self.total = len(rows)
        message = f"{len({r['row'] for r in rows})} 行共 {self.total} 处错误, 未导入任何记录"
        if self.total > len(self.rows):
            message += f" (仅列出前 {len(self.rows)} 处)"
        super().__init__({}, message)

    @property
    def extra(self) -> dict:
        return {"rows": self.rows}


class SheetError(ValidationError):
    """The file as a whole cannot be imported (unreadable, too many rows, bad columns)."""

    def __init__(self, message: str):
        super().__init__({"file": message}, message)


def columns(kind: Kind) -> list[Column]:
    """The template's columns for `kind`, in schema order (the seeding-only `demo` flag left out)."""
    cols = []
    for name, info in kind.schema_in.model_fields.items():
        if name == "demo":
            continue
        type_, enum_cls = _value_type(info.annotation)
        label = KIND_LABELS.get((kind.name, name)) or LABELS.get(name, name)
        ref = ref_of(kind, name)
        if ref is not None and type_ == "int":
            type_ = "ref"
        elif type_ == "requirements":
            ref = "capabilities"
        elif type_ == "supplies":
            ref = SUPPLY_CODES
        elif type_ != "codes":
            ref = None
        cols.append(Column(name, label, type_, info.is_required(), info.description or "", enum_cls, ref))
    return cols


def _value_type(annotation) -> tuple[str, type | None]:
    if typing.get_origin(annotation) is typing.Annotated:  # pydantic unwraps only the outermost one
        return _value_type(typing.get_args(annotation)[0])
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _value_type(args[0])
    if typing.get_origin(annotation) is list:
        item = args[0] if args else str
        return {Requirement: "requirements", SupplyRequirement: "supplies", **_ITEM_TYPES}.get(item, "codes"), None
    if annotation is AwareDatetime:  # pydantic's marker class, not a datetime subclass
        return "datetime", None
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return "enum", annotation
        for py, name in ((bool, "bool"), (int, "int"), (float, "float"), (datetime, "datetime"), (date, "date")):
            if issubclass(annotation, py):
                return name, None
    return "text", None


def _export_columns(kind: Kind) -> list[Column]:
    cols = columns(kind)
    if kind.key == "id":
        cols.insert(0, Column("id", LABELS["id"], "int", False, "留空为新增; 填写则更新该记录"))
    return cols


# --- writing ---------------------------------------------------------------------------------

LISTS_SHEET = "选项"  # the hidden sheet holding the drop-down lists too long to write inline
_INLINE_LIST_MAX = 255  # Excel's limit for a list written into the validation itself


def template(session: Session, kind: Kind, fmt: str, actor: User | None = None) -> bytes:
    """An empty import file for `kind`: Chinese headers; in xlsx a second sheet explains every column and every
    column naming records or choices has a drop-down list of what `actor` may choose."""
    return _write(NameBook(session, actor), kind, columns(kind), [], fmt)


def export(session: Session, kind: Kind, actor: User, query: registry.Query, fmt: str) -> bytes:
    """The records `actor` may read that match `query`, as an import file with an `id` column; references and
    capabilities written as the names the drop-down lists offer."""
    rows, _total = registry.list_records(session, kind, actor, query)
    _preload(session, kind, rows)
    cols = _export_columns(kind)
    book = NameBook(session, actor)
    data = [registry.serialize(kind, r) for r in rows]
    return _write(book, kind, cols, [[_cell_out(c, d.get(c.field), book) for c in cols] for d in data], fmt)


def _preload(session: Session, kind: Kind, rows: list) -> None:
    """Load the code lists and custodians of all `rows` in a few queries instead of one per record."""
    relations = [getattr(kind.model, r) for r in kind.code_fields.values()]
    relations += [getattr(kind.model, r) for r in ("team", "depot") if hasattr(kind.model, r)]
    if not relations or not rows:
        return
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 1000):
        stmt = select(kind.model).where(kind.model.id.in_(ids[start : start + 1000]))
        session.scalars(stmt.options(*(selectinload(r) for r in relations))).all()


def _cell_out(col: Column, value, book: NameBook):
    """A JSON-serialized field value as a cell: Chinese enum names, 是/否, records and capabilities by name."""
    if value is None:
        return None
    if col.type == "enum":
        return col.choices().get(value, value)
    if col.type == "bool":
        return "是" if value else "否"
    if col.type == "ref":
        return book.label(col.ref, value)
    if col.type == "codes":
        return LIST_SEPARATOR.join(book.label(col.ref, v) if col.ref else v for v in value)
    if col.type == "requirements":
        return "; ".join(
            f"{book.label('capabilities', r['capability'])}:{_num(r['quantity'])}:{UNIT_NAMES.get(r['unit'], r['unit'])}"
            for r in value
        )
    if col.type == "supplies":
        return "; ".join(f"{book.label(SUPPLY_CODES, s['code'])}:{_num(s['quantity'])}" for s in value)
    if col.type in _WRITERS:
        refs = _ITEM_REFS.get(col.type, {})
        items = [{k: book.label(refs[k], v) if k in refs and v is not None else v for k, v in i.items()} for i in value]
        return _WRITERS[col.type](items)
    if col.type == "date":
        return date.fromisoformat(value)
    if col.type == "datetime":
        # Beijing wall time, as people read it (a cell without a zone; read back as Beijing time)
        return datetime.fromisoformat(value).astimezone(CHINA).replace(tzinfo=None)
    return value


def _num(value):
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _write(book: NameBook, kind: Kind, cols: list[Column], rows: list[list], fmt: str) -> bytes:
    if fmt == "csv":
        return _write_csv(cols, rows)
    return _write_xlsx(book, kind, cols, rows)


def _write_csv(cols: list[Column], rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.label for c in cols])
    for row in rows:
        writer.writerow(["" if v is None else _csv_text(v) for v in row])
    # the BOM makes Excel in China read the file as UTF-8 rather than GBK
    return out.getvalue().encode("utf-8-sig")


def _csv_text(value) -> str:
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M:%S}" if value.second else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return str(value)


def _options(col: Column, book: NameBook) -> list[str]:
    """What a column's drop-down list offers (empty: no list)."""
    if col.type == "enum":
        return list(col.choices().values())
    if col.type == "bool":
        return ["是", "否"]
    if col.ref is not None:
        return [c.label for c in book.choices(col.ref)]
    return []


def list_name(col: Column) -> str:
    """The workbook name of a column's drop-down list on the hidden sheet."""
    return "list_" + re.sub(r"\W", "_", col.ref or col.field, flags=re.ASCII)


def _write_xlsx(book: NameBook, kind: Kind, cols: list[Column], rows: list[list]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    ws = wb.active
    ws.title = kind.label
    ws.append([c.label for c in cols])
    bold, required_fill = Font(bold=True), PatternFill("solid", fgColor="FCE4D6")
    for i, col in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = bold
        if col.required:
            cell.fill = required_fill
        ws.column_dimensions[get_column_letter(i)].width = max(10, min(40, 2 * len(col.label) + 2))
    for row in rows:
        ws.append(row)
    for r, row in enumerate(rows, start=2):
        for i, (col, value) in enumerate(zip(cols, row, strict=True), start=1):
            cell = ws.cell(row=r, column=i)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # text, never a formula
            elif col.type == "date" and value is not None:
                cell.number_format = "yyyy-mm-dd"
            elif col.type == "datetime" and value is not None:
                cell.number_format = "yyyy-mm-dd hh:mm:ss" if value.second else "yyyy-mm-dd hh:mm"
    ws.freeze_panes = "A2"
    help_ws = wb.create_sheet("填写说明")
    _add_lists(wb, ws, cols, book, last=max(len(rows) + 1, 1000))
    _write_help(help_ws, book, kind, cols)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _add_lists(wb, ws, cols: list[Column], book: NameBook, *, last: int) -> None:
    """A drop-down list on every column of choices or records: short fixed lists inline, the rest (records the
    user may name, capabilities) on a hidden sheet through a workbook name, so no list meets Excel's 255 limit."""
    from openpyxl.utils import get_column_letter, quote_sheetname
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    lists = None
    written: dict[str, str] = {}  # list name → its column on the hidden sheet
    for i, col in enumerate(cols, start=1):
        options = _options(col, book)
        if not options:
            continue
        inline = '"' + ",".join(options) + '"'
        if col.ref is None and len(inline) <= _INLINE_LIST_MAX and not any("," in o or '"' in o for o in options):
            formula = inline
        else:
            formula = list_name(col)
            if formula not in written:
                if lists is None:
                    lists = wb.create_sheet(LISTS_SHEET)
                    lists.sheet_state = "hidden"
                letter = get_column_letter(len(written) + 1)
                lists.cell(row=1, column=len(written) + 1, value=noun(col.ref) if col.ref else col.label)
                for r, option in enumerate(options, start=2):
                    cell = lists.cell(row=r, column=len(written) + 1, value=option)
                    cell.data_type = "s"  # a name starting with = stays text
                ref = f"{quote_sheetname(LISTS_SHEET)}!${letter}$2:${letter}${len(options) + 1}"
                wb.defined_names[formula] = DefinedName(formula, attr_text=ref)
                written[formula] = letter
        many = col.type in ("codes", "requirements", "supplies")
        dv = DataValidation(type="list", formula1=formula, allow_blank=True)
        if many:
            # one name comes from the list, more are typed after it: Excel must not refuse the cell
            dv.showErrorMessage = False
            dv.promptTitle, dv.showInputMessage = col.label.split(" (")[0][:32], True
            dv.prompt = f"从下拉列表选择一项; 多项时用 {LIST_SEPARATOR} 分隔后接着输入" + _ITEM_PROMPTS.get(col.type, "")
        else:
            dv.error, dv.errorTitle, dv.showErrorMessage = "请从下拉列表中选择", col.label[:32], True
        letter = get_column_letter(i)
        dv.add(f"{letter}2:{letter}{last}")
        ws.add_data_validation(dv)


def _write_help(ws, book: NameBook, kind: Kind, cols: list[Column]) -> None:
    from openpyxl.styles import Alignment, Font

    ws.append(["列名", "字段", "类型", "必填", "允许的取值", "示例", "说明"])
    for col in cols:
        ws.append(
            [
                col.label,
                col.field,
                _TYPE_NAMES[col.type],
                "是" if col.required else "否",
                _allowed(col, book),
                _example(kind, col, book),
                col.description,
            ]
        )
    if kind.key == "id":
        keyed = "导出的文件带 ID 列: ID 留空的行新增记录, 填写 ID 的行更新该记录 (留空的单元格保持原值; 请勿改动 ID)。"
    else:
        keyed = "代码已存在的行更新该记录 (留空的单元格保持原值), 否则新增。"
    notes = [
        "",
        f"说明: 第一个工作表「{kind.label}」的第1行为列名, 从第2行起每行一条记录; 列名也可以写英文字段名。",
        keyed,
        "队伍、储备库、联系人、企业、能力等列填写名称, 从单元格的下拉列表中选择 (列表只含您可以引用的记录)。"
        "同名的记录在名称后用括号说明以示区别, 如「名称（所属单位）」「名称（编号 12）」, 请原样选择或保留。",
        f"一格填多个名称 (如能力、专业领域) 时用「{LIST_SEPARATOR}」分隔 (也接受 ， , ； ; 和换行): "
        "可先从下拉列表选一项, 再在后面输入其余名称。",
        "是/否 列填 是/否 (也接受 true/false/1/0); 日期写 YYYY-MM-DD。",
        "任何一行有错误时整个文件都不导入, 并列出每个错误单元格的行号、列名和原因。",
        f"每个文件最多 {MAX_ROWS} 行。为兼容其他系统, 引用列也接受记录 ID, 能力列也接受能力代码。",
    ]
    for note in notes:
        ws.append([note])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (28, 22, 16, 6, 50, 28, 40), strict=True):
        ws.column_dimensions[letter].width = width
    for row in ws.iter_rows(min_row=2, max_row=len(cols) + 1, min_col=5, max_col=5):
        row[0].alignment = Alignment(wrap_text=True, vertical="top")


def _allowed(col: Column, book: NameBook) -> str:
    if col.type == "enum":
        return ", ".join(f"{name} ({value})" if name != value else value for value, name in col.choices().items())
    if col.type == "bool":
        return "是, 否"
    if col.ref is not None:
        count = len(book.choices(col.ref))
        what = f"{noun(col.ref)}名称"
        if not count:
            return f"{what}; 暂无可选的{noun(col.ref)}, 请先登记"
        many = f", 多个用 {LIST_SEPARATOR} 分隔" if col.type == "codes" else ""
        if col.type == "requirements":
            return (
                f"{what}:数量[:单位], 多个用 ; 分隔; 能力从下拉列表选择 (共 {count} 项), 单位为 支 (队伍)、人 (专家) 或 件 (装备)"
            )
        if col.type == "supplies":
            return f"{what}:数量, 多个用 ; 分隔; 物资从下拉列表选择 (共 {count} 项, 以储备中的名称), 也可写 GB/T 38565-2020 物资编码 (7位)"
        return f"{what}, 从下拉列表选择 (共 {count} 项){many}"
    return ""


def _example(kind: Kind, col: Column, book: NameBook):
    if col.type == "enum":
        return next(iter(col.choices().values()))
    if col.type == "bool":
        return "是"
    if col.ref is not None:
        labels = [c.label for c in book.choices(col.ref)[:2]] or [f"{noun(col.ref)}名称"]
        if col.type == "codes":
            return LIST_SEPARATOR.join(labels)
        if col.type == "requirements":
            return f"{labels[0]}:2:支" + (f"; {labels[1]}:1:人" if len(labels) > 1 else "")
        if col.type == "supplies":
            return f"{labels[0]}:100"
        return labels[0]
    if col.type in _ITEM_EXAMPLES:
        return _ITEM_EXAMPLES[col.type]
    return _KIND_EXAMPLES.get((kind.name, col.field), _EXAMPLES.get(col.field, ""))


# --- reading ---------------------------------------------------------------------------------


def read_table(data: bytes, filename: str | None, *, max_rows: int = MAX_ROWS) -> tuple[list, list[tuple[int, list]]]:
    """The header cells and the non-empty data rows (with their spreadsheet row numbers) of a file."""
    if not data:
        raise SheetError("文件为空")
    name = (filename or "").lower()
    too_many = f"行数超过上限: 每个文件最多 {max_rows} 行数据, 请分批导入"
    if data.startswith(b"PK\x03\x04"):  # a zip: .xlsx whatever the name says
        rows = _xlsx_rows(data)
    elif data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise SheetError("不支持旧版 Excel (.xls) 文件, 请另存为 .xlsx 或 CSV (UTF-8) 后再导入")
    elif name.endswith((".xlsx", ".xlsm")):
        raise SheetError("无法读取 Excel 文件, 文件可能已损坏或不是 .xlsx 格式")
    else:
        rows = _csv_rows(data)
    body: list = []
    try:
        header = next(rows, (0, None))[1]
        if header is None:
            raise SheetError("文件为空")
        if all(_blank(v) for v in header):
            raise SheetError("第1行应为列名, 请使用下载的模板")
        _check_cells(1, header)
        for number, cells in rows:
            if number > MAX_SCANNED_ROWS:
                raise SheetError(too_many)
            if all(_blank(v) for v in cells):
                continue
            if len(body) >= max_rows:
                raise SheetError(too_many)
            _check_cells(number, cells)
            body.append((number, list(cells)))
    except csv.Error as exc:
        msg = f"无法读取 CSV 文件: 第 {len(body) + 2} 行附近格式错误"
        raise SheetError(msg) from exc
    return header, body


def _check_cells(number: int, cells) -> None:
    """Refuse a row wider than any kind or with a cell longer than Excel allows."""
    if len(cells) > MAX_COLUMNS and any(not _blank(v) for v in cells[MAX_COLUMNS:]):
        raise SheetError(f"第 {number} 行列数超过上限 ({MAX_COLUMNS} 列)")
    for v in cells:
        if isinstance(v, str) and len(v) > MAX_CELL_CHARS:
            raise SheetError(f"第 {number} 行有单元格超过 {MAX_CELL_CHARS} 个字符")


def _check_zip(data: bytes) -> None:
    """Refuse an .xlsx whose parts would expand beyond what an import needs, before anything is inflated.

    The sizes are the ones the zip declares; zipfile stops inflating an entry at its declared size (and then
    fails its CRC), so a file that lies about them cannot expand further either.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SheetError("无法读取 Excel 文件, 文件可能已损坏或不是 .xlsx 格式") from exc
    too_big = "Excel 文件解压后过大, 请删除多余的行、列或工作表后再导入"
    if len(infos) > MAX_XLSX_ENTRIES or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED:
        raise SheetError(too_big)
    if any(i.filename.lower().endswith("sharedstrings.xml") and i.file_size > MAX_SHARED_STRINGS for i in infos):
        raise SheetError(too_big)


def _xlsx_rows(data: bytes):
    from openpyxl import load_workbook

    _check_zip(data)
    wb = None
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers record a wrong sheet size; read what is there
        yield from enumerate(ws.iter_rows(values_only=True), start=1)
    except SheetError:
        raise
    except Exception as exc:  # openpyxl raises anything at all on a damaged file; the user is told
        msg = "无法读取 Excel 文件, 文件可能已损坏或不是 .xlsx 格式"
        raise SheetError(msg) from exc
    finally:
        if wb is not None:
            wb.close()


def _csv_rows(data: bytes):
    text = _decode(data)
    if "\x00" in text:
        raise SheetError("无法读取文件: 不是 .xlsx 或 CSV 文本文件")
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    return ((i, row) for i, row in enumerate(reader, start=1))


def _decode(data: bytes) -> str:
    # Excel's "Unicode text" is UTF-16; its "CSV" is GB18030 in China unless saved as "CSV UTF-8"
    encodings = ("utf-16",) if data.startswith((b"\xff\xfe", b"\xfe\xff")) else ("utf-8-sig", "gb18030")
    for encoding in encodings:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SheetError("无法识别文件编码, 请保存为 UTF-8 编码的 CSV 或 .xlsx 文件")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _norm(header) -> str:
    text = unicodedata.normalize("NFKC", str(header)).lower()
    return re.sub(r"[\s*]", "", text)


def match_header(kind: Kind, header: list, *, creates: bool) -> dict[int, Column]:
    """Map cell positions to columns; Chinese labels, their short form or English field names."""
    aliases: dict[str, Column] = {}
    for col in _export_columns(kind):
        for alias in (col.label, col.label.split(" (")[0], col.field, *LEGACY_LABELS.get(col.field, ())):
            aliases.setdefault(_norm(alias), col)
    aliases.setdefault(_norm("编号"), aliases.get("id"))
    found: dict[int, Column] = {}
    unknown, seen, duplicate = [], {}, []
    for i, raw in enumerate(header):
        if _blank(raw):
            continue
        col = aliases.get(_norm(raw))
        if col is None:
            unknown.append(str(raw).strip()[:40])
        elif col.field in seen:
            duplicate.append(col.label)
        else:
            seen[col.field] = i
            found[i] = col
    if unknown:
        listed = ", ".join(unknown[:10]) + (f" 等 {len(unknown)} 列" if len(unknown) > 10 else "")
        hint = "" if found else "; 第1行应为列名, 请使用下载的模板"
        raise SheetError(f"未知的列: {listed}{hint}")
    if duplicate:
        raise SheetError("列重复: " + ", ".join(duplicate))
    if not found:
        raise SheetError("未找到任何列名: 第1行应为列名, 请使用下载的模板")
    if creates:
        missing = [c.label for c in columns(kind) if c.required and c.field not in seen]
        if missing:
            raise SheetError("缺少必填列: " + ", ".join(missing))
    return found


def convert(col: Column, value) -> tuple[object, str | None]:
    """A cell as the value the schema expects, or a Chinese reason it cannot be one."""
    if isinstance(value, str):
        value = value.strip()
        if len(value) > 1 and value[0] == "'" and value[1:].startswith(_FORMULA_START):
            value = value[1:]
    try:
        return _CONVERTERS[col.type](col, value), None
    except (ValueError, TypeError, OverflowError) as exc:
        return None, str(exc) or "格式不正确"


def _text(col, value):
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or code Excel stored as a number
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    return str(value)


def _int(col, value):
    if isinstance(value, bool):
        raise ValueError("应为整数")
    if isinstance(value, int):
        return value
    try:
        number = value if isinstance(value, float) else _float(col, value)
    except ValueError:
        raise ValueError("应为整数") from None
    if not number.is_integer():
        raise ValueError("应为整数")
    return int(number)


def _float(col, value):
    if isinstance(value, bool):
        raise ValueError("应为数字")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(unicodedata.normalize("NFKC", str(value)).replace(",", ""))
        except ValueError:
            raise ValueError("应为数字") from None
    if not math.isfinite(number):
        raise ValueError("应为有限数字")
    return number


def _bool(col, value):
    if isinstance(value, bool):
        return value
    text = unicodedata.normalize("NFKC", str(_num(value))).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("应为 是/否")


def _date(col, value):
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = unicodedata.normalize("NFKC", str(_num(value))).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError("日期格式应为 YYYY-MM-DD")


def _datetime(col, value):
    """A time as people write it, in Beijing time unless it says its zone: an Excel date-time, or text
    such as 2026-12-01 08:00 (seconds, / separators and ISO 8601 with an offset also read)."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, datetime.min.time())
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip().replace("/", "-")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError("时间格式应为 YYYY-MM-DD HH:MM (北京时间)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=CHINA)
    return moment.isoformat()


def _enum(col, value):
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for val, name in col.choices().items():
        if text.lower() == val.lower() or text == name:
            return val
    raise ValueError("取值应为: " + ", ".join(col.choices().values()))


def _codes(col, value):
    """A list cell as its items; names of records are found later (see _find_names), codes are kept as written."""
    sep = _NAME_SEP if col.ref else _LIST_SEP
    return [c for c in (part.strip() for part in sep.split(_text(col, value))) if c]


def _ref(col, value):
    """A cell naming one record: an id as int (forms and other systems send ids), else the name as written."""
    if isinstance(value, bool):
        raise ValueError("应为名称")
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return int(value)
    text = _text(col, value).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else text


def _pairs(value, width: int, example: str) -> list[list[str]]:
    text = _text(None, value)
    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError:
            raise ValueError(f"格式应为 {example}") from None
        if not isinstance(items, list):
            raise ValueError(f"格式应为 {example}")
        return items
    pairs = []
    for item in filter(None, (s.strip() for s in _ITEM_SEP.split(text))):
        parts = _PAIR_SEP.split(item)
        if not 1 <= len(parts) <= width or not parts[0]:
            raise ValueError(f"格式应为 {example}")
        pairs.append(parts)
    return pairs


def _requirements(col, value):
    out = []
    for parts in _pairs(value, 3, "能力:数量[:单位]; 能力:数量"):
        if isinstance(parts, dict):
            out.append(parts)
            continue
        item = {"capability": parts[0].strip()}
        if len(parts) > 1:
            item["quantity"] = _int(col, parts[1])
        if len(parts) > 2:
            unit = parts[2].strip()
            item["unit"] = _UNIT_CODES.get(unit, unit)
        out.append(item)
    return out


def _supplies(col, value):
    out = []
    for parts in _pairs(value, 2, "物资:数量; 物资:数量"):
        if isinstance(parts, dict):
            out.append(parts)
            continue
        if len(parts) != 2:
            raise ValueError("格式应为 物资:数量; 物资:数量")
        out.append({"code": parts[0].strip(), "quantity": _float(col, parts[1])})
    return out


# list-of-object cell types added by features above the registry: item schema → type name, and cell writers
_ITEM_TYPES: dict[type, str] = {}
_WRITERS: dict[str, typing.Callable] = {}
_ITEM_REFS: dict[str, dict[str, str]] = {}  # type name → {item key: the list (a KINDS name) it names a record of}


def register_item_type(
    item: type,
    name: str,
    title: str,
    *,
    read: typing.Callable,
    write: typing.Callable,
    example: str,
    refs: dict[str, str] | None = None,
) -> None:
    """A cell type for fields that are lists of `item` (e.g. readiness's training attendees): `read(text)` gives
    the list (ValueError with a Chinese reason when it cannot), `write(list)` the cell text.

    `refs` maps item keys that point at records to the list they name (e.g. {"contact_id": "contacts"}): `write`
    gets those keys as the records' labels, and what `read` leaves as text there is found by name on import."""
    _ITEM_TYPES[item] = name
    _TYPE_NAMES[name] = title
    _CONVERTERS[name] = lambda col, value: read(_text(col, value))
    _WRITERS[name] = write
    _ITEM_EXAMPLES[name] = example
    _ITEM_REFS[name] = dict(refs or {})


_ITEM_EXAMPLES: dict[str, str] = {}
_CONVERTERS = {
    "text": _text,
    "int": _int,
    "float": _float,
    "bool": _bool,
    "date": _date,
    "datetime": _datetime,
    "enum": _enum,
    "ref": _ref,
    "codes": _codes,
    "requirements": _requirements,
    "supplies": _supplies,
}


# --- importing -------------------------------------------------------------------------------


def import_file(
    session: Session,
    kind: Kind,
    actor: User,
    data: bytes,
    *,
    filename: str | None,
    area,
    dry_run: bool = False,
    max_rows: int = MAX_ROWS,
    now=None,
) -> ImportResult:
    """Read a CSV or .xlsx file and import it all or nothing; see `import_rows`."""
    access.require_write(actor, kind)
    header, rows = read_table(data, filename, max_rows=max_rows)
    return import_rows(session, kind, actor, header, rows, area=area, dry_run=dry_run, filename=filename, now=now)


def import_rows(
    session: Session,
    kind: Kind,
    actor: User,
    header: list,
    rows: list[tuple[int, list]],
    *,
    area,
    dry_run: bool = False,
    filename: str | None = None,
    now=None,
) -> ImportResult:
    """Create rows without a key and update rows with one, through the registry's own checks.

    Every row runs in its own SAVEPOINT, so a bad row is undone without spoiling the rest and
    every bad cell of every row is reported. If any row is bad, RowErrors is raised and the
    caller rolls the transaction back; otherwise the changes are flushed for the caller to commit.
    """
    access.require_write(actor, kind)
    if kind.key == "id":
        id_pos = next((i for i, h in enumerate(header) if not _blank(h) and _norm(h) in ("id", "编号")), None)
        creates = id_pos is None or any(id_pos >= len(cells) or _blank(cells[id_pos]) for _, cells in rows)
    else:
        creates = True  # whether a code is new is known only from the database
    found = match_header(kind, header, creates=creates)
    if not rows:
        raise SheetError("文件中没有数据行")
    result, errors = ImportResult(rows=len(rows)), []
    book = NameBook(session, actor)
    for number, cells in rows:
        errors.extend(_import_row(session, kind, actor, book, found, number, cells, area=area, result=result, now=now))
    if errors:
        raise RowErrors(errors)
    if not dry_run:
        owner = actor.enterprise_id if actor.role == Role.enterprise_admin else None
        changes = {"created": (None, result.created), "updated": (None, result.updated)}
        if filename:
            changes["file"] = (None, filename[:200])
        audit.record(session, actor, "import", kind.name, None, owner, changes, now=now)
        session.flush()
    return result


class _RowFailed(Exception):
    """Undo a row's savepoint: some of its cells could not be read."""


def _import_row(
    session: Session,
    kind: Kind,
    actor: User,
    book: NameBook,
    found: dict[int, Column],
    number: int,
    cells: list,
    *,
    area,
    result: ImportResult,
    now,
) -> list[dict]:
    data: dict = {}
    bad: dict[str, str] = {}
    for i, col in found.items():
        value = cells[i] if i < len(cells) else None
        if _blank(value):
            continue
        data[col.field], reason = convert(col, value)
        if reason:
            bad[col.field] = reason
            del data[col.field]
    key = data.pop("id", None) if kind.key == "id" else data.get(kind.key)
    if "id" in bad:
        return _row_errors(number, found, bad)  # neither a create nor an update: nothing more to check
    if kind.key != "id" and key is not None and session.get(kind.model, key) is None:
        key = None
    _find_names(session, kind, book, found, data, bad, key)
    try:
        with session.begin_nested():
            if key is None:
                registry.create_record(session, kind, actor, data, area=area, now=now)
            else:
                registry.update_record(session, kind, actor, key, data, area=area, now=now)
            if bad:
                raise _RowFailed
    except _RowFailed:
        pass
    except RescueError as exc:
        for name, reason in _error_fields(exc, kind, key).items():
            bad.setdefault(name, reason)
    else:
        if key is None:
            result.created += 1
        else:
            result.updated += 1
        return []
    return _row_errors(number, found, bad)


def _find_names(session: Session, kind: Kind, book: NameBook, found: dict[int, Column], data: dict, bad: dict, key) -> None:
    """Replace the names in a row's reference and capability cells by the ids and codes they name; a name that
    names nothing or several records becomes the cell's error. A plain name shared by several records is
    narrowed to the row's owner when the row has one (its enterprise cell, or the record it updates)."""
    cols = sorted((c for c in found.values() if c.field in data), key=lambda c: c.field != "enterprise_id")
    owner = ANY
    if kind.owner == "enterprise_id":
        if key is not None and (record := session.get(kind.model, key)) is not None:
            owner = record.enterprise_id
        elif book.enterprise_user:
            owner = book.actor.enterprise_id
    for col in cols:
        value = data[col.field]
        try:
            if col.type == "ref":
                data[col.field] = book.find(col.ref, value, owner)
                if col.field == "enterprise_id":
                    owner = data[col.field]
            elif col.type == "codes" and col.ref:
                data[col.field] = _find_list(book, col.ref, value)
            elif col.type == "requirements":
                _find_in_items(book, value, "capability", "capabilities")
            elif col.type == "supplies":
                _find_in_items(book, value, "code", SUPPLY_CODES)
            elif _ITEM_REFS.get(col.type):
                _find_item_refs(book, _ITEM_REFS[col.type], value, owner)
        except ValueError as exc:
            bad[col.field] = str(exc)
            del data[col.field]


def _find_list(book: NameBook, ref: str, names: list) -> list:
    """The keys a list cell names, in its order without repeats; every unknown or ambiguous name reported at once."""
    keys, unknown, unclear = [], [], []
    for name in names:
        if not isinstance(name, str):
            keys.append(name)  # a JSON list cell gives what the API takes
            continue
        try:
            keys.append(book.find(ref, name))
        except UnknownName:
            try:  # codes of other systems separated by spaces ("gas_detection gas_protection")
                parts = [book.find(ref, p) for p in name.split()] if len(name.split()) > 1 else None
            except ValueError:
                parts = None
            if parts is None:
                unknown.append(name)
            else:
                keys.extend(parts)
        except ValueError as exc:
            unclear.append(str(exc))
    if unknown:
        unclear.insert(0, f"未找到{noun(ref)}: {LIST_SEPARATOR.join(unknown)}, 请从下拉列表选择")
    if unclear:
        raise ValueError("; ".join(unclear))
    return list(dict.fromkeys(keys))


def _find_in_items(book: NameBook, items: list, key: str, ref: str) -> None:
    """``item[key]`` of every need found by name (or code) in the list ``ref``, every bad one reported at once."""
    reasons = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get(key), str):
            try:
                item[key] = book.find(ref, item[key])
            except ValueError as exc:
                reasons.append(str(exc))
    if reasons:
        raise ValueError("; ".join(reasons))


def _find_item_refs(book: NameBook, refs: dict[str, str], items: list, owner) -> None:
    """Names in the record-pointing keys of list items (training attendees' contacts) replaced by ids."""
    reasons = []
    for item in items:
        for key, ref in refs.items():
            value = item.get(key) if isinstance(item, dict) else None
            if isinstance(value, str):
                try:
                    item[key] = book.find(ref, value, owner, hint=f"请填写{noun(ref)}名单中的名称")
                except ValueError as exc:
                    reasons.append(f"「{item.get('name') or value}」: {exc}")
    if reasons:
        raise ValueError("; ".join(reasons))


def _row_errors(number: int, found: dict[int, Column], bad: dict[str, str]) -> list[dict]:
    """One row's bad cells in column order, as the 422 answer lists them."""
    position = {c.field: i for i, c in found.items()}
    labels = {c.field: c.label for c in found.values()}
    return [
        {"row": number, "column": labels.get(name, LABELS.get(name, name)), "field": name, "reason": reason}
        for name, reason in sorted(bad.items(), key=lambda kv: position.get(kv[0], -1))
    ]


def _error_fields(exc: RescueError, kind: Kind, key) -> dict[str, str]:
    """A registry error as {top-level field or "": reason}."""
    if isinstance(exc, NotFoundError) and key is not None:
        return {kind.key: exc.message}  # the row names a record that is gone or not the caller's
    if not exc.fields:
        return {"": exc.message}
    out: dict[str, str] = {}
    for name, reason in exc.fields.items():
        top, _, rest = name.partition(".")
        out.setdefault("" if top == "_body" else top, f"{rest}: {reason}" if rest else reason)
    return out
