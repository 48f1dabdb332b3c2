"""Feature descriptions: what explanations show users, identical whether the matcher is compiled or not."""

from __future__ import annotations

from clearance.matching.features import EVIDENCE_FEATURES, NAME_FEATURES
from clearance.matching.screener import Screener
from clearance.matching.types import Query
from tests.factories import make_entity

FEATURES = NAME_FEATURES + EVIDENCE_FEATURES


def test_every_feature_has_a_description_that_is_a_sentence_not_its_name() -> None:
    assert len({f.name for f in FEATURES}) == len(FEATURES)
    for feature in FEATURES:
        text = feature.description
        assert text != feature.name and text.strip() == text, feature.name
        assert len(text.split()) >= 5 and text.endswith("."), f"{feature.name}: {text!r}"


def test_an_explanation_shows_each_counted_feature_with_its_description() -> None:
    screener = Screener.from_entities(
        [make_entity("t:1", "Person", name="SANTOS, Maria", birthDate="1970-05-17", nationality="br")],
        list_version="t@1",
    )
    [match] = screener.screen(Query(name="Maria Santos", birth_date="1970-05-17", country="br"))
    shown = {f.name: f.description for f in match.explanation.features}
    described = {f.name: f.description for f in FEATURES}
    assert set(shown) >= {f.name for f in NAME_FEATURES} | {"birth_date_match", "country_match"}
    assert shown == {name: described[name] for name in shown}
    assert all(f["description"] == described[f["name"]] for f in match.to_dict()["explanation"]["features"])
