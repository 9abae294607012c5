"""Raw tables → a ``Population``: typed enterprise and event tables plus one error row per problem.

Headers are mapped only through ``engine.schema`` (Chinese aliases, English names, other spellings);
cells are parsed by ``engine.batch.cells`` (``parse_value`` semantics). Decisions a clerk must know:

* an enterprise row with any bad cell is not evaluated (as ``parse_profile`` would refuse it); each bad
  cell is one error row;
* every row sharing a credit code with another row is not evaluated (no silent merge, no guessing which
  one is right); each gets an error naming the other rows;
* an event row with a bad cell, for an unknown credit code, or for an enterprise that was not evaluated
  is an error; a bad event row does not stop its enterprise from being evaluated with its other events
  (the enterprise row then shows how many of its event rows were refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl

from engine import schema
from engine.batch import duplicates
from engine.batch.cells import SCALE, Parsed, constant, dtype_for, parse_column
from engine.batch.control_chars import visible
from engine.batch.event_columns import EventGroup, split_event_columns
from engine.batch.sources import ENTERPRISES, EVENTS, SKIPPED, BadInput, RawTable, read_tables
from engine.once import distinct_events
from engine.profile import Profile, ProfileError, parse_profile
from engine.round_words import conflict_error, merged_row_text
from engine.size_class import THRESHOLDS

ERROR_COLUMNS = {"source": pl.String, "sheet": pl.String, "row": pl.Int64, "column": pl.String, "field": pl.String,
                 "value": pl.String, "message_zh": pl.String, "message_en": pl.String, "action_zh": pl.String,
                 "action_en": pl.String, "table": pl.String, "_t": pl.Int64, "_p": pl.Int64}
ENTITY_ACTION = ("该企业行未评估", "this enterprise row was not evaluated")
EVENT_ACTION = ("该事件行未计入", "this event row was not counted")
REQUIRED_HEADERS = ("credit_code", "name", "city")
# why an enterprise row was not evaluated (``Population.not_evaluated``)
NOT_EVALUATED_ERRORS, NOT_EVALUATED_DUPLICATE = "errors", "duplicate"
NOT_EVALUATED_COLUMNS = {"_t": pl.Int64, "_p": pl.Int64, "source": pl.String, "sheet": pl.String, "row": pl.Int64,
                         "credit_code": pl.String, "name": pl.String, "city": pl.String, "reason": pl.String}
# one row per input column that was not read as it stands (ignored, or read as an event field): the notes table
NOTE_COLUMNS = {"source": pl.String, "sheet": pl.String, "column": pl.String, "action_zh": pl.String,
                "action_en": pl.String, "reason_zh": pl.String, "reason_en": pl.String}
NOT_READ = ("未读取", "not read")
COLUMNS = "columns"  # errors-table kind of a column group that could not be read (exit 5, like an unread sheet)



def duplicate_messages(group: pl.DataFrame, rows_of: dict) -> tuple[list[str], list[str]]:
    """One message per duplicated row naming the other rows with the same credit code (both languages).

    ``group`` rows are (code, _, _, sheet, row); ``rows_of[code]`` lists every (sheet, row) with that code.
    """
    zh, en = [], []
    for code, _, _, sheet, row in group.iter_rows():
        others = [(s, r) for s, r in rows_of[code] if (s, r) != (sheet, row)]
        shown = others[:10]
        more = len(others) - len(shown)
        zh.append("统一社会信用代码重复：与" + "、".join(f"{s}第{r}行" for s, r in shown) + (f"等{len(others)}行" if more else "")
                  + "相同。为免重复计算，这些行都未评估；请核实后只保留一行再提交")
        en.append("duplicate credit code: same as " + ", ".join(f"{s} row {r}" for s, r in shown)
                  + (f" and {more} more" if more else "")
                  + ". To avoid double counting none of these rows was evaluated; keep one row and re-run")
    return zh, en

class AccountingError(RuntimeError):
    """Some input row is neither evaluated nor in the errors table, or is both: a bug, never a user error."""


@dataclass
class Population:
    """Enterprises and events read from a batch input, ready for evaluation.

    ``entities``: one row per evaluated enterprise, in input order; ``eid`` 0…n-1, ``source``/``sheet``/
    ``row`` say where it came from, then every profile field typed (see ``engine.batch.cells``), plus
    ``size_class_derived``, ``entity_kind_derived``, ``warning`` and ``fallback`` (evaluated by the
    per-profile engine because a value is finer than the columnar scale).
    ``events``: one row per counted event, sorted by ``eid`` then ``idx`` (its index among the enterprise's
    events, as ``Profile.events``): ``eid``, ``idx``, ``type``, ``date``, ``ref`` and the event fields.
    ``errors``: one row per problem (file, sheet, row, column, value, message in Chinese and English,
    what happened to the row). ``rows_in``: input rows per table kind; ``rows_accounted()`` must match.
    ``not_evaluated``: one row per enterprise row that was not evaluated, in input order: where it is, the
    credit code, name and city as far as they could be read, and ``reason`` (``NOT_EVALUATED_DUPLICATE``
    when its credit code is shared with another row, else ``NOT_EVALUATED_ERRORS``).
    """

    entities: pl.DataFrame
    events: pl.DataFrame
    errors: pl.DataFrame
    rows_in: dict[str, int]
    inputs: list[Path]
    notes: list[str] = field(default_factory=list)
    tables: list[RawTable] = field(default_factory=list, repr=False)
    field_columns: list[dict[str, int]] = field(default_factory=list, repr=False)
    not_evaluated: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=NOT_EVALUATED_COLUMNS))
    column_notes: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=NOTE_COLUMNS))

    def not_evaluated_counts(self) -> dict[str, int]:
        """Enterprise rows not evaluated, by reason (both reasons always present)."""
        reasons = self.not_evaluated.get_column("reason")
        return {reason: int((reasons == reason).sum()) for reason in (NOT_EVALUATED_ERRORS, NOT_EVALUATED_DUPLICATE)}

    def __len__(self) -> int:
        return self.entities.height

    def rows_accounted(self) -> dict[str, int]:
        """Input rows that ended in the results (evaluated) or in the errors table, per table kind."""
        rejected = self.errors.select("table", "_t", "_p").unique()
        counts = {kind: int((rejected["table"] == kind).sum()) for kind in (ENTERPRISES, EVENTS)}
        return {ENTERPRISES: self.entities.height + counts[ENTERPRISES], EVENTS: self.events.height + counts[EVENTS]}

    @property
    def error_rows(self) -> int:
        """Input rows with at least one error (a row may have several error messages); a note on a merged
        duplicate event is not an error."""
        return self.errors.filter(pl.col("table") != duplicates.MERGED).select("_t", "_p").unique().height

    def check_accounting(self) -> None:
        """Raise ``AccountingError`` unless, per table kind, the evaluated rows and the rows in the errors
        table (by table and position) are disjoint and together exactly the input rows."""
        key = {"_t": pl.Int64, "_p": pl.Int64}
        for kind, evaluated in ((ENTERPRISES, self.entities), (EVENTS, self.events)):
            tables = [(i, t) for i, t in enumerate(self.tables) if t.kind == kind]
            expected = pl.concat([pl.DataFrame({"_t": constant(i, t.height, pl.Int64()),
                                                "_p": pl.int_range(0, t.height, eager=True, dtype=pl.Int64)})
                                  for i, t in tables] or [pl.DataFrame(schema=key)], how="vertical")
            used = evaluated.select(pl.col("_t").cast(pl.Int64), pl.col("_p").cast(pl.Int64))
            rejected = self.errors.filter(pl.col("table") == kind).select("_t", "_p").unique()
            problems = []
            if expected.height != self.rows_in[kind]:
                problems.append(f"rows_in says {self.rows_in[kind]}, the tables hold {expected.height}")
            if used.is_duplicated().any():
                problems.append("a row was evaluated twice")
            both = used.join(rejected, on=["_t", "_p"], how="semi")
            if both.height:
                problems.append(f"{both.height} row(s) both evaluated and in the errors table")
            union = pl.concat([used, rejected], how="vertical").unique()
            if union.height != expected.height or union.join(expected, on=["_t", "_p"], how="anti").height \
                    or expected.join(union, on=["_t", "_p"], how="anti").height:
                lost = expected.join(union, on=["_t", "_p"], how="anti").height
                problems.append(f"{lost} input row(s) neither evaluated nor in the errors table")
            if kind == ENTERPRISES:
                listed = self.not_evaluated.select("_t", "_p")
                if listed.height != rejected.height or listed.join(rejected, on=["_t", "_p"], how="anti").height:
                    problems.append("the not-evaluated list differs from the enterprise rows in the errors table")
            if problems:
                raise AccountingError(f"{kind}: " + "; ".join(problems))

    def raw_profile(self, eid: int) -> dict[str, Any]:
        """The enterprise's cells as the file holds them (field name → raw value, events nested)."""
        t, p = self.entities.get_column("_t")[eid], self.entities.get_column("_p")[eid]
        data = {name: self.tables[t].columns[j][p] for name, j in self.field_columns[t].items()}
        data["events"] = [{name: self.tables[et].columns[j][ep] for name, j in self.field_columns[et].items()}
                          for et, ep in self._event_cells(eid)]
        return data

    def _event_cells(self, eid: int) -> list[tuple[int, int]]:
        """[(table, position)] of the enterprise's events in index order: a slice, as events are sorted by eid, idx."""
        column = self.events.get_column("eid")
        start, stop = int(column.search_sorted(eid, side="left")), int(column.search_sorted(eid, side="right"))
        return list(self.events.slice(start, stop - start).select("_t", "_p").iter_rows())

    def profile(self, eid: int) -> Profile:
        """The enterprise as the per-profile engine sees it (``parse_profile`` of its raw cells)."""
        return parse_profile(self.raw_profile(eid))

    def profiles(self) -> Iterator[Profile]:
        """Every evaluated enterprise as a ``Profile``, in input order (slow: one parse per enterprise)."""
        for eid in range(len(self)):
            yield self.profile(eid)


def read_population(enterprises: str | Path, events: str | Path | None = None) -> Population:
    """Read an enterprise list (and optionally a separate events file) into a ``Population``.

    ``enterprises``: .xlsx (one or more enterprise sheets and optionally event sheets, recognised by
    their headers or named 企业/事件), .csv, .parquet, or .jsonl (one enterprise per line, events nested
    under "events"). ``events``: a further file of event rows (each with the enterprise's credit code).
    Raises ``BadInput`` when the input is unusable; problems with single rows go to ``errors``.
    """
    paths = [Path(enterprises)] + ([Path(events)] if events is not None else [])
    tables, groups = split_event_columns(read_tables(enterprises, ENTERPRISES))
    if events is not None:
        _check_events_file(Path(enterprises), Path(events), tables)
        extra = read_tables(events, EVENTS)
        for table in extra:
            if table.kind not in (EVENTS, SKIPPED):
                raise BadInput(f"{table.source}：事件文件需要类型、日期和统一社会信用代码列",
                               f"{table.source}: an events file needs type, date and credit code columns")
        tables += extra
    return _Reader(tables, paths, groups).run()


def _check_events_file(enterprises: Path, events: Path, tables: list[RawTable]) -> None:
    """Events given twice would be counted twice: refuse the events file when it is the enterprise file
    itself (or a copy of it), or when the enterprise input already holds event rows."""
    from engine.batch.write import sha256_of

    if events.is_file() and enterprises.is_file() and (
            events.resolve() == enterprises.resolve() or events.samefile(enterprises)
            or (events.stat().st_size == enterprises.stat().st_size and sha256_of(events) == sha256_of(enterprises))):
        raise BadInput(f"--events 给出的 {events.name} 就是企业文件 {enterprises.name}（或其副本）；其中的事件已经读取，请去掉 --events",
                       f"--events {events.name} is the enterprise file {enterprises.name} itself (or a copy); its events are "
                       "read already: drop --events")
    inside = [t.sheet for t in tables if t.kind == EVENTS]
    if inside:
        raise BadInput(f"{enterprises.name} 已含事件表（{'、'.join(inside)}），又用 --events 给出了 {events.name}；"
                       "为免重复计算，请只用其中一种方式提供事件",
                       f"{enterprises.name} already holds events ({', '.join(inside)}) and --events gives {events.name} as well; "
                       "to avoid counting events twice, give them one way only")


class _Reader:
    def __init__(self, tables: list[RawTable], paths: list[Path], groups: list[EventGroup] | tuple = ()):
        self.tables = tables
        self.paths = paths
        self.groups = groups
        self.errors: list[pl.DataFrame] = []
        self.notes: list[str] = []
        self.column_notes: list[dict[str, str]] = []
        self.field_columns: list[dict[str, int]] = [{} for _ in tables]
        self.refused = pl.DataFrame(schema={"eid": pl.Int64, "event_errors": pl.Int64})

    def run(self) -> Population:
        entity_tables = [i for i, t in enumerate(self.tables) if t.kind == ENTERPRISES]
        if not entity_tables:
            raise BadInput("没有找到企业表（需要统一社会信用代码、名称、所在城市列）",
                           "no enterprise table found (credit code, name and city columns are needed)")
        for i, table in enumerate(self.tables):
            if table.kind == SKIPPED:
                self.skipped(i, table)
        for group in self.groups:
            self.event_group(group)
        frames = [self.entity_frame(i) for i in entity_tables]
        entities = pl.concat(frames, how="vertical")
        entities = self.mark_duplicates(entities)
        event_frames = [self.event_frame(i) for i, t in enumerate(self.tables) if t.kind == EVENTS]
        valid = entities.filter(pl.col("_ok")).drop("_ok").with_row_index("eid").with_columns(pl.col("eid").cast(pl.Int64))
        events = self.link_events(event_frames, entities, valid)
        inexact_events = events.filter(pl.col("_inexact")).get_column("eid").unique()
        valid = valid.with_columns((pl.col("_inexact") | pl.col("eid").is_in(inexact_events.implode())).alias("fallback"))
        valid = valid.drop("_inexact")
        # Sorted by enterprise once here (stable: input order within one), so chunks are slices and the
        # output tables' positional event lookups need no sort; idx = position within the enterprise's run.
        events = events.filter(pl.col("eid").is_not_null()).drop("_inexact").sort("eid", maintain_order=True)
        eid = events.get_column("eid")
        first = eid.search_sorted(eid, side="left").cast(pl.Int64)  # row of each enterprise's first event
        events = events.with_columns((pl.int_range(0, events.height, eager=True, dtype=pl.Int64) - first).alias("idx"))
        errors = pl.concat(self.errors, how="vertical") if self.errors else pl.DataFrame(schema=ERROR_COLUMNS)
        valid = valid.join(self.refused, on="eid", how="left").with_columns(pl.col("event_errors").fill_null(0))
        rows_in = {ENTERPRISES: sum(self.tables[i].height for i in entity_tables),
                   EVENTS: sum(t.height for t in self.tables if t.kind == EVENTS)}
        population = Population(valid, events, errors, rows_in, self.paths, self.notes, self.tables, self.field_columns,
                                _not_evaluated(entities.filter(~pl.col("_ok"))))
        population = self.refuse_unparsed(population)
        population = self.merge_duplicates(population)
        population.errors = _sorted_errors(population.errors, self.tables)
        population.column_notes = pl.DataFrame(self.column_notes, schema=NOTE_COLUMNS)
        return population

    def refuse_unparsed(self, population: Population) -> Population:
        """Backstop: a fallback enterprise (evaluated by the per-profile engine) whose cells ``parse_profile``
        refuses goes to the errors table with its events, instead of stopping the whole batch."""
        fallback = population.entities.filter(pl.col("fallback")).get_column("eid").to_list()
        refused: dict[int, ProfileError] = {}
        for eid in fallback:
            try:
                population.profile(eid)
            except ProfileError as exc:
                refused[eid] = exc
        # one event given twice with different details: the clerk must say which is right (engine.once)
        for eid in duplicates.conflicted(population.events):
            try:
                events = population.profile(eid).events
            except ProfileError as exc:
                refused[eid] = exc
                continue
            pairs = distinct_events(events).conflicts
            if pairs:
                refused[eid] = ProfileError([conflict_error(events, a, b) for a, b in pairs])
        refused = dict(sorted(refused.items()))
        if not refused:
            return population
        entities, events = population.entities, population.events
        frames = [population.errors]
        for eid, exc in refused.items():
            record = entities.row(eid, named=True)  # eid is the row's position
            t, p, sheet, row = record["_t"], record["_p"], record["sheet"], record["row"]
            table = self.tables[t]
            self.errors = []
            for error in exc.errors:
                j = self.field_columns[t].get(error.field)
                self.error_rows(table, pl.Series([p], dtype=pl.Int64), table.headers[j] if j is not None else error.field,
                                error.field, table.columns[j] if j is not None else None, error.text("zh"), error.text("en"),
                                ENTITY_ACTION, ENTERPRISES)
            mine = events.filter(pl.col("eid") == eid)
            for (et,), group in mine.group_by("_t", maintain_order=True):
                self.error_rows(self.tables[et], group.get_column("_p"), "events", "credit_code", None,
                                f"所属企业（{sheet}第{row}行）有错误，未评估，此事件也未计入",
                                f"the enterprise ({sheet} row {row}) has errors and was not evaluated, nor was this event",
                                EVENT_ACTION, EVENTS)
            frames += self.errors
        self.errors = []
        gone = pl.Series(list(refused), dtype=pl.Int64)
        kept = entities.filter(~pl.col("eid").is_in(gone.implode()))
        renumber = {"old": kept.get_column("eid"), "new": pl.int_range(0, kept.height, eager=True, dtype=pl.Int64)}
        mapping = pl.DataFrame(renumber)
        kept = kept.with_columns(mapping.get_column("new").alias("eid"))
        events = (events.filter(~pl.col("eid").is_in(gone.implode()))
                  .join(mapping.rename({"old": "eid"}), on="eid", how="left", maintain_order="left")
                  .with_columns(pl.col("new").alias("eid")).drop("new"))
        late = _not_evaluated(entities.filter(pl.col("eid").is_in(gone.implode())).with_columns(pl.lit(False).alias("_dup")))
        not_evaluated = pl.concat([population.not_evaluated, late]).sort("_t", "_p")
        return Population(kept, events, pl.concat(frames, how="vertical"), population.rows_in, population.inputs,
                          population.notes, population.tables, population.field_columns, not_evaluated,
                          population.column_notes)

    def merge_duplicates(self, population: Population) -> Population:
        """Mark events identical to an earlier one of the same enterprise (counted once) with a note row each."""
        events = duplicates.mark(population.events)
        notes = duplicates.merged_notes(events)
        self.errors = []
        for (t,), group in notes.group_by("_t", maintain_order=True):
            table = self.tables[t]
            sheets = [self.tables[ft].sheet for ft in group.get_column("_ft").to_list()]
            rows = group.get_column("_frow").to_list()
            self.error_rows(table, group.get_column("_p"), "events", "event", None,
                            pl.Series([merged_row_text(sh, r)[0] for sh, r in zip(sheets, rows)], dtype=pl.String),
                            pl.Series([merged_row_text(sh, r)[1] for sh, r in zip(sheets, rows)], dtype=pl.String),
                            duplicates.MERGED_ACTION, duplicates.MERGED)
        errors = pl.concat([population.errors, *self.errors], how="vertical")
        self.errors = []
        return replace(population, events=events, errors=errors)

    # -- helpers ---------------------------------------------------------------------------------
    def first_enterprise_table(self) -> int:
        """Where nested JSONL events point: the enterprise table of the same file, which is read first."""
        return next((i for i, t in enumerate(self.tables) if t.kind == ENTERPRISES), 0)

    def error_rows(self, table: RawTable, positions: pl.Series, column: str, field_name: str, raw: pl.Series | None,
                   zh: pl.Series | str, en: pl.Series | str, action: tuple[str, str], kind: str) -> None:
        if len(positions) == 0:
            return
        values = [None if v is None else visible(str(v))[:200] for v in raw.gather(positions).to_list()] if raw is not None \
            else [None] * len(positions)
        column = visible(column)  # a header may hold a control character too
        n = len(positions)
        frame = pl.DataFrame({
            "source": [table.source] * n, "sheet": [table.sheet] * n, "row": table.rows.gather(positions),
            "column": [column] * n, "field": [field_name] * n, "value": pl.Series(values, dtype=pl.String),
            "message_zh": zh if isinstance(zh, pl.Series) else [zh] * n,
            "message_en": en if isinstance(en, pl.Series) else [en] * n,
            "action_zh": [action[0]] * n, "action_en": [action[1]] * n, "table": [kind] * n,
            "_t": [next(i for i, t in enumerate(self.tables) if t is table)] * n, "_p": positions.cast(pl.Int64),
        }, schema=ERROR_COLUMNS)
        self.errors.append(frame)

    def skipped(self, index: int, table: RawTable) -> None:
        """One error row for a sheet that looks like data but was not read (exit status 5, never silent)."""
        n = table.height
        self.notes.append(f"{table.sheet}：工作表未读取（{n}行）/ sheet not read ({n} rows)")
        self.errors.append(pl.DataFrame({
            "source": [table.source], "sheet": [table.sheet], "row": [table.header_row or (table.rows[0] if n else 0)],
            "column": [None], "field": [None], "value": [f"{n}"],
            "message_zh": [f"工作表「{table.sheet}」未读取：{table.reason_zh}；其中{n}行数据未计入"],
            "message_en": [f"sheet '{table.sheet}' was not read: {table.reason_en}; its {n} row(s) were not counted"],
            "action_zh": ["该工作表未读取；请改正表头或把数据移到企业/事件表后重新运行"],
            "action_en": ["this sheet was not read; fix its headers or move its rows to the enterprise/event sheet and re-run"],
            "table": [SKIPPED], "_t": [index], "_p": [-1]}, schema=ERROR_COLUMNS))

    def note_column(self, table: RawTable, header: str, action: tuple[str, str], reason: tuple[str, str]) -> None:
        self.column_notes.append({"source": table.source, "sheet": table.sheet, "column": header, "action_zh": action[0],
                                  "action_en": action[1], "reason_zh": reason[0], "reason_en": reason[1]})

    def event_group(self, group: EventGroup) -> None:
        """Notes for event columns beside the enterprise columns; an error row for a group without a date column."""
        table = self.tables[group.table]
        kind = schema.EVENT_BY_CODE[group.event_type]
        filled, headers = group.filled, group.headers
        if "date" not in group.fields:
            reason = (f"「{kind.zh}」事件列缺少日期列（如「{kind.zh}日期」），无法构成事件；{filled}行有数据未计入",
                      f"the {kind.en} event columns lack a date column (e.g. '{kind.zh}日期'), so they form no event; "
                      f"{filled} row(s) with data not counted")
            for header in headers:
                self.note_column(table, header, NOT_READ, reason)
            self.errors.append(pl.DataFrame({
                "source": [table.source], "sheet": [table.sheet], "row": [None], "column": ["、".join(headers)],
                "field": [None], "value": [f"{filled}"], "message_zh": [reason[0]], "message_en": [reason[1]],
                "action_zh": ["这些列未读取；请加上日期列后重新运行"],
                "action_en": ["these columns were not read; add the date column and re-run"],
                "table": [COLUMNS], "_t": [group.table], "_p": [-2 - group.positions[0]]}, schema=ERROR_COLUMNS))
            return
        for header, name in zip(headers, group.fields):
            spec = schema.event_field(group.event_type, name)
            self.note_column(table, header, (f"作为「{kind.zh}」事件的「{spec.zh}」读取", f"read as the {spec.en} of an event of type {kind.en}"),
                             (f"同一行的「{kind.zh}」各列构成一个事件；{filled}行有此事件",
                              f"a row's {kind.en} columns form one event; {filled} row(s) have one"))

    def map_headers(self, index: int, headers_map: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, int]:
        table = self.tables[index]
        found: dict[str, int] = {}
        for j, header in enumerate(table.headers):
            name = table.fields[j] if table.fields is not None else schema.field_for_header(header, headers_map)
            if name is None and extra is not None:
                name = extra.get(schema.field_for_header(header, schema.ENTITY_HEADERS) or "")
            if name is None:
                known = schema.field_for_header(header, schema.ENTITY_HEADERS) or schema.field_for_header(header, schema.EVENT_HEADERS)
                if known is None:
                    self.notes.append(f"{table.sheet}：未知列「{header}」已忽略 / unknown column '{header}' ignored")
                    self.note_column(table, header, NOT_READ, (
                        "不是企业字段，也不是“事件类型+字段”形式的事件列（如 商标国际注册日期）",
                        "neither an enterprise field nor an event column named event type + field (e.g. 商标国际注册日期)"))
                else:
                    other = ("事件", "event") if headers_map is schema.ENTITY_HEADERS else ("企业", "enterprise")
                    self.notes.append(f"{table.sheet}：列「{header}」属于{other[0]}表，在此表中已忽略 / "
                                      f"column '{header}' belongs to the {other[1]} table and was ignored here")
                    example = _event_column_example(known, header) if other[1] == "event" else None
                    self.note_column(table, header, NOT_READ, (
                        f"属于{other[0]}表的字段，在此表中不读取" + (f"；或写明事件类型，如「{example}」" if example else ""),
                        f"a field of the {other[1]} table, not read here" + (
                            f"; or name the event type, e.g. '{example}'" if example else "")))
                continue
            if name in found:
                zh, en = schema.same_field_message(table.headers[found[name]], header, name)
                raise BadInput(f"{table.sheet}：{zh}", f"{table.sheet}: {en}")
            found[name] = j
        return found

    # -- enterprises ---------------------------------------------------------------------------
    def entity_frame(self, index: int) -> pl.DataFrame:
        table = self.tables[index]
        columns = self.map_headers(index, schema.ENTITY_HEADERS)
        missing = [n for n in REQUIRED_HEADERS if n not in columns]
        if missing:
            labels = "、".join(schema.ENTITY_BY_NAME[n].zh for n in missing)
            raise BadInput(f"{table.sheet}：缺少必需的列：{labels}（表头可用中文或英文字段名）",
                           f"{table.sheet}: required column(s) missing: {', '.join(missing)} (Chinese or English headers)")
        self.field_columns[index] = columns
        n = table.height
        data: dict[str, pl.Series] = {
            "_t": constant(index, n, pl.Int64()), "_p": pl.int_range(0, n, eager=True, dtype=pl.Int64),
            "source": constant(table.source, n, pl.String()), "sheet": constant(table.sheet, n, pl.String()),
            "row": table.rows,
        }
        bad = constant(False, n, pl.Boolean())
        inexact = constant(False, n, pl.Boolean())
        warning = constant(None, n, pl.String())
        for spec in schema.ENTITY_FIELDS:
            j = columns.get(spec.name)
            if j is None:
                data[spec.name] = constant(None, n, dtype_for(spec))
                continue
            raw = table.columns[j]
            parsed = parse_column(spec, raw)
            data[spec.name] = parsed.values
            bad = bad | self.report(table, parsed, raw, table.headers[j], spec, ENTITY_ACTION, ENTERPRISES)
            inexact = inexact | parsed.inexact
            if spec.kind == schema.CREDIT_CODE:
                warning = parsed.warning
        frame = pl.DataFrame(data)
        frame = frame.with_columns(bad.alias("_bad"), inexact.alias("_inexact"), warning.alias("warning"))
        return _derive(frame)

    def report(self, table: RawTable, parsed: Parsed, raw: pl.Series, header: str, spec: schema.FieldSpec,
               action: tuple[str, str], kind: str) -> pl.Series:
        """Error rows for bad and missing-required cells; returns the mask of bad rows."""
        bad = parsed.error_zh.is_not_null()
        positions = bad.arg_true()
        self.error_rows(table, positions, header, spec.name, raw, parsed.error_zh.gather(positions),
                        parsed.error_en.gather(positions), action, kind)
        if spec.required:
            empty = parsed.blank
            self.error_rows(table, empty.arg_true(), header, spec.name, None, "必填字段缺失", "required field is missing",
                            action, kind)
            bad = bad | empty
        return bad

    def mark_duplicates(self, entities: pl.DataFrame) -> pl.DataFrame:
        coded = entities.filter(pl.col("credit_code").is_not_null())
        dup = coded.filter(pl.len().over("credit_code") > 1).select("credit_code", "_t", "_p", "sheet", "row")
        if dup.height:
            where = dup.group_by("credit_code", maintain_order=True).agg(pl.col("sheet"), pl.col("row"))
            lists = {code: list(zip(sheets, rows)) for code, sheets, rows in where.iter_rows()}
            for t, group in dup.group_by("_t", maintain_order=True):
                table = self.tables[t[0]]
                zh, en = duplicate_messages(group, lists)
                col = self.field_columns[t[0]]["credit_code"]
                self.error_rows(table, group.get_column("_p"), table.headers[col], "credit_code", table.columns[col],
                                pl.Series(zh, dtype=pl.String), pl.Series(en, dtype=pl.String), ENTITY_ACTION, ENTERPRISES)
        duplicated = pl.len().over("credit_code") > 1
        return entities.with_columns(
            (~pl.col("_bad") & ~(pl.col("credit_code").is_not_null() & duplicated)).alias("_ok"),
            (pl.col("credit_code").is_not_null() & duplicated).alias("_dup")).drop("_bad")

    # -- events ----------------------------------------------------------------------------------
    def event_frame(self, index: int) -> pl.DataFrame:
        table = self.tables[index]
        columns = self.map_headers(index, schema.EVENT_HEADERS, {"credit_code": "credit_code", "name": "_name"})
        columns.pop("_name", None)
        link = columns.pop("credit_code", None)
        missing = [n for n in ("type", "date") if n not in columns]
        if link is None and table.parent is None:
            missing.append("credit_code")
        if missing:
            zh = {f.name: f.zh for f in (*schema.EVENT_COMMON, schema.ENTITY_BY_NAME["credit_code"])}
            labels = "、".join(zh[n] for n in missing)
            raise BadInput(f"{table.sheet}：事件表缺少必需的列：{labels}",
                           f"{table.sheet}: the events table lacks required column(s): {', '.join(missing)}")
        self.field_columns[index] = columns
        n = table.height
        data: dict[str, pl.Series] = {
            "_t": constant(index, n, pl.Int64()), "_p": pl.int_range(0, n, eager=True, dtype=pl.Int64),
            "row": table.rows,
        }
        bad = constant(False, n, pl.Boolean())
        inexact = constant(False, n, pl.Boolean())
        # type
        j = columns["type"]
        raw_type = table.columns[j]
        types = _event_types(raw_type)
        blank_type = types.is_null() & _is_blank(raw_type)
        unknown = types.is_null() & ~blank_type
        names_zh = "、".join(e.zh for e in schema.EVENT_TYPES)
        self.error_rows(table, blank_type.arg_true(), table.headers[j], "type", None, "事件类型缺失", "event type is missing",
                        EVENT_ACTION, EVENTS)
        self.error_rows(table, unknown.arg_true(), table.headers[j], "type", raw_type, f"未知的事件类型，可选：{names_zh}",
                        "unknown event type; choose one of: " + ", ".join(e.code for e in schema.EVENT_TYPES), EVENT_ACTION, EVENTS)
        bad = bad | types.is_null()
        data["type"] = types
        kinds = types.cast(pl.Enum([e.code for e in schema.EVENT_TYPES]))  # integer is_in below, not string hashing
        for spec in schema.ALL_EVENT_FIELDS:
            if spec.name == "type":
                continue
            j = columns.get(spec.name)
            if j is None:
                data[spec.name] = constant(None, n, dtype_for(spec))
                continue
            raw = table.columns[j]
            parsed = parse_column(spec, raw)
            allowed = [e.code for e in schema.EVENT_TYPES if any(f.name == spec.name for f in e.fields)] \
                if spec not in schema.EVENT_COMMON else [e.code for e in schema.EVENT_TYPES]
            wrong = ~parsed.blank & kinds.is_not_null() & ~kinds.is_in(allowed)
            if wrong.any():
                positions = wrong.arg_true()
                type_zh = types.gather(positions).replace_strict({e.code: e.zh for e in schema.EVENT_TYPES})
                self.error_rows(table, positions, table.headers[j], spec.name, raw,
                                "「" + type_zh + "」事件没有此字段", "a " + types.gather(positions) + f" event has no field {spec.name}",
                                EVENT_ACTION, EVENTS)
                bad = bad | wrong
            ok = ~wrong
            errs = parsed.error_zh.is_not_null() & ok
            if spec.name == "date":
                pos = (parsed.blank & ok).arg_true()
                self.error_rows(table, pos, table.headers[j], "date", None, "事件日期缺失", "event date is missing", EVENT_ACTION, EVENTS)
                bad = bad | parsed.blank
            positions = errs.arg_true()
            self.error_rows(table, positions, table.headers[j], spec.name, raw, parsed.error_zh.gather(positions),
                            parsed.error_en.gather(positions), EVENT_ACTION, EVENTS)
            bad = bad | errs
            inexact = inexact | (parsed.inexact & ok)
            data[spec.name] = parsed.values.set(wrong, None) if n and wrong.any() else parsed.values
        frame = pl.DataFrame(data).with_columns(bad.alias("_bad"), inexact.alias("_inexact"))
        # the enterprise each event belongs to
        if table.parent is not None:
            parent_table = table.parent_table if table.parent_table is not None else self.first_enterprise_table()
            frame = frame.with_columns(table.parent.alias("_parent"), pl.lit(None, dtype=pl.String).alias("_code"),
                                       pl.lit(parent_table, dtype=pl.Int64).alias("_pt"))
        else:
            spec = schema.ENTITY_BY_NAME["credit_code"]
            raw = table.columns[link]
            parsed = parse_column(spec, raw, check=False)
            positions = parsed.error_zh.is_not_null().arg_true()
            self.error_rows(table, positions, table.headers[link], "credit_code", raw, parsed.error_zh.gather(positions),
                            parsed.error_en.gather(positions), EVENT_ACTION, EVENTS)
            self.error_rows(table, parsed.blank.arg_true(), table.headers[link], "credit_code", None,
                            "缺少统一社会信用代码，无法对应到企业", "credit code missing: the event cannot be matched to an enterprise",
                            EVENT_ACTION, EVENTS)
            frame = frame.with_columns(parsed.values.alias("_code"), pl.lit(None, dtype=pl.Int64).alias("_parent"),
                                       pl.lit(None, dtype=pl.Int64).alias("_pt"),
                                       (pl.col("_bad") | parsed.error_zh.is_not_null() | parsed.blank).alias("_bad"))
        return frame.with_columns(pl.lit(link if link is not None else -1).alias("_link"))

    def link_events(self, frames: list[pl.DataFrame], entities: pl.DataFrame, valid: pl.DataFrame) -> pl.DataFrame:
        if not frames:
            return _empty_events()
        events = pl.concat(frames, how="vertical")
        by_code = valid.select(pl.col("credit_code").alias("_code"), "eid")
        by_parent = valid.select(pl.col("_t").alias("_pt"), pl.col("_p").alias("_parent"), "eid")
        events = events.join(by_code, on="_code", how="left", maintain_order="left")
        events = events.join(by_parent, on=["_pt", "_parent"], how="left", maintain_order="left", suffix="_p")
        events = events.with_columns(pl.coalesce("eid", "eid_p").alias("eid")).drop("eid_p")
        self.refused = (events.filter(pl.col("_bad") & pl.col("eid").is_not_null()).group_by("eid").len()
                        .select("eid", pl.col("len").cast(pl.Int64).alias("event_errors")))
        # why an event without an enterprise has none
        known = entities.select(pl.col("credit_code").alias("_code"), "_dup", pl.col("sheet").alias("_es"),
                                pl.col("row").alias("_er"), "_t", "_p")
        orphans = events.filter(pl.col("eid").is_null() & ~pl.col("_bad"))
        if orphans.height:
            coded = orphans.filter(pl.col("_code").is_not_null()).join(
                known.filter(pl.col("_code").is_not_null()).unique("_code", keep="first", maintain_order=True).drop("_t", "_p"),
                on="_code", how="left", maintain_order="left")
            parents = known.select(pl.col("_t").alias("_pt"), pl.col("_p").alias("_parent"), "_dup", "_es", "_er")
            parented = orphans.filter(pl.col("_code").is_null()).join(parents, on=["_pt", "_parent"], how="left",
                                                                      maintain_order="left")
            for part in (coded, parented):
                if part is None or not part.height:
                    continue
                for t, group in part.group_by("_t", maintain_order=True):
                    table = self.tables[t[0]]
                    zh, en = [], []
                    for dup, sheet, row in group.select("_dup", "_es", "_er").iter_rows():
                        if sheet is None:
                            zh.append("企业表中没有此统一社会信用代码的企业")
                            en.append("no enterprise with this credit code in the enterprise table")
                        elif dup:
                            zh.append("所属企业的统一社会信用代码在企业表中重复，未评估，此事件也未计入")
                            en.append("the enterprise's credit code is duplicated in the enterprise table; it was not evaluated, "
                                      "nor was this event")
                        else:
                            zh.append(f"所属企业（{sheet}第{row}行）有错误，未评估，此事件也未计入")
                            en.append(f"the enterprise ({sheet} row {row}) has errors and was not evaluated, nor was this event")
                    link = group.get_column("_link")[0]
                    column = table.headers[link] if link >= 0 else "events"
                    raw = table.columns[link] if link >= 0 else None
                    self.error_rows(table, group.get_column("_p"), column, "credit_code", raw,
                                    pl.Series(zh, dtype=pl.String), pl.Series(en, dtype=pl.String), EVENT_ACTION, EVENTS)
        events = events.with_columns(pl.when(pl.col("_bad")).then(None).otherwise(pl.col("eid")).alias("eid"))
        return events.drop("_code", "_parent", "_pt", "_bad", "_link")



def _event_column_example(field_name: str, header: str) -> str:
    """The header with an event type in front (贷款金额 → 知识产权质押贷款贷款金额), as ``event_columns`` reads it."""
    kind = next((e for e in schema.EVENT_TYPES if any(f.name == field_name for f in e.fields)),
                schema.EVENT_BY_CODE["intl_trademark_registration"])
    return f"{kind.zh}{header}"


def _not_evaluated(rows: pl.DataFrame) -> pl.DataFrame:
    """``Population.not_evaluated`` rows from enterprise frame rows (``_dup`` says which are duplicates)."""
    reason = pl.when(pl.col("_dup")).then(pl.lit(NOT_EVALUATED_DUPLICATE)).otherwise(pl.lit(NOT_EVALUATED_ERRORS))
    return rows.select(*NOT_EVALUATED_COLUMNS.keys() - {"reason"}, reason.alias("reason")).select(
        list(NOT_EVALUATED_COLUMNS)).cast(NOT_EVALUATED_COLUMNS)


def _event_types(raw: pl.Series) -> pl.Series:
    """Event type code per cell (None for blank or unknown), through ``schema.event_type_code``."""
    values = raw.to_list() if raw.dtype == pl.Object else None
    if values is not None:
        return pl.Series([_type_code(v) for v in values], dtype=pl.String)
    uniques = raw.unique(maintain_order=True)
    codes = pl.Series([_type_code(v) for v in uniques.to_list()], dtype=pl.String)
    return raw.replace_strict(uniques, codes, default=None, return_dtype=pl.String)


def _type_code(value: Any) -> str | None:
    from engine.profile import _blank

    if value is None or _blank(value):
        return None
    return schema.event_type_code(str(value))


def _is_blank(raw: pl.Series) -> pl.Series:
    from engine.batch.cells import blank_mask

    return blank_mask(raw)


def _empty_events() -> pl.DataFrame:
    data: dict[str, Any] = {"_t": pl.Int64, "_p": pl.Int64, "row": pl.Int64, "type": pl.String}
    for spec in schema.ALL_EVENT_FIELDS:
        if spec.name != "type":
            data[spec.name] = dtype_for(spec)
    data.update({"_inexact": pl.Boolean, "eid": pl.Int64})
    return pl.DataFrame(schema=data)


def _sorted_errors(errors: pl.DataFrame, tables: list[RawTable]) -> pl.DataFrame:
    """Errors in input order: table by table, row by row, cells left to right."""
    order = pl.DataFrame({"source": [t.source for t in tables], "sheet": [t.sheet for t in tables],
                          "_o": list(range(len(tables)))}, schema={"source": pl.String, "sheet": pl.String, "_o": pl.Int64})
    keyed = errors.with_row_index("_i").join(order.unique(["source", "sheet"], keep="first"), on=["source", "sheet"], how="left")
    return keyed.sort("_o", "row", "_i").drop("_o", "_i")


# -- derivations (what parse_profile works out) ----------------------------------------------------

_INDICATORS = {"employees": ("employees", 0), "revenue": ("revenue_wan", SCALE[schema.NUMBER]),
               "assets": ("assets_wan", SCALE[schema.NUMBER])}
_LEVELS = ("sme_below", "medium_min", "small_min")


def _thresholds() -> pl.DataFrame:
    """One row per sector: each level's bound per indicator in the column's scale (null: not an indicator there)."""
    rows: dict[str, list] = {"sector": list(THRESHOLDS)}
    for level in _LEVELS:
        for name, (_, scale) in _INDICATORS.items():
            rows[f"_{level}_{name}"] = [getattr(t, level).get(name, None) for t in THRESHOLDS.values()]
            rows[f"_{level}_{name}"] = [None if b is None else b * 10 ** scale for b in rows[f"_{level}_{name}"]]
    return pl.DataFrame(rows, schema={"sector": pl.String, **{c: pl.Int64 for c in rows if c != "sector"}})


def _size_expr() -> pl.Expr:
    """The derived size class given the sector's bounds joined in (one pass instead of a branch per sector)."""
    def below_any(level: str) -> pl.Expr:  # an indicator below its bound (indicators without a bound never are)
        return pl.any_horizontal([(pl.col(col) < pl.col(f"_{level}_{name}")).fill_null(False)
                                  for name, (col, _) in _INDICATORS.items()])

    known = pl.all_horizontal([pl.col(f"_sme_below_{name}").is_null() | pl.col(col).is_not_null()
                               for name, (col, _) in _INDICATORS.items()])
    return (pl.when(~pl.col("_sector_known") | ~known).then(pl.lit(None, dtype=pl.String))
            .when(~below_any("sme_below")).then(pl.lit("large"))
            .when(~below_any("medium_min")).then(pl.lit("medium"))
            .when(~below_any("small_min")).then(pl.lit("small"))
            .otherwise(pl.lit("micro")))


def _derive(frame: pl.DataFrame) -> pl.DataFrame:
    """Size class from 工信部联企业〔2011〕300号 and entity kind from the credit code prefix, as ``_derive`` does."""
    bounds = _thresholds().with_columns(pl.lit(True).alias("_sector_known"))
    helper = [c for c in bounds.columns if c != "sector"]
    frame = frame.join(bounds, on="sector", how="left", maintain_order="left").with_columns(pl.col("_sector_known").fill_null(False))
    size = _size_expr()
    derive_size = pl.col("size_class").is_null() & pl.col("sector").is_not_null()
    derive_kind = pl.col("entity_kind").is_null() & pl.col("credit_code").str.starts_with("91").fill_null(False)
    frame = frame.with_columns(size.alias("_size")).drop(helper)
    frame = frame.with_columns((derive_size & pl.col("_size").is_not_null()).alias("size_class_derived"),
                               derive_kind.alias("entity_kind_derived"))
    frame = frame.with_columns(
        pl.when(pl.col("size_class_derived")).then(pl.col("_size")).otherwise(pl.col("size_class")).alias("size_class"),
        pl.when(pl.col("entity_kind_derived")).then(pl.lit("enterprise")).otherwise(pl.col("entity_kind")).alias("entity_kind")
    ).drop("_size")
    return _derive_patents(frame)


def _derive_patents(frame: pl.DataFrame) -> pl.DataFrame:
    """No IP → no patent, no patent → no invention patent (``engine.profile._derive_patents``)."""
    no_patents = pl.col("patents_held").is_null() & pl.col("owns_ip").eq(False).fill_null(False)
    frame = frame.with_columns(no_patents.alias("patents_held_derived"))
    frame = frame.with_columns(pl.when(pl.col("patents_held_derived")).then(pl.lit(0, dtype=frame.schema["patents_held"]))
                               .otherwise(pl.col("patents_held")).alias("patents_held"))
    no_inventions = pl.col("invention_patents_held").is_null() & pl.col("patents_held").eq(0).fill_null(False)
    frame = frame.with_columns(no_inventions.alias("invention_patents_held_derived"))
    return frame.with_columns(
        pl.when(pl.col("invention_patents_held_derived")).then(pl.lit(0, dtype=frame.schema["invention_patents_held"]))
        .otherwise(pl.col("invention_patents_held")).alias("invention_patents_held"))
