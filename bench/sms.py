"""SMS throughput: signed inbound webhooks handled per second (p50/p99 latency), and outbound
sends per second against the configured rate, through the real twilio client and the fake
Twilio on loopback.

Run: .venv/bin/python bench/sms.py [--messages 300] [--concurrency 20] [--rate 20]
                                   [--database URL of an empty, throwaway database]
Inbound: each request is signed with twilio's RequestValidator and posted over HTTP to
Harbour's app (uvicorn on loopback); "handled" means signature checked, stored durably and
answered with TwiML. Then every stored message is processed, which queues one reply each.
Outbound: the replies are sent paced at --rate messages a second (HARBOUR_SMS_PER_SECOND).
A fresh SQLite database in a temporary directory unless --database is given.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import secrets
import socket
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bot.bootstrap import build, default_pacers  # noqa: E402
from bot.channels.sms.channel import SmsChannel  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.web.app import create_app  # noqa: E402
from tests.fakes.twilio_api import (  # noqa: E402
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    FakeTwilio,
)
from tests.fakes.twilio_webhooks import inbound_sms_params, signed_webhook  # noqa: E402

HARBOUR_NUMBER = "+447700900999"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def post_all(
    public_url: str, bodies: list[tuple[dict[str, str], bytes]], concurrency: int
) -> tuple[list[float], float, int]:
    latencies: list[float] = []
    failures = 0
    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=public_url, timeout=30, limits=limits) as http:

        async def one(headers: dict[str, str], body: bytes) -> None:
            nonlocal failures
            async with gate:
                started = time.perf_counter()
                response = await http.post("/twilio/sms", content=body, headers=headers)
                latencies.append(time.perf_counter() - started)
                failures += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(one(h, b) for h, b in bodies))
        return latencies, time.perf_counter() - started, failures


async def main(messages: int, concurrency: int, rate: float, database: str) -> None:
    # Quiet: the figures are the output. (Every newcomer also logs "no reachable staff",
    # since the benchmark has no staff; failures are counted instead.)
    logging.disable(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            database_url=database or f"sqlite:///{Path(tmp) / 'bench.db'}",
            data_dir=Path(tmp),
            secret_key=SecretStr(secrets.token_urlsafe(48)),
            sms_per_second=rate,
        )
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        public_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        async with FakeTwilio() as twilio:
            channel = SmsChannel(
                account_sid=DEFAULT_ACCOUNT_SID,
                auth_token=DEFAULT_AUTH_TOKEN,
                sender=HARBOUR_NUMBER,
                api_url=twilio.url,
                public_url=public_url,
            )
            harbour = await build(settings, {"sms": channel}, pacers=default_pacers(settings))
            app = create_app(harbour.db, channel.web_routes(harbour.inbound))
            config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="off")
            server = uvicorn.Server(config)
            serving = asyncio.create_task(server.serve(sockets=[sock]))
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event for this
                await asyncio.sleep(0.01)
            try:
                await run(harbour, twilio, public_url, messages, concurrency, rate)
            finally:
                server.should_exit = True
                await serving
                await channel.stop()
                await harbour.close()


async def run(
    harbour: object,
    twilio: FakeTwilio,
    public_url: str,
    messages: int,
    concurrency: int,
    rate: float,
) -> None:
    bodies = []
    for n in range(messages):
        params = inbound_sms_params(
            from_=f"+4479{n:08d}", to=HARBOUR_NUMBER, body="hello", account_sid=DEFAULT_ACCOUNT_SID
        )
        bodies.append(signed_webhook(public_url + "/twilio/sms", params, DEFAULT_AUTH_TOKEN))
    latencies, wall, failures = await post_all(public_url, bodies, concurrency)
    print(f"inbound: {messages} signed webhooks, concurrency {concurrency}, {failures} not 200")
    print(f"  handled per second  {messages / wall:8.1f}")
    print(f"  latency p50         {percentile(latencies, 0.50) * 1000:8.1f} ms")
    print(f"  latency p99         {percentile(latencies, 0.99) * 1000:8.1f} ms")

    started = time.perf_counter()
    await harbour.inbound.drain()  # type: ignore[attr-defined]
    processed = time.perf_counter() - started
    print(f"processing: {messages / processed:8.1f} stored messages turned into replies per second")

    started = time.perf_counter()
    while await harbour.sender.send_due():  # type: ignore[attr-defined]
        pass
    sent_wall = time.perf_counter() - started
    sent = len(twilio.messages)
    print(f"outbound: {sent} SMS through the REST client, configured rate {rate:g}/s")
    print(f"  sent per second     {sent / sent_wall:8.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rate", type=float, default=20.0, help="SMS per second")
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: temp SQLite)")
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.concurrency, args.rate, args.database))
