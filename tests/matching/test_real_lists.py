"""The news names for CEIEC against the real OFAC SDN snapshot of 2021-07-07 (skipped without ../shared)."""

from __future__ import annotations

import pytest

from clearance.lists.ofac_csv import read
from clearance.matching.screener import Screener
from clearance.matching.types import Query
from tests.conftest import shared_path

pytestmark = pytest.mark.shared


@pytest.fixture(scope="module")
def sdn_screener() -> Screener:
    folder = shared_path("data", "lists", "ofac-sdn", "2021-07-07")
    entities = read(sorted(folder.glob("*.csv")), "ofac-sdn").entities
    return Screener.from_entities(entities, list_version="ofac-sdn@2021-07-07")


@pytest.mark.parametrize(
    "name",
    [
        "China National Electronics Import & Export Corporation",
        "China Electronics Import-Export Company",
        "China Electronics Import-Export Co.",
        "CEIEC",
    ],
)
def test_news_names_for_ceiec_return_it_first_as_a_match(sdn_screener: Screener, name: str) -> None:
    matches = sdn_screener.screen(Query(name=name, schema="Organization"))
    assert matches[0].entity_id == "ofac-sdn:30502"
    assert matches[0].match
    assert matches[0].list_version == "ofac-sdn@2021-07-07"


@pytest.mark.parametrize("name", ["Santos", "Martin", "Juan Hernandez"])
def test_common_names_do_not_alert_on_the_real_list(sdn_screener: Screener, name: str) -> None:
    assert not any(m.match for m in sdn_screener.screen(Query(name=name, schema="Person")))


def test_a_listed_passport_number_is_decisive_on_the_real_list(sdn_screener: Screener) -> None:
    index = sdn_screener.index
    record = next(r for r in index.entities if r.schema == "Person" and r.identifiers)
    hit = sdn_screener.screen(
        Query(name="Unknown Person Name", schema="Person", id_numbers=[record.identifiers[0]])
    )
    assert hit and hit[0].entity_id == record.id and hit[0].match


@pytest.mark.parametrize(
    ("name", "entity_id"),
    [
        ("김정은", "ofac-sdn:20157"),  # KIM, Jong Un
        ("김여정", "ofac-sdn:21444"),  # KIM, Yo Jong
        ("최룡해", "ofac-sdn:23213"),  # CHOE, Ryong Hae
        ("리병철", "ofac-sdn:23215"),  # RI, Pyong Chol
        ("Евгений Пригожин", "ofac-sdn:21171"),  # PRIGOZHIN, Yevgeniy Viktorovich
        ("Мадуро Николас", "ofac-sdn:22790"),  # MADURO MOROS, Nicolas
        ("قاسم سليماني", "ofac-sdn:10481"),  # SOLEIMANI, Qasem
    ],
)
def test_names_in_other_scripts_find_the_listed_romanisation(
    sdn_screener: Screener, name: str, entity_id: str
) -> None:
    matches = sdn_screener.screen(Query(name=name, schema="Person"))
    assert matches[0].entity_id == entity_id and matches[0].match


@pytest.mark.parametrize("name", ["김", "박", "이", "최"])
def test_a_korean_surname_alone_does_not_alert(sdn_screener: Screener, name: str) -> None:
    assert not any(m.match for m in sdn_screener.screen(Query(name=name, schema="Person")))
