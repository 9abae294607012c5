"""Reading a population (enterprises + events) for ``huiqi diff``.

Tables (.csv/.xlsx/.parquet/.jsonl, with events in the same workbook or a second file) are read by
``engine.batch.read_population`` (one error row per bad cell). A ``.json`` file (one profile or a list)
or a folder of profile ``.json`` files is read here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine import json_keys
from engine.profile import Profile, ProfileError, parse_profile


@dataclass
class Population:
    profiles: list[Profile] = field(default_factory=list)  # in input order
    labels: list[str] = field(default_factory=list)  # where each profile came from (file or row)
    errors: list[str] = field(default_factory=list)  # rows that could not be read, with the reason
    # input rows and rows not evaluated / not counted, per table kind ("enterprises", "events"), as the batch counts them
    rows_in: dict[str, int] = field(default_factory=lambda: {"enterprises": 0, "events": 0})
    rows_not_read: dict[str, int] = field(default_factory=lambda: {"enterprises": 0, "events": 0})


class PopulationError(ValueError):
    """The population file itself cannot be read."""


def read_population(path: str | Path, events: str | Path | None = None) -> Population:
    """Profiles in input order plus row errors, from any supported file."""
    source = Path(path)
    if source.is_dir() or source.suffix.lower() == ".json":
        return _read_json(source)
    from engine.batch import BadInput
    from engine.batch import read_population as read_tables

    try:
        return _from_batch(read_tables(path, events))
    except BadInput as exc:
        raise PopulationError(str(exc)) from None


def _from_batch(result: Any) -> Population:
    """Adapt ``engine.batch.Population`` (typed tables in input order + an errors table)."""
    population = Population()
    population.profiles = list(result.profiles())
    population.rows_in = {"enterprises": result.rows_in["enterprises"], "events": result.rows_in["events"]}
    population.rows_not_read = {"enterprises": result.rows_in["enterprises"] - result.entities.height,
                                "events": result.rows_in["events"] - result.events.height}
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


def _read_json(path: Path) -> Population:
    """A ``.json`` file (one profile or a list of them) or a folder of ``.json`` profile files."""
    if not path.exists():
        raise PopulationError(f"找不到文件 / file not found: {path}")
    records: list[tuple[str, Any]] = []
    if path.is_dir():
        records = [(file.name, _json(file)) for file in sorted(path.glob("*.json"))]
    else:
        data = _json(path)
        items = data if isinstance(data, list) else [data]
        records = [(f"{path.name}#{i + 1}", item) for i, item in enumerate(items)]
    population = Population()
    population.rows_in["enterprises"] = len(records)
    for label, record in records:
        if not isinstance(record, dict) or "__error__" in record:
            population.errors.append(f"{label}: {record.get('__error__') if isinstance(record, dict) else 'not an object'}")
            population.rows_not_read["enterprises"] += 1
            continue
        try:
            population.profiles.append(parse_profile(record))
            population.labels.append(label)
        except ProfileError as exc:
            population.errors.append(f"{label}: " + "；".join(e.text("zh") for e in exc.errors))
            population.rows_not_read["enterprises"] += 1
    return population


def _json(file: Path) -> Any:
    try:
        return json_keys.loads(file.read_text(encoding="utf-8-sig"))  # a key given twice: refused by parse_profile
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {"__error__": f"not valid JSON: {exc}"}
