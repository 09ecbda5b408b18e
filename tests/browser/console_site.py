"""A running Harbour for the browser: the Telegram channel on the loopback fake, the
console served by uvicorn on a free loopback port, and helpers for axe and screenshots."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import uvicorn

from tests.browser.conftest import ARTEFACTS

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def serve(app: Any, port: int) -> tuple[uvicorn.Server, asyncio.Task[None]]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):  # up to 10 s
        if server.started or task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started, "the console did not start"
    return server, task


async def accessible(page: Any, name: str) -> None:
    """Run axe-core on the page; no serious or critical violations. Saves a screenshot."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    bad = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:3]}
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    (ARTEFACTS / f"{name}.axe.json").write_text(json.dumps(result["violations"], indent=1))
    assert bad == [], f"{name}: {bad}"
