"""Unit words in a column kept in 万元 (issue 16.3): "1.5万元", "15000元", "1.5亿元" convert exactly, and
the per-profile parser and the batch read the same text the same way."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.batch import read_population
from engine.profile import ProfileError, parse_profile
from engine.textnorm import parse_in_unit

BASE = {"统一社会信用代码": "91350100M000100Y43", "名称": "阜新某新材料有限公司", "所在城市": "阜新"}
CASES = [("1.5万元", "1.5"), ("1.5万", "1.5"), ("15000元", "1.5"), ("15,000元", "1.5"), ("1.5亿元", "15000"),
         ("1.5", "1.5"), ("１．５万元", "1.5"), ("1元", "0.0001"), ("0.5元", "0.00005"), ("1,500", "1500")]


@pytest.mark.parametrize(("text", "wan"), CASES)
def test_unit_words_convert_to_the_columns_unit(text, wan):
    assert parse_in_unit(text, "万元") == Decimal(wan)
    assert parse_profile({**BASE, "营业收入（万元）": text, "资产总额（万元）": text}).revenue_wan == Decimal(wan)


@pytest.mark.parametrize("text", ["1.5万美元", "¥1.5", "70%", "1.5千克"])
def test_unconvertible_values_say_how_to_write_them(text):
    with pytest.raises(ProfileError) as caught:
        parse_profile({**BASE, "营业收入（万元）": text})
    assert "本列单位为万元" in str(caught.value) and "15000元" in str(caught.value)
    assert "this column is in 万元" in str(caught.value)


def test_batch_reads_unit_words_as_the_per_profile_parser(tmp_path: Path):
    texts = [t for t, _ in CASES] + ["1.5万美元"]
    rows = [{**BASE, "统一社会信用代码": code, "营业收入（万元）": text}
            for code, text in zip(_codes(len(texts)), texts)]
    pl.DataFrame(rows).write_csv(tmp_path / "e.csv")
    population = read_population(tmp_path / "e.csv")
    assert population.rows_accounted() == population.rows_in
    for eid in range(len(population)):
        assert population.profile(eid).revenue_wan == Decimal(CASES[eid][1])
    scaled = population.entities.get_column("revenue_wan").to_list()
    finer = [Decimal(w).as_tuple().exponent < -4 for _, w in CASES]  # beyond the columnar scale: per-profile engine
    assert population.entities.get_column("fallback").to_list() == finer
    assert [Decimal(v).scaleb(-4) for v, f in zip(scaled, finer) if not f] == [Decimal(w) for (_, w), f in zip(CASES, finer) if not f]
    error = population.errors.row(0, named=True)
    assert error["value"] == "1.5万美元" and "本列单位为万元" in error["message_zh"]
    with pytest.raises(ProfileError) as caught:
        parse_profile({**BASE, "营业收入（万元）": "1.5万美元"})
    assert caught.value.errors[0].message_zh == error["message_zh"]


@given(st.decimals(min_value=0, max_value=10**9, places=4, allow_nan=False))
def test_yuan_and_wan_spellings_agree(wan):
    yuan = wan * 10000
    assert parse_in_unit(f"{wan:f}万元", "万元") == wan
    assert parse_in_unit(f"{yuan:f}元", "万元") == wan
    assert parse_in_unit(f"{wan.scaleb(-4):f}亿元", "万元") == wan


def _codes(n: int) -> list[str]:
    import random

    from engine.batch.synth import credit_codes

    return credit_codes(random.Random(5), n, ["91"] * n, ["阜新市"] * n)
