import re

import pytest

from contacts import ReplyKind, make_reply_code, parse_reply
from contacts.replies import CODE_ALPHABET

A, D, R, E, S, U = (ReplyKind.ACCEPT, ReplyKind.DECLINE, ReplyKind.ARRIVED, ReplyKind.ETA, ReplyKind.STOP, ReplyKind.UNCLEAR)

CASES = [
    # text, kind, code, eta_min
    ("K7Q 1", A, "K7Q", None),
    ("1 K7Q", A, "K7Q", None),
    ("k7q1", A, "K7Q", None),
    ("K7Q1", A, "K7Q", None),
    ("ｋ７ｑ　１", A, "K7Q", None),  # full-width letters, digits and space
    ("K7Q,1", A, "K7Q", None),
    ("1", A, None, None),
    ("１", A, None, None),
    ("Y", A, None, None),
    ("y", A, None, None),
    ("YES", A, None, None),
    ("OK", A, None, None),
    ("是", A, None, None),
    ("收到", A, None, None),
    ("收到！", A, None, None),
    ("确认", A, None, None),
    ("接受", A, None, None),
    ("好的，马上出发", A, None, None),
    ("没问题", A, None, None),
    ("收到K7Q", A, "K7Q", None),
    ("K7Q收到，20分钟到", A, "K7Q", 20),
    ("K7Q 1 约40分钟", A, "K7Q", 40),
    ("1 半小时到", A, None, 30),
    ("K7Q 2", D, "K7Q", None),
    ("K7Q2", D, "K7Q", None),
    ("2K7Q", D, "K7Q", None),
    ("2", D, None, None),
    ("N", D, None, None),
    ("no", D, None, None),
    ("否", D, None, None),
    ("不能", D, None, None),
    ("不能去，人在银川", D, None, None),
    ("拒绝", D, None, None),
    ("K7Q 2 车辆在检修", D, "K7Q", None),
    ("去不了", D, None, None),
    ("不能确认", D, None, None),
    ("到达", R, None, None),
    ("已到", R, None, None),
    ("K7Q 已到达现场", R, "K7Q", None),
    ("我到了", R, None, None),
    ("20分钟", E, None, 20),
    ("20 min", E, None, 20),
    ("20mins", E, None, 20),
    ("约半小时", E, None, 30),
    ("预计15分", E, None, 15),
    ("二十分钟", E, None, 20),
    ("十五分钟后到", E, None, 15),
    ("一个半小时", E, None, 90),
    ("1小时20分", E, None, 80),
    ("1.5小时", E, None, 90),
    ("K7Q 2h", E, "K7Q", 120),
    ("STOP", S, None, None),
    ("stop", S, None, None),
    ("退订", S, None, None),
    ("TD", S, None, None),
    ("回T退订", S, None, None),
    ("K7Q", U, "K7Q", None),
    ("K7Q 3", U, "K7Q", None),
    ("12", U, None, None),
    ("", U, None, None),
    ("   ", U, None, None),
    ("什么事？", U, None, None),
    ("不是我", U, None, None),
    ("请打电话给我", U, None, None),
    ("ON MY WAY", U, None, None),  # English words never read as a code
    ("G6堵车", U, None, None),
]


def test_table_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize(("text", "kind", "code", "eta"), CASES)
def test_parse_reply(text, kind, code, eta):
    reply = parse_reply(text)
    assert (reply.kind, reply.code, reply.eta_min) == (kind, code, eta)
    assert reply.raw == text


def test_none_is_unclear():
    assert parse_reply(None).kind is ReplyKind.UNCLEAR


@pytest.mark.parametrize("length", [3, 4])
def test_reply_code_alphabet(length):
    for _ in range(500):
        code = make_reply_code(length)
        assert len(code) == length
        assert set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OIL")
        assert code[0].isalpha() and code[-1].isalpha() and re.search(r"\d", code)
        # Whatever a responder adds, the code reads back.
        assert parse_reply(f"{code} 1") == parse_reply(f"{code} 1")
        assert parse_reply(f"{code}2").code == code
        assert parse_reply(f"1{code.lower()}").code == code


def test_reply_codes_are_random_enough():
    codes = [make_reply_code() for _ in range(1000)]
    assert len(set(codes)) > 850  # 4,232 possible 3-char codes; the birthday bound allows ~110 repeats


def test_reply_code_length_checked():
    with pytest.raises(ValueError):
        make_reply_code(5)
