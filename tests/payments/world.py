"""A small sanctions world for payment tests: a versioned store, the real matcher and policy layer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from clearance.matching.screener import Screener
from clearance.model import Entity
from clearance.payments.screen import ListedIdentifiers, PaymentScreener
from clearance.policy.decide import PolicyContext
from clearance.store.sqlite import SQLiteStore
from tests.factories import make_entity

CEIEC = make_entity(
    "ofac-sdn:30502",
    "Organization",
    name="CEIEC",
    alias=[
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
    ],
    program="VENEZUELA",
    address="Block A 6-23F, No. 17 Fuxing Road, Haidian District, Beijing 100036, China",
    country="cn",
)
MELLI = make_entity(
    "ofac-sdn:9999",
    "Organization",
    name="BANK MELLI IRAN",
    program=["IRAN", "SDGT"],
    swiftBic="MELIIRTH",
    country="ir",
)
TANKER = make_entity(
    "ofac-sdn:8888", "Vessel", name="SEA BREEZE TANKER", program="IRAN", imoNumber="IMO 9176187"
)
OTHER = make_entity("ofac-sdn:100", "Organization", name="ACME TERROR FRONT", program="SDGT")

ENTITIES: list[Entity] = [OTHER, CEIEC, MELLI, TANKER]


def add_version(store: SQLiteStore, published: date, entities: Sequence[Entity]) -> str:
    version, _ = store.add_version(
        list_name="ofac-sdn",
        format="test",
        files=[f"sdn-{published}.csv"],
        content_hash=f"sdn-{published}-" + "-".join(sorted(e.content_hash() for e in entities)),
        published=published,
        published_from="given",
        entities=entities,
    )
    return version.label


def make_screener(tmp_path: Path, entities: Sequence[Entity] = ENTITIES) -> PaymentScreener:
    """SDN before CEIEC's listing (2019-01-15) and after it (2020-11-30)."""
    store = SQLiteStore(tmp_path / "clearance.sqlite3")
    add_version(store, date(2019, 1, 15), [OTHER])
    label = add_version(store, date(2020, 11, 30), list(entities))
    return PaymentScreener(
        Screener.from_entities(entities, list_version=label),
        PolicyContext.build(store),
        ListedIdentifiers.from_store(store),
    )
