"""Static checks over bot/: phrase matching uses no regular expression, no regex anywhere has
a nested quantifier (the shape that input can make slow), and secrets are never compared
with == (only hmac.compare_digest, or a library that compares in constant time)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

BOT = Path(__file__).resolve().parents[2] / "bot"
PHRASE_MATCHING = (
    "engine/urgent.py",
    "engine/matching.py",
    "engine/normalize.py",
    "engine/cases.py",
)
SECRET_WORDS = ("secret", "signature", "password", "auth_token", "bot_token", "api_key", "digest")
NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*][^()]*\)[+*{]")


def sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in BOT.rglob("*.py")]


def imported_modules(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_phrase_matching_uses_no_regular_expressions() -> None:
    for name in PHRASE_MATCHING:
        tree = ast.parse((BOT / name).read_text(encoding="utf-8"))
        assert not imported_modules(tree) & {"re", "regex"}, name


def test_no_regex_in_bot_has_a_nested_quantifier() -> None:
    patterns = []
    for path, tree in sources():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                patterns.append((path.name, str(node.args[0].value)))
    assert patterns, "the scan must find the regexes that exist"
    assert [(f, p) for f, p in patterns if NESTED_QUANTIFIER.search(p)] == []


def _names(node: ast.AST) -> list[str]:
    found = []
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.append(child.id.lower())
        elif isinstance(child, ast.Attribute):
            found.append(child.attr.lower())
    return found


def test_secrets_are_never_compared_with_equality() -> None:
    offenders = []
    for path, tree in sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare) and any(
                isinstance(op, ast.Eq | ast.NotEq) for op in node.ops
            ):
                operands = [node.left, *node.comparators]
                if any(isinstance(o, ast.Constant) and o.value is None for o in operands):
                    continue
                words = [n for o in operands for n in _names(o)]
                if any(w in n for n in words for w in SECRET_WORDS if not n.endswith("header")):
                    offenders.append(f"{path.relative_to(BOT)}:{node.lineno}")
    assert offenders == []


def test_the_equality_check_would_catch_a_careless_comparison() -> None:
    tree = ast.parse("if given_signature == expected_secret: pass")
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.Compare))
    assert {"given_signature", "expected_secret"} <= set(_names(node))
