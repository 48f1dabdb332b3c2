"""`clearance goodguys add|list|revoke`: thin commands over policy/goodguy.py and the policy tables."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from click.testing import CliRunner, Result

from clearance.cli import cli
from clearance.model import Entity
from clearance.policy.decide import PolicyContext, decide_party
from clearance.policy.licenses import eastern_today
from clearance.policy.storage import PolicyStore
from clearance.policy.types import Outcome, PartyDecision, ReasonCode, Subject
from clearance.store.sqlite import SQLiteStore
from tests.policy.helpers import add_version, listed, match

CEIEC = listed("ofac-sdn:30502", "China National Electronics Import and Export Corporation", "VENEZUELA")
CETC = listed("ofac-sdn:3001", "China Electronics Technology Group", "VENEZUELA")


def home_with_list(tmp_path: Path) -> Path:
    store = SQLiteStore(tmp_path / "clearance.sqlite3")
    add_version(store, "ofac-sdn", date(2020, 11, 30), [CEIEC, CETC])
    store.close()
    return tmp_path


def invoke(home: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def run(home: Path, *args: str) -> str:
    result = invoke(home, *args)
    assert result.exit_code == 0, result.output
    return result.output


def in_days(days: int) -> str:
    return (eastern_today() + timedelta(days=days)).isoformat()


def decide(home: Path, customer: str, entity: Entity = CEIEC, as_of: datetime | None = None) -> PartyDecision:
    store = SQLiteStore(home / "clearance.sqlite3")
    try:
        context = PolicyContext.open(store, home / "clearance.sqlite3")
        subject = Subject(name="Shenzhen CE Retail", id=customer)
        return decide_party(subject, [match(entity)], as_of=as_of or datetime.now(UTC), context=context)
    finally:
        store.close()


def add(
    home: Path, customer: str, *more: str, entity: str = CEIEC.id, expires: str | None = None
) -> dict[str, Any]:
    out = run(
        home,
        "goodguys",
        "add",
        "--customer",
        customer,
        "--entity",
        entity,
        "--reason",
        "a Shenzhen retailer, not the Beijing exporter",
        "--expires",
        expires or in_days(30),
        "--analyst",
        "ana",
        "--json",
        *more,
    )
    data: dict[str, Any] = orjson.loads(out)
    return data


def test_goodguys_add_clears_the_match_until_revoked(tmp_path: Path) -> None:
    home = home_with_list(tmp_path)
    assert decide(home, "C-1").outcome is Outcome.BLOCK
    decision = add(home, "C-1")
    assert decision["analyst"] == "ana" and decision["entity_hash"] == CEIEC.content_hash()
    cleared = decide(home, "C-1")
    assert cleared.outcome is Outcome.CLEAR and ReasonCode.GOOD_GUY in {r.code for r in cleared.reasons}
    assert decide(home, "C-1", CETC).outcome is Outcome.BLOCK  # another listed entity still alerts
    assert f"#{decision['id']}" in run(home, "goodguys", "list")

    out = run(home, "goodguys", "revoke", str(decision["id"]), "--analyst", "bob")
    assert "revoked good-guy" in out and "by bob" in out
    assert decide(home, "C-1").outcome is Outcome.BLOCK
    assert "no good-guy decisions in force" in run(home, "goodguys", "list")
    (row,) = orjson.loads(run(home, "goodguys", "list", "--all", "--json"))
    assert row["status"] == "revoked" and row["revoked_by"] == "bob"  # kept, marked revoked
    again = invoke(home, "goodguys", "revoke", str(decision["id"]))
    assert again.exit_code != 0 and "no active good-guy decision" in str(again.exception)


def test_goodguys_list_shows_expired_and_entity_changed(tmp_path: Path) -> None:
    home = home_with_list(tmp_path)
    soon = add(home, "C-2", expires=in_days(2))
    other = add(home, "C-3", entity=CETC.id)
    later = (datetime.now() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%S")
    rows = {
        r["id"]: r["status"]
        for r in orjson.loads(run(home, "goodguys", "list", "--all", "--json", "--at", later))
    }
    assert rows == {soon["id"]: "expired", other["id"]: "valid"}

    changed = listed(CETC.id, CETC.caption, "VENEZUELA", alias="CETC International")
    store = SQLiteStore(home / "clearance.sqlite3")
    add_version(store, "ofac-sdn", eastern_today(), [CEIEC, changed])
    store.close()
    text = run(home, "goodguys", "list", "--all")
    assert "entity-changed" in text and "ofac-sdn:3001" in text
    assert [r["id"] for r in orjson.loads(run(home, "goodguys", "list", "--json"))] == [soon["id"]]
    assert decide(home, "C-3", changed).outcome is Outcome.BLOCK


def test_goodguys_add_by_name_matches_a_customer_screened_without_an_id(tmp_path: Path) -> None:
    home = home_with_list(tmp_path)
    decision = add(home, "name:Shenzhen  CE Retail")
    assert decision["party_key"] == Subject(name="Shenzhen CE Retail").key
    store = SQLiteStore(home / "clearance.sqlite3")
    try:
        context = PolicyContext.open(store, home / "clearance.sqlite3")
        nameless = decide_party(
            Subject(name="SHENZHEN CE RETAIL"), [match(CEIEC)], as_of=datetime.now(UTC), context=context
        )
    finally:
        store.close()
    assert nameless.outcome is Outcome.CLEAR


def test_goodguys_add_errors_name_the_option(tmp_path: Path) -> None:
    home = home_with_list(tmp_path)
    base = ["goodguys", "add", "--customer", "C-9", "--reason", "different firm", "--analyst", "ana"]
    unknown = invoke(home, *base, "--entity", "ofac-sdn:424242", "--expires", in_days(5))
    assert unknown.exit_code == 2 and "--entity" in unknown.output and "ofac-sdn:424242" in unknown.output
    past = invoke(home, *base, "--entity", CEIEC.id, "--expires", in_days(-1))
    assert past.exit_code == 2 and "--expires" in past.output and "future" in past.output
    garbled = invoke(home, *base, "--entity", CEIEC.id, "--expires", "soon")
    assert garbled.exit_code == 2 and "--expires" in garbled.output
    both = invoke(home, *base, "--customer-name", "X Ltd", "--entity", CEIEC.id, "--expires", in_days(5))
    assert both.exit_code == 2 and "--customer" in both.output
    blank = invoke(home, *base[:4], "--reason", " ", "--entity", CEIEC.id, "--expires", in_days(5))
    assert blank.exit_code == 2 and "--reason" in blank.output
    store = PolicyStore(home / "clearance.sqlite3")
    try:
        assert store.good_guys() == []  # nothing stored by a refused command
    finally:
        store.close()
