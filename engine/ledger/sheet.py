"""The benefit-lines sheet a batch wrote, as a clerk may have edited it → claim lines to record.

A clerk approves by deleting the rows not approved and may lower an amount by hand; a raised amount is
refused. What each line's amount was when the batch wrote it is recomputed from the same row, not trusted
from the amount cell:

* a line with a calculation ("30,609.83 × 70% = 21,426.88", "min(…, 50,000.00) = 50,000.00") ends with the
  amount the batch computed; for a rate the product is recomputed and the rate and cap must be the rule's;
* a fixed award has no calculation: its amount is the rule's, at the event's date (or as-of for entity rules).

The rule set must be the one the batch used (the manifest's fingerprint), and when no row was deleted the
recomputed amounts must add up to the manifest's total, which catches a calculation text edited by hand.
Re-evaluating the inputs would be stronger still, but needs the input files, which a clerk recording an
approved sheet often does not have; the manifest names them by hash for an audit that does.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import engine.batch.round_tables  # noqa: F401 - registers the round's sheet titles (待兑现) and headers
from engine import schema
from engine.batch.money import fen_of, plain_yuan
from engine.batch.tables import HEADERS, table_title
from engine.credit_code import validate_credit_code
from engine.ledger.db import LedgerError
from engine.ledger.store import ClaimLine, RoundInfo
from engine.rulebook import Rule, RuleSet
from engine.textnorm import ParseError, is_blank, parse_amount, parse_date

MAX_LISTED = 30  # problems listed in one message; the rest are counted
ONCE_KEY = "once_key"
_NEEDED = ("credit_code", "rule", "amount", "calculation", ONCE_KEY)
_LAST_AMOUNT = re.compile(r"([\d,]+\.\d{2})\s*$")
_RATE = re.compile(r"^([\d,]+\.\d{2}) × ([\d.]+)% = ([\d,]+\.\d{2})")
_SUM = re.compile(r"^([\d,]+\.\d{2}(?: \+ [\d,]+\.\d{2})+) = ([\d,]+\.\d{2})")
_CAP = re.compile(r"^min\((.*), ([\d,]+\.\d{2})\) = ([\d,]+\.\d{2})$")


@dataclass
class Lowered:
    line: ClaimLine
    original_fen: int


@dataclass
class SheetClaims:
    """What a results sheet holds, ready to record."""

    round: RoundInfo
    lines: list[ClaimLine]
    lowered: list[Lowered] = field(default_factory=list)
    batch_lines: int = 0  # benefit lines the batch wrote (manifest); lines already paid are in another sheet

    @property
    def deleted(self) -> int:
        return self.batch_lines - len(self.lines)


def manifest_for(results: Path) -> Path:
    """The manifest ``huiqi batch`` wrote next to ``results`` (a .xlsx, a csv folder or its lines.csv)."""
    if results.is_dir():
        return results / "manifest.json"
    if results.suffix.lower() == ".xlsx":
        return results.with_name(results.stem + ".manifest.json")
    return results.parent / "manifest.json"


def read_manifest(path: Path) -> dict:
    if not path.is_file():
        raise LedgerError(f"找不到批量评估的清单文件：{path}（用 --manifest 指定）",
                          f"the batch's manifest was not found: {path} (give it with --manifest)")
    try:
        stable = json.loads(path.read_text(encoding="utf-8"))["stable"]
        stable["as_of"], stable["rules"]["fingerprint"], stable["results"]["benefit_lines"]  # noqa: B018 - must be there
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise LedgerError(f"{path} 不是 huiqi batch 写出的清单文件", f"{path} is not a manifest written by huiqi batch") from None
    return stable


def round_of(name: str, stable: dict) -> RoundInfo:
    """The round as the batch ran it: as-of date, rule-set fingerprint and period ("START..END" in the manifest)."""
    period = (stable.get("round") or {}).get("period")
    start, _, end = period.partition("..") if period else (None, None, None)
    return RoundInfo(name=name, as_of=date.fromisoformat(stable["as_of"]), rules_fingerprint=stable["rules"]["fingerprint"],
                     period_start=date.fromisoformat(start) if start else None,
                     period_end=date.fromisoformat(end) if end else None)


def read_claims(results: str | Path, round_name: str, rules: RuleSet, manifest: str | Path | None = None) -> SheetClaims:
    """The lines of ``results`` to record in round ``round_name``; raises ``LedgerError`` listing every bad row."""
    path = Path(results)
    if not path.exists():
        raise LedgerError(f"找不到文件：{path}", f"file not found: {path}")
    stable = read_manifest(Path(manifest) if manifest else manifest_for(path))
    if stable["rules"]["fingerprint"] != rules.fingerprint:
        raise LedgerError("规则库自批量评估以来已改变（清单中的规则集指纹与当前规则不同）：请用当前规则重新批量评估，或用 --rules 指定当时的规则",
                          "the rules changed since the batch (the manifest's rule-set fingerprint differs from the loaded "
                          "rules): re-run the batch, or give the rules it used with --rules")
    info = round_of(round_name, stable)
    rows = _rows(path)
    claims = SheetClaims(info, [], batch_lines=int(stable["results"]["benefit_lines"]))
    problems: list[str] = []
    originals = 0
    for where, cells in rows:
        try:
            line, original = _claim(cells, where, rules, info.as_of)
        except _RowProblem as exc:
            problems.append(f"{where}：{exc.zh} / {exc.en}")
            continue
        if line is None:
            continue
        claims.lines.append(line)
        originals += original or 0
        if line.amount_fen is not None and original is not None and line.amount_fen < original:
            claims.lowered.append(Lowered(line, original))
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems[:MAX_LISTED])
        more = len(problems) - MAX_LISTED
        tail = f"\n  … 另有 {more} 行 / {more} more rows" if more > 0 else ""
        raise LedgerError(f"{path.name}：{len(problems)} 行无法记录，本次未记录任何内容：",
                          f"{path.name}: {len(problems)} row(s) cannot be recorded; nothing was recorded:\n{listed}{tail}")
    if claims.deleted < 0:
        raise LedgerError(f"{path.name}：表中有 {len(claims.lines)} 行，多于批量评估写出的 {claims.batch_lines} 行：只能删除行或调低金额，"
                          "不能添加行；本次未记录任何内容",
                          f"{path.name}: the sheet has {len(claims.lines)} rows, more than the {claims.batch_lines} the batch wrote: "
                          "rows may be deleted or lowered, never added; nothing was recorded")
    _same_as_to_pay(path, rows)
    total = fen_of(Decimal(stable["results"]["total_yuan"]))
    if not claims.deleted and originals != total:
        raise LedgerError(f"{path.name}：各行按计算过程复核的金额合计 {plain_yuan(originals)} 元，与批量评估清单的合计 "
                          f"{plain_yuan(total)} 元不符：计算过程似被手工改动，本次未记录任何内容",
                          f"{path.name}: the amounts recomputed from the rows add up to {plain_yuan(originals)} yuan, not "
                          f"the manifest's {plain_yuan(total)} yuan: a calculation seems edited by hand; nothing was recorded")
    return claims


class _RowProblem(Exception):
    def __init__(self, zh: str, en: str):
        super().__init__(en)
        self.zh, self.en = zh, en


def _claim(cells: dict[str, Any], where: str, rules: RuleSet, as_of: date) -> tuple[ClaimLine | None, int | None]:
    if all(is_blank(v) for v in cells.values()):
        return None, None  # an emptied row: deleted
    try:
        code, _ = validate_credit_code(cells.get("credit_code"))  # a wrong check character only warns, as in the batch
    except ParseError as exc:
        raise _RowProblem(f"统一社会信用代码有误：{exc.message_zh}", f"bad credit code: {exc.message_en}") from None
    rule = rules.by_id.get(str(cells.get("rule") or "").strip())
    if rule is None:
        raise _RowProblem(f"未知规则：{cells.get('rule')}", f"unknown rule: {cells.get('rule')}")
    once_key = str(cells.get(ONCE_KEY) or "").strip()
    if not once_key:
        raise _RowProblem("缺少一次性键（请用带 --period 的新版 huiqi batch 重新评估）",
                          "no once-key (re-run the batch with a huiqi that writes once-keys)")
    event_date = _date(cells.get("event_date"))
    amount = None if is_blank(cells.get("amount")) else _fen(cells.get("amount"))
    calculation = None if is_blank(cells.get("calculation")) else str(cells["calculation"]).strip()
    original = original_fen(rules, rule, event_date or as_of, calculation)
    if amount is not None and (original is None or amount > original):
        was = "未规定" if original is None else f"{plain_yuan(original)} 元"
        was_en = "none stated" if original is None else f"{plain_yuan(original)} yuan"
        raise _RowProblem(f"金额被手工调高：{plain_yuan(amount)} 元，批量评估为 {was}；金额只能调低",
                          f"amount raised by hand: {plain_yuan(amount)} yuan, the batch computed {was_en}; amounts may only be lowered")
    event_type = cells.get("event_type")
    event_ref = cells.get("event_ref")
    note = None
    if amount is not None and original is not None and amount < original:
        note = f"金额由 {plain_yuan(original)} 元手工调低为 {plain_yuan(amount)} 元 / lowered by hand from {plain_yuan(original)} yuan"
    return ClaimLine(credit_code=code, rule_id=rule.id, once_key=once_key, amount_fen=amount,
                     event_type=schema.event_type_code(str(event_type)) if not is_blank(event_type) else None,
                     event_date=event_date, event_ref=None if is_blank(event_ref) else str(event_ref).strip(),
                     note=note, where=where), original


def original_fen(rules: RuleSet, rule: Rule, when: date, calculation: str | None) -> int | None:
    """The amount the batch computed for this line (see the module docstring); raises ``_RowProblem``."""
    spec = rule.amount
    if spec is None or spec.form == "none":
        return None
    if calculation is None:
        if spec.form != "fixed":
            raise _RowProblem("计算过程被删除，无法复核金额", "the calculation was deleted: the amount cannot be checked")
        value = _number(rules, spec.value, when)
        cap = _number(rules, spec.cap, when)
        if value is None:
            raise _RowProblem("规则在该日期没有金额", "the rule states no amount at that date")
        return fen_of(min(value, cap) if cap is not None else value)
    found = _LAST_AMOUNT.search(calculation)
    if found is None:
        raise _RowProblem(f"计算过程无法识别：{calculation}", f"unrecognised calculation: {calculation}")
    stated = _yuan_fen(found.group(1))
    capped = _CAP.match(calculation)
    inner = capped.group(1) if capped else calculation
    if capped:
        cap = _number(rules, spec.cap, when)
        if cap is None or _yuan_fen(capped.group(2)) != fen_of(cap) or _yuan_fen(capped.group(3)) != fen_of(cap):
            raise _RowProblem(f"计算过程中的上限与规则不符：{calculation}", f"the calculation's cap is not the rule's: {calculation}")
    if spec.form == "rate":
        product = _RATE.match(inner)
        rate = _number(rules, spec.rate, when)
        if product is None or rate is None or Decimal(product.group(2)) / 100 != rate:
            raise _RowProblem(f"计算过程中的比例与规则不符：{calculation}", f"the calculation's rate is not the rule's: {calculation}")
        if fen_of(Decimal(product.group(1).replace(",", "")) * rate) != _yuan_fen(product.group(3)):
            raise _RowProblem(f"计算过程的乘积不对：{calculation}", f"the calculation's product is wrong: {calculation}")
    if spec.form == "actual":
        parts = _SUM.match(inner)
        if parts is not None and sum(_yuan_fen(x) for x in parts.group(1).split(" + ")) != _yuan_fen(parts.group(2)):
            raise _RowProblem(f"计算过程的加法不对：{calculation}", f"the calculation's sum is wrong: {calculation}")
    return stated


def _number(rules: RuleSet, ref, when: date) -> Decimal | None:
    if ref is None:
        return None
    if isinstance(ref, str):
        value = rules.param_at(ref[7:], when)
        return None if value is None else Decimal(value)
    return Decimal(ref)


def _yuan_fen(text: str) -> int:
    return fen_of(Decimal(text.replace(",", "")))


def _fen(value: Any) -> int:
    try:
        amount = parse_amount(value if not isinstance(value, float) else repr(value))
    except ParseError as exc:
        raise _RowProblem(f"金额无法识别：{exc.message_zh}", f"unreadable amount: {exc.message_en}") from None
    if amount != amount.quantize(Decimal("0.01")):
        raise _RowProblem(f"金额 {value} 不是整分", f"amount {value} is not a whole number of fen")
    return fen_of(amount)


def _date(value: Any) -> date | None:
    if is_blank(value):
        return None
    try:
        return parse_date(value)
    except ParseError as exc:
        raise _RowProblem(f"事件日期无法识别：{exc.message_zh}", f"unreadable event date: {exc.message_en}") from None


# -- files -------------------------------------------------------------------------------------------

def _header_keys() -> dict[str, str]:
    keys = {}
    for key, labels in HEADERS.items():
        for label in labels:
            keys[label.strip().lower()] = key
    return keys


def _same_as_to_pay(path: Path, rows: list[tuple[str, dict[str, Any]]]) -> None:
    """The round's 待兑现 (to pay) table repeats the benefit lines that have an amount. A clerk who approved by
    editing it instead of 补贴明细 would have the lines deleted there recorded all the same: refuse when 待兑现
    lacks a line that 补贴明细 still has, or holds a lower amount for it (an untouched 待兑现 is fine)."""
    to_pay = _rows(path, "to_pay", required=False)
    if to_pay is None:
        return

    def key(cells: dict[str, Any]) -> tuple[str, str]:
        return str(cells.get("credit_code") or "").strip().upper(), str(cells.get(ONCE_KEY) or "").strip()

    def fen(cells: dict[str, Any]) -> int | None:
        try:
            return _fen(cells.get("amount"))
        except _RowProblem:
            return None

    listed = {key(cells): fen(cells) for _, cells in to_pay if not is_blank(cells.get("amount"))}
    for where, cells in rows:
        if is_blank(cells.get("amount")):
            continue
        if key(cells) not in listed or (listed[key(cells)] is not None and fen(cells) is not None
                                        and listed[key(cells)] < fen(cells)):
            raise LedgerError(f"“待兑现”表中删除或调低了{where}的一行，但“补贴明细”表中没有：审批时请修改“补贴明细”表"
                              "（记录以它为准），再记录；本次未记录任何内容",
                              f"a line ({where}) was deleted or lowered in the 'To pay' sheet but not in 'Benefit lines': "
                              "approve by editing 'Benefit lines' (it is what is recorded) and record again; nothing was recorded")


def _rows(path: Path, key: str = "lines", required: bool = True) -> list[tuple[str, dict[str, Any]]] | None:
    """(where, {internal column: cell}) for every data row of the batch's ``key`` table (None: absent, not required)."""
    if path.is_dir() or path.suffix.lower() == ".csv":
        folder = path if path.is_dir() else path.parent
        path = folder / f"{key}.csv"
        if not path.is_file():
            if not required:
                return None
            raise LedgerError(f"文件夹中没有 {key}.csv：{folder}", f"no {key}.csv in the folder {folder}")
        return _csv_rows(path)
    if path.suffix.lower() == ".xlsx":
        return _xlsx_rows(path, key, required)
    raise LedgerError(f"不支持的文件类型：{path.name}（可用批量评估写出的 .xlsx 或 csv）",
                      f"unsupported file: {path.name} (give the .xlsx or csv output of huiqi batch)")


def _mapped(headers: list[Any], source: str) -> list[str | None]:
    keys = _header_keys()
    mapped = [keys.get(str(h).strip().lower()) if h is not None else None for h in headers]
    missing = [k for k in _NEEDED if k not in mapped]
    if missing:
        names = "、".join(HEADERS[k][0] if k in HEADERS else k for k in missing)
        names_en = ", ".join(HEADERS[k][1] if k in HEADERS else k for k in missing)
        raise LedgerError(f"{source} 缺少列：{names}（应为 huiqi batch 写出的补贴明细表）",
                          f"{source} lacks columns: {names_en} (give the benefit-lines table huiqi batch wrote)")
    return mapped


def _xlsx_rows(path: Path, key: str, required: bool) -> list[tuple[str, dict[str, Any]]] | None:
    from python_calamine import load_workbook

    from engine.batch.xlsx_guard import XlsxTooLarge, check_xlsx

    try:
        check_xlsx(path)
        book = load_workbook(str(path))
    except XlsxTooLarge as exc:
        raise LedgerError(exc.message_zh, exc.message_en) from None
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types for a damaged file
        raise LedgerError(f"{path.name} 无法读取：{exc}", f"{path.name} cannot be read: {exc}") from None
    titles = set(table_title(key))
    sheets = [n for n in book.sheet_names if n in titles or re.fullmatch(r"(.+) \(\d+\)", n) and n.rsplit(" (", 1)[0] in titles]
    if not sheets:
        if not required:
            return None
        raise LedgerError(f"{path.name} 中没有“{table_title(key)[0]}”工作表", f"{path.name} has no '{table_title(key)[1]}' sheet")
    out = []
    for name in sheets:
        data = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        if not data:
            continue
        mapped = _mapped(data[0], f"{path.name}「{name}」")
        for number, row in enumerate(data[1:], start=2):
            cells = {k: (None if v == "" else v) for k, v in zip(mapped, row) if k is not None}
            out.append((f"{name} 第{number}行 / row {number}", cells))
    return out


def _csv_rows(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import polars as pl

    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except Exception as exc:  # noqa: BLE001 - polars raises several types for a damaged csv
        raise LedgerError(f"{path.name} 无法读取：{exc}", f"{path.name} cannot be read: {exc}") from None
    mapped = _mapped([c.lstrip("\ufeff") for c in frame.columns], path.name)
    out = []
    for number, row in enumerate(frame.iter_rows(), start=2):
        cells = {k: v for k, v in zip(mapped, row) if k is not None}
        out.append((f"{path.name} 第{number}行 / row {number}", cells))
    return out
