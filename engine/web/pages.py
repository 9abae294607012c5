"""Server-rendered pages: the self-check form and its result, the bureau upload, the rule list."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from engine.money import format_rate, format_yuan
from engine.results import Evaluation
from engine.web import catalogue, form
from engine.web.errors import ApiError
from engine.web.text import words

router = APIRouter()
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(),
                        trim_blocks=True, lstrip_blocks=True)
TEMPLATES.filters["yuan"] = format_yuan
TEMPLATES.filters["rate"] = format_rate


def page_lang(request: Request, submitted: str | None = None) -> str:
    lang = submitted or request.query_params.get("lang", "zh")
    return "en" if lang == "en" else "zh"


def render(name: str, lang: str, status: int = 200, **context) -> HTMLResponse:
    other = "zh" if lang == "en" else "en"
    context.setdefault("switch_href", f"?lang={other}")
    page = TEMPLATES.get_template(name).render(lang=lang, t=words(lang), **context)
    return HTMLResponse(page, status_code=status)


def selfcheck_context(lang: str) -> dict:
    return {"inputs": form.entity_inputs(lang), "event_types": form.event_types(lang),
            "event_fields": {code: form.event_inputs(code, lang) for code, _ in form.event_types(lang)}}


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def selfcheck_page(request: Request):
    lang = page_lang(request)
    return render("selfcheck.html", lang, **selfcheck_context(lang), values={}, events=[], errors={}, event_errors={},
                  loose=[], as_of="")


def other_lang(lang: str, path: str = "/") -> str:
    return f"{path}?lang={'zh' if lang == 'en' else 'en'}"


async def _evaluate_form(request: Request, submitted: form.Submitted) -> tuple[Evaluation | None, list[dict], int]:
    """(result, problems, status): every problem at once, the date's and the profile's, as FieldError dicts."""
    from engine.profile import ProfileError, parse_profile
    from engine.web.api import parse_as_of, run_evaluation

    try:
        as_of = parse_as_of(submitted.as_of)
    except ApiError as exc:
        try:  # still check the profile, so every mistake shows at once
            parse_profile(submitted.profile)
        except ProfileError as invalid:
            return None, exc.errors + [e.model_dump() for e in invalid.errors], 422
        return None, exc.errors, 422
    try:
        return Evaluation.model_validate_json(await run_evaluation(request, submitted.profile, as_of)), [], 200
    except ApiError as exc:  # invalid profile (with field errors), too many events, time limit…
        return None, exc.errors or [{"field": "(page)", "event_index": None, "label_zh": "",
                                     "message_zh": exc.message_zh, "message_en": exc.message_en}], exc.status


@router.post("/check", response_class=HTMLResponse, include_in_schema=False)
async def check(request: Request):
    data = await request.form()
    lang = page_lang(request, data.get("lang") if isinstance(data.get("lang"), str) else None)
    submitted = form.read_form(data)
    result, problems, status = await _evaluate_form(request, submitted)
    if result is None:
        errors, event_errors, loose = form.place_errors(problems, lang)
        return render("selfcheck.html", lang, status, **selfcheck_context(lang), values=submitted.entity,
                      events=submitted.events, errors=errors, event_errors=event_errors, loose=loose, as_of=submitted.as_of,
                      switch_href=other_lang(lang))
    amounts = [b for b in result.benefits if b.amount is not None]
    support = [b for b in result.benefits if b.amount is None]
    return render("result.html", lang, result=result, amounts=amounts, support=support, switch_href=other_lang(lang))


@router.get("/rules", response_class=HTMLResponse, include_in_schema=False)
async def rules_page(request: Request):
    from engine.web.api import parse_as_of

    lang = page_lang(request)
    rules = request.app.state.settings.rules
    text = request.query_params.get("as_of")
    try:
        when = parse_as_of(text) if text else None
    except ApiError:
        when = None
    listed = [catalogue.rule_summary(rules, r, when) for r in rules.rules]
    return render("rules.html", lang, rules=listed, documents=rules.documents, as_of=when)


@router.get("/bureau", response_class=HTMLResponse, include_in_schema=False)
async def bureau_page(request: Request):
    lang = page_lang(request)
    return render("bureau.html", lang, enabled=request.app.state.settings.token is not None, error=None)


@router.post("/bureau", include_in_schema=False)
async def bureau_upload(request: Request) -> Response:
    from engine.web.bureau import handle_upload

    data = await request.form()
    lang = page_lang(request, data.get("page_lang") if isinstance(data.get("page_lang"), str) else None)
    try:
        return await handle_upload(request, data, token=data.get("token"))
    except ApiError as exc:
        message = exc.message_en if lang == "en" else exc.message_zh
        details = [(e["message_en"] if lang == "en" else e["message_zh"]) for e in exc.errors]
        return render("bureau.html", lang, exc.status, enabled=request.app.state.settings.token is not None,
                      error=message, details=details, switch_href=other_lang(lang, "/bureau"))
    finally:
        await data.close()
