"""Compressed spreadsheets that expand to hundreds of MB are refused at once, in little time and memory."""

import io
import time
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook

from rescue.registry import spreadsheets

MB = 1024 * 1024


def _template() -> dict[str, bytes]:
    wb = Workbook()
    wb.active.append(["名称", "级别"])
    wb.active.append(["队", "county"])
    out = io.BytesIO()
    wb.save(out)
    with zipfile.ZipFile(out) as z:
        return {name: z.read(name) for name in z.namelist()}


def _bomb(part: str, chunk: bytes, size: int, head: bytes, tail: bytes) -> bytes:
    """A valid .xlsx whose `part` is `head` + `chunk` repeated to `size` bytes + `tail`, deflated."""
    parts = _template()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for name, content in parts.items():
            if name == part:
                continue
            z.writestr(name, content)
        with z.open(part, "w", force_zip64=True) as f:
            f.write(head)
            block = chunk * (4 * MB // len(chunk))
            for _ in range(size // len(block)):
                f.write(block)
            f.write(tail)
    return out.getvalue()


SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    b'spreadsheetml/2006/main"><sheetData><row r="1"><c t="inlineStr"><is><t>name</t></is></c></row>'
)
SHEET_TAIL = b"</sheetData></worksheet>"
SST_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


@pytest.fixture(scope="module")
def bombs() -> dict[str, bytes]:
    return {
        "rows": _bomb(
            "xl/worksheets/sheet1.xml", b'<row><c t="inlineStr"><is><t>x</t></is></c></row>', 300 * MB, SHEET_HEAD, SHEET_TAIL
        ),
        "one wide row": _bomb(
            "xl/worksheets/sheet1.xml",
            b'<c t="inlineStr"><is><t>x</t></is></c>',
            300 * MB,
            SHEET_HEAD + b"<row>",
            b"</row>" + SHEET_TAIL,
        ),
        "shared strings": _bomb(
            "xl/sharedStrings.xml", b"<si><t>xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx</t></si>", 300 * MB, SST_HEAD, b"</sst>"
        ),
        "one huge cell": _bomb(
            "xl/worksheets/sheet1.xml",
            b"x" * 1024,
            300 * MB,
            SHEET_HEAD + b'<row><c t="inlineStr"><is><t>',
            b"</t></is></c></row>" + SHEET_TAIL,
        ),
    }


@pytest.mark.parametrize("kind", ["rows", "one wide row", "shared strings", "one huge cell"])
def test_a_zip_bomb_is_refused_fast_and_small(bombs, kind):
    data = bombs[kind]
    assert len(data) < 5 * MB  # it fits the upload limit
    tracemalloc.start()
    started = time.process_time()
    with pytest.raises(spreadsheets.SheetError) as refused:
        spreadsheets.read_table(data, "bomb.xlsx")
    cpu = time.process_time() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert cpu < 0.5, cpu
    assert peak < 50 * MB, peak / MB
    assert "文件" in refused.value.message or "超过" in refused.value.message


def test_a_bomb_through_the_api_answers_422(api, bombs):
    d = api("dispatcher")
    # the multipart body built here, not by the test client (which spools it to a file it never closes)
    body = (
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="bomb.xlsx"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n" + bombs["rows"] + b"\r\n--b--\r\n"
    )
    res = d.post("/api/v1/teams/import", data=body, content_type="multipart/form-data; boundary=b")
    assert res.status_code == 422
    assert "file" in res.json["fields"]


def test_many_entries_and_long_cells_are_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, content in _template().items():
            z.writestr(name, content)
        for i in range(5000):
            z.writestr(f"junk/{i}.bin", b"")
    with pytest.raises(spreadsheets.SheetError):
        spreadsheets.read_table(out.getvalue(), "t.xlsx")
    # openpyxl cuts .xlsx cells at 32767 characters itself; CSV cells are bounded here
    with pytest.raises(spreadsheets.SheetError, match="单元格"):
        spreadsheets.read_table(("名称,级别\r\n" + "y" * 40_000 + ",county\r\n").encode(), "t.csv")


def test_an_ordinary_sheet_still_reads():
    wb = Workbook()
    wb.active.append(["名称", "级别"])
    for i in range(3000):
        wb.active.append([f"队{i}", "county"] + [None] * 5)
    buf = io.BytesIO()
    wb.save(buf)
    header, rows = spreadsheets.read_table(buf.getvalue(), "t.xlsx")
    assert header[:2] == ("名称", "级别") or list(header[:2]) == ["名称", "级别"]
    assert len(rows) == 3000
