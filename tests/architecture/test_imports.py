"""The dependency rules of ARCHITECTURE.md, read from the source (imports inside functions included)."""

import ast
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "rescue"

# features from the bottom up: a module may import its own feature and the features below it, never above
LAYERS = [
    {
        "rescue.db",
        "rescue.clock",
        "rescue.errors",
        "rescue.validation",
        "rescue.codes",
        "rescue.config",
        "rescue.logs",
        "rescue.models",
        "rescue.migrations",
    },
    {"rescue.accounts", "rescue.registry", "rescue.messaging", "rescue.roads"},
    {"rescue.readiness"},
    {"rescue.dispatch"},
    {"rescue.drills", "rescue.cards"},
    {"rescue.web", "rescue.cli", "rescue.worker"},
]
# features of one layer that stay independent of each other
INDEPENDENT = [LAYERS[1], LAYERS[4]]
PURE = ("routing", "contacts")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in PACKAGE.rglob("*.py") if "versions" not in p.parts}


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every module `name` imports, anywhere in its body, resolved to modules where it names one."""
    found = set()
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return found


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _feature(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "rescue" and len(parts) > 1 else parts[0]


def _layer(feature: str) -> int | None:
    return next((i for i, layer in enumerate(LAYERS) if feature in layer), None)


def _is_edge(module: str) -> bool:
    """CLI and worker entry modules sit at the edge, whatever package holds them."""
    leaf = module.rsplit(".", 1)[-1]
    return "cli" in leaf or "worker" in leaf


def test_every_feature_has_a_layer():
    missing = {_feature(m) for m in MODULES if m != "rescue" and _layer(_feature(m)) is None}
    assert not missing, f"add these to LAYERS (and ARCHITECTURE.md): {sorted(missing)}"


def test_no_import_cycles_in_rescue():
    graph = nx.DiGraph((a, b) for a, targets in GRAPH.items() for b in targets if b in MODULES and b != a)
    # a package importing its own modules (re-exports) is not a cycle of features
    graph.remove_edges_from([(a, b) for a, b in list(graph.edges) if MODULES[a].name == "__init__.py" and b.startswith(a + ".")])
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"import cycles: {cycles}"


def test_features_import_only_downwards():
    wrong = []
    for module, targets in GRAPH.items():
        if _is_edge(module) or module == "rescue":
            continue
        own = _feature(module)
        for target in targets:
            if not target.startswith("rescue.") or _feature(target) == own:
                continue
            theirs = _feature(target)
            if _layer(theirs) > _layer(own) or (_layer(theirs) == _layer(own) and any(own in g for g in INDEPENDENT)):
                wrong.append(f"{module} → {target}")
    assert not wrong, "imports against the direction of ARCHITECTURE.md:\n" + "\n".join(sorted(wrong))


def test_edge_modules_are_imported_only_from_the_edge():
    wrong = [
        f"{m} → {t}"
        for m, ts in GRAPH.items()
        for t in ts
        if t in MODULES and _is_edge(t) and not (_is_edge(m) or _feature(m) == "rescue.web" or m == "rescue")
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("library", ["flask", "werkzeug", "flask_wtf"])
def test_flask_only_at_the_edge(library):
    allowed = {"werkzeug.security"}  # password hashing, no web machinery
    wrong = [
        m
        for m, ts in GRAPH.items()
        if any((t == library or t.startswith(library + ".")) and t not in allowed for t in ts)
        and not (_feature(m) == "rescue.web" or _is_edge(m))
    ]
    assert not wrong, f"{library} imported below the web layer: {wrong}"


@pytest.mark.parametrize("library", PURE)
def test_pure_libraries_import_no_app(library):
    wrong = []
    for path in (ROOT / library).rglob("*.py"):
        name = _module_name(path)
        if ".standins" in name:  # development stand-ins of providers, not part of the library
            continue
        for target in _imports(name, path):
            if target.split(".")[0] in {"flask", "sqlalchemy", "rescue", "seed", "werkzeug"}:
                wrong.append(f"{name} → {target}")
    assert not wrong, wrong
