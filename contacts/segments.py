"""SMS length rules: GSM-7 or UCS-2 encoding and the number of segments."""

from dataclasses import dataclass

# GSM 03.38 basic character set; the extension set costs two septets (escape + char).
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = frozenset("^{}\\[~]|€\f")

GSM_SINGLE, GSM_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SegmentInfo:
    """How a text travels: `encoding` "GSM-7" or "UCS-2", `chars` in that encoding's units."""

    encoding: str
    chars: int
    segments: int

    @property
    def single(self) -> int:
        """The most units one segment can hold in this encoding."""
        return GSM_SINGLE if self.encoding == "GSM-7" else UCS2_SINGLE


def _segments(units, single, part):
    if units <= single:
        return 1
    return -(-units // part)


def count_segments(text: str) -> SegmentInfo:
    """Count the segments `text` needs, signature 【…】 included (it is part of the text).

    Any character outside GSM-7 (every Chinese one) makes the whole message UCS-2: 70 units
    in one SMS, 67 per segment when concatenated; characters outside the BMP take two units.
    """
    if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text):
        septets = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        return SegmentInfo("GSM-7", septets, _segments(septets, GSM_SINGLE, GSM_PART))
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return SegmentInfo("UCS-2", units, _segments(units, UCS2_SINGLE, UCS2_PART))
