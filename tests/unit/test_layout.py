"""The layout holds: one folder per capability, imports flowing one way.

Each package of bot/ sits on a layer; it may import only from layers below its own (and from
itself). That alone rules out cycles between packages; the cycle check below says so again
in words a newcomer reads first. A forbidden import fails with the file, line and edge.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

# Bottom to top. Top-level modules are their own "package" (bot.ports, bot.settings...).
LAYERS: list[set[str]] = [
    {"engine"},
    {"settings", "ports", "logs", "phones"},  # the foundation: no Harbour imports but these
    {"store"},
    {"channels", "translation", "flows", "pacemaker", "migrations"},
    {"staff"},
    {"privacy"},
    {"safety"},
    {"messaging"},
    {"care"},
    {"admin"},
    {"web"},
    {"bootstrap"},
    {"cli"},
    {"__main__"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
# Stricter than the layers, as the issue that set up the layout asks.
ONLY = {
    "engine": {"engine"},
    "channels": {"channels", "ports", "settings", "phones", "logs"},  # services only via ports
    "store": {"store", "engine", "settings", "ports", "logs"},  # no capability package
}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "bot":
        return None
    return parts[1] if len(parts) > 1 else ""


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module
            if node.module == "bot":  # `from bot import admin`
                yield from ((node.lineno, f"bot.{alias.name}") for alias in node.names)


def edges(root: Path = BOT) -> Iterator[tuple[str, str, str]]:
    """(importing package, imported package, "file:line") for every import inside bot/."""
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        source = relative.parts[0].removesuffix(".py")
        for line, module in imports(path):
            target = package_of(module)
            if target and target != source:
                yield source, target, f"bot/{relative}:{line}"


def violations(found: list[tuple[str, str, str]]) -> list[str]:
    bad = []
    for source, target, where in found:
        if source not in RANK or target not in RANK:
            bad.append(f"{where}: {source} -> {target}: a package with no layer in LAYERS")
        elif source in ONLY and target not in ONLY[source]:
            bad.append(f"{where}: {source} may not import {target}")
        elif RANK[target] >= RANK[source]:
            bad.append(f"{where}: {source} (layer {RANK[source]}) imports upwards: {target}")
    return bad


def cycles(found: list[tuple[str, str, str]]) -> list[list[str]]:
    graph: dict[str, set[str]] = {}
    for source, target, _ in found:
        graph.setdefault(source, set()).add(target)
    loops, state = [], dict.fromkeys(graph, 0)  # 0 new, 1 on the path, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt, 0) == 1:
                loops.append([*path[path.index(nxt) :], nxt])
            elif state.get(nxt, 0) == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state[node] == 0:
            visit(node, [node])
    return loops


def test_every_package_has_a_layer_and_a_docstring() -> None:
    for path in sorted(BOT.iterdir()):
        name = path.name.removesuffix(".py")
        if path.name in ("__init__.py", "__pycache__") or not (
            path.is_dir() or path.suffix == ".py"
        ):
            continue
        assert name in RANK, f"bot/{path.name} is on no layer of tests/unit/test_layout.py"
        if path.is_dir():
            doc = ast.get_docstring(ast.parse((path / "__init__.py").read_text()))
            assert doc and "import" in doc, f"bot/{name}/__init__.py: say what it owns and imports"


def test_imports_flow_one_way() -> None:
    assert violations(list(edges())) == []


def test_no_cycle_between_packages() -> None:
    assert cycles(list(edges())) == []


@pytest.mark.parametrize(
    ("source", "target"),
    [("engine", "store"), ("store", "care"), ("channels", "messaging"), ("staff", "safety")],
)
def test_a_forbidden_import_is_caught(tmp_path: Path, source: str, target: str) -> None:
    module = tmp_path / source / "intruder.py"
    module.parent.mkdir()
    module.write_text(f"from bot.{target} import anything\n")
    found = list(edges(tmp_path))
    assert found == [(source, target, f"bot/{source}/intruder.py:1")]
    assert violations(found) != []


def test_a_cycle_is_caught() -> None:
    found = [("a", "b", "x"), ("b", "c", "y"), ("c", "a", "z")]
    assert cycles(found) == [["a", "b", "c", "a"]]
