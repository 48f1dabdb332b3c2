import re

import pytest

from clearance.text import tables
from clearance.text.tables import TableError


def test_every_table_loads() -> None:
    assert tables.legal_forms()[("gmbh",)] == "gmbh"
    assert tables.abbreviations()[("intl",)] == "international"
    assert tables.low_weight_tokens()["bin"] == "particle"
    assert tables.name_variants()["mohammed"] == "muhammad"
    assert tables.endings() and tables.phonetic_rules()


def test_yaml_booleans_in_a_table_are_an_error_not_a_silent_value() -> None:
    with pytest.raises(TableError, match="quote it"):
        tables._text(False, "endings.yaml", "a rule")


def test_a_spelling_in_two_variant_groups_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tables, "load_yaml", lambda name: [["ali", "aly"], ["alee", "aly"]])
    tables.name_variants.cache_clear()
    try:
        with pytest.raises(TableError, match="aly"):
            tables.name_variants()
    finally:
        tables.name_variants.cache_clear()


def test_phonetic_rules_without_regex_syntax_rewrite_as_their_regex_would() -> None:
    from clearance.text.tokens import skeleton

    rules = tables.phonetic_rules()
    assert any(c is None for _, c, _ in rules) and any(c is not None for _, c, _ in rules)
    words = {w for phrase in tables.name_variants() for w in phrase.split()} | {
        "khashoggi", "dzhokhar", "schwarzkopf", "thatcher", "ghazzawi", "quezada", "xochitl", "yevgeniy",
        "kononoff", "mccormick", "achchh", "shshsh", "ccchhh",
    }
    for word in sorted(words):
        expected = word
        for pattern, _, replacement in rules:
            expected = re.sub(pattern, replacement, expected)
        assert skeleton(word) == expected, word
