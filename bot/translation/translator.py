"""Machine translation behind the Translator port: none, self-hosted LibreTranslate, or Google.

Every call has a deadline and never raises: on a refused connection, a hang, a 500, an HTML
page or any exception the caller gets None and delivers the original, marked untranslated.
Identical texts are cached briefly, in memory only.

LibreTranslate is called with a JSON POST rather than through deep-translator's
LibreTranslator: that class puts the text in the URL query (so the server's access log would
hold survivors' words) and its language table lacks Romanian, Albanian, Ukrainian and Persian.
Google goes through deep-translator, which sends the text in the URL query and sets no timeout
of its own; it runs on a small dedicated thread pool and the deadline is enforced here.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bot.ports import Translator
from bot.settings import Settings

log = logging.getLogger(__name__)


class NoTranslator:
    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        return None


class LibreTranslate:
    def __init__(self, url: str, api_key: str | None, client: httpx.AsyncClient) -> None:
        self.endpoint = url.rstrip("/") + "/translate"
        self.api_key = api_key
        self.client = client

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        body: dict[str, Any] = {
            "q": text,
            "source": source or "auto",
            "target": target,
            "format": "text",
        }
        if self.api_key:
            body["api_key"] = self.api_key
        response = await self.client.post(self.endpoint, json=body)
        response.raise_for_status()
        translated = response.json().get("translatedText")
        return translated if isinstance(translated, str) else None


class GoogleTranslate:
    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="translate")

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        from deep_translator import GoogleTranslator

        def call() -> Any:
            return GoogleTranslator(source=source or "auto", target=target).translate(text)

        result = await asyncio.get_running_loop().run_in_executor(self._pool, call)
        return result if isinstance(result, str) else None


class BoundedTranslator:
    """Adds the deadline, the brief in-memory cache and the never-raise rule to any translator."""

    def __init__(
        self,
        inner: Translator,
        timeout: float,
        *,
        cache_seconds: float = 600.0,
        cache_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.timeout = timeout
        self.cache_seconds = cache_seconds
        self.cache_size = cache_size
        self.clock = clock
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, str]] = OrderedDict()

    async def translate(self, text: str, source: str | None, target: str) -> str | None:
        if not text.strip() or source == target:
            return None
        # The key is a digest: the cache never holds the text itself as a key.
        key = (hashlib.sha256(text.encode()).hexdigest(), source or "auto", target)
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self.clock():
            self._cache.move_to_end(key)
            return cached[1]
        try:
            result = await asyncio.wait_for(
                self.inner.translate(text, source, target), self.timeout
            )
        except Exception as exc:  # a translator failure must never cost a message
            log.warning("translation failed (%s); delivering the original", type(exc).__name__)
            return None
        if not result or not result.strip():
            return None
        self._cache[key] = (self.clock() + self.cache_seconds, result)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return result


def translator_from_settings(settings: Settings) -> Translator:
    if settings.translator == "libre" and settings.libretranslate_url:
        key = settings.libretranslate_api_key
        client = httpx.AsyncClient(timeout=settings.translation_timeout_seconds)
        inner: Translator = LibreTranslate(
            settings.libretranslate_url, key.get_secret_value() if key else None, client
        )
    elif settings.translator == "google":
        inner = GoogleTranslate()
    else:
        return NoTranslator()
    return BoundedTranslator(inner, settings.translation_timeout_seconds)
