"""Bureau uploads: a workbook/CSV (+ events file) and a date in, the results workbook out.

Every upload lives in one temporary folder that is removed when the answer has been built, whatever
happened. Files are checked before any reader sees them: the extension and the first bytes must agree
(.xlsx is a zip, .csv is text), an .xlsx is checked against zip bombs and oversized sheets
(engine.batch.xlsx_guard, with the server's tighter bounds), a .csv against a row limit.
"""

from __future__ import annotations

import hmac
import shutil
import tempfile
from pathlib import Path

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import Response

from engine.batch.xlsx_guard import XlsxTooLarge, check_xlsx
from engine.web.errors import ApiError
from engine.web.worker import TimeLimit, WorkerGone, batch_job

router = APIRouter()
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ALLOWED = (".xlsx", ".csv")
_COPY_CHUNK = 1 << 20


def check_token(request: Request, given: str | None) -> None:
    expected = request.app.state.settings.token
    if expected is None:
        raise ApiError(403, "bureau_disabled", "本服务器未开启批量上传（启动时未提供 --token-file）",
                       "bureau uploads are switched off on this server (started without --token-file)")
    header = request.headers.get("authorization", "")
    supplied = header[7:] if header.lower().startswith("bearer ") else (given if isinstance(given, str) else "")
    if not supplied or not hmac.compare_digest(supplied.strip().encode(), expected.encode()):
        raise ApiError(401, "bad_token", "访问口令缺失或不正确", "the access token is missing or wrong")


async def _save(upload: UploadFile, folder: Path, stem: str) -> Path:
    name = Path(upload.filename or "").name
    suffix = Path(name).suffix.lower()
    if suffix not in ALLOWED:
        raise ApiError(415, "wrong_type", f"不支持的文件类型「{name or '（无文件名）'}」：请上传 .xlsx 或 .csv",
                       f"unsupported file type '{name or '(no file name)'}': upload .xlsx or .csv")
    target = folder / f"{stem}{suffix}"
    with target.open("wb") as out:
        while chunk := await upload.read(_COPY_CHUNK):
            out.write(chunk)
    return target


def _check_file(path: Path, shown: str, limits) -> None:
    head = path.read_bytes()[:4] if path.stat().st_size else b""
    if path.stat().st_size == 0:
        raise ApiError(422, "empty_file", f"「{shown}」是空文件", f"'{shown}' is empty")
    if path.suffix == ".xlsx":
        if head != b"PK\x03\x04":
            raise ApiError(415, "wrong_type", f"「{shown}」不是 .xlsx 工作簿", f"'{shown}' is not an .xlsx workbook")
        try:
            check_xlsx(path, max_file_bytes=limits.max_upload_bytes, max_uncompressed=limits.max_unzipped_bytes,
                       max_cells=limits.max_upload_cells)
        except XlsxTooLarge as exc:
            raise ApiError(413, "too_large", exc.message_zh, exc.message_en) from None
        return
    if head.startswith(b"PK\x03\x04") or b"\x00" in path.read_bytes()[:4096]:
        raise ApiError(415, "wrong_type", f"「{shown}」不是文本 .csv 文件", f"'{shown}' is not a text .csv file")
    with path.open("rb") as text:
        rows = sum(chunk.count(b"\n") for chunk in iter(lambda: text.read(_COPY_CHUNK), b""))
    if rows > limits.max_csv_rows:
        raise ApiError(413, "too_many_rows", f"「{shown}」行数过多（上限 {limits.max_csv_rows:,} 行）",
                       f"'{shown}' has too many rows (the limit is {limits.max_csv_rows:,})")


async def handle_upload(request: Request, form, token: str | None = None) -> Response:
    """Check the token and files, run the batch in a worker, answer with the results workbook."""
    from engine.web.api import parse_as_of

    check_token(request, token)
    settings = request.app.state.settings
    enterprises, events = form.get("enterprises"), form.get("events")
    if not hasattr(enterprises, "filename") or not enterprises.filename:
        raise ApiError(422, "missing_file", "请选择企业名单文件", "choose the enterprises file",
                       [{"field": "enterprises", "label_zh": "企业名单", "message_zh": "必填", "message_en": "required"}])
    as_of = parse_as_of(form.get("as_of") if isinstance(form.get("as_of"), str) else None)
    lang = "en" if form.get("lang") == "en" else "zh"
    folder = Path(tempfile.mkdtemp(prefix="huiqi-upload-"))
    try:
        main = await _save(enterprises, folder, "enterprises")
        _check_file(main, enterprises.filename, settings.limits)
        extra = None
        if hasattr(events, "filename") and events.filename:
            extra = await _save(events, folder, "events")
            _check_file(extra, events.filename, settings.limits)
        out = folder / "results.xlsx"
        try:
            summary = await request.app.state.batch_pool.run(batch_job, str(main), str(extra) if extra else None, as_of,
                                                             lang, str(out), timeout=settings.limits.seconds_per_batch)
        except TimeLimit:
            raise ApiError(503, "time_limit", "批量评估超过时间上限，已停止", "the batch took longer than the limit and was stopped") from None
        except WorkerGone:
            raise ApiError(503, "worker_lost", "批量评估进程意外退出", "the batch process stopped unexpectedly") from None
        if "bad_input" in summary:
            zh, en = summary["bad_input"]
            raise ApiError(422, "bad_input", zh, en)
        body = out.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    rows_in, accounted = sum(summary["rows_in"].values()), sum(summary["rows_accounted"].values())
    return Response(body, media_type=XLSX_MIME, headers={
        "Content-Disposition": f'attachment; filename="huiqi-results-{as_of.isoformat()}.xlsx"',
        "X-Huiqi-Rows-In": str(rows_in), "X-Huiqi-Rows-Accounted": str(accounted),
        "X-Huiqi-Error-Rows": str(summary["error_rows"])})


_UPLOAD_SCHEMA = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["enterprises", "as_of"], "properties": {
        "enterprises": {"type": "string", "format": "binary", "description": ".xlsx (sheets 企业, 事件) or .csv"},
        "events": {"type": "string", "format": "binary", "description": "optional events file (.xlsx or .csv)"},
        "as_of": {"type": "string", "format": "date", "description": "evaluation date, e.g. 2019-12-31"},
        "lang": {"type": "string", "enum": ["zh", "en"], "default": "zh"}}}}}}}


@router.post("/v1/batch", tags=["bureau"], response_class=Response, openapi_extra=_UPLOAD_SCHEMA,
             responses={200: {"content": {XLSX_MIME: {}}, "description": "the results workbook"},
                        401: {"description": "token missing or wrong"}, 403: {"description": "uploads switched off"},
                        413: {"description": "too large"}, 415: {"description": "not .xlsx/.csv"}})
async def batch_endpoint(request: Request) -> Response:
    """Bureau staff (``Authorization: Bearer <token>``): evaluate a whole workbook/CSV; the results workbook back.

    Row accounting in the headers: X-Huiqi-Rows-In = X-Huiqi-Rows-Accounted (results + errors)."""
    check_token(request, None)  # before the body is read
    form = await request.form()
    try:
        return await handle_upload(request, form)
    finally:
        await form.close()
