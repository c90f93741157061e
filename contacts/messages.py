"""Chinese SMS texts for dispatches, drill reminders and escalations, from plain data."""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from contacts.errors import InvalidSignatureError
from contacts.segments import SegmentInfo, count_segments

DEFAULT_SIGNATURE = "【宁夏应急】"
DRILL_TAG = "【演练】"
CHINA_TZ = timezone(timedelta(hours=8), "CST")  # China keeps UTC+8 all year, no DST

# Parts of a dispatch dropped or shortened, in this order, until it fits `max_segments`.
DISPATCH_DROP_ORDER = ("card", "route", "reply_spaces", "eta", "landmark", "muster")
REMINDER_DROP_ORDER = ("muster", "weekday", "reply_spaces")

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WEEKDAYS = "一二三四五六日"


def validate_signature(signature: str | None) -> str:
    """Return `signature` as "【…】" or raise `InvalidSignatureError`.

    Domestic gateways want 3–8 characters that contain Chinese; "宁夏应急" and "【宁夏应急】"
    are both accepted.
    """
    inner = (signature or "").strip().removeprefix("【").removesuffix("】")
    if not 3 <= len(inner) <= 8:
        msg = f"签名须为3–8个字符: {signature!r}"
        raise InvalidSignatureError(msg)
    if "【" in inner or "】" in inner or not _CJK.search(inner):
        msg = f"签名须含中文且不含【】: {signature!r}"
        raise InvalidSignatureError(msg)
    return f"【{inner}】"


@dataclass(frozen=True)
class ComposedSms:
    """A composed text, its length, and the optional parts left out to make it fit."""

    text: str
    info: SegmentInfo
    dropped: tuple[str, ...] = ()

    @property
    def segments(self) -> int:
        return self.info.segments


@dataclass(frozen=True)
class DispatchNotice:
    """What a dispatch SMS says; `eta_min` in minutes, `card_short` a ~60-char card summary."""

    incident_no: str
    event_type: str
    level: str
    town: str
    task: str
    reply_code: str
    landmark: str = ""
    muster_point: str = ""
    route: str = ""
    eta_min: int | None = None
    drill: bool = False
    card_short: str = ""


@dataclass(frozen=True)
class DrillReminder:
    """A reminder before a drill; `starts_at` must be timezone-aware."""

    drill_name: str
    starts_at: datetime
    place: str
    reply_code: str
    muster_point: str = ""


@dataclass(frozen=True)
class EscalationNotice:
    """Tells the dispatcher on duty that a resource failed and who (if anyone) was paged next."""

    incident_no: str
    event_type: str
    level: str
    place: str
    resource: str
    reason: str
    next_resource: str = ""
    drill: bool = False


def _head(signature, drill):
    # The signature stays first: gateways read the leading 【…】 as the sender's signature.
    return validate_signature(signature) + (DRILL_TAG if drill else "")


def _fit(build, drop_order, max_segments):
    """Build the text, dropping parts in `drop_order` until it fits `max_segments`."""
    dropped = []
    text = build(frozenset())
    info = count_segments(text)
    for part in drop_order:
        if max_segments is None or info.segments <= max_segments:
            break
        candidate = build(frozenset(dropped + [part]))
        if candidate != text:
            dropped.append(part)
            text, info = candidate, count_segments(candidate)
    return ComposedSms(text, info, tuple(dropped))


def _reply_instruction(code, yes, no, *, spaced):
    # Code plus a digit, never a bare YES/STOP word: Twilio and carriers intercept those.
    if spaced:
        return f"回复 {code} 1 {yes} 2 {no}"
    return f"回复{code} 1{yes} 2{no}"


def compose_dispatch(notice: DispatchNotice, *, signature: str = DEFAULT_SIGNATURE, max_segments: int | None = 1) -> ComposedSms:
    """Compose a dispatch SMS in the order responders read it.

    [signature][【演练】] event type and level → place → task and muster point → route and
    ETA → reply instruction with the code → incident number [→ card short form]. Optional
    parts are dropped in `DISPATCH_DROP_ORDER` until the text fits `max_segments` (None:
    keep everything); if the core alone is longer, it is sent as it is and `segments` says so.
    """
    n = notice

    def build(drop: frozenset[str]) -> str:
        place = n.town + ("" if "landmark" in drop else n.landmark)
        task = f"任务：{n.task}"
        if n.muster_point and "muster" not in drop:
            task += f"，到{n.muster_point}集结"
        parts = [f"{n.event_type}（{n.level}），{place}", task]
        route = n.route if "route" not in drop else ""
        if n.eta_min is not None and "eta" not in drop:
            parts.append(f"经{route}约{n.eta_min}分钟" if route else f"约{n.eta_min}分钟到达")
        elif route:
            parts.append(f"经{route}")
        parts.append(_reply_instruction(n.reply_code, "接受", "拒绝", spaced="reply_spaces" not in drop))
        parts.append(f"事件{n.incident_no}")
        if n.card_short and "card" not in drop:
            parts.append(f"处置卡：{n.card_short}")
        return _head(signature, n.drill) + "。".join(parts)

    return _fit(build, DISPATCH_DROP_ORDER, max_segments)


def _china_time(moment, *, weekday):
    if moment.tzinfo is None:
        msg = "starts_at must be timezone-aware"
        raise ValueError(msg)
    local = moment.astimezone(CHINA_TZ)
    day = f"{local.month}月{local.day}日"
    if weekday:
        day += f"（周{_WEEKDAYS[local.weekday()]}）"
    return f"{day}{local:%H:%M}"


def compose_reminder(reminder: DrillReminder, *, signature: str = DEFAULT_SIGNATURE, max_segments: int | None = 1) -> ComposedSms:
    """Compose a drill reminder with an RSVP code ("回复 R7K 1 参加 2 请假")."""
    r = reminder

    def build(drop: frozenset[str]) -> str:
        when = _china_time(r.starts_at, weekday="weekday" not in drop)
        parts = [f"提醒：{when}在{r.place}举行{r.drill_name}"]
        if r.muster_point and "muster" not in drop:
            parts[0] += f"，到{r.muster_point}集结"
        parts.append(_reply_instruction(r.reply_code, "参加", "请假", spaced="reply_spaces" not in drop))
        return _head(signature, True) + "。".join(parts)

    return _fit(build, REMINDER_DROP_ORDER, max_segments)


def compose_escalation(notice: EscalationNotice, *, signature: str = DEFAULT_SIGNATURE) -> ComposedSms:
    """Compose the notice that tells the dispatcher on duty a page was escalated."""
    n = notice
    text = f"升级：事件{n.incident_no} {n.event_type}（{n.level}），{n.place}。{n.resource}{n.reason}，"
    text += f"已改派{n.next_resource}。" if n.next_resource else "无可改派队伍，请人工调度。"
    text = _head(signature, n.drill) + text
    return ComposedSms(text, count_segments(text))
