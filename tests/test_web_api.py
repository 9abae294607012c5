"""The JSON API and pages through FastAPI's in-process client: every endpoint, its errors and its limits."""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import given

import engine
from engine import schema
from engine.web.app import create_app
from engine.web.settings import Limits, Settings
from tests.test_fuzz_profiles import fuzz
from tests.test_fuzz_profiles import profiles as fuzzed_profiles
from tests.webkit import FUXIN, ROOT, TOKEN, input_rows, results_accounting

PROFILES = sorted((ROOT / "examples" / "profiles").glob("*.json"))
SAMPLE = ROOT / "examples" / "batch" / "sample.xlsx"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture(scope="module")
def rules():
    return engine.load_rules()


@pytest.fixture(scope="module")
def client(rules):
    with TestClient(create_app(Settings(rules=rules, token=TOKEN, workers=1)), raise_server_exceptions=False) as c:
        yield c


def _client(rules, **changes):
    settings = Settings(rules=rules, token=TOKEN, workers=0)
    if "limits" in changes:
        changes["limits"] = replace(Limits(), **changes["limits"])
    return TestClient(create_app(replace(settings, **changes)), raise_server_exceptions=False)


# -- /v1/evaluate ------------------------------------------------------------------------------

@pytest.mark.parametrize("path", PROFILES[:6], ids=lambda p: p.stem)
def test_evaluate_answers_exactly_the_library_json(client, rules, path):
    profile = json.loads(path.read_text(encoding="utf-8"))
    answer = client.post("/v1/evaluate", json={"profile": profile, "as_of": "2019-12-31"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.text == engine.evaluate(profile, date(2019, 12, 31), rules).to_json()


def test_evaluate_in_a_claim_period_answers_the_library_json(client, rules):
    inside = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019-12-31", "period": "2016"})
    assert inside.status_code == 200
    assert inside.text == engine.evaluate(FUXIN, date(2019, 12, 31), rules, period="2016").to_json()
    assert [b["amount"] for b in inside.json()["benefits"] if b["rule_id"] == "ln2015.trademark.intl-subsidy"] == ["8641.97"]
    outside = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019-12-31", "period": "2019"}).json()
    assert not [b for b in outside["benefits"] if b["rule_id"] == "ln2015.trademark.intl-subsidy"]
    assert [e["event"]["date"] for e in outside["outside_period"]] == ["2016-05-01"]  # listed, never dropped


@pytest.mark.parametrize("period", ["2020", "2019-13-01..2019-12-31", "sometime"])
def test_a_bad_claim_period_is_a_422_on_that_field(client, period):
    answer = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019-12-31", "period": period})
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "period" and "申报期" in error["message_zh"] and error["message_en"]


def test_evaluate_with_traces_and_a_chinese_date(client, rules):
    answer = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019年12月31日", "traces": True})
    assert answer.status_code == 200
    expected = engine.evaluate(FUXIN, date(2019, 12, 31), rules, explain=True)
    assert answer.text == expected.to_json(traces=True)
    [line] = [b for b in answer.json()["benefits"] if b["rule_id"] == "ln2015.trademark.intl-subsidy"]
    assert line["amount"] == "8641.97" and "70%" in line["source"]["quote"]


def test_bad_profile_is_422_with_the_librarys_field_messages(client):
    profile = {**FUXIN, "统一社会信用代码": "12345", "企业规模": "巨型",
               "events": [{"type": "商标国际注册", "date": "2016-02-30", "费用": "abc"}]}
    answer = client.post("/v1/evaluate", json={"profile": profile, "as_of": "2019-12-31"})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "invalid_input"
    with pytest.raises(engine.ProfileError) as library:
        engine.parse_profile(profile)
    expected = [{"location": "profile", **e.model_dump()} for e in library.value.errors]
    assert body["errors"] == expected
    fields = {(e["field"], e["event_index"]) for e in body["errors"]}
    assert {("credit_code", None), ("size_class", None), ("date", 0), ("cost", 0)} <= fields
    assert all(e["message_zh"] and e["message_en"] for e in body["errors"])


@pytest.mark.parametrize("as_of, message", [("2019-13-01", "no such date"), ("", "required"), ("tomorrow", "")])
def test_bad_evaluation_date_is_422_naming_as_of(client, as_of, message):
    answer = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": as_of})
    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["field"] == "as_of" and error["label_zh"] == "评估日"
    assert message in error["message_en"].lower()


@pytest.mark.parametrize("body, field, words", [
    ({"profile": FUXIN}, "as_of", "required field is missing"),
    ({"profile": FUXIN, "as_of": "2019-12-31", "period": "2019-H2"}, "period", "not understood"),
    ({"profile": "not an object", "as_of": "2019-12-31"}, "profile", "must be an object"),
    ({"profile": FUXIN, "as_of": "2019-12-31", "lang": "fr"}, "lang", ""),
    ({"profile": FUXIN, "as_of": "2019-12-31", "traces": "perhaps"}, "traces", "true or false"),
])
def test_malformed_requests_are_422_with_zh_and_en(client, body, field, words):
    answer = client.post("/v1/evaluate", json=body)
    assert answer.status_code == 422
    errors = answer.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    assert words in errors[0]["message_en"] and errors[0]["message_zh"]


def test_a_body_that_is_not_json_is_422(client):
    answer = client.post("/v1/evaluate", content=b"{not json", headers={"content-type": "application/json"})
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["message_en"] == "not valid JSON"


def test_too_many_events_is_refused_before_evaluation(rules):
    events = [{"type": "专利申请", "date": "2016-01-01", "专利类型": "发明"}] * 6
    with _client(rules, limits={"max_events": 5}) as c:
        answer = c.post("/v1/evaluate", json={"profile": {**FUXIN, "events": events}, "as_of": "2019-12-31"})
        assert answer.status_code == 422 and answer.json()["error"] == "too_many_events"
        ok = c.post("/v1/evaluate", json={"profile": {**FUXIN, "events": events[:5]}, "as_of": "2019-12-31"})
        assert ok.status_code == 200


def test_body_over_the_limit_is_413_declared_or_streamed(rules):
    with _client(rules, limits={"max_json_bytes": 2_000}) as c:
        big = {"profile": {**FUXIN, "名称": "x" * 3_000}, "as_of": "2019-12-31"}
        answer = c.post("/v1/evaluate", json=big)
        assert answer.status_code == 413 and answer.json()["error"] == "too_large"

        def chunks():  # no Content-Length: counted as it arrives
            yield json.dumps(big).encode()[:1500]
            yield json.dumps(big).encode()[1500:]

        streamed = c.post("/v1/evaluate", content=chunks(), headers={"content-type": "application/json"})
        assert streamed.status_code == 413 and "MB" in streamed.json()["message_en"]
        assert c.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019-12-31"}).status_code == 200


def test_a_request_over_its_time_limit_is_stopped_and_the_server_recovers(rules):
    # The first evaluation of a date compiles the durable_rules engine (~1 s): far over 1 ms.
    with _client(rules, workers=1, limits={"seconds_per_request": 0.001}) as c:
        answer = c.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2018-12-31"})
        assert answer.status_code == 503 and answer.json()["error"] == "time_limit"
        assert c.get("/healthz").status_code == 200


def test_a_worker_that_dies_costs_one_answer_and_is_replaced(rules):
    with _client(rules, workers=1) as c:
        body = {"profile": FUXIN, "as_of": "2019-12-31"}
        expected = c.post("/v1/evaluate", json=body).text
        for process in list(c.app.state.pool._executor._processes.values()):  # as a segfault in durable_rules would
            process.kill()
            process.join()
        lost = c.post("/v1/evaluate", json=body)
        assert lost.status_code == 503 and lost.json()["error"] == "worker_lost"
        assert c.post("/v1/evaluate", json=body).text == expected


def test_an_unexpected_failure_is_a_plain_500_without_a_traceback(rules, monkeypatch):
    from engine.web import catalogue

    def broken(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(catalogue, "rule_summary", broken)  # a bug in the server's own code
    with _client(rules) as c:
        answer = c.get("/v1/rules")
    assert answer.status_code == 500
    assert answer.json() == {"error": "internal", "message_zh": "服务器内部错误（程序缺陷，不是输入的问题）",
                             "message_en": "internal server error (a bug, not a problem with your input)"}
    assert "secret" not in answer.text and "Traceback" not in answer.text


# -- /v1/explain -------------------------------------------------------------------------------

def test_explain_one_rule(client, rules):
    answer = client.post("/v1/explain", json={"profile": FUXIN, "as_of": "2019-12-31", "rule": "ln2015.trademark.intl-subsidy",
                                              "lang": "en"})
    assert answer.status_code == 200
    body = answer.json()
    result = engine.evaluate(FUXIN, date(2019, 12, 31), rules, explain=True)
    expected = [t.model_dump(mode="json") for t in result.traces if t.rule_id == "ln2015.trademark.intl-subsidy"]
    assert body["traces"] == expected and body["traces"][0]["status"] == "eligible"
    assert body["benefits"][0]["amount"] == "8641.97"
    assert "12,345.67 × 70% = 8,641.97" in body["text"] and "Source" in body["text"]


def test_explain_an_unknown_rule_is_404_with_a_suggestion(client):
    answer = client.post("/v1/explain", json={"profile": FUXIN, "as_of": "2019-12-31", "rule": "ln2015.trademark.intl-subsidi"})
    assert answer.status_code == 404
    body = answer.json()
    assert body["error"] == "unknown_rule" and "ln2015.trademark.intl-subsidy" in body["message_en"]


# -- rules and documents -----------------------------------------------------------------------

def test_rules_list_with_status_on_a_date(client, rules):
    body = client.get("/v1/rules", params={"as_of": "2013-06-30"}).json()
    assert body["rule_set"] == rules.fingerprint and [r["id"] for r in body["rules"]] == [r.id for r in rules.rules]
    by_id = {r["id"]: r for r in body["rules"]}
    assert by_id["ln2015.trademark.intl-subsidy"]["status"] == "not_yet_in_force"
    assert by_id["ln2015.trademark.intl-subsidy"]["window"] == {"from": "2015-01-01", "to": "2020-12-31"}
    assert "status" not in client.get("/v1/rules").json()["rules"][0]
    assert client.get("/v1/rules", params={"as_of": "2019-02-30"}).status_code == 422


def test_one_rule_in_full_with_dated_parameter_steps(client, rules):
    body = client.get("/v1/rules/ln2015.trademark.intl-subsidy").json()
    rule = rules.by_id["ln2015.trademark.intl-subsidy"]
    assert body["citation"]["quote"] == rule.citation.quote and body["departments"] == list(rule.departments)
    assert body["window"] == {"from": "2015-01-01", "to": "2020-12-31"}
    [parameter] = body["parameters"]
    assert parameter["name"] == "ln2015_intl_trademark_rate"
    assert parameter["steps"][0]["start"] == "2015-01-01" and parameter["steps"][0]["value"] == "0.70"
    assert parameter["steps"][0]["citation"]["quote"]
    assert body["document"]["id"] == rule.document_id and rule.id in body["document"]["rules"]


def test_unknown_rule_is_404(client):
    answer = client.get("/v1/rules/no.such.rule")
    assert answer.status_code == 404 and answer.json()["error"] == "unknown_rule"


def test_documents(client, rules):
    body = client.get("/v1/documents").json()
    assert [d["id"] for d in body["documents"]] == sorted(rules.documents)
    assert sum(len(d["rules"]) for d in body["documents"]) == len(rules.rules)


def test_healthz(client, rules):
    assert client.get("/healthz").json() == {"status": "ok", "rule_set": rules.fingerprint, "rules": len(rules.rules),
                                              "workers": 1}


def test_openapi_lists_every_endpoint_and_the_docs_page_works_offline(client):
    spec = client.get("/openapi.json").json()
    assert {"/v1/evaluate", "/v1/explain", "/v1/rules", "/v1/rules/{rule_id}", "/v1/documents", "/v1/batch",
            "/healthz"} <= set(spec["paths"])
    docs = client.get("/docs")
    assert docs.status_code == 200 and "/v1/evaluate" in docs.text and "as_of" in docs.text


@pytest.mark.parametrize("page", ["/", "/?lang=en", "/rules", "/bureau", "/docs"])
def test_pages_load_nothing_from_outside(client, page):
    answer = client.get(page)
    assert answer.headers["content-security-policy"].startswith("default-src 'self'")  # the browser enforces it too
    html = answer.text
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(?i)(https?:)?//", ref), ref
        if ref.startswith("/static/"):
            assert client.get(ref).status_code == 200


def test_unknown_address_is_404_json(client):
    answer = client.get("/v2/evaluate")
    assert answer.status_code == 404 and answer.json()["error"] == "not_found"


# -- the self-check page -----------------------------------------------------------------------

def test_form_offers_every_schema_field_and_each_event_types_fields(client):
    html = client.get("/").text
    for spec in schema.ENTITY_FIELDS:
        assert f'name="{spec.name}"' in html and spec.zh in html
    for event in schema.EVENT_TYPES:
        template = re.search(rf'<template id="tpl-fields-{event.code}">(.*?)</template>', html, re.S).group(1)
        names = re.findall(r'name="ev-__i__-([a-z_]+)"', template)
        assert names == ["date", *(f.name for f in event.fields), "ref"]


def _form(**changes):
    data = {"credit_code": "91350100M000100Y43", "name": "阜新某新材料有限公司", "city": "阜新市", "size_class": "small",
            "ev-0-type": "intl_trademark_registration", "ev-0-date": "2016-05-01", "ev-0-cost": "12345.67",
            "as_of": "2019-12-31"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_self_check_result_shows_amount_calculation_and_clause(client):
    page = client.post("/check", data=_form())
    assert page.status_code == 200
    assert "8,641.97" in page.text and "12,345.67 × 70% = 8,641.97" in page.text
    assert "对企业商标国际注册给予70%补助" in page.text and "可获得的奖补与支持" in page.text
    assert '<th class="num" id="total">8,641.97</th>' in page.text
    english = client.post("/check", data=_form(lang="en"))
    assert "Benefits and support" in english.text and "International trademark" in english.text


def test_self_check_shows_undetermined_with_what_is_missing(client):
    page = client.post("/check", data=_form(**{"size_class": None, "ev-0-cost": None}))
    assert page.status_code == 200
    undetermined = page.text.split('id="undetermined"')[1]
    assert "费用" in undetermined


def _as_form(data: dict, as_of: str) -> dict[str, list[str]]:
    """A profile as the self-check form sends it: schema names, one input per value, events as ev-<row>-<field>."""
    profile = engine.parse_profile(data)

    def text(value) -> str:
        return str(value).lower() if isinstance(value, bool) else (value.isoformat() if isinstance(value, date) else str(value))

    derived = {d.field for d in profile.derivations}
    fields: list[tuple[str, str]] = [("as_of", as_of)]
    for name, value in profile.entity_values().items():
        if name in derived:
            continue  # the form sends what the user typed; the engine derives the rest again
        fields += [(name, text(v)) for v in value] if isinstance(value, tuple) else [(name, text(value))]
    for row, event in enumerate(profile.events):
        fields += [(f"ev-{row}-{name}", text(value)) for name, value in event.values().items()]
    form: dict[str, list[str]] = {}
    for name, value in fields:
        form.setdefault(name, []).append(value)
    return form


def test_result_page_shows_requirements_with_shortfall_and_what_would_make_you_eligible(client, rules):
    data = json.loads((ROOT / "examples" / "profiles" / "05_fuxin_university_shortfall.json").read_text(encoding="utf-8"))
    data = {k: v for k, v in data.items() if v != []}  # no box ticked on the form means not known, not "none"
    result = engine.evaluate(data, date(2019, 12, 31), rules)
    page = client.post("/check", data=_as_form(data, "2019-12-31"))
    assert page.status_code == 200, page.text[:2000]
    [requirement] = result.requirements
    section = page.text.split('id="requirements"')[1].split("</section>")[0]
    assert requirement.status == "violated" and "未达到" in section
    assert f'<td class="num shortfall">{requirement.shortfall:,.2f}</td>' in section
    near = page.text.split('id="near-misses"')[1].split("</section>")[0]
    assert "如何才能符合" in page.text
    for miss in result.near_misses:
        assert miss.rule_id in near and miss.failed.description_zh in near


def test_errors_appear_next_to_the_offending_field(client):
    page = client.post("/check", data=_form(credit_code="12345", **{"ev-0-date": "2016-02-30"}, lang="en"))
    assert page.status_code == 422
    credit = re.search(r'data-field="credit_code">(.*?)</div>', page.text, re.S).group(1)
    assert 'id="err-credit_code"' in credit and "18 characters" in credit
    event_date = re.search(r'data-field="ev-0-date">(.*?)</div>', page.text, re.S).group(1)
    assert 'id="err-ev-0-date"' in event_date
    assert 'value="12345"' in page.text  # the input is shown again, to correct it


def test_a_missing_evaluation_date_is_an_error_at_that_field_with_the_profiles_errors(client):
    page = client.post("/check", data=_form(as_of="", credit_code="12345"))
    assert page.status_code == 422
    assert 'id="err-as_of"' in page.text and 'id="err-credit_code"' in page.text


def test_too_many_events_on_the_page_is_said_above_the_form(rules):
    rows = {f"ev-{i}-type": "pct_application" for i in range(3)} | {f"ev-{i}-date": "2016-01-01" for i in range(3)}
    with _client(rules, limits={"max_events": 2}) as c:
        page = c.post("/check", data=_form(**rows, lang="en"))
    assert page.status_code == 422
    summary = page.text.split('class="error-summary"')[1].split("</div>")[0]
    assert "too many events (at most 2 per profile)" in summary


# -- bureau uploads ----------------------------------------------------------------------------

def _upload(c, files, token=TOKEN, as_of="2019-12-31"):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return c.post("/v1/batch", files=files, data={"as_of": as_of}, headers=headers)


@pytest.fixture()
def tmp_root(tmp_path, monkeypatch):
    """Every temporary file of the server goes here, so a test sees what an upload left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_upload_gives_the_results_workbook_whose_rows_add_up(client, tmp_root):
    answer = _upload(client, {"enterprises": ("名单.xlsx", SAMPLE.read_bytes())})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert answer.headers["x-huiqi-rows-in"] == answer.headers["x-huiqi-rows-accounted"] == "1032"
    assert results_accounting(answer.content) == input_rows(SAMPLE) == {"企业": 304, "事件": 728}
    assert list(tmp_root.iterdir()) == []


def test_upload_page_form_returns_the_workbook(client, tmp_root):
    answer = client.post("/bureau", files={"enterprises": ("sample.xlsx", SAMPLE.read_bytes())},
                         data={"as_of": "2019-12-31", "token": TOKEN, "lang": "zh"})
    assert answer.status_code == 200 and "attachment" in answer.headers["content-disposition"]
    wrong = client.post("/bureau", files={"enterprises": ("sample.xlsx", SAMPLE.read_bytes())},
                        data={"as_of": "2019-12-31", "token": "wrong"})
    assert wrong.status_code == 401 and "访问口令缺失或不正确" in wrong.text
    assert list(tmp_root.iterdir()) == []


@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token"])
def test_upload_needs_the_token(client, token):
    answer = _upload(client, {"enterprises": ("sample.xlsx", SAMPLE.read_bytes())}, token=token)
    assert answer.status_code == 401 and answer.json()["error"] == "bad_token"


def test_uploads_are_off_without_a_token_file(rules):
    with _client(rules, token=None) as c:
        answer = _upload(c, {"enterprises": ("sample.xlsx", SAMPLE.read_bytes())})
        assert answer.status_code == 403 and answer.json()["error"] == "bureau_disabled"
        assert c.get("/").status_code == 200 and c.get("/v1/rules").status_code == 200  # public pages stay public


def _zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z, z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as m:
        for _ in range(40):
            m.write(b"<row>" * 200_000)  # 40 MB of XML in a few hundred KB
    return buffer.getvalue()


def _sparse_sheet(tmp: Path) -> bytes:
    import xlsxwriter

    path = tmp / "sparse.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("企业")
    sheet.write_row(0, 0, ["统一社会信用代码", "名称", "所在城市"])
    sheet.write(1_048_575, 16_383, "x")
    workbook.close()
    return path.read_bytes()


def test_hostile_uploads_get_a_clear_4xx_and_leave_nothing_behind(rules, tmp_path, tmp_root):
    csv_rows = "统一社会信用代码,名称,所在城市\n" + "91350100M000100Y43,某公司,阜新\n" * 30
    cases = [
        ({"enterprises": ("list.txt", b"hello")}, 415, "wrong_type"),
        ({"enterprises": ("list.xlsx", b"not a zip at all")}, 415, "wrong_type"),
        ({"enterprises": ("list.csv", SAMPLE.read_bytes())}, 415, "wrong_type"),
        ({"enterprises": ("list.csv", b"")}, 422, "empty_file"),
        ({"enterprises": ("bomb.xlsx", _zip_bomb())}, 413, "too_large"),
        ({"enterprises": ("sparse.xlsx", _sparse_sheet(tmp_path))}, 413, "too_large"),
        ({"enterprises": ("list.csv", csv_rows.encode())}, 413, "too_many_rows"),
        ({"enterprises": ("sample.xlsx", SAMPLE.read_bytes()), "events": ("events.exe", b"MZ")}, 415, "wrong_type"),
        ({"enterprises": ("big.csv", b"x" * 3_000_000)}, 413, "too_large"),
        ({"enterprises": ("list.csv", "名称\n某公司\n".encode())}, 422, "bad_input"),
    ]
    limits = {"max_unzipped_bytes": 20_000_000, "max_csv_rows": 20, "max_upload_bytes": 2_000_000}
    with _client(rules, workers=1, limits=limits) as c:
        for files, status, code in cases:
            answer = _upload(c, files)
            assert (answer.status_code, answer.json()["error"]) == (status, code), (files.keys(), answer.text)
            assert answer.json()["message_zh"] and answer.json()["message_en"]
            assert list(tmp_root.iterdir()) == []
        assert c.get("/healthz").status_code == 200


def test_upload_without_a_date_or_file_is_422(client):
    assert _upload(client, {"enterprises": ("sample.xlsx", SAMPLE.read_bytes())}, as_of="").status_code == 422
    answer = client.post("/v1/batch", data={"as_of": "2019-12-31"}, headers=AUTH)
    assert answer.status_code == 422 and answer.json()["error"] == "missing_file"


@fuzz(60)
@given(fuzzed_profiles())
def test_any_profile_gets_the_librarys_answer_or_its_errors_never_a_500_60(client, rules, data):
    text = json.dumps({"profile": data, "as_of": "2019-12-31"}, default=str, ensure_ascii=False)
    sent = json.loads(text)["profile"]
    answer = client.post("/v1/evaluate", content=text.encode(), headers={"content-type": "application/json"})
    try:
        expected = engine.evaluate(sent, date(2019, 12, 31), rules)
    except engine.ProfileError as exc:
        assert answer.status_code == 422
        assert answer.json()["errors"] == [{"location": "profile", **e.model_dump()} for e in exc.errors]
    else:
        assert answer.status_code == 200 and answer.text == expected.to_json()


# -- the payment ledger (huiqi serve --ledger) ---------------------------------------------------------------

def test_a_server_with_a_ledger_reports_what_was_already_paid(rules, tmp_path):
    from engine.ledger import open_lookup
    from engine.ledger.db import connect
    from engine.ledger.migrate import upgrade
    from engine.ledger.store import ClaimLine, RoundInfo, record

    url = f"sqlite:///{tmp_path / 'claims.db'}"
    database = connect(url, create=True)
    upgrade(database)
    [line] = engine.evaluate(FUXIN, date(2016, 12, 31), rules).benefit("ln2015.trademark.intl-subsidy")
    record(database, RoundInfo("2016", date(2016, 12, 31), rules.fingerprint),
           [ClaimLine(FUXIN["统一社会信用代码"], line.rule_id, line.once_key, 864197)], "paid")
    database.dispose()
    for workers in (0, 1):  # in the server process and in a worker process, which opens the ledger itself
        with _client(rules, workers=workers, ledger=url) as client:
            answer = client.post("/v1/evaluate", json={"profile": FUXIN, "as_of": "2019-12-31"})
            assert answer.status_code == 200
            assert answer.text == engine.evaluate(FUXIN, date(2019, 12, 31), rules, ledger=open_lookup(url)).to_json()
            paid = answer.json()["already_paid"]
            assert [p["line"]["rule_id"] for p in paid] == ["ln2015.trademark.intl-subsidy"]
            assert not answer.json()["benefits"] or all(b["rule_id"] != "ln2015.trademark.intl-subsidy"
                                                         for b in answer.json()["benefits"])
            page = client.post("/check", data=_form())  # the self-check page says so too
            assert "已兑现" in page.text.split('id="already-paid"')[1] and '<th class="num" id="total">8,641.97' not in page.text
