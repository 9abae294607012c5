"""The ASGI application: API, pages, static assets and the offline API docs page, all from this package."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import engine
from engine.web import api, bureau, errors, pages
from engine.web.body_limit import BodyLimit
from engine.web.settings import Settings
from engine.web.worker import Pool

UPLOAD_PATHS = ("/v1/batch", "/bureau")
CSP = "default-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def create_app(settings: Settings) -> FastAPI:
    """The app for ``settings`` (rules already loaded). Worker processes start with the app (lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        app.state.pool = Pool(settings.rules, settings.workers, settings.rules_dir, settings.ledger)
        # Batches get their own single worker: a long upload never holds up self-checks.
        app.state.batch_pool = Pool(settings.rules, min(settings.workers, 1), settings.rules_dir, settings.ledger)
        app.state.pool.warm()
        try:
            yield
        finally:
            app.state.pool.close()
            app.state.batch_pool.close()

    app = FastAPI(title="惠企 Huiqi API", version=engine.__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Liaoning IP policy rules, cited and explained: evaluate an enterprise as of a date. "
                              "辽宁知识产权政策规则：按评估日评估企业，每项结论附条款原文。")
    app.state.settings = settings
    errors.install(app)
    app.include_router(api.router)
    app.include_router(bureau.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "static"), name="static")

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def api_docs(request: Request):
        lang = pages.page_lang(request)
        return pages.render("apidocs.html", lang, spec=app.openapi())

    limits = settings.limits
    app.add_middleware(BodyLimit, limit_for=lambda path: limits.max_upload_bytes if path in UPLOAD_PATHS
                       else limits.max_json_bytes)
    app.add_middleware(SecurityHeaders)
    return app


class SecurityHeaders:
    """Everything comes from this server: with this policy the browser itself refuses any outside script, style or font."""

    HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
               (b"referrer-policy", b"no-referrer")]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)
