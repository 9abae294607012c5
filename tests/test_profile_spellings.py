"""Two spellings of one field (``city`` and ``所在城市``) or one JSON key given twice are refused with both keys
named, in the library, the CLI and the batch alike: keeping either silently moves the entity to another city."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import schema
from engine.batch import read_population
from engine.batch.sources import BadInput
from engine.cli import EXIT_BAD_INPUT, main
from engine.json_keys import loads
from engine.profile import ProfileError

BASE = {"统一社会信用代码": "91350100M000100Y43", "名称": "沈阳某公司", "所在城市": "沈阳", "企业规模": "小型"}
AS_OF = date(2019, 12, 31)


def refusal(data) -> ProfileError:
    with pytest.raises(ProfileError) as caught:
        engine.evaluate(data, as_of=AS_OF)
    return caught.value


def test_city_and_its_chinese_alias_are_refused_naming_both():
    error = refusal({**BASE, "city": "阜新"})
    assert [e.field for e in error.errors] == ["city"]
    assert "「所在城市」和「city」都对应字段 city" in error.errors[0].text("zh")
    assert "keys '所在城市' and 'city' both mean field city; keep one" in error.errors[0].text("en")


def test_parse_profile_refuses_aliases_too():
    with pytest.raises(ProfileError, match="'名称' and '企业名称' both mean field name"):
        engine.parse_profile({**BASE, "企业名称": "另一家"})


def test_events_and_their_chinese_key_are_refused():
    event = {"type": "商标国际注册", "date": "2016-05-01", "费用": "100"}
    error = refusal({**BASE, "events": [event], "事件": [event]})
    assert "keys 'events' and '事件' both mean field events" in str(error)


def test_an_event_with_two_spellings_of_its_cost_is_refused():
    error = refusal({**BASE, "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "100", "cost": "9999"}]})
    assert error.errors[0].event_index == 0
    assert "event 1, field cost: keys '费用' and 'cost' both mean field cost" in error.errors[0].text("en")
    two_types = refusal({**BASE, "events": [{"类型": "商标国际注册", "事件类型": "专利申请", "date": "2016-05-01"}]})
    assert "'类型' and '事件类型' both mean field type" in str(two_types)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from([f for f in schema.ENTITY_FIELDS if len({f.name, f.zh, f.en, *f.aliases}) > 1]), st.data())
def test_any_two_spellings_of_any_entity_field_are_refused(spec, data):
    spellings = sorted({spec.name, spec.zh, spec.en, *spec.aliases})
    first, second = data.draw(st.lists(st.sampled_from(spellings), min_size=2, max_size=2, unique=True))
    raw = {k: v for k, v in BASE.items() if schema.field_for_header(k, schema.ENTITY_HEADERS) != spec.name}
    raw[first], raw[second] = "x", "y"
    with pytest.raises(ProfileError) as caught:
        engine.parse_profile(raw)
    assert any(f"'{first}' and '{second}' both mean field {spec.name}" in e.message_en for e in caught.value.errors)


def test_one_spelling_is_still_fine():
    assert engine.parse_profile({**BASE}).city == "沈阳市"


# -- JSON: the same key twice ----------------------------------------------------------------------

def test_json_loads_marks_a_repeated_key():
    data = loads('{"所在城市": "沈阳", "名称": "x", "所在城市": "阜新"}')
    assert data["所在城市"] == "阜新" and data.repeated == ("所在城市",)
    with pytest.raises(ProfileError, match="key '所在城市' is given twice; keep one"):
        engine.parse_profile(data)


def profile_file(tmp_path, text: str):
    path = tmp_path / "p.json"
    path.write_text(text, encoding="utf-8")
    return path


def test_cli_refuses_a_json_key_given_twice(tmp_path, capsys):
    body = json.dumps(BASE, ensure_ascii=False)[:-1] + ', "所在城市": "阜新"}'
    code = main(["evaluate", str(profile_file(tmp_path, body)), "--as-of", "2019-12-31", "--lang", "en"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "key '所在城市' is given twice; keep one" in err


def test_cli_refuses_a_repeated_key_inside_an_event(tmp_path, capsys):
    body = json.dumps(BASE, ensure_ascii=False)[:-1] + (
        ', "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "100", "费用": "100000"}]}')
    code = main(["evaluate", str(profile_file(tmp_path, body)), "--as-of", "2019-12-31"])
    err = capsys.readouterr().err
    assert code == EXIT_BAD_INPUT and "事件1的字段「费用」" in err and "键「费用」出现了两次" in err


def test_cli_refuses_aliases(tmp_path, capsys):
    code = main(["evaluate", str(profile_file(tmp_path, json.dumps({**BASE, "city": "阜新"}, ensure_ascii=False))),
                 "--as-of", "2019-12-31"])
    assert code == EXIT_BAD_INPUT and "键「所在城市」和「city」都对应字段 city" in capsys.readouterr().err


# -- batch: jsonl records, and the spreadsheet header wording they share --------------------------------

def jsonl(tmp_path, *lines: str):
    path = tmp_path / "list.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_batch_jsonl_refuses_aliases_naming_line_and_keys(tmp_path):
    record = json.dumps({**BASE, "city": "阜新"}, ensure_ascii=False)
    with pytest.raises(BadInput) as caught:
        read_population(jsonl(tmp_path, json.dumps(BASE, ensure_ascii=False), record))
    assert caught.value.message_en == "list.jsonl line 2: keys '所在城市' and 'city' both mean field city; keep one"


def test_batch_jsonl_refuses_a_repeated_key_and_nested_event_aliases(tmp_path):
    repeated = json.dumps(BASE, ensure_ascii=False)[:-1] + ', "所在城市": "阜新"}'
    with pytest.raises(BadInput, match="line 1: key '所在城市' is given twice"):
        read_population(jsonl(tmp_path, repeated))
    nested = json.dumps({**BASE, "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "1", "cost": "2"}]},
                        ensure_ascii=False)
    with pytest.raises(BadInput, match="line 1: keys '费用' and 'cost' both mean field cost"):
        read_population(jsonl(tmp_path, nested))
    repeated_in_event = json.dumps(BASE, ensure_ascii=False)[:-1] + (
        ', "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "1", "费用": "2"}]}')
    with pytest.raises(BadInput, match="line 1: key '费用' is given twice"):
        read_population(jsonl(tmp_path, repeated_in_event))
    both = json.dumps({**BASE, "events": [], "事件": []}, ensure_ascii=False)
    with pytest.raises(BadInput, match="keys 'events' and '事件' both mean field events"):
        read_population(jsonl(tmp_path, both))


def test_spreadsheet_aliased_columns_keep_their_wording(tmp_path):
    (tmp_path / "e.csv").write_text("统一社会信用代码,名称,企业名称,所在城市\n91350100M000100Y43,甲,乙,沈阳\n", encoding="utf-8")
    with pytest.raises(BadInput) as caught:
        read_population(tmp_path / "e.csv")
    assert caught.value.message_zh == "e.csv：列「名称」和「企业名称」都对应字段 name，请只保留一列"
    assert caught.value.message_en == "e.csv: columns '名称' and '企业名称' both mean field name; keep one"


def test_diff_population_json_refuses_a_key_given_twice(tmp_path):
    from engine.drafting.population import read_population as read_for_diff

    body = json.dumps(BASE, ensure_ascii=False)[:-1] + ', "所在城市": "阜新"}'
    population = read_for_diff(profile_file(tmp_path, "[" + body + "]"))
    assert population.profiles == [] and "键「所在城市」出现了两次" in population.errors[0]
