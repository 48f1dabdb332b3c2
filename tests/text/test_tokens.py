from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.text.tokens import acronyms, analyse_name, analyse_tokens, canonical_word, skeleton


def canon(text: str, organisation: bool = True) -> list[str]:
    return analyse_name(text, organisation=organisation).canon


def test_legal_forms_fold_to_one_canonical_form() -> None:
    assert canon("Acme Co.") == canon("ACME COMPANY")
    assert canon("Acme Corp") == canon("Acme Corporation")
    assert canon("Acme Ltd") == canon("Acme Limited")
    assert canon("Grupo Cristal S.A. de C.V.") == canon("Grupo Cristal Sociedad Anonima de C.V.")
    assert canon("Mega Group s r l") == canon("MEGA GROUP S.R.L.")
    assert canon("Instar Sp. z o.o.")[-1] == "sp_z_oo"
    for form in ["OOO", "PJSC", "GmbH", "LLC", "FZE"]:
        assert analyse_name(f"Acme {form}").tokens[-1].kind == "legal", form


def test_business_abbreviations_expand() -> None:
    assert canon("Acme Intl Trdg Engg Bros") == canon("Acme International Trading Engineering Brothers")


def test_legal_forms_are_not_read_in_peoples_names() -> None:
    assert analyse_name("Isabela Sa", organisation=False).tokens[-1].kind == "word"


def test_name_variants_share_a_canonical_spelling() -> None:
    assert canonical_word("mohammed") == canonical_word("muhammad") == canonical_word("mohamed")
    assert canonical_word("yevgeniy") == canonical_word("evgeny")
    assert canonical_word("aleksandr") == canonical_word("alexander")
    assert canonical_word("kononoff") == canonical_word("kononov")


def test_particles_and_honorifics_are_marked() -> None:
    kinds = {t.form: t.kind for t in analyse_name("Dr. Ahmad bin Ali al-Tikriti", organisation=False).tokens}
    assert kinds["dr"] == "honorific"
    assert kinds["bin"] == "particle" and kinds["al"] == "particle"
    assert kinds["ahmad"] == "word"


def test_numbers_are_their_own_kind() -> None:
    assert [t.kind for t in analyse_name("Hoshikaze Maru No. 8").tokens][-1] == "number"


def test_acronym_of_an_organisation_includes_the_legal_form() -> None:
    assert "ceiec" in acronyms(analyse_name("China Electronics Import-Export Corporation"))


def test_skeleton_folds_romanisation_differences() -> None:
    assert skeleton("hussain") == skeleton("hossein")
    assert skeleton("darwich") == skeleton("darwish")
    assert skeleton("montoya") == skeleton("montoia")


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12), max_size=8)
)
def test_analysis_of_a_canonical_token_gives_it_back(tokens: list[str]) -> None:
    for tok in analyse_tokens(tokens):
        if "_" in tok.canon:  # a multi-word legal form's canonical id ("co_limited") is not text
            continue
        again = analyse_tokens([tok.canon])
        assert [t.canon for t in again] == [tok.canon]
        assert canonical_word(canonical_word(tok.form)) == canonical_word(tok.form)


def test_abjad_key_is_what_a_romanised_name_and_its_arabic_or_hebrew_spelling_share() -> None:
    from clearance.text.normalise import normalise_name
    from clearance.text.tokens import abjad_key

    for romanised, written in [
        ("muhammad", "محمد"),
        ("suleimani", "سليماني"),
        ("qasem", "قاسم"),
        ("putin", "פוטין"),
    ]:
        assert abjad_key(romanised) == abjad_key(normalise_name(written))
    assert abjad_key("x1") == ""
