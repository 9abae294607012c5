"""What the ledger commands print and export: the record summary, one enterprise's claims, the whole ledger."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from engine import schema
from engine.batch.money import plain_yuan
from engine.batch.tables import OutputTable
from engine.ledger.sheet import SheetClaims
from engine.ledger.store import RecordReport

STATUS = {"approved": ("已批准", "approved"), "paid": ("已兑现", "paid"), "rejected": ("已驳回", "rejected"),
          "revoked": ("已撤销", "revoked")}
# export column → (zh, en)
COLUMNS = {
    "credit_code": ("统一社会信用代码", "credit code"), "rule_id": ("规则编号", "rule id"), "once_key": ("一次性键", "once-key"),
    "event_type": ("事件类型", "event type"), "event_date": ("事件日期", "event date"), "event_ref": ("事件编号", "event reference"),
    "amount_fen": ("金额（元）", "amount (yuan)"), "status": ("状态", "status"), "round": ("轮次", "round"),
    "period_start": ("申报期起", "period start"), "period_end": ("申报期止", "period end"), "operator": ("经办人", "operator"),
    "note": ("备注", "note"), "recorded_at": ("记录时间（UTC）", "recorded at (UTC)"), "updated_at": ("更新时间（UTC）", "updated at (UTC)"),
    "name": ("轮次", "round"), "as_of": ("评估日", "as-of date"), "rules_fingerprint": ("规则集指纹", "rule-set fingerprint"),
    "created_at": ("创建时间（UTC）", "created at (UTC)"),
}


def _yuan(fen: int | None) -> str:
    return "—" if fen is None else plain_yuan(fen)


def record_summary(report: RecordReport, sheet: SheetClaims, status: str, lang: str) -> str:
    en = lang == "en"
    word = STATUS[status][1 if en else 0]
    created = (" (new)" if en else "（新建）") if report.round_created else ""
    counts = (len(report.inserted), len(report.upgraded), len(report.unchanged))
    if en:
        lines = [f"round {report.round_name}{created}: {counts[0]} line(s) recorded as {word}, {counts[1]} approved → paid, "
                 f"{counts[2]} already recorded (unchanged)",
                 f"the batch wrote {sheet.batch_lines} benefit line(s); {sheet.deleted} deleted from the sheet (not approved)"]
    else:
        lines = [f"轮次 {report.round_name}{created}：新记为{word} {counts[0]} 行，由已批准改为已兑现 {counts[1]} 行，"
                 f"已记录未变 {counts[2]} 行",
                 f"批量评估共 {sheet.batch_lines} 条补贴明细；表中删除 {sheet.deleted} 行（未批准）"]
    lowered, unit = ("lowered by hand: ", "yuan") if en else ("手工调低：", "元")
    for low in sheet.lowered:
        lines.append(f"  {lowered}{low.line.where}{': ' if en else '：'}{low.line.credit_code} {low.line.rule_id} "
                     f"{_yuan(low.original_fen)} → {_yuan(low.line.amount_fen)} {unit}")
    if not report.changed:
        lines.append("the ledger is unchanged: every line of this sheet was already recorded" if en else "台账未改变：本表各行此前均已记录")
    return "\n".join(lines) + "\n"


def claims_text(frame: pl.DataFrame, credit_code: str, lang: str) -> str:
    en = lang == "en"
    if frame.height == 0:
        return (f"no claims recorded for {credit_code}\n" if en else f"台账中没有 {credit_code} 的记录\n")
    out = [f"{credit_code}: {frame.height} claim line(s)" if en else f"{credit_code}：共 {frame.height} 条记录"]
    for row in frame.iter_rows(named=True):
        status = STATUS[row["status"]][1 if en else 0]
        kind = schema.EVENT_BY_CODE.get(row["event_type"]) if row["event_type"] else None
        label = (kind.en if en else kind.zh) if kind is not None else row["event_type"]
        event = " ".join(str(v) for v in (label, row["event_date"], row["event_ref"]) if v is not None)
        round_word = "round" if en else "轮次"
        out.append(f"  [{status}] {round_word} {row['round']} · {row['rule_id']} · {_yuan(row['amount_fen'])} "
                   f"{'yuan' if en else '元'} · {row['once_key']}" + (f" · {event}" if event else "")
                   + f" · {row['recorded_at']:%Y-%m-%d %H:%M} UTC" + (f" · {row['operator']}" if row["operator"] else "")
                   + (f" · {row['note']}" if row["note"] else ""))
    return "\n".join(out) + "\n"


def export_tables(rounds: pl.DataFrame, claims: pl.DataFrame, lang: str) -> list[OutputTable]:
    i = 1 if lang == "en" else 0
    status = {k: v[i] for k, v in STATUS.items()}
    claims = claims.with_columns(pl.col("status").replace_strict(status))
    def table(key: str, title: tuple[str, str], frame: pl.DataFrame, money: tuple[str, ...] = ()) -> OutputTable:
        return OutputTable(key, title[i], frame.rename({c: COLUMNS[c][i] for c in frame.columns}),
                           tuple(COLUMNS[m][i] for m in money))

    return [table("rounds", ("轮次", "Rounds"), rounds), table("claims", ("兑现台账", "Claims"), claims, ("amount_fen",))]


def export_manifest(path: Path, rounds: pl.DataFrame, claims: pl.DataFrame, revision: str):
    def build(outputs: list[dict]) -> dict:
        return {"ledger_export": {"schema_revision": revision, "rounds": rounds.height, "claim_lines": claims.height,
                                  "by_status": {s: int((claims.get_column("status") == s).sum()) for s in STATUS},
                                  "outputs": outputs}}
    return build
