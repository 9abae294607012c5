"""The ledger database on SQLite and on a real PostgreSQL server: migrations, recording, the uniqueness
constraint, concurrent writers and a kill inside the transaction."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="needs huiqi[ledger]")

from sqlalchemy import func, insert, select, text, update  # noqa: E402
from sqlalchemy.exc import IntegrityError  # noqa: E402

from engine.ledger.db import LedgerError, connect, normalise_url  # noqa: E402
from engine.ledger.migrate import head_revision, require_current, upgrade  # noqa: E402
from engine.ledger.read import claims_frame  # noqa: E402
from engine.ledger.schema import claims  # noqa: E402
from engine.ledger.store import PAUSE_FILE_ENV, PAUSE_SECONDS_ENV, START_FILE_ENV, ClaimLine, LedgerConflict, RoundInfo, record  # noqa: E402
from tests.ledgerkit import ledger_url_fixture, snapshot  # noqa: E402, F401 - the fixture

ROOT = Path(__file__).resolve().parent.parent
CODE = "91350100M000100Y43"
ROUND_2014 = RoundInfo("2014", date(2014, 12, 31), "fp-1", date(2014, 1, 1), date(2014, 12, 31))
AWARD = ClaimLine(CODE, "ln2015.trademark.well-known-award", "well-known:TM-1", 50_000_000, "well_known_trademark",
                  date(2014, 9, 15), "TM-1", where="row 2")


def count(url: str) -> int:
    engine = connect(url)
    with engine.connect() as connection:
        n = connection.execute(select(func.count()).select_from(claims)).scalar_one()
    engine.dispose()
    return n


def test_urls_name_the_dialect():
    assert normalise_url("claims.db") == "sqlite:///claims.db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    with pytest.raises(LedgerError, match="unsupported database"):
        normalise_url("mysql://u@h/db")


def test_migrations_from_empty_and_forward(ledger_url):
    engine = connect(ledger_url, create=True)
    with pytest.raises(LedgerError, match="not initialised"):
        require_current(engine)
    assert upgrade(engine, "0001") == (None, "0001")
    with pytest.raises(LedgerError, match="revision 0001"):
        require_current(engine)  # an old schema is refused until migrated
    with engine.begin() as connection:  # data written under the first revision…
        connection.execute(text("INSERT INTO ledger_rounds (name, as_of, rules_fingerprint, created_at) "
                                "VALUES ('2014', '2014-12-31', 'fp-1', '2015-01-05 09:00:00')"))
        connection.execute(text("INSERT INTO ledger_claims (credit_code, rule_id, once_key, amount_fen, status, round_id, "
                                "recorded_at, updated_at) VALUES (:c, 'r', 'k', 100, 'paid', 1, '2015-01-05 09:00:00', "
                                "'2015-01-05 09:00:00')"), {"c": CODE})
    assert upgrade(engine) == ("0001", head_revision())  # …survives the migration forward
    assert upgrade(engine) == (head_revision(), head_revision())  # and init again changes nothing
    require_current(engine)
    frame = claims_frame(engine)
    assert frame.select("credit_code", "once_key", "amount_fen", "status", "round").rows() == [(CODE, "k", 100, "paid", "2014")]
    engine.dispose()


def test_a_newer_schema_is_refused(ledger_url):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(LedgerError, match="newer Huiqi"):
        upgrade(engine)
    with pytest.raises(LedgerError, match="newer Huiqi"):
        require_current(engine)
    engine.dispose()


def test_recording_twice_changes_nothing_and_approved_becomes_paid(ledger_url):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    first = record(engine, ROUND_2014, [AWARD], "approved", operator="张三")
    assert first.round_created and first.inserted == [AWARD]
    before = snapshot(ledger_url)
    again = record(engine, ROUND_2014, [AWARD], "approved")
    assert not again.changed and [r for _, r in again.unchanged] == ["2014"]
    assert snapshot(ledger_url) == before
    paid = record(engine, ROUND_2014, [AWARD], "paid", operator="李四")
    assert paid.upgraded == [AWARD] and paid.changed
    frame = claims_frame(engine)
    assert frame.select("status", "operator", "amount_fen").rows() == [("paid", "李四", 50_000_000)]
    assert not record(engine, ROUND_2014, [AWARD], "approved").changed  # paid is never downgraded by a re-record
    engine.dispose()


@pytest.mark.parametrize("changed", [{"amount_fen": 40_000_000}, {"rule_id": "ln2020.trademark.well-known-award"}])
def test_the_same_once_key_with_another_amount_or_rule_is_refused(ledger_url, changed):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    record(engine, ROUND_2014, [AWARD], "paid")
    before = snapshot(ledger_url)
    other = ClaimLine(**{**AWARD.__dict__, **changed, "where": "row 9"})
    later = RoundInfo("2015", date(2015, 12, 31), "fp-1", date(2015, 1, 1), date(2015, 12, 31))
    with pytest.raises(LedgerConflict) as refused:
        record(engine, later, [other], "paid")
    assert "row 9" in str(refused.value) and "already paid in round '2014'" in str(refused.value)
    assert "已在轮次“2014”记为已兑现" in str(refused.value)
    assert snapshot(ledger_url) == before  # not even the new round was written
    engine.dispose()


def test_a_sheet_contradicting_itself_is_refused(ledger_url):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    twin = ClaimLine(**{**AWARD.__dict__, "amount_fen": 1, "where": "row 3"})
    with pytest.raises(LedgerConflict, match="same once-key as row 2"):
        record(engine, ROUND_2014, [AWARD, twin], "paid")
    assert count(ledger_url) == 0
    engine.dispose()


def test_a_round_is_not_reused_with_other_settings(ledger_url):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    record(engine, ROUND_2014, [AWARD], "paid")
    with pytest.raises(LedgerError, match="rule-set fingerprint: ledger fp-1, this sheet fp-2"):
        record(engine, RoundInfo("2014", date(2014, 12, 31), "fp-2", date(2014, 1, 1), date(2014, 12, 31)), [], "paid")
    engine.dispose()


def test_uniqueness_is_a_database_constraint_on_active_claims(ledger_url):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    record(engine, ROUND_2014, [AWARD], "paid")
    row = {"credit_code": CODE, "rule_id": "other", "once_key": AWARD.once_key, "status": "paid", "round_id": 1,
           "recorded_at": datetime(2020, 1, 1, tzinfo=UTC), "updated_at": datetime(2020, 1, 1, tzinfo=UTC)}
    with pytest.raises(IntegrityError), engine.begin() as connection:  # bypassing the code: the database refuses
        connection.execute(insert(claims).values(**row))
    with engine.begin() as connection:  # a revoked claim frees its once-key; rejected/revoked lines may repeat
        connection.execute(update(claims).values(status="revoked"))
        connection.execute(insert(claims).values(**{**row, "status": "rejected"}))
        connection.execute(insert(claims).values(**{**row, "status": "approved"}))
    assert count(ledger_url) == 3
    engine.dispose()


# -- other processes ---------------------------------------------------------------------------------

RECORDER = """
import json, sys
from datetime import date
from engine.ledger.db import connect
from engine.ledger.store import ClaimLine, RoundInfo, record
spec = json.loads(sys.argv[1])
line = ClaimLine(**{**spec["line"], "event_date": date.fromisoformat(spec["line"]["event_date"])})
info = RoundInfo(**{k: (date.fromisoformat(v) if k in ("as_of", "period_start", "period_end") else v) for k, v in spec["round"].items()})
report = record(connect(spec["url"]), info, [line], "paid")
print(json.dumps({"inserted": len(report.inserted), "unchanged": len(report.unchanged)}))
"""


def _recorder(url: str, pause_file: Path | None = None, pause_s: float = 0, start_file: Path | None = None) -> subprocess.Popen:
    spec = {"url": url, "line": {**AWARD.__dict__, "event_date": AWARD.event_date.isoformat()},
            "round": {k: (v.isoformat() if isinstance(v, date) else v) for k, v in ROUND_2014.__dict__.items()}}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pause_file is not None:
        env[PAUSE_FILE_ENV], env[PAUSE_SECONDS_ENV] = str(pause_file), str(pause_s)
    if start_file is not None:
        env[START_FILE_ENV] = str(start_file)
    return subprocess.Popen([sys.executable, "-c", RECORDER, json.dumps(spec)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the recorder never reached its transaction"
        time.sleep(0.05)


def test_two_processes_recording_the_same_line_pay_it_once(ledger_url, tmp_path):
    upgrade(connect(ledger_url, create=True))
    marker, started = tmp_path / "first-inside", tmp_path / "second-started"
    first = _recorder(ledger_url, marker, pause_s=60)  # holds its transaction open, line inserted, not committed
    _wait_for(marker, first)
    second = _recorder(ledger_url, start_file=started)
    _wait_for(started, second)
    time.sleep(1.0)  # the second is now waiting on the first (SQLite's write lock, PostgreSQL's unique index)
    Path(str(marker) + ".release").touch()
    outputs = [p.communicate(timeout=120) for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    reports = [json.loads(out) for out, _ in outputs]
    # the first wrote it; the second waited for it (SQLite's write lock, PostgreSQL's unique index), then found it
    assert reports == [{"inserted": 1, "unchanged": 0}, {"inserted": 0, "unchanged": 1}]
    assert count(ledger_url) == 1


def test_a_kill_inside_the_transaction_leaves_the_ledger_as_before(ledger_url, tmp_path):
    engine = connect(ledger_url, create=True)
    upgrade(engine)
    before = snapshot(ledger_url)
    marker = tmp_path / "inside"
    process = _recorder(ledger_url, marker, pause_s=60)
    _wait_for(marker, process)  # round and line inserted, transaction open
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert snapshot(ledger_url) == before
    assert record(engine, ROUND_2014, [AWARD], "paid").inserted == [AWARD]  # and the ledger works on
    engine.dispose()


# -- properties ------------------------------------------------------------------------------------------

def test_the_core_engine_never_imports_the_ledger():
    code = ("import sys, engine, engine.batch.run, engine.batch.tables, engine.claims, engine.cli; "
            "bad = sorted(m for m in sys.modules if m.startswith(('engine.ledger', 'sqlalchemy', 'alembic'))); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stdout + result.stderr


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_lines = st.lists(st.builds(lambda code, key, rule, amount: ClaimLine(code, rule, key, amount, where=f"{code}/{key}"),
                            st.sampled_from(["91350100M000100Y43", "91210100MA0P4K7R2Q"]), st.sampled_from(["k1", "k2", "k3"]),
                            st.sampled_from(["r1", "r2"]), st.sampled_from([100, 200, None])), max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_lines, st.sampled_from(["approved", "paid"])), min_size=1, max_size=5))
def test_any_sequence_of_recordings_keeps_one_claim_per_once_key_as_first_accepted(commands):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        url = str(Path(folder) / "claims.db")
        engine = connect(url, create=True)
        upgrade(engine)
        model: dict[tuple[str, str], tuple[str, int | None, str]] = {}
        for lines, status in commands:
            seen: dict = {}
            conflict = False
            for line in lines:
                key, value = (line.credit_code, line.once_key), (line.rule_id, line.amount_fen)
                known = model.get(key, (None, None, None))[:2] if key in model else seen.get(key)
                conflict |= known is not None and known != value
                seen.setdefault(key, value)
            before = snapshot(url)
            try:
                record(engine, ROUND_2014, lines, status)
            except LedgerConflict:
                assert conflict and snapshot(url) == before  # refused whole, ledger untouched
                continue
            assert not conflict
            for key, (rule, amount) in seen.items():
                old = model.get(key)
                model[key] = (rule, amount, "paid" if status == "paid" or (old and old[2] == "paid") else "approved")
        frame = claims_frame(engine)
        assert {(r["credit_code"], r["once_key"]): (r["rule_id"], r["amount_fen"], r["status"])
                for r in frame.iter_rows(named=True)} == model
        assert frame.height == len(model)
        engine.dispose()
