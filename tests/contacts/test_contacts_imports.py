"""`contacts` stays a pure library: no ORM, no application, Flask only in the fake server."""

import ast
from pathlib import Path

import contacts

PACKAGE = Path(contacts.__file__).parent
FORBIDDEN = {"sqlalchemy", "rescue", "seed", "routing"}
WEB = {"flask", "werkzeug"}


def imported_roots(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module.split(".")[0]


def test_no_forbidden_imports():
    offenders = {}
    for path in PACKAGE.rglob("*.py"):
        roots = set(imported_roots(path))
        bad = roots & FORBIDDEN
        if path.name != "fake_twilio.py":
            bad |= roots & WEB
        if "twilio" in roots and path.relative_to(PACKAGE).as_posix() != "backends/twilio.py":
            bad.add("twilio")
        if bad:
            offenders[path.relative_to(PACKAGE).as_posix()] = sorted(bad)
    assert offenders == {}
