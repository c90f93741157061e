"""Spreadsheet views: import templates, exports and bulk imports (CSV and .xlsx) for every registry kind."""

import io
from datetime import date

from flask import Response, current_app, request, send_file

from rescue.errors import ValidationError
from rescue.models import Role
from rescue.registry import registry, spreadsheets
from rescue.registry.schemas import ImportResultOut
from rescue.web.api import bp, service_area
from rescue.web.api.openapi import documented
from rescue.web.api.registry import KIND_PATH, parse_query
from rescue.web.auth import current_user, roles_required
from rescue.web.extensions import get_session

FORMAT_PATH = '<any("xlsx", "csv"):fmt>'
_MIMETYPES = {"xlsx": spreadsheets.XLSX_MIMETYPE, "csv": spreadsheets.CSV_MIMETYPE}


def _download(data: bytes, name: str, fmt: str) -> Response:
    return send_file(io.BytesIO(data), mimetype=_MIMETYPES[fmt], as_attachment=True, download_name=f"{name}.{fmt}", max_age=0)


@bp.get(f"/{KIND_PATH}/template.{FORMAT_PATH}")
@documented("下载导入模板 (中文列名; 队伍、储备库、能力等填名称; xlsx 含下拉列表和填写说明)")
@roles_required()
def get_import_template(kind_name: str, fmt: str) -> Response:
    kind = registry.get_kind(kind_name)
    data = spreadsheets.template(get_session(), kind, fmt, current_user())
    return _download(data, f"{kind.label}导入模板", fmt)


@bp.get(f"/{KIND_PATH}/export.{FORMAT_PATH}")
@documented("导出为 xlsx 或 CSV (筛选参数同列表查询; 引用与能力写名称; 可修改后重新导入)")
@roles_required()
def export_records(kind_name: str, fmt: str) -> Response:
    kind = registry.get_kind(kind_name)
    query = parse_query(kind, request.args)
    if "limit" not in request.args:
        query.limit = spreadsheets.MAX_EXPORT_ROWS  # the whole list, not one page
    data = spreadsheets.export(get_session(), kind, current_user(), query, fmt)
    return _download(data, f"{kind.label}_{date.today():%Y%m%d}", fmt)


@bp.post(f"/{KIND_PATH}/import")
@documented(
    "批量导入 (multipart 字段 file: .xlsx 或 CSV; 全部成功或全部不导入, 422 时 rows 列出每个错误单元格)",
    response=ImportResultOut,
    query={"dry_run": {"type": "boolean"}},
)
@roles_required(Role.command_center, Role.enterprise_admin)
def import_records(kind_name: str) -> dict:
    kind = registry.get_kind(kind_name)
    upload = request.files.get("file")
    if upload is None:
        raise ValidationError({"file": "请上传文件 (multipart 表单字段 file)"}, "请上传 .xlsx 或 CSV 文件")
    dry_run = request.args.get("dry_run", "").lower() in {"1", "true", "yes"}
    session = get_session()
    # RowErrors answers 422 with every bad cell in "rows"; the error handler rolls back
    result = spreadsheets.import_file(
        session,
        kind,
        current_user(),
        upload.read(),
        filename=upload.filename,
        area=service_area(),
        dry_run=dry_run,
        max_rows=current_app.config.get("IMPORT_MAX_ROWS", spreadsheets.MAX_ROWS),
    )
    if dry_run:
        session.rollback()
    else:
        session.commit()
    return {"created": result.created, "updated": result.updated, "dry_run": dry_run}
