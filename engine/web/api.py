"""The JSON API, versioned under /v1: evaluate, explain, rules, documents; and /healthz."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from engine.period import PeriodError, as_period
from engine.render import render_explanation
from engine.results import Evaluation, Period, RuleTrace
from engine.rulebook import RuleSet
from engine.schema import suggest
from engine.textnorm import ParseError, parse_date
from engine.web import catalogue
from engine.web.errors import ApiError, field_error, invalid, parse_error
from engine.web.models import EvaluateRequest, ExplainRequest
from engine.web.worker import Pool, TimeLimit, WorkerGone, evaluate_job

router = APIRouter()


def parse_as_of(text: str | None, field: str = "as_of") -> date:
    if text is None or not str(text).strip():
        raise invalid([field_error(field, "评估日", "必填字段缺失", "required field is missing")])
    try:
        return parse_date(text)
    except ParseError as exc:
        raise invalid([parse_error(field, "评估日", exc, text)]) from None


def parse_period_field(text: str | None, as_of: date) -> Period | None:
    """The request's claim period, checked against ``as_of`` with the library's words (a 422 on ``period``)."""
    if text is None or not str(text).strip():
        return None
    try:
        return as_period(str(text), as_of)
    except PeriodError as exc:
        raise invalid([field_error("period", "申报期", exc.message_zh, exc.message_en, text)]) from None


def count_events(profile: dict[str, Any]) -> int:
    events = profile.get("events", profile.get("事件"))
    return len(events) if isinstance(events, (list, tuple)) else 0


async def run_evaluation(request: Request, profile: dict[str, Any], as_of: date, explain: bool = False,
                         traces: bool = False, period: Period | None = None) -> str:
    """The Evaluation JSON, exactly as ``engine.evaluate(profile, as_of, rules).to_json(traces)`` writes it."""
    state = request.app.state
    limit = state.settings.limits.max_events
    if count_events(profile) > limit:
        raise ApiError(422, "too_many_events", f"事件过多（每个主体最多 {limit} 个）",
                       f"too many events (at most {limit} per profile)")
    pool: Pool = state.pool
    try:
        kind, payload = await pool.run(evaluate_job, profile, as_of, explain, traces, period,
                                       timeout=state.settings.limits.seconds_per_request)
    except TimeLimit:
        seconds = state.settings.limits.seconds_per_request
        raise ApiError(503, "time_limit", f"评估超过时间上限（{seconds:g} 秒），已停止",
                       f"the evaluation took longer than the limit ({seconds:g} s) and was stopped") from None
    except WorkerGone:
        raise ApiError(503, "worker_lost", "评估进程意外退出，请重试", "the evaluation process stopped unexpectedly; "
                       "please retry") from None
    if kind == "invalid":
        raise invalid([{"location": "profile", **e} for e in payload])
    return payload


def _json(data: Any) -> Response:
    return Response(json.dumps(data, ensure_ascii=False, indent=2), media_type="application/json")


def rules_of(request: Request) -> RuleSet:
    return request.app.state.settings.rules


def known_rule(rules: RuleSet, rule_id: str):
    rule = rules.by_id.get(rule_id)
    if rule is None:
        hint = suggest(rule_id, rules.by_id)
        raise ApiError(404, "unknown_rule", f"未知规则：{rule_id}" + (f"（是否想写 {hint}？）" if hint else ""),
                       f"unknown rule: {rule_id}" + (f" (did you mean {hint}?)" if hint else ""))
    return rule


@router.post("/v1/evaluate", tags=["evaluate"], response_model=None,
             responses={200: {"model": Evaluation, "description": "engine.evaluate(...).to_json()"},
                        422: {"description": "field-level errors in zh and en"}})
async def evaluate_endpoint(body: EvaluateRequest, request: Request) -> Response:
    """Evaluate one profile as of a date: benefits, requirements, undetermined (what is missing), near misses."""
    as_of = parse_as_of(body.as_of)
    period = parse_period_field(body.period, as_of)
    text = await run_evaluation(request, body.profile, as_of, traces=body.traces, period=period)
    return Response(text, media_type="application/json")


@router.post("/v1/explain", tags=["evaluate"], response_model=None,
             responses={404: {"description": "unknown rule"}, 422: {"description": "field-level errors"}})
async def explain_endpoint(body: ExplainRequest, request: Request) -> Response:
    """How one rule was decided for a profile: each condition with the value read, the clause, the calculation."""
    rules = rules_of(request)
    rule = known_rule(rules, body.rule)
    as_of = parse_as_of(body.as_of)
    period = parse_period_field(body.period, as_of)
    result = Evaluation.model_validate_json(await run_evaluation(request, body.profile, as_of, explain=True, traces=True,
                                                                 period=period))
    traces: list[RuleTrace] = [t for t in result.traces if t.rule_id == rule.id]
    return _json({
        "rule": catalogue.rule_summary(rules, rule, as_of),
        "as_of": as_of.isoformat(), "rule_set": result.rule_set,
        "traces": [t.model_dump(mode="json") for t in traces],
        "benefits": [b.model_dump(mode="json") for b in result.benefit(rule.id)],
        "text": render_explanation(result, rule.id, body.lang),
    })


@router.get("/v1/rules", tags=["rules"])
async def rules_endpoint(request: Request, as_of: str | None = Query(None, description="show each rule's status on this date")):
    """Every rule with its window, amount and source (and its status on ``as_of`` when given)."""
    rules = rules_of(request)
    when = parse_as_of(as_of) if as_of is not None else None
    return _json({"rule_set": rules.fingerprint, "as_of": when.isoformat() if when else None,
                  "rules": [catalogue.rule_summary(rules, r, when) for r in rules.rules]})


@router.get("/v1/rules/{rule_id}", tags=["rules"], responses={404: {"description": "unknown rule"}})
async def rule_endpoint(rule_id: str, request: Request):
    """One rule in full: window, conditions, amount, parameters with their dated steps, quote, departments."""
    rules = rules_of(request)
    return _json({"rule_set": rules.fingerprint, **catalogue.rule_detail(rules, known_rule(rules, rule_id))})


@router.get("/v1/documents", tags=["rules"])
async def documents_endpoint(request: Request):
    """The policy documents the rules encode, each with its window and its rules."""
    rules = rules_of(request)
    return _json({"rule_set": rules.fingerprint,
                  "documents": [catalogue.document_json(rules, d) for d in sorted(rules.documents)]})


@router.get("/healthz", tags=["service"])
async def healthz(request: Request):
    """Liveness: the rule set in use and the worker model."""
    state = request.app.state
    return {"status": "ok", "rule_set": state.settings.rules.fingerprint, "rules": len(state.settings.rules.rules),
            "workers": state.settings.workers}
