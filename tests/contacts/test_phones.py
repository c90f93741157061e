import pytest

from contacts import InvalidPhoneError, is_mobile, normalize_phone


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("138 0000 0000", "+8613800000000"),
        ("13800000000", "+8613800000000"),
        ("+86-138-0000-0000", "+8613800000000"),
        ("+86 13912345678", "+8613912345678"),
        ("0086 13800000000", "+8613800000000"),
        ("8613800000000", "+8613800000000"),
        ("１３８００００００００", "+8613800000000"),  # full-width digits
        ("0951-1234567", "+869511234567"),  # Yinchuan landline
        ("（0951）1234567", "+869511234567"),
        ("+86 (0951) 1234567", "+869511234567"),
        ("010-12345678", "+861012345678"),
        ("+1 650 253 0000", "+16502530000"),
    ],
)
def test_normalize_good(raw, expected):
    assert normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", [None, "", "   ", "abc", "12345", "1380000000", "95119", "138000000001234", "+999 123"])
def test_normalize_bad_gives_chinese_reason(raw):
    with pytest.raises(InvalidPhoneError) as info:
        normalize_phone(raw)
    assert any("\u4e00" <= c <= "\u9fff" for c in info.value.reason)
    assert isinstance(info.value, ValueError)


def test_region_applies_without_country_code():
    assert normalize_phone("650 253 0000", region="US") == "+16502530000"


@pytest.mark.parametrize(
    ("raw", "mobile"),
    [
        ("13800000000", True),
        ("+8618995123456", True),
        ("0951-1234567", False),
        ("not a number", False),
    ],
)
def test_is_mobile(raw, mobile):
    assert is_mobile(raw) is mobile
