"""Rules of the edge (issue 9), read from the source: views run no SQL, and the public functions of
`rescue/web/` and `contacts/` carry type hints."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "rescue" / "web"
HINTED = [WEB, ROOT / "contacts"]
UNHINTED = [ROOT / "contacts" / "standins"]  # test stand-ins for providers, not the library

# SQLAlchemy imports the web layer may use: the Session type for hints and exception classes to translate
ALLOWED_SQLALCHEMY = {"sqlalchemy.orm": {"Session"}, "sqlalchemy.exc": None, "sqlalchemy.orm.exc": None}
QUERY_METHODS = {"execute", "scalars", "scalar", "query"}


def _modules(folder: Path, skip: tuple[Path, ...] = ()) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if not any(p.is_relative_to(s) for s in skip))


def _is_session(node: ast.expr) -> bool:
    """`session`, `something.session` or `get_session()`: a receiver that is a database session."""
    if isinstance(node, ast.Name):
        return node.id in {"session", "db_session", "conn", "connection"}
    if isinstance(node, ast.Attribute):
        return node.attr in {"session", "connection"}
    if isinstance(node, ast.Call):
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        return name == "get_session"
    return False


def sql_findings(source: str, label: str = "<source>") -> list[str]:
    """Where `source` runs SQL itself: query imports from SQLAlchemy, queries on a session, model lookups."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"{label}:{node.lineno} import {a.name}" for a in node.names if a.name.split(".")[0] == "sqlalchemy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            allowed = ALLOWED_SQLALCHEMY.get(node.module, set())
            found += [
                f"{label}:{node.lineno} from {node.module} import {a.name}"
                for a in node.names
                if allowed is not None and a.name not in allowed
            ]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _is_session(node.func.value):
            method = node.func.attr
            # Flask's session dict has .get(key); a database session's .get takes a model and a key
            if method in QUERY_METHODS or (method == "get" and len(node.args) >= 2):
                found.append(f"{label}:{node.lineno} session.{method}(...)")
    return found


def _public_functions(tree: ast.Module):
    """Module-level functions and methods of module-level classes (nested classes too), public ones only."""

    def walk(body, in_class):
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
                yield node, in_class
            elif isinstance(node, ast.ClassDef):
                yield from walk(node.body, True)

    yield from walk(tree.body, False)


def hint_findings(source: str, label: str = "<source>") -> list[str]:
    """Public functions of `source` without a return annotation or with an unannotated parameter."""
    found = []
    for fn, in_class in _public_functions(ast.parse(source)):
        args = fn.args
        params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
        if in_class and params and params[0].arg in {"self", "cls"}:
            is_static = any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)
            params = params if is_static else params[1:]
        missing = [p.arg for p in params if p.annotation is None]
        if fn.returns is None:
            found.append(f"{label}:{fn.lineno} {fn.name}: no return annotation")
        if missing:
            found.append(f"{label}:{fn.lineno} {fn.name}: parameters without a hint: {', '.join(missing)}")
    return found


def _label(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_sql_in_web():
    findings = [f for p in _modules(WEB) for f in sql_findings(p.read_text(encoding="utf-8"), _label(p))]
    assert not findings, "SQL belongs in the feature packages, not in rescue/web:\n" + "\n".join(findings)


@pytest.mark.parametrize("folder", HINTED, ids=lambda p: _label(p))
def test_public_functions_have_type_hints(folder):
    modules = _modules(folder, tuple(UNHINTED))
    assert modules
    findings = [f for p in modules for f in hint_findings(p.read_text(encoding="utf-8"), _label(p))]
    assert not findings, "public functions need type hints:\n" + "\n".join(findings)


# The detectors themselves: each rule must catch what it names and let the allowed forms pass.


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy import select",
        "from sqlalchemy import func, text",
        "import sqlalchemy",
        "from sqlalchemy.orm import selectinload",
        "def f(session):\n    return session.execute(q).all()",
        "def f(session):\n    return session.scalars(q).all()",
        "def f():\n    return get_session().scalar(q)",
        "def f(session):\n    return session.get(Incident, 3)",
        "def f(self):\n    return self.session.query(Incident).all()",
    ],
)
def test_sql_detector_catches(source):
    assert sql_findings(source)


@pytest.mark.parametrize(
    "source",
    [
        "from sqlalchemy.orm import Session",
        "from sqlalchemy.exc import DataError, StatementError",
        "from flask import session\nuser_id = session.get('user_id')",
        "def f(session):\n    return incidents.list_open(session)",
    ],
)
def test_sql_detector_allows(source):
    assert sql_findings(source) == []


@pytest.mark.parametrize(
    "source",
    [
        "def view():\n    return {}",
        "def view(plan_id) -> dict:\n    return {}",
        "def view(*, limit=3) -> dict:\n    return {}",
        "class A:\n    def run(self, x) -> None:\n        pass",
        "class A:\n    @staticmethod\n    def run(self) -> None:\n        pass",
    ],
)
def test_hint_detector_catches(source):
    assert hint_findings(source)


@pytest.mark.parametrize(
    "source",
    [
        "def view(plan_id: int) -> dict:\n    return {}",
        "def _helper(x):\n    return x",
        "def f(*args, **kwargs) -> None:\n    pass",
        "class A:\n    def run(self, x: int) -> None:\n        pass\n    @classmethod\n    def make(cls) -> 'A':\n        return cls()",
        "def outer() -> None:\n    def inner(x):\n        return x",
    ],
)
def test_hint_detector_allows(source):
    assert hint_findings(source) == []
