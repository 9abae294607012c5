"""Reading a population (enterprises + events) for ``huiqi diff``: the one place that knows input formats.

When ``engine.batch.read_population`` exists it reads the tables (.csv/.xlsx/.parquet/.jsonl, one
error row per bad cell). A folder of profile JSON files or a ``.json`` file is read here; without
``engine.batch`` this module also reads: a folder of profile JSON files, a ``.json`` file (one profile or a
list), ``.jsonl`` (one profile per line), and ``.csv`` / ``.xlsx`` / ``.parquet`` tables whose headers
are profile fields (English names or Chinese aliases, as in ``engine.schema``), with events in a second
table (``--events``, or a sheet named 事件/events in the workbook) linked by 统一社会信用代码.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import schema
from engine.profile import Profile, ProfileError, parse_profile


@dataclass
class Population:
    profiles: list[Profile] = field(default_factory=list)  # in input order
    labels: list[str] = field(default_factory=list)  # where each profile came from (file or row)
    errors: list[str] = field(default_factory=list)  # rows that could not be read, with the reason


class PopulationError(ValueError):
    """The population file itself cannot be read."""


def read_population(path: str | Path, events: str | Path | None = None) -> Population:
    """Profiles in input order plus row errors, from any supported file."""
    source = Path(path)
    batch = _batch_reader()
    if batch is not None and not source.is_dir() and source.suffix.lower() != ".json":
        from engine.batch import BadInput

        try:
            return _from_batch(batch(path, events))
        except BadInput as exc:
            raise PopulationError(str(exc)) from None
    return _read_fallback(source, Path(events) if events else None)


def _batch_reader():
    try:
        from engine.batch import read_population as batch_read
    except ImportError:
        return None
    return batch_read


def _from_batch(result: Any) -> Population:
    """Adapt ``engine.batch.Population`` (typed tables in input order + an errors table)."""
    population = Population()
    profiles = result.profiles() if callable(result.profiles) else result.profiles
    population.profiles = list(profiles)
    entities = result.entities
    if {"source", "row"} <= set(entities.columns):
        population.labels = [f"{Path(str(s)).name}:{r}" for s, r in zip(entities["source"], entities["row"])]
    else:
        population.labels = [f"#{i + 1}" for i in range(len(population.profiles))]
    for error in result.errors.iter_rows(named=True):
        where = f"{Path(str(error.get('source') or '')).name}:{error.get('row')}"
        column = f" {error['column']}" if error.get("column") else ""
        value = f" \"{error['value']}\"" if error.get("value") not in (None, "") else ""
        action = f"（{error['action_zh']}）" if error.get("action_zh") else ""
        population.errors.append(f"{where}{column}{value}：{error.get('message_zh')}{action}")
    return population


# -- the fallback reader -------------------------------------------------------------------------

def _read_fallback(path: Path, events: Path | None) -> Population:
    if not path.exists():
        raise PopulationError(f"找不到文件 / file not found: {path}")
    records: list[tuple[str, dict[str, Any]]] = []
    suffix = path.suffix.lower()
    if path.is_dir():
        for file in sorted(path.glob("*.json")):
            records.append((file.name, _json(file)))
    elif suffix == ".json":
        data = _json(path)
        items = data if isinstance(data, list) else [data]
        records += [(f"{path.name}#{i + 1}", item) for i, item in enumerate(items)]
    elif suffix == ".jsonl":
        for number, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
            if line.strip():
                try:
                    records.append((f"{path.name}:{number}", json.loads(line)))
                except json.JSONDecodeError as exc:
                    records.append((f"{path.name}:{number}", {"__error__": str(exc)}))
    elif suffix in (".csv", ".xlsx", ".parquet"):
        rows, sheet_events = _table(path)
        event_rows = _table(events)[0] if events else sheet_events
        records += _join(path.name, rows, event_rows)
    else:
        raise PopulationError(f"不支持的文件类型 / unsupported file type: {path.suffix}")
    population = Population()
    for label, record in records:
        if not isinstance(record, dict) or "__error__" in record:
            population.errors.append(f"{label}: {record.get('__error__') if isinstance(record, dict) else 'not an object'}")
            continue
        try:
            population.profiles.append(parse_profile(record))
            population.labels.append(label)
        except ProfileError as exc:
            population.errors.append(f"{label}: " + "；".join(e.text("zh") for e in exc.errors))
    return population


def _json(file: Path) -> Any:
    try:
        return json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"__error__": f"not valid JSON: {exc}"}


def _table(path: Path | None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows, event rows from an 事件/events sheet) of a table file."""
    if path is None:
        return [], []
    if not path.exists():
        raise PopulationError(f"找不到文件 / file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return [dict(row) for row in csv.DictReader(handle)], []
    if suffix == ".parquet":
        import polars as pl

        return pl.read_parquet(path).to_dicts(), []
    if suffix == ".xlsx":
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        sheets = {}
        for sheet in book.worksheets:
            rows = list(sheet.iter_rows(values_only=True))
            if not rows:
                sheets[sheet.title] = []
                continue
            header = [str(h).strip() if h is not None else "" for h in rows[0]]
            sheets[sheet.title] = [{h: v for h, v in zip(header, row) if h} for row in rows[1:]
                                   if any(v not in (None, "") for v in row)]
        names = list(sheets)
        event_sheet = next((n for n in names if n.strip().lower() in ("事件", "events")), None)
        main = next((n for n in names if n != event_sheet), names[0])
        return sheets[main], sheets.get(event_sheet, []) if event_sheet else []
    raise PopulationError(f"不支持的文件类型 / unsupported file type: {path.suffix}")


def _key_of(row: dict[str, Any]) -> str | None:
    for header, value in row.items():
        if schema.field_for_header(str(header), schema.ENTITY_HEADERS) == "credit_code" and value not in (None, ""):
            return str(value).strip().upper()
    return None


def _join(name: str, rows: list[dict[str, Any]], event_rows: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    events: dict[str, list[dict[str, Any]]] = {}
    for row in event_rows:
        key = _key_of(row)
        item = {h: v for h, v in row.items()
                if schema.field_for_header(str(h), schema.ENTITY_HEADERS) not in ("credit_code", "name")
                and v not in (None, "")}
        events.setdefault(key or "", []).append(item)
    records = []
    for number, row in enumerate(rows, start=2):
        record = {h: v for h, v in row.items() if h and v not in (None, "")}
        record["events"] = events.get(_key_of(row) or "\0", [])
        records.append((f"{name}:{number}", record))
    return records
