import pytest

from contacts import count_segments


@pytest.mark.parametrize(
    ("text", "encoding", "chars", "segments"),
    [
        ("", "GSM-7", 0, 1),
        ("hello", "GSM-7", 5, 1),
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("[]", "GSM-7", 4, 1),  # extension characters take two septets
        ("中" * 70, "UCS-2", 70, 1),
        ("中" * 71, "UCS-2", 71, 2),
        ("中" * 134, "UCS-2", 134, 2),
        ("中" * 135, "UCS-2", 135, 3),
        ("a" * 69 + "中", "UCS-2", 70, 1),  # one Chinese character makes it all UCS-2
        ("😀" * 35, "UCS-2", 70, 1),  # outside the BMP: two units each
        ("😀" * 35 + "a", "UCS-2", 71, 2),
        ("【宁夏应急】" + "中" * 64, "UCS-2", 70, 1),  # the signature counts
        ("【宁夏应急】" + "中" * 65, "UCS-2", 71, 2),
    ],
)
def test_count_segments(text, encoding, chars, segments):
    info = count_segments(text)
    assert (info.encoding, info.chars, info.segments) == (encoding, chars, segments)
