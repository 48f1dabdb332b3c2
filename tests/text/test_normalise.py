from hypothesis import given, settings
from hypothesis import strategies as st

from clearance.text.normalise import clean, fold, normalise_name, tokenize
from clearance.text.translit import to_latin

ANY_TEXT = st.text(
    alphabet=st.characters(codec="utf-8") | st.sampled_from("Ж中ع '.-&\x00\u200b"), max_size=80
)


def test_clean_drops_control_and_format_characters_and_collapses_spaces() -> None:
    assert clean("  ACME\x00Trading\u200b Co\t\n ") == "ACME Trading Co"


def test_fold_transliterates_cyrillic_in_the_lists_style() -> None:
    assert fold("Евгений Хрущёв") == "evgeniy khrushchev"


def test_fold_transliterates_other_scripts_to_ascii() -> None:
    for text in ["习近平", "Ελληνικά", "שלום", "김정은", "ユニクロ", "محمد", "Ørsted Łódź"]:
        out = fold(text)
        assert out.isascii() and out.strip(), text


def test_tokenize_joins_apostrophes_and_dots_and_splits_other_punctuation() -> None:
    assert tokenize("al-masli, 'abd-al-hamid") == ["al", "masli", "abd", "al", "hamid"]
    assert tokenize("s.a. de c.v.") == ["sa", "de", "cv"]
    assert tokenize("o'brien & sons") == ["obrien", "and", "sons"]


def test_normalise_name_of_only_punctuation_is_empty() -> None:
    assert normalise_name("-- ... ,,, !!") == ""


@settings(max_examples=300, deadline=None)
@given(ANY_TEXT)
def test_normalisers_never_raise_and_are_idempotent(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once
    assert clean(clean(text)) == clean(text)
    assert to_latin(to_latin(text)) == to_latin(text)
    assert once == "" or all(t.isalnum() and t.isascii() for t in once.split(" "))


def test_hangul_is_spelt_as_the_lists_spell_korean_names() -> None:
    from clearance.text.translit import hangul_mccune_reischauer

    assert hangul_mccune_reischauer("김정은").split() == ["kim", "jong", "un"]
    assert hangul_mccune_reischauer("리병철").split() == ["ri", "pyong", "chol"]
    assert hangul_mccune_reischauer("박 X").split() == ["pak", "X"]


def test_greek_letter_pairs_are_spelt_as_one_sound() -> None:
    assert normalise_name("Γεώργιος Παπανδρέου") == "georgios papandreou"
    assert normalise_name("ΠΑΠΑΝΔΡΕΟΥ") == "papandreou"
    assert normalise_name("Μπακογιάννη") == "bakogianni"
    assert normalise_name("Ευάγγελος") == "evangelos"
