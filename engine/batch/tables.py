"""Results → the output tables clerks read: localised headers, labels instead of codes, citations.

Every table is a polars frame whose money columns hold Int64 fen (the writers turn them into yuan);
``OutputTable.money`` names them. Column order and headers are fixed here; docs/batch-guide.md explains
each column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from engine import schema
from engine.batch.columnar import REASONS, Results
from engine.batch.read import NOT_EVALUATED_DUPLICATE, NOT_EVALUATED_ERRORS, Population
from engine.cities import CITIES, CITY_EN
from engine.evaluate import missing_fact
from engine.profile import NO_IP_MEANS_NO_PATENTS, NO_PATENTS_MEANS_NO_INVENTIONS
from engine.rulebook import RuleSet
from engine.vocabulary import SIZE_CLASSES


@dataclass
class OutputTable:
    key: str  # file stem for csv/parquet/jsonl
    title: str  # sheet name
    frame: pl.DataFrame
    money: tuple[str, ...] = ()


_KEY_SEP = "\x1f"  # joins an event type and missing-fact names into one lookup key (names never contain it)

# key → (sheet zh, sheet en)
TITLES = {
    "summary_rules": ("按规则汇总", "Summary by rule"),
    "summary_cities": ("按城市汇总", "Summary by city"),
    "summary_rule_city": ("规则×城市", "Rule x city"),
    "lines": ("补贴明细", "Benefit lines"),
    "entities": ("企业汇总", "Entities"),
    "undetermined": ("待定", "Undetermined"),
    "requirements": ("要求核查", "Requirements"),
    "withheld": ("取消", "Withheld"),
    "superseded": ("被替代", "Superseded"),
    "errors": ("错误", "Errors"),
    "notes": ("说明", "Notes"),
    "rules": ("规则出处", "Rules"),
}

# internal column → (zh header, en header)
HEADERS = {
    "credit_code": ("统一社会信用代码", "credit code"), "name": ("名称", "name"), "city": ("所在城市", "city"),
    "source": ("文件", "file"), "sheet": ("工作表", "sheet"), "row": ("行号", "row"),
    "rule": ("规则编号", "rule id"), "title": ("规则名称", "rule"), "kind": ("规则类型", "kind of rule"),
    "event_type": ("事件类型", "event type"), "event_date": ("事件日期", "event date"), "event_ref": ("事件编号", "event reference"),
    "event_no": ("事件序号", "event no."), "amount": ("金额（元）", "amount (yuan)"),
    "amount_note": ("金额说明", "amount note"), "calculation": ("计算过程", "calculation"), "caveat": ("提示", "caveat"),
    "document": ("政策文件", "policy document"), "number": ("文号", "document number"), "section": ("条款", "section"),
    "quote": ("原文", "quoted text"), "citation": ("出处", "source"), "departments": ("责任单位", "departments"),
    "lines": ("补贴条数", "benefit lines"), "entities": ("企业数", "entities"), "total": ("金额合计（元）", "total (yuan)"),
    "withheld_lines": ("取消条数", "withheld lines"), "withheld_total": ("取消金额（元）", "withheld (yuan)"),
    "superseded_lines": ("被替代条数", "superseded lines"), "undetermined": ("待定条数", "undetermined"),
    "violations": ("未达标条数", "violations"), "shortfall_total": ("差额合计（元）", "total shortfall (yuan)"),
    "entities_evaluated": ("评估企业数", "entities evaluated"), "entities_money": ("获资金补贴企业数", "entities receiving money"),
    "entities_support": ("获支持措施企业数（无具体金额）", "entities receiving support measures (no amount)"),
    "size_class": ("企业规模", "size class"), "size_source": ("规模来源", "size class source"),
    "events": ("计入事件数", "events counted"), "ignored": ("评估日后事件数", "events after as-of"),
    "event_errors": ("有错误的事件行", "refused event rows"), "notes": ("说明", "notes"),
    "missing": ("缺少的信息", "missing information"), "missing_fields": ("缺少字段", "missing fields"), "reason": ("原因", "reason"),
    "status": ("结果", "status"), "floor": ("应达金额（元）", "floor (yuan)"), "actual": ("实际金额（元）", "actual (yuan)"),
    "shortfall": ("差额（元）", "shortfall (yuan)"), "exclusion": ("取消依据规则", "exclusion rule"),
    "exclusion_title": ("取消依据", "exclusion"), "by_rule": ("替代规则编号", "paid instead by rule"),
    "by_title": ("替代规则", "paid instead by"), "column": ("列", "column"), "field": ("字段", "field"), "value": ("值", "value"),
    "message": ("问题", "problem"), "action": ("处理", "what happened"), "window_from": ("生效日期", "in force from"),
    "window_to": ("失效日期", "in force to"), "tags": ("标签", "tags"), "once_key": ("一次性键", "once_key"),
    "evaluation": ("评估状态", "evaluation"),
    "not_evaluated_errors": ("未评估企业数（有错误）", "not evaluated (errors)"),
    "not_evaluated_duplicate": ("未评估企业数（信用代码重复）", "not evaluated (duplicate credit code)"),
    # a claim round's columns and tables (engine.batch.round_tables)
    "paid_status": ("兑现状态", "claim status"), "round_name": ("兑现批次", "paid in round"),
    "recorded_at": ("记录时间", "recorded at"), "paid_amount": ("已兑现金额（元）", "amount paid (yuan)"),
    "paid_rule": ("兑现规则编号", "paid under rule"), "paid_lines": ("已兑现条数", "lines already paid"),
    "paid_total": ("已兑现金额合计（元）", "already paid (yuan)"), "outside": ("申报期外事件数", "events outside the period"),
    "request": ("补充材料通知", "request to the enterprise"),
}
# the tables only a claim round writes (``--period`` / ``--ledger``), before the errors table
ROUND_TITLES = {
    "to_pay": ("待兑现", "To pay"),
    "to_complete": ("需补充材料", "Missing facts"),
    "paid": ("已兑现", "Already paid"),
    "outside": ("申报期外事件", "Outside the period"),
}

# 企业汇总's evaluation column, and the rows summaries add (see ``add_total_row``)
EVALUATION = {None: ("已评估", "evaluated"),
              NOT_EVALUATED_ERRORS: ("未评估：有错误（见“错误”表）", "not evaluated: errors (see the errors table)"),
              NOT_EVALUATED_DUPLICATE: ("未评估：统一社会信用代码重复（见“错误”表）",
                                        "not evaluated: duplicate credit code (see the errors table)")}
TOTAL_LABEL = ("合计", "total")
CITY_NOT_READ = ("（所在城市未能读取）", "(city not read)")
SUMMARIES = ("summary_rules", "summary_cities", "summary_rule_city")


def output_tables(population: Population, results: Results, rules: RuleSet, as_of: date, lang: str = "zh",
                  totals: bool = True, round_: Any = None) -> list[OutputTable]:
    """Every output table, in sheet order; with a claim round (``engine.batch.run.Round``) also its own tables
    (``engine.batch.round_tables``). ``totals=False`` leaves out the summaries' total rows (the chunked path adds
    chunks' summaries up and then calls ``add_total_row`` itself)."""
    builder = _Builder(population, results, rules, as_of, lang)
    tables = [builder.summary_rules(), builder.summary_cities(), builder.summary_rule_city(), builder.lines(),
              builder.entities(), builder.undetermined(), builder.requirements(), builder.withheld(), builder.superseded(),
              builder.errors(), builder.notes(), builder.rules_table()]
    if round_ is not None:  # its columns join the summaries row by row, so before the total rows
        from engine.batch.round_tables import round_tables

        tables = round_tables(builder, tables, round_)
    if totals:
        from engine.batch.manifest import recipient_counts

        counts = TotalCounts(recipient_counts(results.lines), population.not_evaluated_counts())
        tables = [add_total_row(t, counts, lang) if t.key in SUMMARIES else t for t in tables]
    return tables


@dataclass
class TotalCounts:
    """What a summary's total row says beyond column sums: distinct enterprises with money / support measures
    (``manifest.recipient_counts``) and enterprise rows not evaluated by reason (``Population.not_evaluated_counts``)."""

    recipients: dict[str, int]
    not_evaluated: dict[str, int]


def not_evaluated_note(not_evaluated: dict[str, int], lang: str) -> str:
    """"All rules; N enterprises not evaluated (X with errors, Y duplicate codes), not counted here" in zh or en."""
    errors, duplicates = not_evaluated[NOT_EVALUATED_ERRORS], not_evaluated[NOT_EVALUATED_DUPLICATE]
    if lang == "en":
        if not errors + duplicates:
            return "all rules; every enterprise row was evaluated"
        return (f"all rules; {errors + duplicates} enterprise row(s) not evaluated ({errors} with errors, {duplicates} with "
                "a duplicate credit code) and not counted here: see the errors table")
    if not errors + duplicates:
        return "全部规则；全部企业行均已评估"
    return f"全部规则；另有 {errors + duplicates} 个企业行未评估（有错误 {errors} 行，信用代码重复 {duplicates} 行），未计入本表，见“错误”表"


def add_total_row(table: OutputTable, counts: TotalCounts, lang: str) -> OutputTable:
    """``table`` (a summary) plus a last row "合计": integer columns added up, except the enterprise counts of the
    rule summaries (an enterprise paid under two rules is one enterprise: ``counts.recipients``); the rule
    summaries' title cell says how many enterprise rows were not evaluated and why."""
    i = 1 if lang == "en" else 0
    frame = table.frame
    frame = frame.with_columns([pl.col(c).cast(pl.String) for c, d in frame.schema.items() if isinstance(d, (pl.Enum, pl.Categorical))])
    distinct = {HEADERS["entities_money"][i]: counts.recipients["entities_with_money"],
                HEADERS["entities_support"][i]: counts.recipients["entities_with_support_measures"]}
    row: dict[str, object] = {}
    for name, dtype in frame.schema.items():
        if dtype.is_integer():
            row[name] = distinct[name] if table.key != "summary_cities" and name in distinct else int(frame.get_column(name).sum())
        else:
            row[name] = None
    first = frame.columns[0]
    row[first] = TOTAL_LABEL[i]
    if table.key != "summary_cities":
        row[HEADERS["title"][i]] = not_evaluated_note(counts.not_evaluated, lang)
    total = pl.DataFrame([row], schema=frame.schema)
    return OutputTable(table.key, table.title, pl.concat([frame, total], how="vertical"), table.money)


def recipients() -> list[pl.Expr]:
    """Per group of benefit lines: enterprises with money (a line with an amount > 0) and enterprises with a
    support measure (a line whose text states no amount); one enterprise may be both."""
    return [pl.col("eid").filter(pl.col("amount") > 0).n_unique().alias("entities_money"),
            pl.col("eid").filter(pl.col("amount").is_null()).n_unique().alias("entities_support")]


def table_title(key: str) -> tuple[str, str]:
    """The (zh, en) title of an output table, a claim round's included."""
    return TITLES.get(key) or ROUND_TITLES[key]


def _enums(frame: pl.DataFrame, *names: str) -> pl.DataFrame:
    """``names`` as Enums of their distinct values in sorted order (fixed by the data: reproducible bytes)."""
    return frame.with_columns([pl.col(n).cast(pl.Enum(frame.get_column(n).drop_nulls().unique().sort().to_list())) for n in names])


def _enum_lit(text: str) -> pl.Expr:
    return pl.lit(text, dtype=pl.Enum([text]))


def _citation(rules: RuleSet, rule, lang: str) -> str | None:
    """Document number (or title) and clause, e.g. "阜政发〔2017〕42号 三、（八）"; the full quote is in the rules table."""
    if rule.citation is None:
        return None
    document = rules.document_of(rule)
    name = document.number or (document.title_en if lang == "en" else document.title)
    return f"{name} {rule.citation.section}"


class _Builder:
    def __init__(self, population: Population, results: Results, rules: RuleSet, as_of: date, lang: str):
        self.pop, self.res, self.rules, self.as_of, self.lang = population, results, rules, as_of, lang
        en = lang == "en"
        self.rule_info = pl.DataFrame({
            "rule": [r.id for r in rules.rules],
            "title": [r.title_in(lang) for r in rules.rules],
            "kind": [r.kind for r in rules.rules],
            "document": [(rules.document_of(r).title_en if en else rules.document_of(r).title) for r in rules.rules],
            "number": [rules.document_of(r).number for r in rules.rules],
            "section": [r.citation.section if r.citation else None for r in rules.rules],
            "citation": [_citation(rules, r, lang) for r in rules.rules],
            "quote": [r.citation.quote if r.citation else None for r in rules.rules],
            "departments": ["、".join(r.departments) for r in rules.rules],
        }, schema={"rule": pl.String, "title": pl.String, "kind": pl.String, "document": pl.String, "number": pl.String,
                   "section": pl.String, "citation": pl.String, "quote": pl.String, "departments": pl.String})
        city = pl.col("city").replace_strict(CITY_EN, default=pl.col("city")) if en else pl.col("city")
        # Enterprises are in eid order (0…n-1), events are looked up by (eid, idx) and rules by rule_pos
        # positionally: gathers, not joins. Few-valued text columns are Enums: gathering them moves integer
        # codes, and Parquet stores them dictionary-encoded (CSV, JSONL and xlsx write the same text).
        self.who = _enums(population.entities.select("credit_code", "name", city.alias("city")), "city")
        types = {e.code: (e.en if en else e.zh) for e in schema.EVENT_TYPES}
        events = population.events  # sorted by eid, idx (read_population): row of (eid, idx) = offsets[eid] + idx
        self.event_info = events.select(
            pl.col("type").replace_strict(types, default=None, return_dtype=pl.Enum(list(dict.fromkeys(types.values()))))
            .alias("event_type"), pl.col("date").alias("event_date"),
            pl.col("ref").alias("event_ref"), (pl.col("idx") + 1).alias("event_no"))
        self.rule_cols = _enums(self.rule_info.select("rule", "title", "citation"), "rule", "title", "citation")
        eids = pl.int_range(0, population.entities.height, eager=True, dtype=pl.Int64)
        self.offsets = events.get_column("eid").search_sorted(eids, side="left").cast(pl.Int64)

    def table(self, key: str, frame: pl.DataFrame, money: tuple[str, ...] = ()) -> OutputTable:
        i = 1 if self.lang == "en" else 0
        return OutputTable(key, table_title(key)[i], frame.rename({c: HEADERS[c][i] for c in frame.columns}),
                           tuple(HEADERS[m][i] for m in money))

    def detailed(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Who, which rule, which event."""
        eid = frame.get_column("eid")
        position = (self.offsets.gather(eid) + frame.get_column("idx")).cast(pl.UInt32)
        rules = self.rule_cols.gather(frame.get_column("rule_pos"))  # rule_pos = row of rule_info
        return pl.concat([frame.drop("rule"), self.who.gather(eid), self.event_info.gather(position), rules], how="horizontal")

    def zh_en(self, zh: str, en: str) -> str:
        return en if self.lang == "en" else zh

    # -- detail tables ---------------------------------------------------------------------------
    def lines(self) -> OutputTable:
        caveat = "caveat_en" if self.lang == "en" else "caveat_zh"
        frame = self.detailed(self.res.lines).select(
            "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no", "amount",
            pl.when(pl.col("amount").is_null()).then(_enum_lit(self.zh_en("文件未规定具体金额", "no amount stated in the text")))
            .alias("amount_note"), "calculation", pl.col(caveat).alias("caveat"), "citation", "once_key")
        return self.table("lines", frame, ("amount",))

    def undetermined(self) -> OutputTable:
        labels = self.missing_labels(self.res.undetermined)
        reason = {k: v[1] if self.lang == "en" else v[0] for k, v in REASONS.items()}
        frame = self.detailed(labels).select(
            "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no",
            "missing", pl.col("missing_fields"),
            pl.col("reason").replace_strict(reason, return_dtype=pl.Enum(list(dict.fromkeys(reason.values())))).alias("reason"))
        return self.table("undetermined", frame)

    def missing_labels(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``missing`` (labels, as engine.evaluate words them) and ``missing_fields`` (names); row order kept."""
        labels = missing_text(self.rules, frame, self.lang)
        return frame.with_columns(labels.cast(pl.Enum(sorted(set(labels.drop_nulls().to_list())))).alias("_labels"),
                                  pl.col("missing").list.join(", ").alias("missing_fields")
                                  ).drop("missing").rename({"_labels": "missing"})

    def requirements(self) -> OutputTable:
        status = {"met": self.zh_en("达标", "met"), "violated": self.zh_en("未达标", "violated")}
        frame = self.detailed(self.res.requirements).select(
            "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no",
            pl.col("status").replace_strict(status, default=pl.col("status")).alias("status"), "floor", "actual", "shortfall",
            "calculation", "citation")
        return self.table("requirements", frame, ("floor", "actual", "shortfall"))

    def withheld(self) -> OutputTable:
        titles = self.rule_info.select(pl.col("rule").alias("exclusion"), pl.col("title").alias("exclusion_title"))
        reason = "reason_en" if self.lang == "en" else "reason_zh"
        frame = self.detailed(self.res.withheld).join(titles, on="exclusion", how="left", maintain_order="left").select(
            "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no", "amount",
            "calculation", "exclusion", "exclusion_title", pl.col(reason).alias("reason"), "citation")
        return self.table("withheld", frame, ("amount",))

    def superseded(self) -> OutputTable:
        titles = self.rule_info.select(pl.col("rule").alias("by_rule"), pl.col("title").alias("by_title"))
        frame = self.detailed(self.res.superseded).join(titles, on="by_rule", how="left", maintain_order="left").select(
            "credit_code", "name", "city", "rule", "title", "event_type", "event_date", "event_ref", "event_no", "amount",
            "calculation", "by_rule", "by_title")
        return self.table("superseded", frame, ("amount",))

    def entities(self, more: pl.DataFrame | None = None, money: tuple[str, ...] = ()) -> OutputTable:
        """One row per enterprise row of the input; ``more``: more columns by ``eid`` for the evaluated ones
        (a claim round's), empty for the rows not evaluated."""
        counts = [
            self.res.undetermined.group_by("eid").len().rename({"len": "undetermined"}),
            self.res.requirements.filter(pl.col("status") == "violated").group_by("eid").len().rename({"len": "violations"}),
            self.res.withheld.group_by("eid").len().rename({"len": "withheld_lines"}),
            self.pop.events.group_by("eid").len().rename({"len": "_events"}),
        ]
        frame = self.pop.entities.join(self.res.totals, on="eid", how="left", maintain_order="left")
        for extra in counts:
            frame = frame.join(extra, on="eid", how="left", maintain_order="left")
        sizes = {k: (k if self.lang == "en" else v) for k, v in SIZE_CLASSES.items()}
        derived_note = self.zh_en("企业规模按工信部联企业〔2011〕300号推定", "size class derived under 工信部联企业〔2011〕300号")
        kind_note = self.zh_en("主体类型按信用代码前两位“91”推定为企业", "kind of entity derived as enterprise from credit code prefix 91")
        city = pl.col("city").replace_strict(CITY_EN, default=pl.col("city")) if self.lang == "en" else pl.col("city")
        evaluation = {k: v[1] if self.lang == "en" else v[0] for k, v in EVALUATION.items()}
        frame = frame.select(
            "_t", "_p", "eid", "source", "sheet", "row", "credit_code", "name", city.alias("city"),
            pl.lit(evaluation[None]).alias("evaluation"),
            pl.col("size_class").replace_strict(sizes, default=pl.col("size_class")).alias("size_class"),
            pl.when(pl.col("size_class_derived")).then(pl.lit(self.zh_en("推定", "derived")))
            .when(pl.col("size_class").is_not_null()).then(pl.lit(self.zh_en("填报", "given"))).alias("size_source"),
            pl.col("lines").fill_null(0), pl.col("total").fill_null(0),
            *[pl.col(c).fill_null(0).cast(pl.Int64) for c in ("undetermined", "violations", "withheld_lines")],
            (pl.col("_events").fill_null(0) - pl.col("ignored").fill_null(0) - pl.col("merged").fill_null(0)).cast(pl.Int64)
            .alias("events"),
            pl.col("ignored").fill_null(0), pl.col("event_errors").fill_null(0).cast(pl.Int64),
            pl.concat_str([pl.when(pl.col("size_class_derived")).then(pl.lit(derived_note)),
                           pl.when(pl.col("entity_kind_derived")).then(pl.lit(kind_note)),
                           pl.when(pl.col("patents_held_derived")).then(pl.lit(self.zh_en(*NO_IP_MEANS_NO_PATENTS))),
                           pl.when(pl.col("invention_patents_held_derived")).then(
                               pl.lit(self.zh_en(*NO_PATENTS_MEANS_NO_INVENTIONS))),
                           pl.col("warning")], separator="；", ignore_nulls=True).replace("", None).alias("notes"))
        # every enterprise row of the input, in input order: the ones not evaluated say why, with empty counts
        skipped = self.pop.not_evaluated.select(
            "_t", "_p", "source", "sheet", "row", "credit_code", "name", city.alias("city"),
            pl.col("reason").replace_strict({k: v for k, v in evaluation.items() if k is not None}).alias("evaluation"))
        if more is not None:
            frame = frame.join(more, on="eid", how="left", maintain_order="left")
        frame = pl.concat([frame.drop("eid"), skipped], how="diagonal_relaxed").sort("_t", "_p").drop("_t", "_p")
        return self.table("entities", frame, ("total", *money))

    def errors(self) -> OutputTable:
        i = "en" if self.lang == "en" else "zh"
        frame = self.pop.errors.select("source", "sheet", "row", "column", "field", "value", pl.col(f"message_{i}").alias("message"),
                                       pl.col(f"action_{i}").alias("action"))
        return self.table("errors", frame)

    def notes(self) -> OutputTable:
        """Every input column not read as it stands: ignored (and why), or read as an event field."""
        i = "en" if self.lang == "en" else "zh"
        frame = self.pop.column_notes.select("source", "sheet", "column", pl.col(f"action_{i}").alias("action"),
                                             pl.col(f"reason_{i}").alias("reason"))
        return self.table("notes", frame)

    # -- summaries -------------------------------------------------------------------------------
    def summary_rules(self) -> OutputTable:
        res = self.res
        parts = [
            res.lines.group_by("rule").agg(pl.len().alias("lines"), *recipients(), pl.col("amount").sum().alias("total")),
            res.withheld.group_by("rule").agg(pl.len().alias("withheld_lines"), pl.col("amount").sum().alias("withheld_total")),
            res.superseded.group_by("rule").agg(pl.len().alias("superseded_lines")),
            res.undetermined.group_by("rule").agg(pl.len().alias("undetermined")),
            res.requirements.filter(pl.col("status") == "violated").group_by("rule").agg(
                pl.len().alias("violations"), pl.col("shortfall").sum().alias("shortfall_total")),
        ]
        frame = self.rule_info.filter(pl.col("kind") != "derived").select("rule", "title", "kind", "document", "number")
        for part in parts:
            frame = frame.join(part, on="rule", how="left", maintain_order="left")
        counts = ("lines", "entities_money", "entities_support", "total", "withheld_lines", "withheld_total", "superseded_lines", "undetermined",
                  "violations", "shortfall_total")
        frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
        kinds = {"benefit": self.zh_en("补贴/支持", "benefit"), "requirement": self.zh_en("要求", "requirement"),
                 "exclusion": self.zh_en("取消条件", "exclusion")}
        frame = frame.with_columns(pl.col("kind").replace_strict(kinds, default=pl.col("kind")))
        return self.table("summary_rules", frame, ("total", "withheld_total", "shortfall_total"))

    def by_city(self, frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(self.pop.entities.get_column("city").gather(frame.get_column("eid")).alias("city"))

    def summary_cities(self) -> OutputTable:
        res = self.res
        not_read = CITY_NOT_READ[1 if self.lang == "en" else 0]
        cities = pl.DataFrame({"city": [*CITIES, not_read]})
        skipped = self.pop.not_evaluated.with_columns(pl.col("city").fill_null(not_read))
        parts = [
            self.pop.entities.group_by("city").agg(pl.len().alias("entities_evaluated")),
            skipped.group_by("city").agg((pl.col("reason") == NOT_EVALUATED_ERRORS).sum().alias("not_evaluated_errors"),
                                         (pl.col("reason") == NOT_EVALUATED_DUPLICATE).sum().alias("not_evaluated_duplicate")),
            self.by_city(res.lines).group_by("city").agg(*recipients(), pl.len().alias("lines"),
                                                         pl.col("amount").sum().alias("total")),
            self.by_city(res.undetermined).group_by("city").agg(pl.len().alias("undetermined")),
            self.by_city(res.requirements).filter(pl.col("status") == "violated").group_by("city").agg(pl.len().alias("violations")),
            self.by_city(res.withheld).group_by("city").agg(pl.len().alias("withheld_lines"),
                                                            pl.col("amount").sum().alias("withheld_total")),
        ]
        frame = cities
        for part in parts:
            frame = frame.join(part, on="city", how="left", maintain_order="left")
        counts = ("entities_evaluated", "not_evaluated_errors", "not_evaluated_duplicate", "entities_money", "entities_support", "lines", "total", "undetermined", "violations", "withheld_lines",
                  "withheld_total")
        frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
        if self.lang == "en":
            frame = frame.with_columns(pl.col("city").replace_strict(CITY_EN, default=pl.col("city")))
        return self.table("summary_cities", frame, ("total", "withheld_total"))

    def summary_rule_city(self) -> OutputTable:
        grouped = self.by_city(self.res.lines).group_by("rule_pos", "rule", "city").agg(
            *recipients(), pl.len().alias("lines"), pl.col("amount").sum().alias("total"))
        city_order = pl.DataFrame({"city": list(CITIES), "_c": list(range(len(CITIES)))})
        frame = (grouped.join(city_order, on="city", how="left").sort("rule_pos", "_c")
                 .join(self.rule_info.select("rule", "title"), on="rule", how="left", maintain_order="left")
                 .select("rule", "title", "city", pl.col("entities_money").cast(pl.Int64),
                         pl.col("entities_support").cast(pl.Int64), pl.col("lines").cast(pl.Int64),
                         pl.col("total").fill_null(0).cast(pl.Int64)))
        if self.lang == "en":
            frame = frame.with_columns(pl.col("city").replace_strict(CITY_EN))
        return self.table("summary_rule_city", frame, ("total",))

    def rules_table(self) -> OutputTable:
        rules = self.rules.rules
        frame = self.rule_info.with_columns(
            pl.Series("window_from", [r.window_from for r in rules], dtype=pl.Date),
            pl.Series("window_to", [r.window_to for r in rules], dtype=pl.Date),
            pl.Series("tags", [", ".join(r.tags) for r in rules], dtype=pl.String),
        ).select("rule", "title", "kind", "document", "number", "section", "quote", "departments", "window_from", "window_to", "tags")
        return self.table("rules", frame)


def missing_text(rules: RuleSet, undetermined: pl.DataFrame, lang: str) -> pl.Series:
    """The clerk-facing "missing" text of each undetermined row (``rule``, ``missing`` names), worded by
    ``engine.evaluate.missing_fact`` exactly as the per-profile engine's ``Undetermined.missing`` labels.

    Labelled once per distinct (event type, missing list), of which there are few, then mapped back.
    """
    event_of = {r.id: r.event or "" for r in rules.rules}
    joiner = "、" if lang == "zh" else ", "
    key = pl.concat_str([pl.col("rule").replace_strict(event_of), pl.lit(_KEY_SEP), pl.col("missing").list.join(_KEY_SEP)])
    keys = undetermined.select(key.alias("_key")).get_column("_key")
    distinct = keys.drop_nulls().unique(maintain_order=True).to_list()
    labels = []
    for k in distinct:
        event, _, names = k.partition(_KEY_SEP)
        facts = [missing_fact(n, event or None) for n in names.split(_KEY_SEP)] if names else []
        labels.append(joiner.join(f.label_zh if lang == "zh" else f.label_en for f in facts))
    return keys.replace_strict(distinct, labels, default=None, return_dtype=pl.String).alias("missing")
