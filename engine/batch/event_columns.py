"""Event columns beside the enterprise columns, in one sheet: 商标国际注册日期, 商标国际注册费用（元）, 专利申请日期 …

A header of an enterprise table is an *event column* when it is not an enterprise field and reads as an event
type's name followed by one of that type's field labels (or the common date / reference labels), with an
optional separator between them:

* type names: the Chinese name, English name or code of ``schema.EVENT_TYPES`` and the short forms of
  ``schema.EVENT_SYNONYMS`` (商标国际注册, 马德里商标注册, 专利申请, 发明专利授权, 发明专利, PCT申请 …);
* field labels: the Chinese label, English name or an alias of the field (日期, 事件日期, 认定日期, 编号, 注册号,
  费用, 费用（元）, 注册费用, 注册途径, 专利类型, 贷款金额, 实缴申请费 …; ``schema``'s own table);
* separators: nothing, a space, ``-``, ``_``, ``:``, ``：``, ``·``, ``/``; a label may also share its first
  characters with the end of the name (知识产权质押贷款 + 贷款金额 = 知识产权质押贷款金额).

Every group of event columns of one type becomes a derived events table: one event of that type for each
enterprise row with at least one filled cell in the group (a row with the group blank has no such event), linked
to its enterprise row by position. A group needs a date column; without one its columns are not read and the
errors table says so. Rows accounted: such an enterprise row counts as one enterprise row plus one event row per
filled group.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import polars as pl

from engine import schema
from engine.batch.cells import blank_mask, constant
from engine.batch.sources import ENTERPRISES, EVENTS, RawTable

SEPARATORS = "-_:：·/"


@dataclass(frozen=True)
class EventGroup:
    """The event columns of one event type in one enterprise table."""

    table: int  # index of the enterprise table
    event_type: str  # code
    positions: tuple[int, ...]  # column positions in the enterprise table as read (before the split)
    fields: tuple[str, ...]  # field name of each column
    headers: tuple[str, ...]  # each column's header as written
    filled: int  # enterprise rows with at least one filled cell in the group: the events it gives


@lru_cache(maxsize=1)
def _prefixes() -> tuple[tuple[str, str], ...]:
    """(normalised type name, code), longest first so that 发明专利授权 wins over 发明专利."""
    names = {schema._header_key(text): e.code for e in schema.EVENT_TYPES for text in (e.zh, e.en, e.code)}
    for key, code in schema.EVENT_SYNONYMS.items():
        names.setdefault(key, code)
    return tuple(sorted(names.items(), key=lambda item: (-len(item[0]), item[0])))


@cache
def _labels(code: str) -> dict[str, str]:
    common = tuple(f for f in schema.EVENT_COMMON if f.name != "type")  # the type is the prefix
    return schema.header_map(common + schema.EVENT_BY_CODE[code].fields)


def event_column(header: str) -> tuple[str, str] | None:
    """(event type code, field name) when ``header`` names an event field of an event type, else None."""
    key = schema._header_key(header)
    for prefix, code in _prefixes():
        if not key.startswith(prefix) or len(key) == len(prefix):
            continue
        rest = key[len(prefix):]
        name = schema.field_for_header(rest.lstrip(SEPARATORS), _labels(code))
        if name is not None:
            return code, name
        for label, field_name in _labels(code).items():  # the label shares its start with the name's end:
            for k in range(1, len(label)):  # 知识产权质押贷款 + 贷款金额 = 知识产权质押贷款金额
                if prefix.endswith(label[:k]) and rest == label[k:]:
                    return code, field_name
    return None


def find_groups(index: int, table: RawTable) -> list[EventGroup]:
    """The event column groups of an enterprise table, by type in order of their first column."""
    found: dict[str, list[tuple[int, str]]] = {}
    for j, header in enumerate(table.headers):
        if schema.field_for_header(header, schema.ENTITY_HEADERS) is not None:
            continue  # an enterprise field is never an event column
        hit = event_column(header)
        if hit is not None:
            found.setdefault(hit[0], []).append((j, hit[1]))
    return [EventGroup(index, code, tuple(j for j, _ in cols), tuple(f for _, f in cols), tuple(table.headers[j] for j, _ in cols),
                       int(_filled([table.columns[j] for j, _ in cols]).sum())) for code, cols in found.items()]


def without_columns(table: RawTable, positions: set[int]) -> RawTable:
    """``table`` without the columns at ``positions`` (they are read as events instead)."""
    keep = [j for j in range(len(table.headers)) if j not in positions]
    return RawTable(table.kind, table.source, table.sheet, [table.headers[j] for j in keep], [table.columns[j] for j in keep],
                    table.rows, table.parent, table.reason_zh, table.reason_en, table.header_row, table.fields and
                    [table.fields[j] for j in keep], table.parent_table)


def events_table(table: RawTable, group: EventGroup) -> RawTable:
    """The derived events table of ``group``: one row per enterprise row with a filled cell in the group."""
    columns = [table.columns[j] for j in group.positions]
    positions = _filled(columns).arg_true().cast(pl.Int64)
    n = len(positions)
    type_name = schema.EVENT_BY_CODE[group.event_type].zh
    return RawTable(EVENTS, table.source, table.sheet, [schema.EVENT_COMMON[0].zh, *(table.headers[j] for j in group.positions)],
                    [constant(type_name, n, pl.String()), *(c.gather(positions) for c in columns)], table.rows.gather(positions),
                    parent=positions.alias("parent"), fields=["type", *group.fields], parent_table=group.table)


def split_event_columns(tables: list[RawTable]) -> tuple[list[RawTable], list[EventGroup]]:
    """Enterprise tables without their event columns, followed by one derived events table per group that has a
    date column; and every group found (the caller notes what was read and reports groups without a date)."""
    groups = [g for i, t in enumerate(tables) if t.kind == ENTERPRISES for g in find_groups(i, t)]
    if not groups:
        return tables, []
    out = list(tables)
    for i in {g.table for g in groups}:
        out[i] = without_columns(tables[i], {j for g in groups if g.table == i for j in g.positions})
    out += [events_table(tables[g.table], g) for g in groups if "date" in g.fields]
    return out, groups


def _filled(columns: list[pl.Series]) -> pl.Series:
    """Rows where at least one of ``columns`` is not blank (``cells.blank_mask``: as ``parse_profile`` judges)."""
    blank = blank_mask(columns[0])
    for column in columns[1:]:
        blank = blank & blank_mask(column)
    return ~blank
