"""Releasing blocked property only under a license that authorizes it; the annual report follows."""

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

from clearance.cli import cli
from clearance.ledger import Ledger, LedgerError
from clearance.ledger.release import release_under_license
from clearance.ledger.views import entry_views
from clearance.policy.licenses import License, bundled_licenses
from clearance.reports.ofac import Filer, annual_report


def unblocking_license(**overrides: object) -> License:
    fields: dict[str, object] = {
        "id": "OFAC-SL-2021-0042",
        "kind": "specific",
        "title": "Authorizing the release of funds blocked for Lakeshore Instruments",
        "programs": ["VENEZUELA"],
        "entities": ["ofac-sdn:30502"],
        "transaction_types": ["release"],
        "valid_from": datetime(2021, 3, 1),
        "valid_until": datetime(2021, 12, 31),
    }
    fields.update(overrides)
    return License(**fields)  # type: ignore[arg-type]


def blocked(ledger: Ledger, day: date = date(2020, 12, 15), amount: str = "100000.00") -> int:
    return ledger.block(
        owner="CEIEC",
        owner_entity_id="ofac-sdn:30502",
        programs=["VENEZUELA-EO13692"],  # an alias of VENEZUELA in programs.yaml
        amount=Decimal(amount),
        currency="USD",
        blocked_on=day,
    ).seq


def test_release_under_an_authorizing_license_names_it_in_the_entry(tmp_path: Path) -> None:
    with Ledger(tmp_path / "c.sqlite3") as ledger:
        seq = blocked(ledger)
        entry = release_under_license(
            ledger, seq, license_id="OFAC-SL-2021-0042", licenses=[unblocking_license()],
            released_on=date(2021, 3, 2), amount=Decimal("40000.00"),
        )  # fmt: skip
        assert entry.kind == "release" and entry.ref == seq and entry.license_id == "OFAC-SL-2021-0042"
        assert entry.details["license"]["kind"] == "specific"
        assert ledger.holding(ledger.entry(seq), date(2021, 3, 2)).principal == Decimal("60000.00")


@pytest.mark.parametrize(
    ("license_id", "licenses", "day", "why"),
    [
        ("OFAC-SL-404", [unblocking_license()], date(2021, 3, 2), "unknown license 'OFAC-SL-404'"),
        # the wind-down general license does not authorize debiting a blocked account
        ("OFAC-VENEZUELA-GL38", list(bundled_licenses()), date(2020, 12, 20), "not the release"),
        (
            "OFAC-SL-2021-0042",
            [unblocking_license(programs=["IRAN"], entities=[])],
            date(2021, 3, 2),
            "covers IRAN",
        ),
        (
            "OFAC-SL-2021-0042",
            [unblocking_license(entities=["ofac-sdn:1"])],
            date(2021, 3, 2),
            "covers ofac-sdn:1",
        ),
        ("OFAC-SL-2021-0042", [unblocking_license()], date(2021, 2, 28), "not valid on 2021-02-28"),
    ],
)
def test_release_is_refused_without_a_license_that_authorizes_it(
    tmp_path: Path, license_id: str, licenses: list[License], day: date, why: str
) -> None:
    with Ledger(tmp_path / "c.sqlite3") as ledger:
        seq = blocked(ledger)
        with pytest.raises(LedgerError, match=why):
            release_under_license(ledger, seq, license_id=license_id, licenses=licenses, released_on=day)
        assert ledger.entries("release") == []


def test_annual_report_leaves_out_property_released_before_30_june(tmp_path: Path) -> None:
    lic = [unblocking_license()]
    with Ledger(tmp_path / "c.sqlite3") as ledger:
        kept = blocked(ledger, date(2021, 1, 4), "500.00")
        released = blocked(ledger, date(2021, 2, 1), "700.00")
        later = blocked(ledger, date(2021, 2, 2), "900.00")
        release_under_license(
            ledger, released, license_id=lic[0].id, licenses=lic, released_on=date(2021, 5, 3)
        )
        release_under_license(
            ledger, later, license_id=lic[0].id, licenses=lic, released_on=date(2021, 7, 15)
        )
        report = annual_report(ledger, 2021, Filer())
        assert report.entries == [kept, later]  # released after 30 June: still held on that day
        assert [h["principal_outstanding"] for h in report.body["holdings"]] == ["500.00", "900.00"]
        statuses = {r["seq"]: r["status"] for r in entry_views(ledger, as_of=date(2021, 8, 1))}
        assert statuses == {kept: "held", released: "released", later: "released", 4: "release", 5: "release"}


def test_cli_releases_under_a_stored_license_and_refuses_an_unknown_one(tmp_path: Path) -> None:
    lic = tmp_path / "sl.yaml"
    lic.write_text(
        "id: OFAC-SL-2021-0042\nkind: specific\ntitle: Release of blocked funds\nprograms: [VENEZUELA]\n"
        "transaction_types: [release]\nvalid_from: '2021-03-01T00:00'\n"
    )
    with Ledger(tmp_path / "clearance.sqlite3") as ledger:
        blocked(ledger)
    runner = CliRunner()
    home = ["--home", str(tmp_path)]
    assert runner.invoke(cli, [*home, "licenses", "add", str(lic)]).exit_code == 0
    refused = runner.invoke(
        cli, [*home, "ledger", "release", "1", "--license", "GL-NOPE", "--on", "2021-03-02"]
    )
    assert refused.exit_code != 0 and "unknown license 'GL-NOPE'" in str(refused.exception)
    done = runner.invoke(
        cli,
        [*home, "ledger", "release", "1", "--license", "OFAC-SL-2021-0042", "--on", "2021-03-02", "--json"],
    )
    assert done.exit_code == 0, done.output
    assert orjson.loads(done.output)["license_id"] == "OFAC-SL-2021-0042"
    listed = runner.invoke(
        cli, [*home, "ledger", "list", "--status", "released", "--as-of", "2021-04-01", "--json"]
    )
    assert [row["seq"] for row in orjson.loads(listed.output)] == [1]
    verified = runner.invoke(cli, [*home, "ledger", "verify"])
    assert verified.exit_code == 0 and "2 ledger entries" in verified.output
