"""The engine is pure: nothing under bot/engine imports an I/O library or reads files."""

from __future__ import annotations

import ast
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "bot" / "engine"
FORBIDDEN = {
    "telegram", "twilio", "sqlalchemy", "apscheduler", "deep_translator", "starlette",
    "httpx", "aiohttp", "requests", "urllib", "socket", "asyncio", "os", "pathlib", "io",
    "yaml", "babel", "bot.flows", "bot.store", "bot.messaging", "bot.channels",
}  # fmt: skip


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def is_forbidden(module: str) -> bool:
    return any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN)


def test_engine_modules_import_no_io_library() -> None:
    files = sorted(ENGINE.rglob("*.py"))
    assert len(files) > 10  # the walk really found the engine
    offenders = {
        f"{path.relative_to(ENGINE)}: {module}"
        for path in files
        for module in imported_modules(path)
        if is_forbidden(module)
    }
    assert offenders == set()


def test_engine_never_opens_files() -> None:
    for path in sorted(ENGINE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = {
            node.func.id
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        }
        assert "open" not in calls, path


def test_the_check_itself_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import sqlalchemy.orm\nfrom telegram import Bot\nimport json\n")
    bad = {m for m in imported_modules(sample) if is_forbidden(m)}
    assert bad == {"sqlalchemy.orm", "telegram"}
