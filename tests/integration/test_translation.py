"""Translation against a LibreTranslate-compatible fake: every failure ends within the deadline
with None, so the original is delivered; text never travels in a URL."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from bot.settings import load_settings
from bot.translation.translator import (
    BoundedTranslator,
    LibreTranslate,
    NoTranslator,
    translator_from_settings,
)
from tests.fakes.translator_api import FakeLibreTranslate

DEADLINE = 0.5


@pytest.fixture
async def fake() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(hang_seconds=30.0) as server:
        yield server


def bounded(url: str) -> BoundedTranslator:
    return BoundedTranslator(LibreTranslate(url, "key", httpx.AsyncClient(timeout=5)), DEADLINE)


async def test_translates_with_text_in_the_body_not_the_url(fake: FakeLibreTranslate) -> None:
    translator = bounded(fake.url)
    assert await translator.translate("dzień dobry", "pl", "en") == "[en] dzień dobry"
    assert fake.requests and not fake.requests[-1].text_in_query


async def test_identical_texts_are_cached(fake: FakeLibreTranslate) -> None:
    translator = bounded(fake.url)
    for _ in range(3):
        assert await translator.translate("hello", "en", "pl") == "[pl] hello"
    assert len(fake.requests) == 1
    assert await translator.translate("hello", "en", "ro") == "[ro] hello"  # another target
    assert len(fake.requests) == 2


@pytest.mark.parametrize("mode", ["refuse", "hang", "500", "html"])
async def test_failures_give_none_within_the_deadline(fake: FakeLibreTranslate, mode: str) -> None:
    translator = bounded(fake.url)
    await fake.set_mode(mode)  # type: ignore[arg-type]
    started = time.monotonic()
    assert await translator.translate("ratunku", "pl", "en") is None
    assert time.monotonic() - started < DEADLINE + 1.0  # a 30 s hang is cut at the deadline


async def test_same_language_and_empty_text_are_not_sent(fake: FakeLibreTranslate) -> None:
    translator = bounded(fake.url)
    assert await translator.translate("hello", "en", "en") is None
    assert await translator.translate("   ", "pl", "en") is None
    assert fake.requests == []


def test_settings_choose_the_provider() -> None:
    assert isinstance(translator_from_settings(load_settings(translator="none")), NoTranslator)
    libre = translator_from_settings(
        load_settings(translator="libre", libretranslate_url="http://127.0.0.1:5000/")
    )
    assert isinstance(libre, BoundedTranslator) and isinstance(libre.inner, LibreTranslate)
