"""Behaviour of the screener on small hand-made lists (tests/factories.make_entity)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.errors import QueryError
from clearance.matching.index import MATCHER_VERSION
from clearance.matching.screener import DEFAULT_THRESHOLD, Screener
from clearance.matching.types import Match, Query
from clearance.model import Entity
from clearance.settings import Settings
from tests.factories import make_entity

# A background of ordinary listed names, so rarity weights behave as they do on a real list.
BACKGROUND = [
    make_entity(f"test:p{i}", "Person", name=f"{last}, {first}")
    for i, (last, first) in enumerate(
        [
            ("SANTOS", "Maria"),
            ("SANTOS", "Joao Carlos"),
            ("MARTIN", "Pierre"),
            ("HERNANDEZ", "Jose Luis"),
            ("HERNANDEZ LOPEZ", "Juan"),
            ("GARCIA", "Juan Carlos"),
            ("RODRIGUEZ", "Juan"),
            ("AL-TIKRITI", "Hala"),
            ("HASSAN", "Ali"),
            ("KHAN", "Abdul"),
            ("AHMED", "Ali"),
            ("HUSSEIN", "Saddam"),
            ("SILVA", "Juan"),
            ("LOPEZ", "Maria"),
            ("SMITH", "John"),
            ("LEE", "Kim"),
            ("PEREZ", "Jose"),
            ("ALI", "Muhammad"),
        ]
    )
] + [
    make_entity(f"test:o{i}", "Organization", name=name)
    for i, name in enumerate(
        [
            "ACME TRADING CO., LTD.",
            "GLOBAL SHIPPING LLC",
            "NATIONAL IRANIAN OIL COMPANY",
            "BANCO NACIONAL DE CUBA",
            "KOREA MINING DEVELOPMENT TRADING CORPORATION",
            "ALFA BANK JSC",
            "SANTOS INVESTMENTS S.A.",
        ]
    )
]


def screener(*entities: Entity) -> Screener:
    return Screener.from_entities([*BACKGROUND, *entities], list_version="test@2021-01-01")


def top(s: Screener, name: str, schema: str = "Thing", **kw: object) -> Match | None:
    matches = s.screen(Query(name=name, schema=schema, **kw))  # type: ignore[arg-type]
    return matches[0] if matches else None


def matched(s: Screener, name: str, entity_id: str, schema: str = "Thing", **kw: object) -> bool:
    return any(m.entity_id == entity_id and m.match for m in s.screen(Query(name=name, schema=schema, **kw)))  # type: ignore[arg-type]


CEIEC = make_entity(
    "test:ceiec",
    "Organization",
    name="CEIEC",
    alias=[
        "CHINA NATIONAL ELECTRONICS IMPORT AND EXPORT CORPORATION",
        "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY",
    ],
)


@pytest.mark.parametrize(
    "name",
    [
        "China National Electronics Import & Export Corporation",
        "China Electronics Import-Export Company",
        "China Electronics Import-Export Co.",
        "CEIEC",
    ],
)
def test_every_spelling_of_ceiec_finds_it_first(name: str) -> None:
    best = top(screener(CEIEC), name, "Organization")
    assert best is not None and best.entity_id == "test:ceiec" and best.match


def test_an_acronym_matches_the_initials_of_a_listed_name() -> None:
    s = screener(
        make_entity("test:k", "Organization", name="KALASHNIKOV MACHINE BUILDING FACTORY CORPORATION")
    )
    assert matched(s, "KMBFC", "test:k", "Organization")


def test_romanisations_of_a_given_name_match() -> None:
    s = screener(make_entity("test:m", "Person", name="ZARRAB, Mohammed Reza"))
    assert matched(s, "Muhammad Reza Zarrab", "test:m", "Person")
    assert matched(s, "Mohamad Riza ZARRAB", "test:m", "Person")


def test_cyrillic_query_meets_romanised_listing() -> None:
    s = screener(make_entity("test:r", "Person", name="ROTENBERG, Arkady Romanovich"))
    assert matched(s, "Аркадий Романович Ротенберг", "test:r", "Person")


def test_hangul_query_meets_the_mccune_reischauer_listing() -> None:
    s = screener(
        make_entity("test:kju", "Person", name="KIM, Jong Un"),
        make_entity("test:crh", "Person", name="CHOE, Ryong Hae"),
        make_entity("test:lmb", "Person", name="LEE, Myung-bak"),
    )
    assert matched(s, "김정은", "test:kju", "Person")
    assert matched(s, "이명박", "test:lmb", "Person")
    assert matched(s, "최룡해", "test:crh", "Person")
    assert not matched(s, "김정은", "test:crh", "Person")
    best = top(s, "김정은", "Person")
    assert best is not None and best.explanation.query_name == "김정은"


def test_korean_and_chinese_romanisations_of_one_name_match() -> None:
    s = screener(
        make_entity("test:kju", "Person", name="KIM, Jong Un"),
        make_entity("test:rpc", "Person", name="RI, Pyong Chol"),
        make_entity("test:zhang", "Person", name="ZHANG, Xiaoming"),
        make_entity("test:hsu", "Person", name="HSU, Wei-chung"),
    )
    assert matched(s, "Kim Jeong Eun", "test:kju", "Person")
    assert matched(s, "Lee Byeong Cheol", "test:rpc", "Person")
    assert matched(s, "Chang Xiaoming", "test:zhang", "Person")
    assert matched(s, "Xu Weichung", "test:hsu", "Person")
    assert not matched(s, "Kim Jeong Eun", "test:rpc", "Person")


def test_arabic_persian_hebrew_and_greek_script_queries_meet_romanised_listings() -> None:
    s = screener(
        make_entity("test:qs", "Person", name="SOLEIMANI, Qasem"),
        make_entity("test:hn", "Person", name="NASRALLAH, Hassan"),
        make_entity("test:vp", "Person", name="PUTIN, Vladimir"),
        make_entity("test:bs", "Company", name="BANK SHAHR"),
        make_entity("test:gp", "Person", name="PAPANDREOU, Georgios"),
    )
    assert matched(s, "Βλαντιμίρ Πούτιν", "test:vp", "Person")  # Greek
    assert matched(s, "Γεώργιος Παπανδρέου", "test:gp", "Person")
    assert matched(s, "قاسم سليماني", "test:qs", "Person")
    assert matched(s, "حسن نصرالله", "test:hn", "Person")
    assert matched(s, "ולדימיר פוטין", "test:vp", "Person")
    assert matched(s, "بانک شهر", "test:bs", "Company")
    assert not matched(s, "قاسم سليماني", "test:hn", "Person")


@pytest.mark.parametrize("name", ["محمد", "حسن", "محمد علي", "دانيال موسوی"])
def test_common_arabic_script_names_do_not_alert(name: str) -> None:
    s = screener(make_entity("test:mh", "Person", name="HASSAN, Mahmoud"))
    assert not any(m.match for m in s.screen(Query(name=name, schema="Person")))


def test_word_order_and_surname_first_do_not_matter() -> None:
    s = screener(make_entity("test:s", "Person", name="SALAZAR CARDENAS, Carlos Mario"))
    assert matched(s, "Carlos Mario Salazar Cardenas", "test:s", "Person")
    assert matched(s, "Salazar Cardenas Carlos Mario", "test:s", "Person")


def test_dropped_middle_name_still_matches() -> None:
    s = screener(make_entity("test:v", "Person", name="VILLANUEVA MADRID, Mario Ernesto"))
    assert matched(s, "Mario Villanueva Madrid", "test:v", "Person")


def test_one_typo_in_a_long_token_still_matches() -> None:
    s = screener(make_entity("test:b", "Organization", name="BAQIYATALLAH MEDICAL SCIENCES UNIVERSITY"))
    assert matched(s, "Baqiyatallah Medical Sciences Univensity", "test:b", "Organization")


def test_particles_and_punctuation_lost_still_match() -> None:
    s = screener(make_entity("test:a", "Person", name="AL-MASLI, 'Abd-al-Hamid"))
    assert matched(s, "abdalhamid almasli", "test:a", "Person")


def test_legal_form_spelt_out_or_dropped_still_matches() -> None:
    s = screener(make_entity("test:l", "Organization", name="INVERSIONES Y REPRESENTACIONES S.A."))
    assert matched(s, "Inversiones y Representaciones Sociedad Anonima", "test:l", "Organization")
    assert matched(s, "Inversiones y Representaciones", "test:l", "Organization")


def test_a_different_hull_number_does_not_match() -> None:
    s = screener(make_entity("test:h8", "Vessel", name="HOSHIKAZE MARU NO. 8"))
    assert matched(s, "Hoshikaze Maru No. 8", "test:h8", "Vessel")
    assert not matched(s, "Hoshikaze Maru No. 6", "test:h8", "Vessel")


def test_a_number_does_not_match_a_word() -> None:
    s = screener(make_entity("test:bt", "Organization", name="BELLETECH CORP"))
    assert not matched(s, "11420 CORP", "test:bt", "Organization")


def test_a_different_distinctive_word_does_not_match() -> None:
    s = screener(make_entity("test:mw", "Organization", name="MWANGI & SONS"))
    assert matched(s, "Mwangi and Sons", "test:mw", "Organization")
    assert not matched(s, "Mwangi & Daughters", "test:mw", "Organization")


@pytest.mark.parametrize("name", ["Santos", "Martin", "Juan Hernandez", "Maria"])
def test_a_single_common_token_or_common_pair_alerts_nothing(name: str) -> None:
    s = screener()
    assert not any(m.match for m in s.screen(Query(name=name, schema="Person")))


def test_rare_tokens_count_for_more_than_common_ones() -> None:
    s = screener(make_entity("test:q", "Person", name="QUBAYSI, Munir Juan"))
    common = top(s, "Juan Santos", "Person")
    rare = top(s, "Munir Qubaysi", "Person")
    assert rare is not None and rare.match
    assert common is None or common.score < rare.score


def test_birth_date_raises_and_a_contradicting_one_lowers_the_score() -> None:
    person = make_entity("test:d", "Person", name="MAYA RIOS, Edison", birthDate="1970-05-17")
    s = screener(person)

    def score(**kw: object) -> float:
        return next(
            m.score
            for m in s.screen(Query(name="Edisson Maya", schema="Person", **kw))
            if m.entity_id == "test:d"
        )  # type: ignore[arg-type]

    plain = score()
    assert score(birth_date="1970-05-17") > plain
    assert score(birth_date="1985") < plain


def test_country_agreement_raises_and_disagreement_lowers_the_score() -> None:
    s = screener(make_entity("test:c", "Organization", name="ORIENT STAR TRADING LLC", country="ir"))

    def score(country: str) -> float:
        return next(
            m.score
            for m in s.screen(Query(name="Orient Star Trading", schema="Organization", country=country))
        )

    assert score("Iran") > score("Germany")


def test_an_identifier_match_is_decisive_and_a_different_one_argues_against() -> None:
    s = screener(make_entity("test:i", "Vessel", name="OCEAN GLORY", imoNumber="IMO 9187629"))
    hit = top(s, "Ocean Glori Star", "Vessel", id_numbers=["9187629"])
    assert hit is not None and hit.entity_id == "test:i" and hit.match
    assert any(f.name == "identifier_match" for f in hit.explanation.features)
    plain = top(s, "Ocean Glory", "Vessel")
    other = top(s, "Ocean Glory", "Vessel", id_numbers=["IMO 9999999"])
    assert plain is not None and other is not None and other.score < plain.score


def test_a_person_query_does_not_match_a_vessel() -> None:
    s = screener(make_entity("test:vs", "Vessel", name="MARIA GRAZIA SANTORO"))
    assert not any(
        m.entity_id == "test:vs" for m in s.screen(Query(name="Maria Grazia Santoro", schema="Person"))
    )
    assert matched(s, "Maria Grazia Santoro", "test:vs", "Thing")


def test_organization_and_company_queries_match_each_other() -> None:
    s = screener(make_entity("test:co", "Company", name="ZAGROS PETROCHEMICAL COMPANY"))
    assert matched(s, "Zagros Petrochemical Co", "test:co", "Organization")


def test_every_match_is_explained() -> None:
    s = screener(CEIEC)
    best = top(s, "China Electronics Import-Export Co.", "Organization")
    assert best is not None
    exp = best.explanation
    assert exp.query_name == "China Electronics Import-Export Co."
    assert exp.matched_name == "CHINA NATIONAL ELECTRONIC IMPORT-EXPORT COMPANY"
    assert ("china", "china", 1.0) in exp.aligned
    assert {f.name for f in exp.features} >= {"query_coverage", "listed_coverage"}
    assert all(f.description for f in exp.features)
    assert 0.0 <= best.score <= 1.0 and best.list_version == "test@2021-01-01"


def test_screening_without_explanations_gives_the_same_results_and_names_the_match() -> None:
    s = screener(CEIEC)
    query = Query(name="China Electronics Import-Export Co.", schema="Organization")
    full, bare = s.screen(query), s.screen(query, explain=False)
    assert [(m.entity_id, m.score, m.match) for m in bare] == [(m.entity_id, m.score, m.match) for m in full]
    assert bare[0].explanation.matched_name == full[0].explanation.matched_name
    assert bare[0].explanation.aligned == [] and bare[0].explanation.features == []
    assert full[0].explanation.aligned and full[0].explanation.features


def test_a_name_screened_again_with_other_evidence_scores_as_if_screened_afresh() -> None:
    s = screener(
        CEIEC, make_entity("test:cn", "Organization", name="CHINA ELECTRONICS TRADING", country="cn")
    )

    def summary(matches: list[Match]) -> list[tuple[str, float, bool, str]]:
        return [(m.entity_id, m.score, m.match, m.explanation.matched_name) for m in matches]

    name = "China Electronics Import-Export Co."
    for country in (None, "China", "Iran", "CN"):
        query = Query(name=name, schema="Organization", country=country)
        assert summary(s.screen(query, explain=False)) == summary(s.screen(query))

    def score_of_cn(country: str) -> float:
        found = s.screen(Query(name=name, schema="Organization", country=country), explain=False)
        return next(m.score for m in found if m.entity_id == "test:cn")

    scores = {c: score_of_cn(c) for c in ("CN", "IR")}
    assert scores["CN"] > scores["IR"]  # the evidence still counts when the name's scores are reused


@pytest.mark.parametrize("name", ["", "  ", "!!"])
def test_an_unusable_name_is_a_query_error_every_time_without_explanations(name: str) -> None:
    s = screener()
    for _ in range(2):
        with pytest.raises(QueryError):
            s.screen(Query(name=name), explain=False)


def test_min_score_leaves_out_only_the_lower_scores() -> None:
    s = screener(CEIEC)
    query = Query(name="China National Electronics Trading Corporation", schema="Organization", country="CN")
    everything = s.screen(query, limit=50)
    kept = [m for m in everything if m.score >= 0.05]
    assert 1 < len(kept) < len(everything)  # the query has scores on both sides of 0.05
    assert s.screen(query, limit=50, min_score=0.0) == everything
    assert s.screen(query, limit=50, min_score=0.05) == kept
    assert s.screen(query, limit=1, min_score=0.05) == kept[:1]


def test_min_score_at_the_threshold_returns_only_matches() -> None:
    s = screener(CEIEC)
    query = Query(name="China National Import Export", schema="Organization")
    everything = s.screen(query)
    assert any(m.match for m in everything) and not all(m.match for m in everything)
    assert s.screen(query, min_score=s.threshold) == [m for m in everything if m.match]


def test_screening_in_steps_pauses_between_its_stages_and_gives_what_screen_gives() -> None:
    s = screener(CEIEC, make_entity("test:i", "Vessel", name="OCEAN GLORY", imoNumber="IMO 9187629"))
    queries = [
        Query(name="China Electronics Import-Export Co.", schema="Organization", country="China"),
        Query(name="CEIEC", schema="Organization", aliases=["China National Electronics Import & Export"]),
        Query(name="Ocean Glori Star", schema="Vessel", id_numbers=["9187629"]),
        Query(name="Juan Carlos Garcia Lopez", schema="Person", birth_date="1970-01-01"),
    ]
    for query in queries:
        for min_score in (0.0, s.threshold):
            steps = s.screen_in_steps(query, limit=5, min_score=min_score)
            pauses = 0
            while True:
                try:
                    next(steps)
                except StopIteration as done:
                    result = done.value
                    break
                pauses += 1
            assert result == s.screen(query, limit=5, min_score=min_score)
            # after the names' analysis, after each name's candidates, before ranking and explaining
            assert pauses == 2 + 1 + len(query.aliases), query
    assert any(m.match for m in s.screen(queries[2])), "the identifier query finds its vessel"


def test_screening_in_steps_refuses_an_unusable_name_at_the_first_step() -> None:
    with pytest.raises(QueryError):
        next(screener().screen_in_steps(Query(name="!!")))


def test_explaining_later_gives_what_screening_with_explanations_gives() -> None:
    s = screener(CEIEC)
    query = Query(name="China Electronics Import-Export Co.", schema="Organization", country="China")
    full, bare = s.screen(query), s.screen(query, explain=False)
    assert bare != full  # the alignments and features are missing
    assert s.explain(query, bare) == full
    assert s.explain(query, bare[1:2]) == full[1:2]
    assert s.explain(query, []) == []


def test_explaining_a_match_the_query_does_not_score_returns_it_unchanged() -> None:
    s = screener(CEIEC)
    elsewhere = s.screen(Query(name="Alfa Bank", schema="Organization"), explain=False)
    assert elsewhere and elsewhere[0].entity_id != "test:ceiec"
    query = Query(name="CEIEC", schema="Organization")
    strangers = [m for m in elsewhere if m.entity_id not in {r.entity_id for r in s.screen(query, limit=100)}]
    assert strangers and s.explain(query, strangers) == strangers


def test_results_are_best_first_and_include_near_misses() -> None:
    s = screener()
    matches = s.screen(Query(name="Juan Carlos Garcia Lopez", schema="Person"), limit=5)
    assert matches and [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
    assert s.threshold == DEFAULT_THRESHOLD


@pytest.mark.parametrize("name", ["", "   ", "\x00\x01", "-- ... !!"])
def test_empty_or_punctuation_only_names_are_a_query_error(name: str) -> None:
    with pytest.raises(QueryError):
        screener().screen(Query(name=name))


def test_a_ten_kilobyte_name_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="characters"):
        screener().screen(Query(name="A" * 10_000))


def test_an_unknown_schema_is_a_query_error() -> None:
    with pytest.raises(QueryError, match="schema"):
        screener().screen(Query(name="Acme", schema="Spaceship"))


@pytest.mark.parametrize(
    "name", ["Mohammed\x00Ali\x07", "Ива́н 习近平 محمد Smith", "🙂🙂 Acme 🙂", "\u200b\u200bZ"]
)
def test_garbage_but_nonempty_names_screen_without_crashing(name: str) -> None:
    for m in screener().screen(Query(name=name)):
        assert 0.0 <= m.score <= 1.0


def test_index_is_built_once_saved_and_loaded(tmp_path: Path) -> None:
    from clearance.matching.index import build_index, load_index, save_index

    index = build_index([(e, "v") for e in [*BACKGROUND, CEIEC]], key="k")
    path = tmp_path / "k.idx"
    save_index(index, path)
    loaded = Screener(load_index(path))
    best = loaded.screen(Query(name="CEIEC", schema="Organization"))[0]
    assert best.entity_id == "test:ceiec"
    assert Settings.load(tmp_path).index_dir == tmp_path / "index"


def test_from_store_builds_the_index_once_and_then_loads_it(tmp_path: Path) -> None:
    from datetime import date

    from clearance.store.sqlite import SQLiteStore

    settings = Settings.load(tmp_path)
    settings.home.mkdir(parents=True, exist_ok=True)
    store = SQLiteStore(settings.database_path)
    try:
        version, _ = store.add_version(
            list_name="test",
            format="ftm",
            files=["x.json"],
            content_hash="abc",
            published=date(2021, 1, 1),
            published_from="given",
            entities=[*BACKGROUND, CEIEC],
        )
        first = Screener.from_store(store, settings)
        files = list(settings.index_dir.glob("*.idx"))
        assert len(files) == 1
        stamp = files[0].stat().st_mtime_ns
        second = Screener.from_store(store, settings)
        assert files[0].stat().st_mtime_ns == stamp  # loaded, not rebuilt
        for s in (first, second):
            best = s.screen(Query(name="CEIEC", schema="Organization"))[0]
            assert best.entity_id == "test:ceiec" and best.list_version == version.label
        assert Screener.from_store(store, settings, as_of=date(2020, 1, 1)).index.name_count == 0
    finally:
        store.close()


_GARBAGE_SCREENER: list[Screener] = []


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("Жع中 -.,'&\x00"), max_size=120))
def test_any_text_screens_or_is_a_query_error_never_a_crash(name: str) -> None:
    if not _GARBAGE_SCREENER:
        _GARBAGE_SCREENER.append(screener(CEIEC))
    try:
        matches = _GARBAGE_SCREENER[0].screen(Query(name=name, aliases=[name[::-1]]))
    except QueryError:
        return
    assert all(0.0 <= m.score <= 1.0 and m.explanation.features for m in matches)


@pytest.mark.parametrize(
    "payload",
    [b"not a pickle", pickle.dumps({"matcher_version": MATCHER_VERSION, "unknown_field": 1}), b""],
    ids=["garbage", "other-layout", "empty"],
)
def test_an_unreadable_index_file_is_rebuilt_not_a_crash(tmp_path: Path, payload: bytes) -> None:
    from datetime import date

    from clearance.store.sqlite import SQLiteStore

    settings = Settings.load(tmp_path)
    store = SQLiteStore(settings.database_path)
    try:
        store.add_version(
            list_name="test",
            format="ftm",
            files=["x.json"],
            content_hash="abc",
            published=date(2021, 1, 1),
            published_from="given",
            entities=[*BACKGROUND, CEIEC],
        )
        Screener.from_store(store, settings)
        (path,) = settings.index_dir.glob("*.idx")
        path.write_bytes(payload)
        rebuilt = Screener.from_store(store, settings)
        assert rebuilt.screen(Query(name="CEIEC", schema="Organization"))[0].entity_id == "test:ceiec"
        assert path.read_bytes() != payload
    finally:
        store.close()


_LAZY_TABLES = """
import sys
from clearance.matching.screener import Screener
from clearance.text import tables
from tests.factories import make_entity

screener = Screener.from_entities([make_entity("test:w", "Person", name="KIM, Jong Un")])
if sys.argv[1] == "warm":
    screener.warm_up()
lazy = (tables.hangul_jamo, tables.hangul_syllables, tables.greek_digraphs)
print(all(f.cache_info().currsize for f in lazy), any(f.cache_info().currsize for f in lazy))
"""


@pytest.mark.parametrize(("mode", "expected"), [("cold", "False False"), ("warm", "True True")])
def test_warm_up_loads_the_tables_screening_loads_at_first_use(mode: str, expected: str) -> None:
    # in a fresh interpreter: in this one, earlier tests have loaded the tables already
    out = subprocess.run(
        [sys.executable, "-c", _LAZY_TABLES, mode],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.split() == expected.split()
