"""Identifier rules: unified social credit codes (GB 32100-2015) and supply codes (GB/T 38565-2020)."""

import re

CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
_SUPPLY_RE = re.compile(r"^\d{7}$")
SUPPLY_TOP_CLASSES = {"1": "基本生活保障物资", "2": "应急装备及配套物资", "3": "工程材料与机械加工设备"}


def credit_check_char(first17: str) -> str:
    """Return the 18th (check) character for the first 17 characters of a credit code."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_error(code: str) -> str | None:
    """Why `code` is not a valid unified social credit code, or None when it is."""
    if not isinstance(code, str) or len(code) != 18:
        return "统一社会信用代码应为18位"
    if not _CREDIT_RE.match(code):
        return "统一社会信用代码含有无效字符"
    if credit_check_char(code[:17]) != code[17]:
        return "统一社会信用代码校验位错误"
    return None


def supply_code_error(code: str) -> str | None:
    """Why `code` is not a valid GB/T 38565-2020 supply code (1+2+2+2 digits), or None."""
    if not isinstance(code, str) or not _SUPPLY_RE.match(code):
        return "物资编码应为7位数字(1+2+2+2)"
    if code[0] not in SUPPLY_TOP_CLASSES:
        return "物资编码大类应为1、2或3"
    for start in (1, 3, 5):
        if code[start : start + 2] == "00":
            return "物资编码各级代码不能为00"
    return None
