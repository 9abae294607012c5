"""Error answers as JSON: a code, a plain message in zh and en, and field-level details where there are any.

Nothing here ever shows a traceback; unexpected exceptions become a plain 500 (``internal``).
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.textnorm import ParseError


class ApiError(Exception):
    """An answer other than 200: status, code and the bilingual message (+ field errors)."""

    def __init__(self, status: int, code: str, message_zh: str, message_en: str, errors: list[dict] | None = None):
        super().__init__(f"{message_zh} / {message_en}")
        self.status, self.code, self.message_zh, self.message_en = status, code, message_zh, message_en
        self.errors = errors or []

    def body(self) -> dict[str, Any]:
        found: dict[str, Any] = {"error": self.code, "message_zh": self.message_zh, "message_en": self.message_en}
        if self.errors:
            found["errors"] = self.errors
        return found


def invalid(errors: list[dict]) -> ApiError:
    return ApiError(422, "invalid_input", "输入有误，见各字段的说明", "invalid input; see the message for each field", errors)


def field_error(field: str, label_zh: str, message_zh: str, message_en: str, value: Any = None,
                location: str = "request") -> dict[str, Any]:
    """One problem with one request field, in the shape of the library's ``FieldError`` plus its location."""
    return {"location": location, "field": field, "label_zh": label_zh, "value": None if value is None else str(value)[:200],
            "message_zh": message_zh, "message_en": message_en, "event_index": None}


def parse_error(field: str, label_zh: str, exc: ParseError, value: Any) -> dict[str, Any]:
    return field_error(field, label_zh, exc.message_zh, exc.message_en, value)


# Pydantic's error types for request bodies, in words (anything else: its English message and a generic Chinese one).
_PYDANTIC_WORDS = {
    "missing": ("必填字段缺失", "required field is missing"),
    "extra_forbidden": ("未知字段", "unknown field"),
    "dict_type": ("应为一个对象（字段: 值）", "must be an object of field: value"),
    "model_attributes_type": ("应为一个对象（字段: 值）", "must be an object of field: value"),
    "string_type": ("应为文字", "must be a text"),
    "bool_type": ("应为 true 或 false", "must be true or false"),
    "bool_parsing": ("应为 true 或 false", "must be true or false"),
    "literal_error": ("不是可选的值", None),
    "json_invalid": ("不是有效的 JSON", "not valid JSON"),
}
_LABELS = {"profile": "主体资料", "as_of": "评估日", "lang": "语言", "traces": "是否包含每条规则的判断",
           "rule": "规则", "body": "请求正文"}


def from_validation(exc: RequestValidationError) -> ApiError:
    errors = []
    for item in exc.errors():
        loc = [str(p) for p in item.get("loc", ()) if p != "body"] or ["body"]
        zh, en = _PYDANTIC_WORDS.get(item.get("type", ""), ("格式有误", None))
        value = item.get("input") if item.get("type") not in ("missing", "json_invalid") else None
        if isinstance(value, (dict, list)):
            value = None
        errors.append(field_error(".".join(loc), _LABELS.get(loc[0], loc[0]), zh, en or item.get("msg", "invalid"), value))
    return invalid(errors)


def as_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


_STATUS_WORDS = {
    404: ("not_found", "找不到该地址", "no such address"),
    405: ("method_not_allowed", "该地址不支持此请求方法", "method not allowed at this address"),
}


def install(app) -> None:
    """Turn every failure into the JSON error shape (HTML pages render their own errors before this)."""

    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError):
        return as_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        return as_response(from_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        if exc.status_code == 413:  # engine.web.body_limit: its detail is the JSON answer already
            return JSONResponse(json.loads(exc.detail), status_code=413)
        code, zh, en = _STATUS_WORDS.get(exc.status_code, ("http_error", "请求有误", str(exc.detail)))
        return as_response(ApiError(exc.status_code, code, zh, en))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception):  # last resort: log it, never show it
        import logging

        logging.getLogger("huiqi.web").exception("internal error on %s %s", request.method, request.url.path)
        return as_response(ApiError(500, "internal", "服务器内部错误（程序缺陷，不是输入的问题）",
                                    "internal server error (a bug, not a problem with your input)"))
