"""What a server is started with: the rules, the bureau token, the worker count and the limits."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.rulebook import RuleSet


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may ask of the server; each overrun answers with a plain 4xx/503."""

    max_json_bytes: int = 1_000_000  # one profile with its events
    max_upload_bytes: int = 20_000_000  # a bureau upload (all files of one request)
    max_events: int = 1_000  # per profile
    seconds_per_request: float = 20.0  # an evaluation (the first per date compiles the engine: ~1 s)
    seconds_per_batch: float = 300.0
    max_upload_cells: int = 5_000_000  # cells of one uploaded sheet's area (xlsx)
    max_unzipped_bytes: int = 300_000_000  # an uploaded .xlsx once inflated (zip bombs)
    max_csv_rows: int = 200_000


@dataclass(frozen=True)
class Settings:
    rules: RuleSet
    rules_dir: str | None = None  # where workers load the same rules from (default: rules.root)
    token: str | None = None  # bureau token; None: bureau uploads are switched off
    workers: int = 1  # evaluation processes; 0: in the server process, under a lock
    ledger: str | None = None  # payment ledger URL: lines already approved or paid are reported as such
    limits: Limits = field(default_factory=Limits)
