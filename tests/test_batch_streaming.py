"""The chunked (streaming) batch path gives the in-memory path's outputs.

Chunks are forced tiny (37 enterprises) so a few hundred enterprises span several chunks; duplicates and
events are placed so that they cross chunk boundaries.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from engine.batch import stream, synth
from engine.batch.run import run_batch

AS_OF = date(2022, 6, 30)
CHUNK = 37


def _inputs(tmp: Path) -> dict[str, tuple[Path, Path]]:
    ents, evs = synth.population(300, 3.0, seed=11)
    codes = ents.get_column("credit_code").to_list()
    codes[250] = codes[3]  # a duplicate split across chunks (rows in chunk 0 and chunk 6)
    codes[120] = codes[121]  # a duplicate inside one chunk
    ents = ents.with_columns(pl.Series("credit_code", codes))
    # events in reverse order (late enterprises' events come first), plus an unknown and a blank code
    evs = evs.reverse()
    extra = evs.head(3).with_columns(pl.Series("credit_code", ["91210100MA0UNKNOWN", None, codes[250]]))
    evs = pl.concat([evs.slice(0, 40), extra, evs.slice(40)])
    out = {}
    folder = tmp / "in"
    folder.mkdir()
    ents.write_parquet(folder / "e.parquet")
    evs.write_parquet(folder / "v.parquet")
    out["parquet"] = (folder / "e.parquet", folder / "v.parquet")
    text_e = ents.with_columns(pl.all().cast(pl.String))
    text_v = evs.with_columns(pl.all().cast(pl.String))
    names = text_e.columns
    # a bad cell and a blank row in the CSV
    text_e = text_e.with_columns(pl.when(pl.int_range(pl.len()) == 77).then(pl.lit("not a number"))
                                 .otherwise(pl.col(names[-1])).alias(names[-1]))
    blank = pl.DataFrame({c: [None] for c in names}, schema=text_e.schema)
    text_e = pl.concat([text_e.slice(0, 100), blank, text_e.slice(100)])
    text_e.write_csv(folder / "e.csv")
    text_v.write_csv(folder / "v.csv")
    out["csv"] = (folder / "e.csv", folder / "v.csv")
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    return _inputs(tmp_path_factory.mktemp("stream"))


def _run(inputs, source: str, fmt: str, out: Path, chunk: int | None, lang: str = "zh"):
    ents, evs = inputs[source]
    target = out / ("out.xlsx" if fmt == "xlsx" else "out")
    return run_batch(ents, evs, as_of=AS_OF, out=target, fmt=fmt, lang=lang, chunk_rows=chunk)


def test_plan_only_above_threshold(inputs):
    ents, evs = inputs["parquet"]
    assert stream.plan(ents, evs) is None  # default: 1,500,000 rows
    assert stream.plan(ents, evs, 1000) is None
    plan = stream.plan(ents, evs, CHUNK)
    assert plan is not None and plan.chunks == -(-300 // CHUNK)


@pytest.mark.parametrize("source", ["parquet", "csv"])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_byte_identical(inputs, tmp_path, source, fmt):
    whole = _run(inputs, source, fmt, tmp_path / "whole", None)
    chunked = _run(inputs, source, fmt, tmp_path / "chunked", CHUNK)
    assert [p.name for p in whole.files] == [p.name for p in chunked.files]
    for a, b in zip(whole.files, chunked.files):
        if a.name.endswith("manifest.json"):
            assert json.loads(a.read_text())["stable"] == json.loads(b.read_text())["stable"]
        else:
            assert a.read_bytes() == b.read_bytes(), a.name
    assert chunked.rows_in == whole.rows_in == chunked.rows_accounted
    assert chunked.error_rows == whole.error_rows > 0
    assert chunked.timings["total"] > 0


def test_english_csv_byte_identical(inputs, tmp_path):
    whole = _run(inputs, "csv", "csv", tmp_path / "whole", None, "en")
    chunked = _run(inputs, "csv", "csv", tmp_path / "chunked", CHUNK, "en")
    for a, b in zip(whole.files, chunked.files):
        if not a.name.endswith("manifest.json"):
            assert a.read_bytes() == b.read_bytes(), a.name
    assert whole.manifest["stable"] == chunked.manifest["stable"]


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns([pl.col(c).cast(pl.String) for c, d in frame.schema.items() if isinstance(d, (pl.Enum, pl.Categorical))])


@pytest.mark.parametrize("source", ["parquet", "csv"])
def test_parquet_same_content(inputs, tmp_path, source):
    whole = _run(inputs, source, "parquet", tmp_path / "whole", None)
    chunked = _run(inputs, source, "parquet", tmp_path / "chunked", CHUNK)
    again = _run(inputs, source, "parquet", tmp_path / "again", CHUNK)
    for a, b, c in zip(whole.files, chunked.files, again.files):
        assert b.read_bytes() == c.read_bytes() or b.name == "manifest.json"  # byte-stable across chunked re-runs
        if a.name == "manifest.json":
            continue
        left, right = pl.read_parquet(a), pl.read_parquet(b)
        assert _plain(left).equals(_plain(right)), a.name
        assert _plain(left).schema == right.schema, a.name
        if a.stem.startswith("summary") or a.stem in ("errors", "rules"):
            assert a.read_bytes() == b.read_bytes(), a.name
    ws, cs = whole.manifest["stable"], chunked.manifest["stable"]
    assert {k: v for k, v in ws.items() if k != "outputs"} == {k: v for k, v in cs.items() if k != "outputs"}
    assert [(o["file"], o["rows"]) for o in ws["outputs"]] == [(o["file"], o["rows"]) for o in cs["outputs"]]


def test_duplicates_and_routed_events(inputs, tmp_path):
    chunked = _run(inputs, "parquet", "csv", tmp_path / "c", CHUNK, "en")
    errors = pl.read_csv(chunked.out / "errors.csv")
    dup = errors.filter(pl.col("problem").str.starts_with("duplicate credit code"))
    assert sorted(dup.get_column("row").to_list()) == [4, 121, 122, 251]
    assert dup.filter(pl.col("row") == 4).get_column("problem").item().startswith("duplicate credit code: same as e.parquet row 251")
    orphan = errors.filter(pl.col("file") == "v.parquet").get_column("problem").to_list()
    assert any("no enterprise with this credit code" in m for m in orphan)
    assert any("duplicated in the enterprise table" in m for m in orphan)
    # an enterprise of the last chunk whose events came first in the events file still has its events
    whole = _run(inputs, "parquet", "csv", tmp_path / "w", None, "en")
    a, b = pl.read_csv(whole.out / "entities.csv"), pl.read_csv(chunked.out / "entities.csv")
    assert a.equals(b) and b.tail(10).get_column("events counted").sum() > 0


def test_threshold_env(inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("HUIQI_BATCH_CHUNK_ROWS", str(CHUNK))
    ents, evs = inputs["parquet"]
    assert stream.plan(ents, evs) is not None
    with pytest.raises(ValueError):
        stream.chunk_rows_setting(0)


def test_a_claim_round_streams_like_the_one_pass_run(inputs, tmp_path):
    """Period and ledger through the chunked path: the same tables (the to-pay list is ordered by department
    within each chunk, so only its rows are compared as a set) and the same round account in the manifest."""
    from decimal import Decimal

    from engine.claims import InMemoryClaims, PaidClaim

    ents, evs = inputs["parquet"]
    first = run_batch(ents, evs, as_of=date(2019, 12, 31), out=tmp_path / "r2019", fmt="csv", period="2019")
    lines = pl.read_csv(first.out / "lines.csv").filter(pl.col("金额（元）").is_not_null())
    ledger = InMemoryClaims(PaidClaim(code, key, rule, Decimal(str(amount)), "paid", "2019年度", recorded_at="2020-02-01")
                            for code, key, rule, amount in lines.select("统一社会信用代码", "一次性键", "规则编号", "金额（元）").iter_rows())
    runs = [run_batch(ents, evs, as_of=AS_OF, out=tmp_path / f"o{chunk}", fmt="csv", chunk_rows=chunk,
                      period=(date(2019, 7, 1), date(2021, 12, 31)), ledger=ledger) for chunk in (None, CHUNK)]
    whole, chunked = runs
    assert whole.manifest["stable"] == chunked.manifest["stable"]
    assert whole.manifest["stable"]["round"]["already_paid_lines"] > 0
    for a, b in zip(whole.files, chunked.files):
        if a.name == "to_pay.csv":
            assert sorted(a.read_text(encoding="utf-8-sig").splitlines()) == sorted(b.read_text(encoding="utf-8-sig").splitlines())
        elif not a.name.endswith("manifest.json"):
            assert a.read_bytes() == b.read_bytes(), a.name
