"""A LibreTranslate-compatible fake on loopback, with the failure modes a translator has.

Endpoints: ``POST /translate`` (q, source, target, format, api_key; q may be a list),
``POST /detect`` and ``GET /languages``. Parameters are read from the query string, a form or a
JSON body: deep-translator's LibreTranslator puts everything, the text included, in the URL
query (so a real server's access log would hold survivors' words), which `requests` records.

Translation is deterministic: ``"[{target}] " + q``. Modes (`await set_mode(...)`):
``ok``; ``refuse`` (the port stops listening: connection refused); ``hang`` (answers only after
`hang_seconds`, 30 by default); ``500``; ``html`` (200 with an HTML page, as a proxy might).

To drive it with deep-translator, note the keyword is `custom_url`, not `base_url` (an unknown
keyword is swallowed and the public libretranslate.de is used instead), the URL must end in
"/", and api_key must be non-empty::

    LibreTranslator(source="pl", target="en", api_key="x", custom_url=fake.url + "/")

Run standalone with ``python -m tests.fakes.translator_api --port 5000``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from aiohttp import web

from tests.fakes.loopback import LoopbackServer, run_standalone

Mode = Literal["ok", "refuse", "hang", "500", "html"]
LANGUAGES = {
    "en": "English", "pl": "Polish", "ro": "Romanian", "sq": "Albanian", "vi": "Vietnamese",
    "uk": "Ukrainian", "ar": "Arabic", "fa": "Persian", "ru": "Russian", "es": "Spanish",
}  # fmt: skip
# Crude but deterministic detection: a script or letters peculiar to one language.
DETECTION_HINTS = [
    ("uk", re.compile(r"[іїєґІЇЄҐ]")),
    ("ru", re.compile(r"[а-яА-ЯёЁ]")),
    ("fa", re.compile(r"[پچژگکی]")),
    ("ar", re.compile(r"[\u0600-\u06ff]")),
    ("vi", re.compile(r"[ăơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)),
    ("ro", re.compile(r"[șțȘȚâÂîÎ]")),
    ("pl", re.compile(r"[ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]")),
    ("sq", re.compile(r"[ëçËÇ]")),
]
HTML_PAGE = "<!doctype html><html><body><h1>502 Bad Gateway</h1></body></html>"


@dataclass
class TranslateRequest:
    path: str
    params: dict[str, Any]
    text_in_query: bool  # True when q arrived in the URL rather than the body


class FakeLibreTranslate(LoopbackServer):
    def __init__(
        self, *, port: int = 0, api_keys: set[str] | None = None, hang_seconds: float = 30.0
    ) -> None:
        """`api_keys=None` accepts any key (a server without keys); otherwise only those."""
        super().__init__(port=port)
        self.api_keys = api_keys
        self.hang_seconds = hang_seconds
        self.mode: Mode = "ok"
        self.requests: list[TranslateRequest] = []

    def build_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/translate", self._translate)
        app.router.add_post("/detect", self._detect)
        app.router.add_get("/languages", self._languages)
        return app

    async def set_mode(self, mode: Mode) -> None:
        if mode == "refuse":
            await self.stop_listening()
        else:
            await self.resume_listening()
        self.mode = mode

    async def _translate(self, request: web.Request) -> web.Response:
        params = await self._receive(request)
        failure = await self._failure(params)
        if failure is not None:
            return failure
        q, target = params.get("q"), str(params.get("target") or "")
        if q is None or q == "":
            return _error(400, "Invalid request: missing q parameter")
        if target not in LANGUAGES:
            return _error(400, f"{target} is not supported")
        if isinstance(q, list):
            translated: Any = [f"[{target}] {text}" for text in q]
        else:
            translated = f"[{target}] {q}"
        body: dict[str, Any] = {"translatedText": translated}
        if params.get("source") == "auto":
            first = q[0] if isinstance(q, list) and q else str(q)
            body["detectedLanguage"] = {"confidence": 90.0, "language": detect_language(first)}
        return web.json_response(body)

    async def _detect(self, request: web.Request) -> web.Response:
        params = await self._receive(request)
        failure = await self._failure(params)
        if failure is not None:
            return failure
        if not params.get("q"):
            return _error(400, "Invalid request: missing q parameter")
        language = detect_language(str(params["q"]))
        return web.json_response([{"confidence": 90.0, "language": language}])

    async def _languages(self, request: web.Request) -> web.Response:
        await self._receive(request)
        codes = sorted(LANGUAGES)
        return web.json_response(
            [{"code": code, "name": LANGUAGES[code], "targets": codes} for code in codes]
        )

    async def _receive(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                body = None
            if isinstance(body, dict):
                params.update(body)
        elif request.method == "POST":
            params.update({key: str(value) for key, value in (await request.post()).items()})
        self.requests.append(TranslateRequest(request.path, params, "q" in request.query))
        return params

    async def _failure(self, params: dict[str, Any]) -> web.Response | None:
        """The scripted failure mode, or a refused key; None when the request may proceed."""
        if self.mode == "hang":
            await self.pause(self.hang_seconds)
        elif self.mode == "500":
            return _error(500, "Internal Server Error")
        elif self.mode == "html":
            return web.Response(text=HTML_PAGE, content_type="text/html")
        if self.api_keys is not None and params.get("api_key") not in self.api_keys:
            return _error(403, "Invalid API key")
        return None


def detect_language(text: str) -> str:
    for code, pattern in DETECTION_HINTS:
        if pattern.search(text):
            return code
    return "en"


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


if __name__ == "__main__":
    run_standalone(lambda port: FakeLibreTranslate(port=port), "Fake LibreTranslate on loopback")
