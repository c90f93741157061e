"""The reply grammar: reply codes and how an inbound SMS is read."""

import enum
import re
import secrets
import unicodedata
from dataclasses import dataclass

# No 0/O, 1/I/L: codes are read aloud and typed on phone keypads.
CODE_LETTERS = "ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_DIGITS = "23456789"
CODE_ALPHABET = CODE_LETTERS + CODE_DIGITS


class ReplyKind(enum.StrEnum):
    """What a responder meant."""

    ACCEPT = "accept"
    DECLINE = "decline"
    ARRIVED = "arrived"
    ETA = "eta"
    STOP = "stop"
    UNCLEAR = "unclear"


@dataclass(frozen=True)
class Reply:
    """A parsed reply; `code` is the reply code found in it, `eta_min` minutes to arrival."""

    kind: ReplyKind
    code: str | None
    eta_min: int | None
    raw: str


def make_reply_code(length: int = 3) -> str:
    """Return a random reply code of 3 or 4 characters, e.g. "K7Q" (4,232 / 228,528 codes).

    It starts and ends with a letter, so a digit typed against it ("K7Q2", "1K7Q") never
    reads as part of the code, and holds a digit, so no word ("YES", "WAY") reads as one.
    Uniqueness among open dispatches is the caller's job.
    """
    if length not in (3, 4):
        msg = f"reply codes have 3 or 4 characters, not {length}"
        raise ValueError(msg)
    while True:
        middle = "".join(secrets.choice(CODE_ALPHABET) for _ in range(length - 2))
        if any(c in CODE_DIGITS for c in middle):
            return secrets.choice(CODE_LETTERS) + middle + secrets.choice(CODE_LETTERS)


_L, _D, _A = f"[{CODE_LETTERS}]", f"[{CODE_DIGITS}]", f"[{CODE_ALPHABET}]"
_CODE_RE = re.compile(rf"(?<![A-Z]){_L}(?:{_D}{_A}?|{_L}{_D}){_L}(?![A-Z])")
# A dot is kept only between digits ("1.5小时").
_PUNCT_RE = re.compile(r"[\s,;:!?、，。；：！？~～\-—_/\\()\[\]【】\"'“”‘’]+|(?<!\d)\.|\.(?!\d)")

# Checked on the text left after the code is taken out, in this order.
_STOP_WORDS = re.compile(r"^(STOP|STOPALL|UNSUBSCRIBE|TD|T|QUIT|CANCEL)$|退订|取消订阅")
_DECLINE = re.compile(r"^2(?!\d)|^(N|NO|NOPE)(?![A-Z])|否|不能|拒绝|不去|去不了|来不了|无法|不行|没空|不参加|不接受|不方便|请假")
_ARRIVED = re.compile(r"到达|已到|抵达|到场|到现场|已经到|我到了|^到了")
# A negation the decline words did not catch ("不是我", "没看懂") is not an acceptance.
_NEGATION = re.compile(r"不|没|别|未")
_ACCEPT = re.compile(r"没问题|^1(?!\d)|^(Y|YES|OK|ACK)(?![A-Z])|是|收到|确认|接受|同意|可以|好的|^好|明白|出发|马上|立即|参加")

_CN_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_NUM = r"(\d+(?:\.\d+)?|[零一二两三四五六七八九十]+)"
# "1个半小时" is 90 minutes, but "1 半小时" is an answer (1) and an ETA (30).
_HOURS_RE = re.compile(_NUM + r"(?:个?(半)| ?个?)(?:小时|钟头|H|HR|HRS|HOURS?)(?![A-Z])")
_HALF_HOUR_RE = re.compile(r"半(?:个)?小时")
_MINUTES_RE = re.compile(_NUM + r" ?(?:分钟|分|MINUTES?|MINS?|M)(?![A-Z])")


def _number(token):
    """Value of "20", "1.5", "二十", "十五", "两"."""
    if token[0].isdigit():
        return float(token)
    if "十" in token:
        tens, _, ones = token.partition("十")
        return _CN_DIGITS.get(tens, 1) * 10 + _CN_DIGITS.get(ones, 0)
    return _CN_DIGITS.get(token)


def _cut(text, m):
    return text[: m.start()] + " " + text[m.end() :]


def _eta_minutes(text):
    """Minutes named in `text` ("20分钟", "1小时20分", "约半小时") or None, and the rest."""
    total, found = 0.0, False
    if m := _HOURS_RE.search(text):
        total += _number(m[1]) * 60 + (30 if m[2] else 0)
        found, text = True, _cut(text, m)
    elif m := _HALF_HOUR_RE.search(text):
        total += 30
        found, text = True, _cut(text, m)
    if m := _MINUTES_RE.search(text):
        total += _number(m[1])
        found, text = True, _cut(text, m)
    return (round(total) if found else None), text.strip()


def _normalize(text):
    # NFKC folds full-width letters, digits and spaces (common on Chinese keyboards).
    text = unicodedata.normalize("NFKC", text or "").upper()
    return _PUNCT_RE.sub(" ", text).strip()


def _find_code(text):
    if m := _CODE_RE.search(text):
        return m[0], _cut(text, m).strip()
    return None, text


def parse_reply(text: str | None) -> Reply:
    """Read a responder's SMS into a `Reply`; anything not understood is `UNCLEAR`.

    The code may come before or after the answer, with or without spaces ("K7Q 1",
    "1 K7Q", "k7q1", "收到K7Q"). "收到，20分钟到" is an ACCEPT carrying eta_min=20.
    """
    raw = text or ""
    code, rest = _find_code(_normalize(raw))
    eta, rest = _eta_minutes(rest)
    # The answer without code and ETA: "1 约40分钟" leaves "1约", "1小时20分" leaves "".
    compact = rest.replace(" ", "")

    def reply(kind: ReplyKind, eta_min: int | None = None) -> Reply:
        return Reply(kind, code, eta_min, raw)

    if _STOP_WORDS.search(compact):
        return reply(ReplyKind.STOP)
    if _DECLINE.search(compact):
        return reply(ReplyKind.DECLINE)
    if _ARRIVED.search(compact):
        return reply(ReplyKind.ARRIVED)
    # An answer that is only a digit must be exactly 1 or 2; "3" or "12" is a typo.
    if compact.isdigit() and compact not in ("1", "2"):
        return reply(ReplyKind.UNCLEAR)
    if _NEGATION.search(compact) and "没问题" not in compact:
        return reply(ReplyKind.UNCLEAR)
    if _ACCEPT.search(compact):
        return reply(ReplyKind.ACCEPT, eta)
    if eta is not None:
        return reply(ReplyKind.ETA, eta)
    return reply(ReplyKind.UNCLEAR)
