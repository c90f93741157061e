"""Phone number validation and E.164 normalisation."""

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

from contacts.errors import InvalidPhoneError

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "国家或地区代码无效",
    NumberParseException.NOT_A_NUMBER: "不是电话号码",
    NumberParseException.TOO_SHORT_AFTER_IDD: "国际冠字后号码太短",
    NumberParseException.TOO_SHORT_NSN: "号码太短",
    NumberParseException.TOO_LONG: "号码太长",
}

_MOBILE_TYPES = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def _parse(raw, region):
    if raw is None or not str(raw).strip():
        raise InvalidPhoneError(raw, "号码为空")
    try:
        number = phonenumbers.parse(str(raw), region)
    except NumberParseException as exc:
        raise InvalidPhoneError(raw, _PARSE_REASONS.get(exc.error_type, "无法识别的号码")) from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhoneError(raw, "号码位数不对")
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneError(raw, "不是有效的号码")
    return number


def normalize_phone(raw: object, *, region: str = "CN") -> str:
    """Return `raw` in E.164 ("+8613800000000"), or raise `InvalidPhoneError`.

    Accepts spaces, dashes, full-width digits, +86/0086 prefixes and landlines with their
    area code ("0951-1234567"); `region` is assumed when the number has no country code.
    """
    number = _parse(raw, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(raw: object, *, region: str = "CN") -> bool:
    """True if `raw` is a valid mobile number (one that can receive SMS)."""
    try:
        number = _parse(raw, region)
    except InvalidPhoneError:
        return False
    return phonenumbers.number_type(number) in _MOBILE_TYPES
