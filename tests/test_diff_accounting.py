"""``huiqi diff`` counts the rows it could not read and exits 5 when there are any, as ``huiqi batch`` does (issue 16.4)."""

from __future__ import annotations

import json
from pathlib import Path

from engine.cli import EXIT_OK, EXIT_ROW_ERRORS, main
from engine.drafting.population import read_population

EXAMPLE = Path("examples/diff")
BASE = {"统一社会信用代码": "91350100M000100Y43", "名称": "阜新某新材料有限公司", "所在城市": "阜新", "企业规模": "小型",
        "events": [{"type": "商标国际注册", "date": "2016-05-01", "费用": "10000元"}]}


def _diff(population: Path, *extra: str) -> list[str]:
    return ["diff", "rules", str(EXAMPLE / "rate80"), "--population", str(population), "--as-of", "2020-12-31", *extra]


def test_table_population_rows_not_read_are_counted_and_exit_5(tmp_path, capsys):
    population = read_population(EXAMPLE / "population.csv", EXAMPLE / "events.csv")
    assert population.rows_in["enterprises"] == 240 and population.rows_not_read["enterprises"] == 1
    assert population.rows_not_read["events"] == population.rows_in["events"] - sum(len(p.events) for p in population.profiles)
    report = tmp_path / "r.xlsx"
    code = main(_diff(EXAMPLE / "population.csv", "--events", str(EXAMPLE / "events.csv"), "-o", str(report)))
    assert code == EXIT_ROW_ERRORS
    out = capsys.readouterr()
    assert "已评估主体 239 · 未评估的企业行 1 / 240" in out.out
    assert "部分行无法读取" in out.err
    from openpyxl import load_workbook

    summary = {row[0].value: row[1].value for row in load_workbook(report)["摘要"].iter_rows()}
    assert summary["未评估的企业行"] == 1 and summary["已评估主体"] == 239


def test_json_population_counts_refused_profiles(tmp_path, capsys):
    bad = {**BASE, "统一社会信用代码": "123"}
    (tmp_path / "p.json").write_text(json.dumps([BASE, bad, bad], ensure_ascii=False), encoding="utf-8")
    assert main(_diff(tmp_path / "p.json", "--lang", "en")) == EXIT_ROW_ERRORS
    assert "Entities evaluated 1 · Enterprise rows not evaluated 2 / 3" in capsys.readouterr().out
    (tmp_path / "ok.json").write_text(json.dumps([BASE], ensure_ascii=False), encoding="utf-8")
    assert main(_diff(tmp_path / "ok.json")) == EXIT_OK
