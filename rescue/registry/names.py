"""Records by name: the labels a spreadsheet shows for references (a team, a depot, a capability …) and the way back.

A clerk writes 宁东消防特勤站, not team 12, and 气体防护, not gas_protection. Each referenced record gets a label
unique among what the user may reference: its name, or where names repeat, the name with a short explanation in
brackets — the owner (for the command center, which sees every enterprise), the custodian of an item of equipment,
or as a last resort its number (宁东消防特勤站（编号 12）). Reading a cell accepts a label, a plain name when it
names one record (or one of the row's owner), and for other systems the code or numeric id they always sent.

Only what `actor` may read is listed, so an enterprise user never sees another owner's names.
"""

import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from rescue.models import Capability, ContactPerson, Depot, Enterprise, Equipment, Expert, Role, SupplyLot, Team, User
from rescue.registry import access
from rescue.registry.kinds import KINDS

GOVERNMENT = access.GOVERNMENT
ANY = object()  # the row's owner is not known: names are not narrowed by owner
OWNER = object()  # an explanation that is the record's owner (enterprise name, or GOVERNMENT)
NOUNS = {"capabilities": "能力", "supply-codes": "物资"}  # the Chinese noun of each list (default: the kind's label)
SUPPLY_CODES = "supply-codes"  # the list of supply codes (GB/T 38565), named as the registry's lots name them
_NUMBERED = re.compile(r"^(.*?)\s*\((?:编号|id|#)\s*[:：]?\s*(\d+)\)$")  # "名称（编号 12）" after folding
_INT = re.compile(r"^\d{1,10}$")
_SUPPLY_CODE = re.compile(r"^\d{7}$")


class UnknownName(ValueError):
    """A cell names no record the user may reference."""


class AmbiguousName(ValueError):
    """A cell's name is shared by several records the user may reference."""


def fold(text: str) -> str:
    """The form names are compared in: full-width folded (（→( ), spaces collapsed, case ignored."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", str(text))).strip().casefold()


@dataclass(frozen=True)
class Choice:
    """One record a cell may name."""

    key: int | str  # id, or the code of a capability
    name: str
    owner: int | None
    label: str


def ref_of(kind, field: str) -> str | None:
    """The name of the list a field of `kind` names records of: a KINDS name or None (not a reference)."""
    if field == "enterprise_id" and kind.owner == "enterprise_id":
        return "enterprises"
    if field in kind.code_fields:
        return "capabilities"
    model = kind.references.get(field)
    return next((k.name for k in KINDS.values() if k.model is model), None) if model is not None else None


def noun(ref: str) -> str:
    return NOUNS.get(ref) or KINDS[ref].label


class NameBook:
    """The records one user may reference, per list, loaded when first asked for."""

    def __init__(self, session: Session, actor: User | None):
        self.session = session
        self.actor = actor
        self._lists: dict[str, list[Choice]] = {}
        self._by_label: dict[str, dict[str, Choice]] = {}
        self._by_name: dict[str, dict[str, list[Choice]]] = {}
        self._by_key: dict[str, dict] = {}

    @property
    def enterprise_user(self) -> bool:
        return self.actor is not None and self.actor.role == Role.enterprise_admin

    def choices(self, ref: str) -> list[Choice]:
        """Every record of the list `ref` the user may reference, in label order."""
        if ref not in self._lists:
            self._load(ref)
        return self._lists[ref]

    def label(self, ref: str, key) -> str:
        """The cell text of a reference; a record the user may not see (none should appear) keeps its key."""
        self.choices(ref)
        choice = self._by_key[ref].get(key)
        return choice.label if choice else str(key)

    def find(self, ref: str, text: str, owner=ANY, *, hint: str = "请从下拉列表选择") -> int | str:
        """The key a cell names; ValueError with a Chinese reason (ending in `hint`) when it names none or several."""
        self.choices(ref)
        raw = str(text).strip()
        folded = fold(raw)
        if (hit := self._by_label[ref].get(folded)) is not None:
            return hit.key
        named = self._by_name[ref].get(folded, [])
        if len(named) > 1 and owner is not ANY:
            named = [c for c in named if c.owner == owner] or named
        if len(named) == 1:
            return named[0].key
        if named:
            examples = "」或「".join(c.label for c in named[:2])
            msg = f"有 {len(named)} 个名为「{raw}」的{noun(ref)}, 请改用带括号说明的名称, 如「{examples}」"
            raise AmbiguousName(msg)
        if m := _NUMBERED.match(folded):
            choice = self._by_key[ref].get(int(m.group(2)))
            if choice is not None and fold(choice.name) == m.group(1):
                return choice.key
        # other systems send codes and ids; the registry checks them like any API request
        if ref == "capabilities":
            if raw in self._by_key[ref]:
                return raw
        elif ref == SUPPLY_CODES:
            if _SUPPLY_CODE.match(raw):  # a code none of the lots has yet: the registry checks its form
                return raw
        elif _INT.match(raw):
            return int(raw)
        raise UnknownName(self._unknown(ref, raw, hint))

    def _unknown(self, ref: str, raw: str, hint: str) -> str:
        if ref == "enterprises" and self.enterprise_user:
            own = [c.label for c in self.choices(ref)]
            return f"只能填写本企业「{own[0]}」或留空" if own else "只能留空 (本企业)"
        where = "本企业" if self.enterprise_user and ref not in ("capabilities", SUPPLY_CODES) else ""
        return f"未找到{where}名为「{raw}」的{noun(ref)}, {hint}"

    # --- loading -------------------------------------------------------------------------------

    def _load(self, ref: str) -> None:
        rows = self._rows(ref)  # (key, name, owner, [explanations, most telling first])
        names = self._owner_names({r[2] for r in rows}) if not self.enterprise_user else {}
        choices = _labelled(rows, names)
        if ref not in ("capabilities", SUPPLY_CODES):  # those keep their order (category, code); records by name
            choices.sort(key=lambda c: (fold(c.label), str(c.key)))
        self._lists[ref] = choices
        self._by_key[ref] = {c.key: c for c in choices}
        self._by_label[ref] = {fold(c.label): c for c in choices}
        by_name: dict[str, list[Choice]] = {}
        for c in choices:
            by_name.setdefault(fold(c.name), []).append(c)
        self._by_name[ref] = by_name

    def _rows(self, ref: str) -> list[tuple]:
        s = self.session
        if ref == "capabilities":
            stmt = select(Capability.code, Capability.name).order_by(Capability.category, Capability.code)
            return [(code, name, None, [code]) for code, name in s.execute(stmt)]
        if ref == SUPPLY_CODES:
            # a code is named by its first lot (as ranking names it); codes are public (GB/T 38565)
            first: dict[str, str] = {}
            for code, name in s.execute(select(SupplyLot.code, SupplyLot.name).order_by(SupplyLot.code, SupplyLot.id)):
                first.setdefault(code, name)
            return [(code, name, None, [code]) for code, name in first.items()]
        kind = KINDS[ref]

        def scoped(stmt):
            return access.scope(stmt, self.actor, kind) if self.actor is not None else stmt

        if ref == "enterprises":
            return [(i, name, i, []) for i, name in s.execute(scoped(select(Enterprise.id, Enterprise.name)))]
        if ref == "equipment":
            team, depot = aliased(Team), aliased(Depot)
            stmt = (
                select(Equipment.id, Equipment.name, Equipment.enterprise_id, team.name, depot.name)
                .outerjoin(team, team.id == Equipment.team_id)
                .outerjoin(depot, depot.id == Equipment.depot_id)
            )
            return [(i, name, owner, [t or d or "", OWNER]) for i, name, owner, t, d in s.execute(scoped(stmt))]
        if ref == "contacts":
            stmt = select(ContactPerson.id, ContactPerson.name, ContactPerson.enterprise_id, Team.name).outerjoin(
                Team, Team.id == ContactPerson.team_id
            )
            return [(i, name, owner, [OWNER, t or ""]) for i, name, owner, t in s.execute(scoped(stmt))]
        if ref == "experts":
            stmt = select(Expert.id, Expert.name, Expert.enterprise_id, Expert.employer)
            return [(i, name, owner, [OWNER, employer or ""]) for i, name, owner, employer in s.execute(scoped(stmt))]
        model = {"teams": Team, "depots": Depot}[ref]
        stmt = select(model.id, model.name, model.enterprise_id)
        return [(i, name, owner, [OWNER]) for i, name, owner in s.execute(scoped(stmt))]

    def _owner_names(self, owners: set) -> dict:
        ids = [o for o in owners if o is not None]
        found = (
            dict(self.session.execute(select(Enterprise.id, Enterprise.name).where(Enterprise.id.in_(ids))).all()) if ids else {}
        )
        return found | {None: GOVERNMENT}


def _labelled(rows: list[tuple], owner_names: dict) -> list[Choice]:
    """Labels unique among `rows`: a name alone where it is unique, else the first explanation that tells the
    same-named records apart, else the record's number."""
    groups: dict[str, list[tuple]] = {}
    for row in rows:
        groups.setdefault(fold(row[1]), []).append(row)
    out: list[Choice] = []
    for group in groups.values():
        if len(group) == 1:
            key, name, owner, _ = group[0]
            out.append(Choice(key, name, owner, name))
            continue
        labels = None
        for i in range(len(group[0][3])):
            texts = [owner_names.get(r[2], "") if r[3][i] is OWNER else r[3][i] for r in group]
            if all(texts) and len({fold(t) for t in texts}) == len(texts):
                labels = [f"{r[1]}（{t}）" for r, t in zip(group, texts, strict=True)]
                break
        if labels is None:
            labels = [f"{r[1]}（编号 {r[0]}）" for r in group]
        out.extend(Choice(r[0], r[1], r[2], label) for r, label in zip(group, labels, strict=True))
    # an explained label may be some other record's plain name: those fall back to numbers
    seen: dict[str, int] = {}
    for c in out:
        seen[fold(c.label)] = seen.get(fold(c.label), 0) + 1
    return [c if seen[fold(c.label)] == 1 else Choice(c.key, c.name, c.owner, f"{c.name}（编号 {c.key}）") for c in out]
