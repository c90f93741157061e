"""Gazetteer: find a named place (city, county seat, town, site) and its WGS-84 point."""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Place:
    """A named place; ``lat``/``lon`` in WGS-84 degrees; ``verified`` False for unconfirmed points."""

    name: str
    lat: float
    lon: float
    kind: str
    aliases: tuple[str, ...] = ()
    county: str = ""
    prefecture: str = ""
    verified: bool = False
    extra: dict = field(default_factory=dict, compare=False, repr=False)


def _norm(text: str) -> str:
    # full-width brackets/spaces and case differences should not defeat a lookup
    return unicodedata.normalize("NFKC", text).strip().lower().replace(" ", "")


# administrative suffixes people leave out ("灵武" for 灵武市), longest first
_SUFFIXES = ("回族自治县", "自治县", "市", "县", "区", "镇", "乡")


class Gazetteer:
    """Name lookup: exact name, alias, name without suffix, then prefix and substring matches."""

    def __init__(self, places: list[Place]) -> None:
        self.places = list(places)
        self._exact: dict[str, list[Place]] = {}
        for p in self.places:
            keys = {_norm(p.name), *(_norm(a) for a in p.aliases)}
            for key in list(keys):
                for suffix in _SUFFIXES:
                    if key.endswith(suffix) and len(key) > len(suffix) + 1:
                        keys.add(key[: -len(suffix)])
                        break
            for key in keys:
                self._exact.setdefault(key, []).append(p)

    @classmethod
    def from_json(cls, path: str | Path) -> Gazetteer:
        """Read a list of places, or {"places": [...]}, each {name, lat, lon, kind, aliases, ...}."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls.from_records(data["places"] if isinstance(data, dict) else data)

    @classmethod
    def from_records(cls, items: list[dict]) -> Gazetteer:
        """Build from dicts {name, lat, lon, kind, aliases, county, prefecture, verified, ...}."""
        known = {"name", "lat", "lon", "kind", "aliases", "county", "prefecture", "verified"}
        return cls(
            [
                Place(
                    name=d["name"],
                    lat=float(d["lat"]),
                    lon=float(d["lon"]),
                    kind=d.get("kind", ""),
                    aliases=tuple(d.get("aliases", ())),
                    county=d.get("county", ""),
                    prefecture=d.get("prefecture", ""),
                    verified=bool(d.get("verified", False)),
                    extra={k: v for k, v in d.items() if k not in known},
                )
                for d in items
            ]
        )

    # kinds that win a tie between equally good matches: a city beats a site named after it
    _RANK = {"prefecture_city": 0, "county": 1, "town": 2, "key_site": 3}

    def _best(self, places: list[Place]) -> Place:
        return min(places, key=lambda p: (self._RANK.get(p.kind, 9), len(p.name)))

    def find(self, query: str) -> Place | None:
        """Return the single best place for ``query`` or None ("灵武" finds 灵武市, "宁东" 宁东镇).

        Exact names and aliases win, then prefix, then substring; a city or town beats a site
        named after it.
        """
        q = _norm(query)
        if not q:
            return None
        if q in self._exact:
            return min(self._exact[q], key=lambda p: (self._RANK.get(p.kind, 9), len(p.name)))
        scored = self._matches(q)
        if not scored:
            return None
        return min(scored, key=lambda s: (s[0], self._RANK.get(s[1].kind, 9), s[2], s[1].name))[1]

    def _matches(self, q: str) -> list[tuple[int, Place, int]]:
        """(match quality, place, tie-break) of every place matching normalised ``q``, once each.

        Quality: 0 exact name/alias, 1 prefix, 2 contains, 3 the query starts with the name
        ("孟家湾红卫" still finds 孟家湾).
        """
        best: dict[str, tuple[int, Place, int]] = {}
        for key, places in self._exact.items():
            if key == q:
                score, tie = 0, len(key)
            elif key.startswith(q):
                score, tie = 1, len(key)
            elif q in key:
                score, tie = 2, len(key)
            elif q.startswith(key) and len(key) >= 2:
                score, tie = 3, -len(key)  # the longest name the query starts with
            else:
                continue
            for p in places:
                old = best.get(p.name)
                if old is None or (score, tie) < (old[0], old[2]):
                    best[p.name] = (score, p, tie)
        return list(best.values())

    def search(self, query: str, *, limit: int = 10, offset: int = 0) -> list[Place]:
        """Places whose name or alias contains ``query`` (one page): key sites first, then by match
        quality, kind and name length. An empty query finds nothing (see ``listing``)."""
        return self.listing(query, limit=limit, offset=offset)[0] if _norm(query) else []

    def listing(self, query: str = "", *, limit: int = 10, offset: int = 0) -> tuple[list[Place], int]:
        """One page of the places matching ``query`` (all places when empty) and the total count.

        Key sites (chemical parks, mines, …) come first, then better matches, then by kind.
        """
        q = _norm(query)
        if q:
            found = sorted(
                self._matches(q), key=lambda s: (s[1].kind != "key_site", s[0], self._RANK.get(s[1].kind, 9), s[2], s[1].name)
            )
            places = [p for _s, p, _t in found]
        else:
            places = sorted(self.places, key=lambda p: (p.kind != "key_site", self._RANK.get(p.kind, 9)))
        offset, limit = max(0, int(offset)), max(0, int(limit))
        return places[offset : offset + limit], len(places)
