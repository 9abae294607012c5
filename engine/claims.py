"""What has already been approved or paid: the contract between evaluation and a payment ledger.

Evaluation (``engine.evaluate(..., ledger=...)``, ``engine.batch.evaluate_population(..., ledger=...)``,
``run_batch(..., ledger=...)``) asks a ``ClaimLookup`` which once-keys an entity has already been approved or
paid for; a benefit line whose once-key is among them is reported as 已兑现 / already paid (when, in which
round, how much) and leaves the total. The real ledger (a database, ``engine.ledger``) implements the same
two methods; ``InMemoryClaims`` does for tests and scenarios.

The contract (for anyone implementing a ledger):

* A claim is identified by ``(credit_code, once_key)``. ``once_key`` is the string the engine puts on every
  benefit line (``BenefitLine.once_key``; the batch's benefit-lines sheet column 一次性键 / once_key); see
  ``engine.once`` for its forms. The credit code is the 18-character code as the engine normalises it
  (upper case, no spaces). ``rule_id`` is the rule that paid it (informative: with a ``once_group`` another
  rule of the group may find it).
* ``status`` is ``"approved"`` or ``"paid"``. Only those two count: a lookup returns no rejected or revoked
  claims (the engine ignores any other status defensively, so a revoked claim is paid again).
* ``amount`` is ``decimal.Decimal`` yuan to the fen (``Decimal("0.00")`` for a support measure with no stated
  amount); ``amount_fen`` in the frame is the same as Int64 fen.
* ``round_name`` is the claim round (申报批次) it was recorded in, with its period when known;
  ``recorded_at`` is an ISO 8601 text (UTC), used to order claims and shown to the clerk as is.
* At most one claim per ``(credit_code, once_key)`` is expected; if a lookup returns several, the engine
  reports the earliest by ``recorded_at`` (then round name).
* The command line: ``lookup_from_args(args)`` turns ``args.ledger`` (a URL, from the ``--ledger`` option that
  the ledger package adds to ``huiqi evaluate|explain|batch``) into a lookup through
  ``engine.ledger.open_lookup(url)``; without that option it returns None.
* ``claims_for(credit_codes)`` → ``{credit_code: [PaidClaim, …]}`` for the per-profile engine (codes without a
  claim may be absent). ``claims_frame()`` → one ``polars.DataFrame`` of every claim, columns (and dtypes)
  ``claim_columns()``: the batch reads it with one query and joins it in polars, never one query per line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import polars as pl

PAID_STATUSES = ("approved", "paid")
# status → (zh, en)
STATUS_WORDS = {"approved": ("审批通过", "approved"), "paid": ("兑现", "paid")}


@dataclass(frozen=True)
class PaidClaim:
    """One approved or paid claim line of the ledger."""

    credit_code: str
    once_key: str
    rule_id: str
    amount: Decimal
    status: str  # "approved" | "paid"
    round_name: str
    period_start: date | None = None
    period_end: date | None = None
    recorded_at: str = ""

    @property
    def order(self) -> tuple[str, str]:
        return (self.recorded_at, self.round_name)


def claim_columns() -> dict:
    """The columns (name → polars dtype) of ``ClaimLookup.claims_frame``."""
    import polars as pl

    return {"credit_code": pl.String, "once_key": pl.String, "rule_id": pl.String, "amount_fen": pl.Int64,
            "status": pl.String, "round_name": pl.String, "recorded_at": pl.String}


@runtime_checkable
class ClaimLookup(Protocol):
    """Answers which once-keys are already approved or paid (see the module docstring for the contract)."""

    def claims_for(self, credit_codes: Iterable[str]) -> dict[str, list[PaidClaim]]:
        """Approved or paid claims of these entities, by credit code."""
        ...

    def claims_frame(self) -> pl.DataFrame:
        """Every approved or paid claim as one frame with ``claim_columns()`` columns."""
        ...


class InMemoryClaims:
    """A ``ClaimLookup`` over a list of claims (tests, scenarios, a quick what-if)."""

    def __init__(self, claims: Iterable[PaidClaim] = ()):
        self.claims = list(claims)

    def add(self, claim: PaidClaim) -> None:
        self.claims.append(claim)

    def claims_for(self, credit_codes: Iterable[str]) -> dict[str, list[PaidClaim]]:
        wanted = set(credit_codes)
        found: dict[str, list[PaidClaim]] = {}
        for claim in self.claims:
            if claim.credit_code in wanted and claim.status in PAID_STATUSES:
                found.setdefault(claim.credit_code, []).append(claim)
        return found

    def claims_frame(self) -> pl.DataFrame:
        import polars as pl

        from engine.money import to_fen

        rows = [c for c in self.claims if c.status in PAID_STATUSES]
        return pl.DataFrame({
            "credit_code": [c.credit_code for c in rows], "once_key": [c.once_key for c in rows],
            "rule_id": [c.rule_id for c in rows],
            "amount_fen": [int(to_fen(c.amount) * 100) for c in rows],
            "status": [c.status for c in rows], "round_name": [c.round_name for c in rows],
            "recorded_at": [c.recorded_at for c in rows]}, schema=claim_columns())


class FrameClaims:
    """A ``ClaimLookup`` over one ``claims_frame()`` already read: the batch queries a ledger once per run and
    answers every later question (chunks, per-profile fallback) from this frame."""

    def __init__(self, frame: pl.DataFrame):
        self.frame = frame

    def claims_frame(self) -> pl.DataFrame:
        return self.frame

    def claims_for(self, credit_codes: Iterable[str]) -> dict[str, list[PaidClaim]]:
        import polars as pl

        rows = self.frame.filter(pl.col("credit_code").is_in(list(credit_codes)))
        found: dict[str, list[PaidClaim]] = {}
        for row in rows.iter_rows(named=True):
            found.setdefault(row["credit_code"], []).append(PaidClaim(
                row["credit_code"], row["once_key"], row["rule_id"], Decimal(row["amount_fen"]).scaleb(-2), row["status"],
                row["round_name"], recorded_at=row["recorded_at"]))
        return found


def lookup_from_args(args: object) -> ClaimLookup | None:
    """The ClaimLookup a command line asked for with ``--ledger URL`` (added by ``engine.ledger``), or None."""
    url = getattr(args, "ledger", None)
    if not url:
        return None
    from engine.ledger import open_lookup  # the database ledger package; present when --ledger exists

    return open_lookup(url)


def first_claims(claims: Iterable[PaidClaim]) -> dict[str, PaidClaim]:
    """once-key → the earliest approved or paid claim for it (one entity's claims)."""
    found: dict[str, PaidClaim] = {}
    for claim in sorted((c for c in claims if c.status in PAID_STATUSES), key=lambda c: c.order):
        found.setdefault(claim.once_key, claim)
    return found
