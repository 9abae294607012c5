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
from engine.batch.read import Population
from engine.cities import CITIES, CITY_EN
from engine.evaluate import missing_fact
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
    "entities_evaluated": ("评估企业数", "entities evaluated"), "entities_paid": ("获补贴企业数", "entities with benefits"),
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
}


def output_tables(population: Population, results: Results, rules: RuleSet, as_of: date, lang: str = "zh",
                  round_: Any = None) -> list[OutputTable]:
    """Every output table, in sheet order; with a claim round (``engine.batch.run.Round``) also its own tables
    (``engine.batch.round_tables``)."""
    builder = _Builder(population, results, rules, as_of, lang)
    tables = [builder.summary_rules(), builder.summary_cities(), builder.summary_rule_city(), builder.lines(),
              builder.entities(), builder.undetermined(), builder.requirements(), builder.withheld(), builder.superseded(),
              builder.errors(), builder.rules_table()]
    if round_ is None:
        return tables
    from engine.batch.round_tables import round_tables

    return round_tables(builder, tables, round_)


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
        return OutputTable(key, TITLES[key][i], frame.rename({c: HEADERS[c][i] for c in frame.columns}),
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

    def entities(self) -> OutputTable:
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
        frame = frame.select(
            "source", "sheet", "row", "credit_code", "name", city.alias("city"),
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
                           pl.col("warning")], separator="；", ignore_nulls=True).replace("", None).alias("notes"))
        return self.table("entities", frame, ("total",))

    def errors(self) -> OutputTable:
        i = "en" if self.lang == "en" else "zh"
        frame = self.pop.errors.select("source", "sheet", "row", "column", "field", "value", pl.col(f"message_{i}").alias("message"),
                                       pl.col(f"action_{i}").alias("action"))
        return self.table("errors", frame)

    # -- summaries -------------------------------------------------------------------------------
    def summary_rules(self) -> OutputTable:
        res = self.res
        parts = [
            res.lines.group_by("rule").agg(pl.len().alias("lines"), pl.col("eid").n_unique().alias("entities"),
                                           pl.col("amount").sum().alias("total")),
            res.withheld.group_by("rule").agg(pl.len().alias("withheld_lines"), pl.col("amount").sum().alias("withheld_total")),
            res.superseded.group_by("rule").agg(pl.len().alias("superseded_lines")),
            res.undetermined.group_by("rule").agg(pl.len().alias("undetermined")),
            res.requirements.filter(pl.col("status") == "violated").group_by("rule").agg(
                pl.len().alias("violations"), pl.col("shortfall").sum().alias("shortfall_total")),
        ]
        frame = self.rule_info.filter(pl.col("kind") != "derived").select("rule", "title", "kind", "document", "number")
        for part in parts:
            frame = frame.join(part, on="rule", how="left", maintain_order="left")
        counts = ("lines", "entities", "total", "withheld_lines", "withheld_total", "superseded_lines", "undetermined",
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
        cities = pl.DataFrame({"city": list(CITIES)})
        parts = [
            self.pop.entities.group_by("city").agg(pl.len().alias("entities_evaluated")),
            self.by_city(res.totals).filter(pl.col("lines") > 0).group_by("city").agg(pl.len().alias("entities_paid")),
            self.by_city(res.lines).group_by("city").agg(pl.len().alias("lines"), pl.col("amount").sum().alias("total")),
            self.by_city(res.undetermined).group_by("city").agg(pl.len().alias("undetermined")),
            self.by_city(res.requirements).filter(pl.col("status") == "violated").group_by("city").agg(pl.len().alias("violations")),
            self.by_city(res.withheld).group_by("city").agg(pl.len().alias("withheld_lines"),
                                                            pl.col("amount").sum().alias("withheld_total")),
        ]
        frame = cities
        for part in parts:
            frame = frame.join(part, on="city", how="left", maintain_order="left")
        counts = ("entities_evaluated", "entities_paid", "lines", "total", "undetermined", "violations", "withheld_lines",
                  "withheld_total")
        frame = frame.with_columns([pl.col(c).fill_null(0).cast(pl.Int64) for c in counts])
        if self.lang == "en":
            frame = frame.with_columns(pl.col("city").replace_strict(CITY_EN))
        return self.table("summary_cities", frame, ("total", "withheld_total"))

    def summary_rule_city(self) -> OutputTable:
        grouped = self.by_city(self.res.lines).group_by("rule_pos", "rule", "city").agg(
            pl.len().alias("lines"), pl.col("eid").n_unique().alias("entities"), pl.col("amount").sum().alias("total"))
        city_order = pl.DataFrame({"city": list(CITIES), "_c": list(range(len(CITIES)))})
        frame = (grouped.join(city_order, on="city", how="left").sort("rule_pos", "_c")
                 .join(self.rule_info.select("rule", "title"), on="rule", how="left", maintain_order="left")
                 .select("rule", "title", "city", pl.col("entities").cast(pl.Int64), pl.col("lines").cast(pl.Int64),
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
