import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.credit_code import (
    ALPHABET,
    WEIGHTS,
    check_character,
    has_valid_check,
    is_well_formed,
    normalise_credit_code,
    validate_credit_code,
)
from engine.textnorm import ParseError

VALID = "91350100M000100Y43"  # worked example from GB 32100-2015
FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

prefixes = st.text(alphabet=ALPHABET, min_size=17, max_size=17)


def test_alphabet_and_weights_match_the_standard() -> None:
    assert len(ALPHABET) == 31
    assert not set("IOSVZ") & set(ALPHABET)
    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def test_worked_example() -> None:
    assert is_well_formed(VALID)
    assert check_character(VALID[:17]) == "3"
    assert has_valid_check(VALID)
    assert validate_credit_code(VALID) == (VALID, None)


@pytest.mark.parametrize(
    "raw",
    [
        " 91350100M000100Y43 ",
        "91350100m000100y43",
        "９１３５０１００Ｍ０００１００Ｙ４３",
        "\u300091350100M000100Y43\xa0",
        "9135 0100 M000 100Y 43",
    ],
)
def test_normalisation(raw: str) -> None:
    assert normalise_credit_code(raw) == VALID
    assert validate_credit_code(raw) == (VALID, None)


def test_is_well_formed_does_not_normalise() -> None:
    assert not is_well_formed(VALID.lower())
    assert not is_well_formed(" " + VALID)
    assert not is_well_formed(VALID[:17])
    assert not is_well_formed(VALID[:17] + "O")
    assert not is_well_formed(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["", "123", VALID[:17] + "I", "9135010OM000100Y4", VALID, "91350100m000100y4", 12])
def test_check_character_needs_17_alphabet_characters(bad: object) -> None:
    with pytest.raises(ParseError):
        check_character(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("first", ["A", "N", "Y", "1", "5", "9"])
def test_codes_may_start_with_any_registration_authority(first: str) -> None:
    # python-stdnum rejects A, N and Y; GB 32100-2015 allows them.
    prefix = first + VALID[1:17]
    code = prefix + check_character(prefix)
    assert validate_credit_code(code) == (code, None)


def test_bad_check_character_is_only_a_warning() -> None:
    code = VALID[:17] + "4"
    normalised, warning = validate_credit_code(code.lower())
    assert normalised == code
    assert warning is not None
    assert "“3”" in warning and "'3'" in warning  # names the expected check character, zh and en
    assert " / " in warning and "校验位" in warning and "check" in warning
    assert not has_valid_check(code)
    assert is_well_formed(code)


@pytest.mark.parametrize(
    ("raw", "zh_part", "en_part"),
    [
        ("91350100M000100Y4", "17位", "has 17"),
        ("91350100M000100Y433", "19位", "has 19"),
        ("123", "3位", "has 3"),
    ],
)
def test_wrong_length_is_an_error(raw: str, zh_part: str, en_part: str) -> None:
    with pytest.raises(ParseError) as info:
        validate_credit_code(raw)
    assert zh_part in info.value.message_zh
    assert en_part in info.value.message_en
    assert info.value.value == raw


def test_bad_characters_are_named_with_positions() -> None:
    with pytest.raises(ParseError) as info:
        validate_credit_code("91350100MO00100Y4S")
    assert "第10位“O”" in info.value.message_zh and "第18位“S”" in info.value.message_zh
    assert "position 10 'O'" in info.value.message_en and "position 18 'S'" in info.value.message_en


@pytest.mark.parametrize("raw", [None, "", "   ", 91350100, "91350100-M000100Y4"])
def test_other_garbage_is_an_error(raw: object) -> None:
    with pytest.raises(ParseError):
        validate_credit_code(raw)


@given(prefixes)
def test_prefix_plus_computed_check_validates(prefix: str) -> None:
    code = prefix + check_character(prefix)
    assert is_well_formed(code)
    assert has_valid_check(code)
    assert validate_credit_code(code) == (code, None)
    assert validate_credit_code(code.lower().translate(FULLWIDTH)) == (code, None)


@given(prefixes, st.integers(min_value=0, max_value=17), st.characters())
def test_changing_one_character_breaks_the_code(prefix: str, pos: int, new: str) -> None:
    code = prefix + check_character(prefix)
    if normalise_credit_code(new) == code[pos] or new.upper() == code[pos]:
        return
    mutated = code[:pos] + new + code[pos + 1 :]
    assert not has_valid_check(mutated)
    try:
        normalised, warning = validate_credit_code(mutated)
    except ParseError:
        return  # malformed: wrong character or (after normalisation) wrong length
    if normalised == code:
        return  # the new character normalised back to the original (e.g. its full-width form)
    assert warning is not None


@given(prefixes, st.integers(min_value=0, max_value=17), st.sampled_from(ALPHABET))
def test_single_substitution_within_alphabet_always_detected(prefix: str, pos: int, new: str) -> None:
    code = prefix + check_character(prefix)
    if new == code[pos]:
        return
    mutated = code[:pos] + new + code[pos + 1 :]
    assert is_well_formed(mutated)
    assert not has_valid_check(mutated)
    assert validate_credit_code(mutated)[1] is not None


@given(prefixes)
def test_check_is_the_unique_valid_18th_character(prefix: str) -> None:
    assert sum(has_valid_check(prefix + c) for c in ALPHABET) == 1
