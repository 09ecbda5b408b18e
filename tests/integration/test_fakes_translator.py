"""The fake LibreTranslate, driven by deep-translator's real LibreTranslator.

deep-translator is synchronous (requests, no timeout), so each call runs in a thread, the way
Harbour's translator adapter has to run it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
import requests
from deep_translator import LibreTranslator
from deep_translator.exceptions import (
    AuthorizationException,
    LanguageNotSupportedException,
    ServerException,
)

from tests.fakes.translator_api import FakeLibreTranslate


@pytest.fixture
async def libre() -> AsyncIterator[FakeLibreTranslate]:
    async with FakeLibreTranslate(api_keys={"x"}, hang_seconds=30.0) as fake:
        yield fake


def translator(fake: FakeLibreTranslate, source: str = "pl", target: str = "en") -> LibreTranslator:
    return LibreTranslator(source=source, target=target, api_key="x", custom_url=fake.url + "/")


async def translate(fake: FakeLibreTranslate, text: str, deadline: float = 5.0) -> str:
    call = asyncio.to_thread(translator(fake).translate, text)
    return str(await asyncio.wait_for(call, timeout=deadline))


async def test_translates_deterministically(libre: FakeLibreTranslate) -> None:
    assert await translate(libre, "Dzień dobry") == "[en] Dzień dobry"
    (request,) = libre.requests
    assert request.path == "/translate"
    assert request.params["source"] == "pl" and request.params["api_key"] == "x"
    assert request.text_in_query  # deep-translator puts the text in the URL


async def test_wrong_api_key_is_refused(libre: FakeLibreTranslate) -> None:
    intruder = LibreTranslator(source="pl", target="en", api_key="y", custom_url=libre.url + "/")
    with pytest.raises(AuthorizationException):
        await asyncio.to_thread(intruder.translate, "tekst")


async def test_refused_connection(libre: FakeLibreTranslate) -> None:
    await libre.set_mode("refuse")
    # libre.py catches the builtin ConnectionError, not requests', so this one escapes as is.
    with pytest.raises(requests.exceptions.ConnectionError):
        await translate(libre, "tekst")
    await libre.set_mode("ok")
    assert await translate(libre, "tekst") == "[en] tekst"


async def test_hang_outlasts_a_deadline(libre: FakeLibreTranslate) -> None:
    await libre.set_mode("hang")
    with pytest.raises(TimeoutError):
        await translate(libre, "tekst", deadline=0.5)
    assert [r.path for r in libre.requests] == ["/translate"]
    # Stopping the fake (fixture teardown) releases the blocked worker thread.


async def test_server_error(libre: FakeLibreTranslate) -> None:
    await libre.set_mode("500")
    with pytest.raises(ServerException):
        await translate(libre, "tekst")


async def test_html_instead_of_json(libre: FakeLibreTranslate) -> None:
    await libre.set_mode("html")
    with pytest.raises(requests.exceptions.JSONDecodeError):
        await translate(libre, "tekst")


async def test_json_clients_detect_and_languages(libre: FakeLibreTranslate) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{libre.url}/translate",
            json={"q": ["Привіт", "Bună"], "source": "auto", "target": "en", "api_key": "x"},
        ) as response:
            translated = await response.json()
        async with session.post(
            f"{libre.url}/detect", data={"q": "Cześć, jak się masz?", "api_key": "x"}
        ) as response:
            detected = await response.json()
        async with session.get(f"{libre.url}/languages") as response:
            languages = await response.json()
    assert translated["translatedText"] == ["[en] Привіт", "[en] Bună"]
    assert translated["detectedLanguage"]["language"] == "uk"
    assert detected == [{"confidence": 90.0, "language": "pl"}]
    assert {"en", "pl", "ro", "sq", "vi", "uk", "ar", "fa"} <= {lang["code"] for lang in languages}
    assert not libre.requests[0].text_in_query


def test_deep_translator_pitfalls_for_the_adapter() -> None:
    # `base_url=` is swallowed by **kwargs: the public server would be used, not ours.
    wrong = LibreTranslator(source="pl", target="en", api_key="x", base_url="http://127.0.0.1/")
    assert wrong._base_url == "https://libretranslate.de/"
    # Its language table lacks several of Harbour's languages.
    for code in ("ro", "sq", "uk", "fa"):
        with pytest.raises(LanguageNotSupportedException):
            LibreTranslator(source=code, target="en", api_key="x", custom_url="http://h/")
