"""`contacts` stays a pure library: no ORM, no application, Werkzeug only in the stand-ins,
each provider SDK in its one backend module, and nothing outside `standins/` imports them."""

import ast
from pathlib import Path

import contacts

PACKAGE = Path(contacts.__file__).parent
FORBIDDEN = {"sqlalchemy", "rescue", "seed", "routing", "flask"}
WEB = {"werkzeug"}
# SDK import root → the one module allowed to import it (stand-ins speak HTTP, not SDKs).
SDK_HOMES = {
    "twilio": "backends/twilio.py",
    "alibabacloud_dysmsapi20170525": "backends/aliyun.py",
    "alibabacloud_dyvmsapi20170525": "backends/aliyun.py",
    "alibabacloud_tea_openapi": "backends/aliyun.py",
    "darabonba": "backends/aliyun.py",
}


def imported(path):
    """Absolute module names imported by `path`, inside functions too."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def offenders(package):
    """{module path: forbidden imports} of the package at `package`."""
    found = {}
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        names = set(imported(path))
        roots = {name.split(".")[0] for name in names}
        bad = roots & FORBIDDEN
        if not rel.startswith("standins/"):
            bad |= roots & WEB
            bad |= {name for name in names if name.startswith("contacts.standins")}
        bad |= {root for root in roots if root in SDK_HOMES and SDK_HOMES[root] != rel}
        if bad:
            found[rel] = sorted(bad)
    return found


def test_no_forbidden_imports():
    assert offenders(PACKAGE) == {}


def test_the_rule_catches_offenders(tmp_path):
    # The check above must be able to fail: a library module importing a stand-in or an SDK is caught.
    fake = tmp_path / "contacts"
    (fake / "standins").mkdir(parents=True)
    (fake / "gateway.py").write_text("from contacts.standins.twilio import FakeTwilio\nimport twilio\n", encoding="utf-8")
    (fake / "standins" / "x.py").write_text("import werkzeug\n", encoding="utf-8")
    assert offenders(fake) == {"gateway.py": ["contacts.standins.twilio", "twilio"]}


def test_public_functions_have_type_hints():
    missing = []
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()

        def visit(body, prefix="", rel=rel):
            for node in body:
                if isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
                    visit(node.body, node.name + ".", rel)
                elif isinstance(node, ast.FunctionDef) and (not node.name.startswith("_") or node.name == "__init__"):
                    args = [a for a in node.args.args + node.args.kwonlyargs if a.arg not in ("self", "cls")]
                    if node.returns is None or any(a.annotation is None for a in args):
                        missing.append(f"{rel}:{prefix}{node.name}")

        visit(ast.parse(path.read_text(encoding="utf-8")).body)
    assert missing == []
