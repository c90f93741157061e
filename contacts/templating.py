"""Message templates with named variables, as a domestic SMS provider approves them.

Every message kind the service sends has one template in `contacts/templates/*.json`, kept in
the form the provider's console asks for. `render()` fills a template: each value is cut to its
variable's length limit (with "…"; codes and numbers are never cut, they raise instead), the
signature goes in front, and the segment count is that of the rendered text. Template-based
backends (Aliyun) send the kind's template code with `Rendered.params`; every other backend
sends `Rendered.text`, so a demo shows exactly what a phone receives.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from types import MappingProxyType

from contacts.errors import ContactsError
from contacts.gateway import OutgoingSms
from contacts.messages import (
    CHINA_TZ,
    DEFAULT_SIGNATURE,
    DispatchNotice,
    DrillReminder,
    EscalationNotice,
    validate_signature,
)
from contacts.segments import SegmentInfo, count_segments

TEMPLATE_DIR = Path(__file__).parent / "templates"
SMS_TEMPLATE_FILE = TEMPLATE_DIR / "aliyun_sms.json"
VOICE_TEMPLATE_FILE = TEMPLATE_DIR / "aliyun_voice.json"
ELLIPSIS = "…"
_VARIABLE = re.compile(r"\$\{([A-Za-z][A-Za-z0-9_]*)\}")
_WEEKDAYS = "一二三四五六日"


class TemplateError(ContactsError, ValueError):
    """A template file that does not hold together, or values that do not fit a template."""


@dataclass(frozen=True)
class Variable:
    """One `${name}` of a template: the provider's attribute, our length limit, cut or refuse."""

    name: str
    attribute: str
    max_len: int
    truncate: bool = True
    description: str = ""


@dataclass(frozen=True)
class Template:
    """A message kind's template; `text` has `${name}` variables, the signature is not in it.

    `keypress_text` (voice only) is read by providers that take a keypress answer.
    `shrink` lists the variables shortened, in order, when a text must fit fewer segments.
    """

    kind: str
    channel: str
    name: str
    text: str
    variables: tuple[Variable, ...]
    shrink: tuple[str, ...] = ()
    keypress_text: str | None = None
    console_fields: Mapping[str, object] = field(default_factory=dict)

    def variable(self, name: str) -> Variable:
        return next(v for v in self.variables if v.name == name)


@dataclass(frozen=True)
class Rendered:
    """A filled template: `text` as the phone shows it, `params` as the provider receives them."""

    kind: str
    text: str
    params: Mapping[str, str]
    info: SegmentInfo
    truncated: tuple[str, ...] = ()

    @property
    def segments(self) -> int:
        return self.info.segments

    def outgoing(self, to: str, reference: str, *, status_callback: str | None = None) -> OutgoingSms:
        """The `OutgoingSms` for this message (text for every backend, template for Aliyun)."""
        return OutgoingSms(
            to, self.text, reference, status_callback=status_callback, template=self.kind, params=dict(self.params)
        )


def _load(path: Path, channel: str) -> dict[str, Template]:
    data = json.loads(path.read_text(encoding="utf-8"))
    limits = data["attribute_limits"]
    out: dict[str, Template] = {}
    for entry in data["templates"]:
        kind = entry["kind"]
        rule, specs = entry["TemplateRule"], entry["variables"]
        texts = [entry["TemplateContent"]] + ([entry["KeypressContent"]] if "KeypressContent" in entry else [])
        for number, text in enumerate(texts):
            used = _VARIABLE.findall(text)
            if len(used) != len(set(used)):
                msg = f"template {kind!r}: a variable appears twice (the provider refuses that)"
                raise TemplateError(msg)
            # The keypress text (read by other providers) may leave variables out.
            if (set(used) != set(rule) if number == 0 else not set(used) <= set(rule)) or set(rule) != set(specs):
                msg = f"template {kind!r}: variables of the text, TemplateRule and variables differ"
                raise TemplateError(msg)
        variables = []
        for name, spec in specs.items():
            attribute = rule[name]
            if attribute not in limits or spec["max_len"] > limits[attribute]:
                msg = f"template {kind!r}: {name} is longer than the provider allows for {attribute!r}"
                raise TemplateError(msg)
            variables.append(Variable(name, attribute, spec["max_len"], spec.get("truncate", True), spec.get("description", "")))
        unknown = set(entry.get("shrink", ())) - set(specs)
        if unknown:
            msg = f"template {kind!r}: shrink names unknown variables {sorted(unknown)}"
            raise TemplateError(msg)
        console = {k: v for k, v in entry.items() if k[0].isupper()}
        out[kind] = Template(
            kind,
            channel,
            entry["TemplateName"],
            entry["TemplateContent"],
            tuple(variables),
            tuple(entry.get("shrink", ())),
            entry.get("KeypressContent"),
            MappingProxyType(console),
        )
    return out


@cache
def templates() -> Mapping[str, Template]:
    """Every template by kind, SMS and voice (read once from `contacts/templates/`)."""
    return MappingProxyType(_load(SMS_TEMPLATE_FILE, "sms") | _load(VOICE_TEMPLATE_FILE, "voice"))


def sms_kinds() -> tuple[str, ...]:
    """The SMS message kinds, in file order."""
    return tuple(k for k, t in templates().items() if t.channel == "sms")


def voice_kinds() -> tuple[str, ...]:
    """The voice-call kinds, in file order."""
    return tuple(k for k, t in templates().items() if t.channel == "voice")


def get_template(kind: str) -> Template:
    """The template of `kind`, or `TemplateError` naming the known kinds."""
    try:
        return templates()[kind]
    except KeyError:
        msg = f"no template for message kind {kind!r}; known: {', '.join(templates())}"
        raise TemplateError(msg) from None


_ASIDE = re.compile(r"\s*[(（][^()（）]*[)）]")


def _cut(value: str, length: int) -> str:
    """``value`` in at most ``length`` characters: bracketed asides dropped first (有毒有害气体泄漏(氯气、氨气等)
    → 有毒有害气体泄漏), from the last, then cut with an ellipsis."""
    while len(value) > length and (asides := list(_ASIDE.finditer(value))):
        last = asides[-1]
        shorter = (value[: last.start()] + value[last.end() :]).strip()
        if not shorter:
            break
        value = shorter
    if len(value) <= length:
        return value
    return value[: max(length - 1, 0)] + ELLIPSIS if length > 0 else ""


def fit_params(template: Template, params: Mapping[str, object]) -> tuple[dict[str, str], tuple[str, ...]]:
    """Values as the provider takes them: strings, each within its variable's limit.

    Returns the values and the names that were cut. Missing, unknown or empty values, and a
    too-long value of a variable that must not be cut (a code), raise `TemplateError`.
    """
    names = [v.name for v in template.variables]
    missing = [n for n in names if n not in params]
    unknown = sorted(set(params) - set(names))
    empty = [n for n in names if n in params and not str(params[n]).strip()]
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    if unknown:
        problems.append(f"unknown {', '.join(unknown)}")
    if empty:
        # The provider refuses empty variables; builders put a fallback text in instead.
        problems.append(f"empty {', '.join(empty)}")
    out, truncated = {}, []
    for variable in template.variables:
        if variable.name not in params:
            continue
        value = " ".join(str(params[variable.name]).split())
        if len(value) > variable.max_len:
            if not variable.truncate:
                problems.append(f"{variable.name} longer than {variable.max_len}: {value!r}")
            value = _cut(value, variable.max_len)
            truncated.append(variable.name)
        out[variable.name] = value
    if problems:
        msg = f"template {template.kind!r}: {'; '.join(problems)}"
        raise TemplateError(msg)
    return out, tuple(truncated)


def _fill(text: str, values: Mapping[str, str]) -> str:
    return _VARIABLE.sub(lambda m: values[m[1]], text)


def render(
    kind: str,
    params: Mapping[str, object],
    *,
    signature: str | None = DEFAULT_SIGNATURE,
    max_segments: int | None = None,
    keypress: bool = False,
) -> Rendered:
    """Fill the template of `kind`: "【signature】" + text, values cut to their limits.

    With `max_segments`, the template's `shrink` variables are shortened in order (to no less
    than 4 characters) until the text fits; when it cannot fit, only as much is cut as saves a
    segment (a text that takes as many segments cut as whole is sent whole). `truncated` names
    every variable that was cut.
    `signature=None` leaves it out (voice scripts). `keypress=True` picks a voice template's
    keypress text.
    """
    template = get_template(kind)
    values, truncated = fit_params(template, params)
    head = validate_signature(signature) if signature else ""
    body = template.keypress_text if keypress and template.keypress_text else template.text
    text = head + _fill(body, values)
    whole = Rendered(kind, text, MappingProxyType(dict(values)), count_segments(text), tuple(truncated))
    if max_segments is None or whole.segments <= max_segments:
        return whole
    shrunk = _shrink(template, head, body, dict(values), list(truncated), max_segments)
    if shrunk.segments > max_segments:
        # out of reach: cut only as much as saves a segment, never words for nothing
        if shrunk.segments >= whole.segments:
            return whole
        shrunk = _shrink(template, head, body, dict(values), list(truncated), shrunk.segments)
    return shrunk


def _shrink(template: Template, head: str, body: str, values: dict, cut: list, max_segments: int) -> Rendered:
    """Shorten the template's ``shrink`` variables in order (to no less than 4 characters) until the
    text fits ``max_segments`` or nothing is left to shorten."""
    text = head + _fill(body, values)
    info = count_segments(text)
    for name in template.shrink:
        if info.segments <= max_segments:
            break
        single = info.single if max_segments == 1 else (67 if info.encoding == "UCS-2" else 153) * max_segments
        excess = info.chars - single
        value = values[name]
        new_len = max(4, len(value) - excess)
        if new_len < len(value):
            values[name] = _cut(value, new_len)
            cut.append(name)
            text = head + _fill(body, values)
            info = count_segments(text)
    return Rendered(template.kind, text, MappingProxyType(values), info, tuple(dict.fromkeys(cut)))


# -- what each message kind says, from plain data ------------------------------------------------


@dataclass(frozen=True)
class CardReviewNotice:
    """A response card due (or overdue) for review."""

    card_no: str
    post: str
    review_date: date


@dataclass(frozen=True)
class ComplianceNotice:
    """An enterprise's drill obligation coming due; `due_date` None: no drill recorded at all."""

    enterprise: str
    drill_kind: str
    due_date: date | None
    overdue: bool = False


@dataclass(frozen=True)
class CertificateExpiry:
    """A certificate (资质证书) about to expire."""

    holder: str
    certificate: str
    expires_on: date


@dataclass(frozen=True)
class ReplyAck:
    """Confirms a reply was recorded, for providers that cannot answer inside the webhook."""

    answer: str
    incident_no: str


@dataclass(frozen=True)
class ReplyUnclear:
    """Explains the reply format after a reply that could not be read."""

    reply_code: str


def _eta_text(route: str, eta_min: int | None) -> str:
    if eta_min is not None:
        return f"经{route}约{eta_min}分钟到达" if route else f"约{eta_min}分钟到达"
    return f"经{route}尽快到达" if route else "请尽快出发"


def dispatch_params(notice: DispatchNotice) -> tuple[str, dict[str, str]]:
    """Kind ("dispatch" or "drill_dispatch") and values of a dispatch SMS."""
    n = notice
    return ("drill_dispatch" if n.drill else "dispatch"), {
        "event": n.event_type,
        "level": n.level,
        "place": (n.town or "事发地") + n.landmark,
        "task": n.task,
        "muster": n.muster_point or "事发地",
        "eta": _eta_text(n.route, n.eta_min),
        "code": n.reply_code,
        "incident": n.incident_no,
    }


def _day(moment: date) -> str:
    return f"{moment.month}月{moment.day}日"


def reminder_params(reminder: DrillReminder) -> tuple[str, dict[str, str]]:
    """Values of a drill reminder (China time, with the weekday)."""
    r = reminder
    if not isinstance(r.starts_at, datetime) or r.starts_at.tzinfo is None:
        msg = "starts_at must be timezone-aware"
        raise ValueError(msg)
    local = r.starts_at.astimezone(CHINA_TZ)
    when = f"{_day(local)}（周{_WEEKDAYS[local.weekday()]}）{local:%H:%M}"
    return "drill_reminder", {
        "time": when,
        "place": r.place,
        "drill": r.drill_name,
        "muster": r.muster_point or r.place,
        "code": r.reply_code,
    }


def escalation_params(notice: EscalationNotice) -> tuple[str, dict[str, str]]:
    """Values of the notice telling the dispatcher on duty that a page was escalated."""
    n = notice
    nxt = f"已改派{n.next_resource}" if n.next_resource else "无可改派队伍，请人工调度"
    return "escalation", {
        "incident": n.incident_no,
        "event": n.event_type,
        "level": n.level,
        "place": n.place,
        "resource": n.resource,
        "reason": n.reason,
        "next": nxt,
    }


def card_review_params(notice: CardReviewNotice) -> tuple[str, dict[str, str]]:
    return "card_review", {"card": notice.card_no, "post": notice.post or "未注明岗位", "date": _day(notice.review_date)}


def compliance_params(notice: ComplianceNotice) -> tuple[str, dict[str, str]]:
    n = notice
    state = "尚无演练记录，已逾期" if n.due_date is None else f"{'已' if n.overdue else '将'}于{_day(n.due_date)}到期"
    return "compliance", {"enterprise": n.enterprise, "drill": n.drill_kind, "state": state}


def certificate_params(notice: CertificateExpiry) -> tuple[str, dict[str, str]]:
    d = notice.expires_on
    return "certificate_expiry", {
        "holder": notice.holder,
        "certificate": notice.certificate,
        "date": f"{d.year}年{d.month}月{d.day}日",
    }


def reply_ack_params(notice: ReplyAck) -> tuple[str, dict[str, str]]:
    return "reply_ack", {"answer": notice.answer, "incident": notice.incident_no}


def reply_unclear_params(notice: ReplyUnclear) -> tuple[str, dict[str, str]]:
    return "reply_unclear", {"code": notice.reply_code, "code2": notice.reply_code}


def voice_dispatch_params(notice: DispatchNotice) -> tuple[str, dict[str, str]]:
    """Kind ("voice_dispatch" / "voice_drill_dispatch") and values of a dispatch call."""
    n = notice
    return ("voice_drill_dispatch" if n.drill else "voice_dispatch"), {
        "event": n.event_type,
        "level": n.level,
        "place": (n.town or "事发地") + n.landmark,
        "task": n.task,
        "code": n.reply_code,
    }


# The data type of a notice → how its template values are built.
PARAM_BUILDERS = {
    DispatchNotice: dispatch_params,
    DrillReminder: reminder_params,
    EscalationNotice: escalation_params,
    CardReviewNotice: card_review_params,
    ComplianceNotice: compliance_params,
    CertificateExpiry: certificate_params,
    ReplyAck: reply_ack_params,
    ReplyUnclear: reply_unclear_params,
}


def render_message(notice: object, *, signature: str = DEFAULT_SIGNATURE, max_segments: int | None = None) -> Rendered:
    """Render the SMS of any notice type in `PARAM_BUILDERS` (DispatchNotice, DrillReminder …)."""
    builder = PARAM_BUILDERS.get(type(notice))
    if builder is None:
        msg = f"no SMS template for {type(notice).__name__}"
        raise TemplateError(msg)
    kind, params = builder(notice)
    return render(kind, params, signature=signature, max_segments=max_segments)


def render_call(notice: DispatchNotice, *, keypress: bool) -> Rendered:
    """The voice script of a dispatch call (drills start with 【演练】)."""
    kind, params = voice_dispatch_params(notice)
    return render(kind, params, signature=None, keypress=keypress)
