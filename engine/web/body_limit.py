"""Refuse request bodies over a size before they are read whole (413), counted as they arrive.

The Content-Length header is checked first; a body sent without one (chunked) is counted chunk by
chunk, and the request fails as soon as it passes the bound.
"""

from __future__ import annotations

import json

from starlette.exceptions import HTTPException


class BodyTooLarge(HTTPException):
    """Raised while the body is read; an HTTPException so the framework's body parsers pass it on untouched."""

    def __init__(self, limit: int):
        super().__init__(413, _answer(limit).decode())


def _answer(limit: int) -> bytes:
    mb = f"{limit / 1_000_000:g}"
    return json.dumps({"error": "too_large", "message_zh": f"请求内容过大（上限 {mb} MB）",
                       "message_en": f"request body too large (the limit is {mb} MB)"}, ensure_ascii=False).encode()


class BodyLimit:
    """ASGI middleware: ``limit_for(path)`` gives the bound in bytes for a request path."""

    def __init__(self, app, limit_for):
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            return await self._refuse(send, limit)
        seen = 0
        started = False

        async def counted_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracked_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLarge:
            if not started:
                await self._refuse(send, limit)

    async def _refuse(self, send, limit: int) -> None:
        body = _answer(limit)
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json; charset=utf-8"),
                                (b"content-length", str(len(body)).encode()), (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})
