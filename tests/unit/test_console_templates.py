"""The console's templates keep to its CSP (no inline script, no inline style, no inline
event handlers) and mark message bodies dir="auto"; htmx is vendored with its licence."""

from __future__ import annotations

import re
from pathlib import Path

CONSOLE = Path(__file__).resolve().parents[2] / "bot" / "web" / "console"
TEMPLATES = sorted((CONSOLE / "templates").rglob("*.html"))


def test_no_inline_script_style_or_handlers() -> None:
    assert TEMPLATES
    for path in TEMPLATES:
        html = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"<style", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert "hx-on" not in html, path


def test_every_form_that_posts_carries_a_csrf_field() -> None:
    for path in TEMPLATES:
        html = path.read_text(encoding="utf-8")
        for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S):
            assert 'name="csrf"' in form, f"{path.name}: {form[:80]}"


def test_bodies_are_dir_auto_and_htmx_is_vendored_with_its_licence() -> None:
    case = (CONSOLE / "templates" / "case.html").read_text(encoding="utf-8")
    assert case.count('class="body" dir="auto"') >= 2
    static = CONSOLE / "static"
    assert (static / "htmx.min.js").stat().st_size > 10_000
    assert "Zero-Clause BSD" in (static / "htmx.LICENSE").read_text()
    assert "2.0.11" in (static / "VENDORED.md").read_text()
