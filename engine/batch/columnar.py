"""Columnar evaluation: the semantics of ``engine.evaluate`` over a whole population at once.

Per chunk of enterprises (bounded memory), with polars expressions compiled from the same condition
trees (``engine.evaluate.compiled_tree``, bound by ``engine.conditions``):

1. derived facts on the enterprise table, in dependency order (three-valued);
2. entity rules on the enterprise table when ``as_of`` lies in their window;
3. event rules on each event type's table (events after ``as_of`` dropped) joined to its enterprise;
4. amounts (fixed / rate × base with cap / actual) and requirement floors in Int64 fen, exactly;
5. exclusions (established ⇒ withheld; undetermined ⇒ kept with a caveat), then supersedes.

Results are tables keyed by ``eid`` (enterprise), rule and ``idx`` (the event's index, null for entity
rules), ordered as the per-profile engine orders its lists. Enterprises flagged ``fallback`` (a value finer
than the columnar scale) are evaluated by ``engine.evaluate`` itself and converted to the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

import polars as pl

from engine import schema
from engine.batch.compile import column, derived_column, truth
from engine.batch.money import decimals_of, fen_of, fen_or_none, floor_fen, rate_parts, times_rate, yuan_text
from engine.claims import PAID_STATUSES
from engine.conditions import bind, bind_by_event_date
from engine.describe import describe
from engine.evaluate import REASONS, caveat, compiled_tree, conditions_of, derived_title, missing_fact, param_text, withholds
from engine.money import format_rate
from engine.once import SEP as ONCE_SEP
from engine.once import once_per, once_scope
from engine.results import Evaluation, Period
from engine.round_words import expiry_texts
from engine.rulebook import Rule, RuleSet
from engine.tree import Node, derived_of, fields_of, params_of

KEY = {"eid": pl.Int64, "rule": pl.String, "rule_pos": pl.Int64, "idx": pl.Int64}
SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "lines": {**KEY, "amount": pl.Int64, "calculation": pl.String, "caveat_zh": pl.String, "caveat_en": pl.String,
              "once_key": pl.String},
    "requirements": {**KEY, "status": pl.String, "floor": pl.Int64, "actual": pl.Int64, "shortfall": pl.Int64,
                     "calculation": pl.String},
    "withheld": {**KEY, "amount": pl.Int64, "calculation": pl.String, "exclusion": pl.String, "exclusion_idx": pl.Int64,
                 "reason_zh": pl.String, "reason_en": pl.String},
    "superseded": {**KEY, "amount": pl.Int64, "calculation": pl.String, "by_rule": pl.String},
    "undetermined": {**KEY, "missing": pl.List(pl.String), "reason": pl.String},
    "paid": {**KEY, "amount": pl.Int64, "calculation": pl.String, "once_key": pl.String, "status": pl.String,
             "round_name": pl.String, "recorded_at": pl.String, "paid_amount": pl.Int64, "paid_rule": pl.String},
    "outside": {"eid": pl.Int64, "idx": pl.Int64},
    "totals": {"eid": pl.Int64, "total": pl.Int64, "lines": pl.Int64, "ignored": pl.Int64, "paid_total": pl.Int64,
               "paid_lines": pl.Int64, "outside": pl.Int64, "merged": pl.Int64},
}
_EMPTY = pl.lit([], dtype=pl.List(pl.String))
_SEP = "\x1f"  # joins missing-fact names (which never contain it) while building their lists


@dataclass
class Results:
    """Evaluation results of a population, one table per kind (see ``SCHEMAS``); amounts in fen."""

    lines: pl.DataFrame
    requirements: pl.DataFrame
    withheld: pl.DataFrame
    superseded: pl.DataFrame
    undetermined: pl.DataFrame
    paid: pl.DataFrame  # lines a ledger already holds as approved or paid (not in the totals)
    outside: pl.DataFrame  # events outside the round's period
    totals: pl.DataFrame

    @classmethod
    def empty(cls) -> Results:
        return cls(**{name: pl.DataFrame(schema=SCHEMAS[name]) for name in SCHEMAS})

    @classmethod
    def concat(cls, parts: list[Results]) -> Results:
        if not parts:
            return cls.empty()
        out = {}
        for f in fields(cls):
            frames = [getattr(p, f.name).select(list(SCHEMAS[f.name])).cast(SCHEMAS[f.name]) for p in parts]
            out[f.name] = pl.concat(frames, how="vertical")
        return cls(**out)

    def sorted(self) -> Results:
        order = {name: (["eid", "rule_pos", "idx"] if "rule_pos" in SCHEMAS[name] else [c for c in ("eid", "idx") if c in SCHEMAS[name]])
                 for name in SCHEMAS}
        return Results(**{name: getattr(self, name).sort(order[name], nulls_last=False, maintain_order=True) for name in SCHEMAS})


@dataclass(frozen=True)
class _Plan:
    rule: Rule
    pos: int
    tree: Node
    conditions: tuple[tuple[Node, Node], ...]  # (as written incl. implicit, bound)


class ColumnarEvaluator:
    """One rule set at one ``as_of``, compiled once, applied to any number of chunks."""

    def __init__(self, rules: RuleSet, as_of: date, period: Period | None = None, claims: pl.DataFrame | None = None):
        self.rules = rules
        self.as_of = as_of
        self.period = period
        self.claims = first_claim_rows(claims) if claims is not None else None
        self.round_mode = period is not None or claims is not None
        self.benefit_ids = [r.id for r in rules.rules if r.kind == "benefit"]
        self.plans: dict[str, _Plan] = {}
        for pos, rule in enumerate(rules.rules):
            conditions = tuple((c.tree, self.bound(rule, c.tree)) for c in conditions_of(rules, rule))
            self.plans[rule.id] = _Plan(rule, pos, self.bound(rule, compiled_tree(rules, rule)), conditions)
        self.active = [r for r in rules.rules if r.kind != "derived" and (r.event is not None or r.in_window(as_of))]
        self.event_types = sorted({r.event for r in self.active if r.event is not None})
        self.exclusions = [r for r in self.active if r.kind == "exclusion"]
        self.labels = {lang: missing_labels(rules, lang) for lang in ("zh", "en")}

    # -- compilation -----------------------------------------------------------------------------
    def bound(self, rule: Rule, node: Node) -> Node:
        if rule.event is None:
            return bind(node, lambda n: self.rules.param_at(n, self.as_of), self.as_of)
        return bind_by_event_date(node, lambda n: self.rules.parameters[n].step_values(), self.as_of)

    def missing(self, plan: _Plan, event_type: str | None) -> pl.Expr:
        """Missing facts of an undetermined decision, in the order ``engine.evaluate`` lists them."""
        parts: list[pl.Expr] = []
        names: list[str] = []
        for written, bound in plan.conditions:
            unknown = truth(bound, event_type).is_null()
            for f in sorted(fields_of(written), key=str):
                parts.append(pl.when(unknown & pl.col(column(f)).is_null()).then(pl.lit(str(f))))
                names.append(str(f))
            for name in sorted(derived_of(written)):
                inner = self.missing(self.plans[name], None).list.join(_SEP)
                parts.append(pl.when(unknown & pl.col(derived_column(name)).is_null() & (inner != "")).then(inner))
                names.append("")  # a derived fact's list may repeat any name
            for name in sorted(params_of(written)):  # a parameter with no value at the decision date
                parts.append(pl.when(unknown & self.param_gap(plan.rule, name, event_type)).then(pl.lit(f"params.{name}")))
                names.append(f"params.{name}")
        if not parts:
            return _EMPTY
        listed = _listed(parts)
        if "" not in names and len(set(names)) == len(names):
            return listed  # distinct names only: list.unique (a per-row list.eval, slow) would change nothing
        return listed.list.unique(maintain_order=True)

    def param_gap(self, rule: Rule, name: str, event_type: str | None) -> pl.Expr:
        """True where ``params.name`` has no value at the decision date (as_of, or the event's date)."""
        if rule.event is None or event_type is None:
            return pl.lit(self.rules.param_at(name, self.as_of) is None)
        starts = [start for start, _ in self.rules.parameters[name].step_values()]
        return pl.col("event.date") < pl.lit(min(starts), dtype=pl.Date) if starts else pl.lit(True)

    def entity_columns(self, event_type: str) -> list[str]:
        """Entity fields and derived facts the rules of ``event_type`` read (for their missing facts too)."""
        names: set[str] = set()
        derived: set[str] = set()

        def visit(rule_id: str) -> None:
            for written, _ in self.plans[rule_id].conditions:
                names.update(f.name for f in fields_of(written) if f.scope == "entity")
                for d in derived_of(written):
                    if d not in derived:
                        derived.add(d)
                        visit(d)

        for rule in self.active:
            if rule.event == event_type:
                visit(rule.id)
        return sorted(names) + sorted(derived_column(d) for d in derived)

    def label_expr(self, missing: pl.Expr, event_type: str | None, lang: str) -> pl.Expr:
        table = self.labels[lang][event_type]
        joiner = "、" if lang == "zh" else ", "
        return missing.list.eval(pl.element().replace_strict(table, return_dtype=pl.String)).list.join(joiner)

    # -- parameters ------------------------------------------------------------------------------
    def param(self, rule: Rule, ref, transform: Callable[[Decimal], object], dtype: pl.DataType) -> tuple[pl.Expr | None, pl.Expr]:
        """(value expression, gap expression) of a literal or ``params.x`` read at the decision date."""
        if ref is None:
            return None, pl.lit(False)
        if not isinstance(ref, str):
            return pl.lit(transform(Decimal(ref)), dtype=dtype), pl.lit(False)
        name = ref[7:]
        if rule.event is None:
            value = self.rules.param_at(name, self.as_of)
            if value is None:
                return pl.lit(None, dtype=dtype), pl.lit(True)
            return pl.lit(transform(Decimal(value)), dtype=dtype), pl.lit(False)
        steps = self.rules.parameters[name].step_values()
        when = pl.col("event.date")
        expr = None
        for start, value in reversed(steps):
            expr = (pl.when(when >= pl.lit(start, dtype=pl.Date)) if expr is None else expr.when(when >= pl.lit(start, dtype=pl.Date))) \
                .then(pl.lit(transform(Decimal(value)), dtype=dtype))
        if expr is None:
            return pl.lit(None, dtype=dtype), pl.lit(True)
        value_expr = expr.otherwise(pl.lit(None, dtype=dtype))
        return value_expr, value_expr.is_null()

    def rate(self, rule: Rule, ref) -> tuple[pl.Expr, int, pl.Expr, pl.Expr]:
        """(numerator, k, text, gap) of a rate: value = numerator / 10^k."""
        values = [Decimal(ref)] if not isinstance(ref, str) else [Decimal(v) for _, v in self.rules.parameters[ref[7:]].step_values()]
        k = decimals_of(values)
        numerator, gap = self.param(rule, ref, lambda v: rate_parts(v, k), pl.Int64())
        text, _ = self.param(rule, ref, format_rate, pl.String())
        return numerator, k, text, gap

    # -- evaluation ------------------------------------------------------------------------------
    def evaluate(self, entities: pl.DataFrame, events: pl.DataFrame) -> Results:
        """Evaluate one chunk: ``entities`` with consecutive ``eid``; ``events`` of exactly those enterprises."""
        if entities.height == 0:
            return Results.empty()
        first = int(entities.get_column("eid")[0])
        for name in self.rules.derived_order:
            entities = entities.with_columns(truth(self.plans[name].tree, None).alias(derived_column(name)))
        entity_rules = [r for r in self.active if r.event is None]
        entities = entities.with_columns([truth(self.plans[r.id].tree, None).alias(f"?{r.id}") for r in entity_rules])
        counted = events.filter(pl.col("date") <= self.as_of)
        if "_merged" in counted.columns:  # an event listed twice is counted once (engine.batch.duplicates)
            counted = counted.filter(pl.col("_merged").is_null())
        frames: dict[str | None, pl.DataFrame] = {None: entities}
        # one pass over the chunk's events instead of one string filter per event type
        by_type = {key[0]: part for key, part in counted.partition_by("type", as_dict=True, maintain_order=True).items()}
        empty = counted.clear()
        for event_type in self.event_types:
            frames[event_type] = self.event_frame(entities, by_type.get(event_type, empty), event_type, first)
        entities = self.exclusion_states(entities, frames)
        out: dict[str, list[pl.DataFrame]] = {name: [] for name in SCHEMAS}
        for rule in self.active:
            if rule.kind == "exclusion":
                continue
            frame = frames[rule.event]
            plan = self.plans[rule.id]
            decided = pl.col(f"?{rule.id}")
            base = [pl.col("eid"), pl.lit(rule.id).alias("rule"), pl.lit(plan.pos, dtype=pl.Int64).alias("rule_pos"),
                    (pl.col("idx") if rule.event else pl.lit(None, dtype=pl.Int64)).alias("idx"),
                    (pl.col("event.date") if rule.event else pl.lit(self.as_of, dtype=pl.Date)).alias("_when")]
            if rule.kind == "benefit":
                base.append(once_key_expr(rule).alias("once_key"))
            unknown = frame.filter(decided.is_null())
            if unknown.height:
                out["undetermined"].append(unknown.select(*base, self.missing(plan, rule.event).alias("missing"),
                                                          pl.lit("conditions").alias("reason")))
            eligible = frame.filter(decided.fill_null(False))
            if not eligible.height:
                continue
            if rule.kind == "benefit":
                lines, lacking = self.amounts(rule, eligible, base)
                out["lines"].append(lines)
                out["undetermined"].append(lacking)
            else:
                met, lacking = self.requirement(rule, eligible, base)
                out["requirements"].append(met)
                out["undetermined"].append(lacking)
        no_caveat = [pl.lit(None, dtype=pl.String).alias("caveat_zh"), pl.lit(None, dtype=pl.String).alias("caveat_en")]
        with_when = [*SCHEMAS["lines"], "_when"]
        lines = pl.concat([f.with_columns(no_caveat).select(with_when) for f in out["lines"]], how="vertical") if out["lines"] \
            else pl.DataFrame(schema={**SCHEMAS["lines"], "_when": pl.Date})
        kept, withheld = self.apply_exclusions(lines, entities, counted, first)
        kept, superseded = self.apply_supersedes(kept)
        kept, superseded = self.apply_once(kept, superseded)
        kept = self.expiry_caveats(kept)  # an ended rule's benefit: still listed, with the claim-deadline caveat
        kept, paid = self.apply_claims(kept, entities, first)
        undetermined = _stack(out["undetermined"], "undetermined")
        outside = pl.DataFrame(schema=SCHEMAS["outside"])
        if self.period is not None:
            inside = pl.col("date").is_between(pl.lit(self.period.start), pl.lit(self.period.end))
            outside = counted.filter(~inside).select("eid", "idx")
            kept, withheld, superseded, undetermined = (self.earned(f, outside) for f in (kept, withheld, superseded, undetermined))
        totals = self.totals(entities, kept, events, paid, outside)
        result = {"lines": [kept], "requirements": out["requirements"], "withheld": [withheld], "superseded": [superseded],
                  "undetermined": [undetermined], "paid": [paid], "outside": [outside], "totals": [totals]}
        return Results(**{name: _stack(result[name], name) for name in SCHEMAS}).sorted()

    def event_frame(self, entities: pl.DataFrame, events: pl.DataFrame, event_type: str, first: int) -> pl.DataFrame:
        spec = schema.EVENT_BY_CODE[event_type]
        own = [f.name for f in spec.fields + schema.EVENT_COMMON if f.name != "type"]
        chosen = events.select("eid", "idx", *[pl.col(n).alias(f"event.{n}") for n in own],  # events of this type only
                               pl.col("type").alias("event.type"), ordinal_column(events))
        wanted = ["city", *self.entity_columns(event_type)]
        wanted = list(dict.fromkeys(wanted))
        gathered = entities.select(wanted).gather(chosen.get_column("eid") - first)
        frame = pl.concat([chosen, gathered], how="horizontal")
        rules = [r for r in self.active if r.event == event_type]
        return frame.with_columns([truth(self.plans[r.id].tree, event_type).alias(f"?{r.id}") for r in rules])

    # -- amounts and floors ----------------------------------------------------------------------
    def amounts(self, rule: Rule, frame: pl.DataFrame, base: list[pl.Expr]) -> tuple[pl.DataFrame, pl.DataFrame]:
        spec = rule.amount
        form = spec.form
        none_str = pl.lit(None, dtype=pl.String)
        if form == "none":
            lines = frame.select(*base, pl.lit(None, dtype=pl.Int64).alias("amount"), none_str.alias("calculation"))
            return lines, pl.DataFrame(schema=SCHEMAS["undetermined"])
        cap_floor, cap_gap = self.param(rule, spec.cap, floor_fen, pl.Int64())
        cap_fen, _ = self.param(rule, spec.cap, fen_of, pl.Int64())
        lacking: list[pl.Expr] = []
        if form == "fixed":
            value, gap = self.param(rule, spec.value, fen_of, pl.Int64())
            lacking = [pl.when(gap).then(pl.lit(str(spec.value))), pl.when(~gap & cap_gap).then(pl.lit(str(spec.cap)))]
            raw, formula = value, yuan_text(value)
        else:
            lacking.append(pl.when(cap_gap).then(pl.lit(str(spec.cap))))
            bases = spec.base if isinstance(spec.base, tuple) else (spec.base,)
            lacking += [pl.when(pl.col(b).is_null()).then(pl.lit(b)) for b in bases]
            if form == "rate":
                numerator, k, rate_text, gap = self.rate(rule, spec.rate)
                lacking.append(pl.when(gap).then(pl.lit(str(spec.rate))))
                raw = times_rate(pl.col(bases[0]), numerator, k)
                formula = pl.concat_str([yuan_text(pl.col(bases[0])), pl.lit(" × "), rate_text])
            else:
                raw = pl.sum_horizontal([pl.col(b) for b in bases])
                formula = pl.concat_str([yuan_text(pl.col(b)) for b in bases], separator=" + ")
        missing = _listed(lacking)
        frame = frame.with_columns(missing.alias("_lacking"), raw.alias("_raw"))
        lacking_rows = frame.filter(pl.col("_lacking").list.len() > 0).select(
            *base, pl.col("_lacking").alias("missing"), pl.lit("amount").alias("reason"))
        paid = frame.filter(pl.col("_lacking").list.len() == 0)
        amount = pl.col("_raw")
        capped = (amount > cap_floor) if spec.cap is not None else pl.lit(False)
        single = form == "fixed" or (form == "actual" and len(spec.base if isinstance(spec.base, tuple) else (spec.base,)) == 1)
        plain = yuan_text(amount) if single else pl.concat_str([formula, pl.lit(" = "), yuan_text(amount)])
        if spec.cap is not None:
            with_cap = pl.concat_str([pl.lit("min("), formula, pl.lit(" = "), yuan_text(amount), pl.lit(", "), yuan_text(cap_fen),
                                      pl.lit(") = "), yuan_text(cap_fen)])
            calculation = pl.when(capped).then(with_cap).otherwise(plain)
            final = pl.when(capped).then(cap_fen).otherwise(amount)
        else:
            calculation, final = plain, amount
        lines = paid.select(*base, final.cast(pl.Int64).alias("amount"), calculation.alias("calculation"))
        return lines, lacking_rows

    def requirement(self, rule: Rule, frame: pl.DataFrame, base: list[pl.Expr]) -> tuple[pl.DataFrame, pl.DataFrame]:
        spec = rule.floor
        numerator, k, rate_text, gap = self.rate(rule, spec.rate)
        lacking = [pl.when(pl.col(spec.base).is_null()).then(pl.lit(spec.base)),
                   pl.when(pl.col(spec.actual).is_null()).then(pl.lit(spec.actual)),
                   pl.when(gap).then(pl.lit(str(spec.rate)))]
        frame = frame.with_columns(_listed(lacking).alias("_lacking"))
        lacking_rows = frame.filter(pl.col("_lacking").list.len() > 0).select(
            *base, pl.col("_lacking").alias("missing"), pl.lit("floor").alias("reason"))
        checked = frame.filter(pl.col("_lacking").list.len() == 0).with_columns(
            times_rate(pl.col(spec.base), numerator, k).alias("_floor"), pl.col(spec.actual).alias("_actual"))
        short = pl.col("_actual") < pl.col("_floor")
        shortfall = pl.when(short).then(pl.col("_floor") - pl.col("_actual")).otherwise(0)
        calc = pl.concat_str([yuan_text(pl.col(spec.base)), pl.lit(" × "), rate_text, pl.lit(" = "), yuan_text(pl.col("_floor")),
                              pl.lit("; "), pl.when(short).then(pl.concat_str([
                                  yuan_text(pl.col("_actual")), pl.lit(" < "), yuan_text(pl.col("_floor")), pl.lit(", shortfall "),
                                  yuan_text(pl.col("_floor") - pl.col("_actual"))])).otherwise(pl.concat_str([
                                      yuan_text(pl.col("_actual")), pl.lit(" ≥ "), yuan_text(pl.col("_floor"))]))])
        met = checked.select(*base, pl.when(short).then(pl.lit("violated")).otherwise(pl.lit("met")).alias("status"),
                             pl.col("_floor").alias("floor"), pl.col("_actual").alias("actual"), shortfall.cast(pl.Int64).alias("shortfall"),
                             calc.alias("calculation"))
        return met, lacking_rows

    # -- exclusions and supersedes ----------------------------------------------------------------
    def exclusion_states(self, entities: pl.DataFrame, frames: dict[str | None, pl.DataFrame]) -> pl.DataFrame:
        """Per enterprise and exclusion: ``!id`` (true/false/null), ``!id.missing`` and ``!id.idx`` (the first occasion that held)."""
        for rule in self.exclusions:
            plan = self.plans[rule.id]
            state = f"!{rule.id}"
            if rule.event is None:
                entities = entities.with_columns(
                    pl.col(f"?{rule.id}").alias(state),
                    pl.when(pl.col(f"?{rule.id}").is_null()).then(self.missing(plan, None)).otherwise(_EMPTY).alias(f"{state}.missing"),
                    pl.lit(None, dtype=pl.Int64).alias(f"{state}.idx"))
                continue
            frame = frames[rule.event]
            decided = pl.col(f"?{rule.id}")
            agg = frame.group_by("eid").agg(
                pl.when(decided.any()).then(True).when(decided.is_null().any()).then(None).otherwise(False).alias(state),
                pl.col("idx").filter(decided.fill_null(False)).min().alias(f"{state}.idx"))
            first_unknown = (frame.filter(decided.is_null()).sort("eid", "idx").unique("eid", keep="first", maintain_order=True)
                             .select("eid", self.missing(plan, rule.event).alias(f"{state}.missing")))
            entities = (entities.join(agg, on="eid", how="left", maintain_order="left")
                        .join(first_unknown, on="eid", how="left", maintain_order="left")
                        .with_columns(pl.when(pl.col(state).is_null() & pl.col(f"{state}.idx").is_null()
                                              & pl.col(f"{state}.missing").is_null()).then(False).otherwise(pl.col(state)).alias(state),
                                      pl.col(f"{state}.missing").fill_null(_EMPTY)))
        return entities

    def reason(self, exclusion: Rule, when: date, lang: str) -> str:
        texts = [describe(c.tree, exclusion.event, lang, lambda name: derived_title(self.rules, name, lang),
                          lambda name: param_text(self.rules, name, when, lang))
                 for c in conditions_of(self.rules, exclusion) if not c.implicit]
        return ("；" if lang == "zh" else "; ").join(texts)

    def apply_exclusions(self, lines: pl.DataFrame, entities: pl.DataFrame, events: pl.DataFrame,
                         first: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        kept_parts, withheld_parts = [], []
        for rule_id, part in lines.partition_by("rule", as_dict=True, maintain_order=True).items():
            rule = self.rules.by_id[rule_id[0]]
            # the benefit's own document's exclusions first, then the rest in rule-base order
            applicable = sorted((x for x in self.exclusions if withholds(x, rule)), key=lambda x: x.document_id != rule.document_id)
            if not applicable:
                kept_parts.append(part.select(list(SCHEMAS["lines"])))
                continue
            states = entities.select([c for x in applicable for c in (f"!{x.id}", f"!{x.id}.missing", f"!{x.id}.idx")])
            part = pl.concat([part, states.gather(part.get_column("eid") - first)], how="horizontal")
            # an exclusion reaches only lines dated inside its own window
            reach = {x.id: _in_window(x, pl.col("_when")) for x in applicable}
            by = pl.coalesce([pl.when(pl.col(f"!{x.id}").fill_null(False) & reach[x.id]).then(pl.lit(x.id)) for x in applicable])
            unsure = pl.coalesce([pl.when(pl.col(f"!{x.id}").is_null() & reach[x.id]).then(pl.lit(x.id)) for x in applicable])
            part = part.with_columns(by.alias("_by"), unsure.alias("_unsure"))
            held = part.filter(pl.col("_by").is_not_null())
            if held.height:
                withheld_parts.append(self.withheld_rows(held, applicable, events))
            kept = part.filter(pl.col("_by").is_null())
            for lang in ("zh", "en"):
                worded = pl.lit(None, dtype=pl.String)
                for x in reversed(applicable):
                    labels = self.label_expr(pl.col(f"!{x.id}.missing"), x.event, lang)
                    prefix = caveat(x, [])[0 if lang == "zh" else 1]  # the engine's own words, labels appended
                    text = pl.concat_str([pl.lit(prefix), labels])
                    worded = pl.when(pl.col("_unsure") == x.id).then(text).otherwise(worded)
                kept = kept.with_columns(worded.alias(f"caveat_{lang}"))
            kept_parts.append(kept.select(list(SCHEMAS["lines"])))
        kept = _stack(kept_parts, "lines")
        return kept, _stack(withheld_parts, "withheld")

    def withheld_rows(self, held: pl.DataFrame, applicable: list[Rule], events: pl.DataFrame) -> pl.DataFrame:
        idx = pl.coalesce([pl.when(pl.col("_by") == x.id).then(pl.col(f"!{x.id}.idx")) for x in applicable])
        held = held.with_columns(idx.alias("exclusion_idx"))
        rows = []
        for x in applicable:
            part = held.filter(pl.col("_by") == x.id)
            if not part.height:
                continue
            if x.event is None or not any(params_of(c.tree) for c in conditions_of(self.rules, x)):
                part = part.with_columns(pl.lit(self.reason(x, self.as_of, "zh")).alias("reason_zh"),
                                         pl.lit(self.reason(x, self.as_of, "en")).alias("reason_en"))
            else:  # parameters are worded at the date of the event that made the exclusion hold
                dated = events.select("eid", pl.col("idx").alias("exclusion_idx"), "date")
                part = part.join(dated, on=["eid", "exclusion_idx"], how="left", maintain_order="left")
                days = part.get_column("date").unique().to_list()
                part = part.with_columns(
                    pl.col("date").replace_strict(days, [self.reason(x, d, "zh") for d in days], return_dtype=pl.String).alias("reason_zh"),
                    pl.col("date").replace_strict(days, [self.reason(x, d, "en") for d in days], return_dtype=pl.String).alias("reason_en"))
            rows.append(part.with_columns(pl.col("_by").alias("exclusion")).select(list(SCHEMAS["withheld"])))
        return _stack(rows, "withheld")

    def apply_supersedes(self, kept: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        winners = {r.id: [o.id for o in self.rules.rules if r.id in o.supersedes] for r in self.rules.rules}
        if not any(winners.values()) or kept.height == 0:
            return kept, pl.DataFrame(schema=SCHEMAS["superseded"])
        # (eid, idx) as one integer key: is_in on a hash set instead of a left join per winning rule
        stride = int(kept.get_column("idx").max() or 0) + 1
        if int(kept.get_column("eid").max()) >= (2 ** 62) // stride:
            raise OverflowError("event key does not fit Int64")  # unreachable below ~10^12 enterprises
        frame = kept.with_columns((pl.col("eid") * stride + pl.col("idx")).alias("_key"))
        by = pl.lit(None, dtype=pl.String)
        for rule_id, others in winners.items():
            for other in reversed(others):
                paid = frame.filter(pl.col("rule") == other).get_column("_key").drop_nulls()
                if len(paid):
                    by = pl.when((pl.col("rule") == rule_id) & pl.col("_key").is_in(paid.implode())).then(pl.lit(other)).otherwise(by)
        frame = frame.with_columns(by.alias("by_rule"))
        superseded = frame.filter(pl.col("by_rule").is_not_null()).select(list(SCHEMAS["superseded"]))
        return frame.filter(pl.col("by_rule").is_null()).select(list(SCHEMAS["lines"])), superseded

    # -- once-keys, a ledger and a round's period --------------------------------------------------
    def apply_once(self, kept: pl.DataFrame, superseded: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Each once-key pays once per enterprise in one evaluation: later lines (rule-base, then event order)
        with a key already paid go to superseded, paid by the first line's rule (engine.evaluate.apply_once)."""
        if kept.height == 0:
            return kept, superseded
        kept = kept.sort("eid", "rule_pos", "idx", nulls_last=False, maintain_order=True)
        again = ~pl.struct("eid", "once_key").is_first_distinct()
        if not kept.select(again.any()).item():
            return kept, superseded
        marked = kept.with_columns(again.alias("_again"), pl.col("rule").first().over(["eid", "once_key"]).alias("by_rule"))
        extra = marked.filter(pl.col("_again")).select(list(SCHEMAS["superseded"]))
        return marked.filter(~pl.col("_again")).select(list(SCHEMAS["lines"])), _stack([superseded, extra], "superseded")

    def expiry_caveats(self, kept: pl.DataFrame) -> pl.DataFrame:
        """The ended-policy caveat on lines of rules whose window closed before as_of (engine.round_words)."""
        ended = [r for r in self.rules.rules if r.kind == "benefit" and r.window_to is not None and r.window_to < self.as_of]
        if not ended or kept.height == 0:
            return kept
        updates = []
        for lang, joiner in (("zh", "；"), ("en", "; ")):
            text = pl.lit(None, dtype=pl.String)
            for r in ended:
                words = expiry_texts(r.window_to, r.departments)[0 if lang == "zh" else 1]
                text = pl.when(pl.col("rule") == r.id).then(pl.lit(words)).otherwise(text)
            updates.append(pl.concat_str([pl.col(f"caveat_{lang}"), text], separator=joiner, ignore_nulls=True)
                           .replace("", None).alias(f"caveat_{lang}"))
        return kept.with_columns(updates)

    def apply_claims(self, kept: pl.DataFrame, entities: pl.DataFrame, first: int) -> tuple[pl.DataFrame, pl.DataFrame]:
        """Lines whose (credit code, once-key) the ledger holds: moved to ``paid``, out of the totals."""
        if self.claims is None or kept.height == 0 or self.claims.height == 0:
            return kept, pl.DataFrame(schema=SCHEMAS["paid"])
        codes = entities.get_column("credit_code").gather(kept.get_column("eid") - first).alias("credit_code")
        joined = kept.with_columns(codes).join(self.claims, on=["credit_code", "once_key"], how="left", maintain_order="left")
        held = pl.col("status").is_not_null()
        paid = joined.filter(held).select(list(SCHEMAS["paid"]))
        return joined.filter(~held).select(list(SCHEMAS["lines"])), paid

    def earned(self, frame: pl.DataFrame, outside: pl.DataFrame) -> pl.DataFrame:
        """``frame`` without benefit rows of events outside the round's period."""
        if frame.height == 0 or outside.height == 0:
            return frame
        marker = outside.with_columns(pl.lit(True).alias("_out"))
        joined = frame.join(marker, on=["eid", "idx"], how="left", maintain_order="left")
        away = pl.col("_out").fill_null(False) & pl.col("rule").is_in(self.benefit_ids)
        return joined.filter(~away).drop("_out")

    def totals(self, entities: pl.DataFrame, kept: pl.DataFrame, events: pl.DataFrame, paid: pl.DataFrame,
               outside: pl.DataFrame) -> pl.DataFrame:
        sums = kept.group_by("eid").agg(pl.col("amount").sum().alias("total"), pl.len().cast(pl.Int64).alias("lines"))
        paid_sums = paid.group_by("eid").agg(pl.col("amount").sum().alias("paid_total"), pl.len().cast(pl.Int64).alias("paid_lines"))
        merged = pl.col("_merged").is_not_null() if "_merged" in events.columns else pl.lit(False)
        ignored = events.filter((pl.col("date") > self.as_of) & ~merged).group_by("eid").agg(pl.len().cast(pl.Int64).alias("ignored"))
        merges = events.filter(merged).group_by("eid").agg(pl.len().cast(pl.Int64).alias("merged"))
        away = outside.group_by("eid").agg(pl.len().cast(pl.Int64).alias("outside"))
        frame = entities.select("eid")
        for part in (sums, ignored, paid_sums, away, merges):
            frame = frame.join(part, on="eid", how="left", maintain_order="left")
        return frame.with_columns([pl.col(c).fill_null(0) for c in ("total", "lines", "ignored", "paid_total", "paid_lines",
                                                                     "outside", "merged")])


def first_claim_rows(claims: pl.DataFrame) -> pl.DataFrame:
    """The earliest approved or paid claim per (credit code, once-key), as ``engine.claims.first_claims`` picks it."""
    return (claims.filter(pl.col("status").is_in(list(PAID_STATUSES)))
            .sort("recorded_at", "round_name", maintain_order=True)
            .unique(["credit_code", "once_key"], keep="first", maintain_order=True)
            .select("credit_code", "once_key", "status", "round_name", "recorded_at",
                    pl.col("amount_fen").cast(pl.Int64).alias("paid_amount"), pl.col("rule_id").alias("paid_rule")))


def ordinal_column(events: pl.DataFrame) -> pl.Expr:
    """``_ordinal`` (engine.once): the n-th distinct ref-less event of its type and date; 1 where not marked."""
    return (pl.col("_ordinal") if "_ordinal" in events.columns else pl.lit(1, dtype=pl.Int64)).alias("_ordinal")


def once_key_expr(rule: Rule) -> pl.Expr:
    """The once-key of ``rule``'s lines, as ``engine.once.once_key`` forms it, over an event frame."""
    scope = once_scope(rule)
    if once_per(rule) == "entity" or rule.event is None:
        return pl.lit(f"{scope}{ONCE_SEP}entity")
    ordinal = pl.when(pl.col("_ordinal") > 1).then(pl.concat_str([pl.lit("#"), pl.col("_ordinal").cast(pl.String)])) \
        .otherwise(pl.lit(""))
    part = pl.when(pl.col("event.ref").is_not_null() & (pl.col("event.ref") != "")) \
        .then(pl.concat_str([pl.lit("ref:"), pl.col("event.ref")])) \
        .otherwise(pl.concat_str([pl.lit("date:"), pl.col("event.date").dt.strftime("%Y-%m-%d"), ordinal]))
    return pl.concat_str([pl.lit(f"{scope}{ONCE_SEP}"), pl.col("event.type"), pl.lit(ONCE_SEP), part])


def missing_labels(rules: RuleSet, lang: str) -> dict[str | None, dict[str, str]]:
    """Missing-fact name → label as ``engine.evaluate.missing_fact`` words it, per event type (None: entity rules)."""
    out: dict[str | None, dict[str, str]] = {}
    for event_type in [None, *schema.EVENT_BY_CODE]:
        names = [f"params.{p}" for p in rules.parameters] + [spec.name for spec in schema.ENTITY_FIELDS]
        if event_type is not None:
            names += [f"event.{spec.name}" for spec in schema.EVENT_BY_CODE[event_type].fields + schema.EVENT_COMMON]
        facts = [missing_fact(name, event_type) for name in names]
        out[event_type] = {f.field: (f.label_zh if lang == "zh" else f.label_en) for f in facts}
    return out


def _listed(parts: list[pl.Expr]) -> pl.Expr:
    """The non-null names of ``parts`` (String expressions) as a list, in order.

    Joined as text and split: concat_list + list.drop_nulls is several times slower on large chunks.
    """
    joined = pl.concat_str(parts, separator=_SEP, ignore_nulls=True)
    return pl.when(joined == "").then(_EMPTY).otherwise(joined.str.split(_SEP))


def _in_window(rule: Rule, when: pl.Expr) -> pl.Expr:
    inside = pl.lit(True)
    if rule.window_from is not None:
        inside = inside & (when >= pl.lit(rule.window_from, dtype=pl.Date))
    if rule.window_to is not None:
        inside = inside & (when <= pl.lit(rule.window_to, dtype=pl.Date))
    return inside


def _stack(frames: list[pl.DataFrame], name: str) -> pl.DataFrame:
    frames = [f for f in frames if f is not None and f.height]
    if not frames:
        return pl.DataFrame(schema=SCHEMAS[name])
    return pl.concat([f.select(list(SCHEMAS[name])).cast(SCHEMAS[name]) for f in frames], how="vertical")


# -- the per-profile engine's results as the same rows ----------------------------------------------

def rows_from_evaluation(eid: int, evaluation: Evaluation, rules: RuleSet) -> Results:
    """An ``engine.evaluate`` result as batch result rows (used for fallback enterprises and in tests)."""
    pos = {r.id: i for i, r in enumerate(rules.rules)}

    def key(header) -> dict:
        return {"eid": eid, "rule": header.rule_id, "rule_pos": pos[header.rule_id],
                "idx": header.event.index if header.event is not None else None}

    reason = {v[0]: k for k, v in REASONS.items()}  # the engine's own words: an unknown one is a KeyError, not a guess
    lines = [{**key(b), "amount": fen_or_none(b.amount), "calculation": b.calculation,
              "caveat_zh": "；".join(b.caveats_zh) or None, "caveat_en": "; ".join(b.caveats_en) or None,
              "once_key": b.once_key} for b in evaluation.benefits]
    requirements = [{**key(r), "status": r.status, "floor": fen_or_none(r.floor), "actual": fen_or_none(r.actual),
                     "shortfall": fen_or_none(r.shortfall), "calculation": r.calculation} for r in evaluation.requirements]
    withheld = [{**key(w.line), "amount": fen_or_none(w.line.amount), "calculation": w.line.calculation,
                 "exclusion": w.exclusion.rule_id, "exclusion_idx": w.exclusion.event.index if w.exclusion.event else None,
                 "reason_zh": w.reason_zh, "reason_en": w.reason_en} for w in evaluation.withheld]
    superseded = [{**key(s.line), "amount": fen_or_none(s.line.amount), "calculation": s.line.calculation, "by_rule": s.by_rule_id}
                  for s in evaluation.superseded]
    undetermined = [{**key(u), "missing": [m.field for m in u.missing], "reason": reason[u.reason_zh]}
                    for u in evaluation.undetermined]
    paid = [{**key(p.line), "amount": fen_or_none(p.line.amount), "calculation": p.line.calculation,
             "once_key": p.line.once_key, "status": p.status, "round_name": p.round_name, "recorded_at": p.recorded_at,
             "paid_amount": fen_or_none(p.paid_amount), "paid_rule": p.paid_rule_id} for p in evaluation.already_paid]
    outside = [{"eid": eid, "idx": o.event.index} for o in evaluation.outside_period]
    totals = [{"eid": eid, "total": fen_or_none(evaluation.total), "lines": len(evaluation.benefits),
               "ignored": len(evaluation.ignored_events), "paid_total": fen_or_none(evaluation.already_paid_total),
               "paid_lines": len(evaluation.already_paid), "outside": len(evaluation.outside_period),
               "merged": len(evaluation.merged_events)}]
    data = {"lines": lines, "requirements": requirements, "withheld": withheld, "superseded": superseded,
            "undetermined": undetermined, "paid": paid, "outside": outside, "totals": totals}
    return Results(**{name: pl.DataFrame(data[name], schema=SCHEMAS[name]) for name in SCHEMAS})


def chunks(entities: pl.DataFrame, events: pl.DataFrame, size: int) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Consecutive slices of enterprises with their events (``events`` sorted by eid, as read_population gives them)."""
    n = entities.height
    eid = events.get_column("eid")
    for start in range(0, max(n, 1), size):
        part = entities.slice(start, size)
        if not part.height:
            return
        low, high = int(part.get_column("eid")[0]), int(part.get_column("eid")[-1])
        begin = int(eid.search_sorted(low, side="left"))
        stop = int(eid.search_sorted(high, side="right"))
        yield part, events.slice(begin, stop - begin)
