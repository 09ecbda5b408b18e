"""Local mode's terminal chat: you type as a survivor; what staff would receive is marked.

Lines are read as bytes and decoded leniently, so invalid UTF-8 cannot stop the chat.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import uuid
from typing import TextIO

from bot.bootstrap import Harbour
from bot.cli.simulate import DEMO_ADVOCATE, Transcript, ensure_survivor
from bot.ports import OutboundMessage
from bot.store.uow import UnitOfWork

YOU = "you"
READ_SIZE = 65536


def read_lines_in_background() -> asyncio.Queue[bytes]:
    """Read stdin on a daemon thread, so Ctrl-C never waits for a blocked read.

    The thread reads the file descriptor itself (os.read), never sys.stdin's buffered
    reader: a daemon thread blocked inside that reader holds its lock, and Python aborts at
    exit when it cannot take it (exit 134, "_enter_buffered_busy", on Ctrl-C at the prompt)."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    fd = sys.stdin.fileno()

    def pump() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, READ_SIZE)
            except OSError:
                chunk = b""  # stdin closed or gone: the same as end of input
            if not chunk:
                lines, pending = [pending] if pending else [], b""
            else:
                pending += chunk
                *lines, pending = pending.split(b"\n")
                lines = [line + b"\n" for line in lines]
            try:
                for line in lines + ([] if chunk else [b""]):
                    loop.call_soon_threadsafe(queue.put_nowait, line)
            except RuntimeError:  # the loop is closed: Harbour is shutting down
                return
            if not chunk:
                return

    threading.Thread(target=pump, name="stdin", daemon=True).start()
    return queue


class TerminalChat:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def show(self, message: OutboundMessage) -> None:
        if message.address.startswith(("advocate:", "staff:")):
            label = {"escalation": "URGENT ALERT", "relay": "relayed message"}.get(
                message.kind, message.kind
            )
            self.out.write(f"\n  ┌─ [{label} → {message.address}] (what staff would receive)\n")
            for line in message.text.splitlines():
                self.out.write(f"  │ {line}\n")
            self.out.write("  └─\n")
        else:
            self.out.write(f"\nHarbour ▸ {message.text}\n")
        self.out.flush()

    async def run(self, harbour: Harbour) -> None:
        self.out.write(
            f"Harbour local mode. You are a survivor enrolled with advocate '{DEMO_ADVOCATE}'.\n"
            "Type a message and press Enter. To write as a staff member, start the line with @\n"
            f"and their handle: '@{DEMO_ADVOCATE} /cases', '@{DEMO_ADVOCATE} #CASE hello'.\n"
            "Ctrl-C or Ctrl-D (end of input) to quit.\n"
        )
        self.out.flush()
        transcript = Transcript(self.out)  # only for its survivor bookkeeping
        lines = read_lines_in_background()
        while True:
            self.out.write("\nyou ▸ ")
            self.out.flush()
            raw = await lines.get()
            if not raw:
                self.out.write("\n")
                return
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            await ensure_survivor(harbour, transcript, YOU, None)
            sender = await staff_sender(harbour, text) or YOU
            if sender != YOU:
                text = text.split(maxsplit=1)[1] if len(text.split(maxsplit=1)) > 1 else ""
            await harbour.inbound.accept("local", uuid.uuid4().hex, {"from": sender, "text": text})
            await harbour.drain()


async def staff_sender(harbour: Harbour, line: str) -> str | None:
    """ "@amira text": the local address of staff member amira, if there is one."""
    if not line.startswith("@"):
        return None
    handle = line[1:].split(maxsplit=1)[0].lower() if len(line) > 1 else ""
    async with UnitOfWork(harbour.db, harbour.cipher) as uow:
        staff = await uow.people.staff_by_handle(handle)
        if staff is None:
            return None
        prefix = "advocate" if staff.role == "advocate" else "staff"
        return f"{prefix}:{staff.handle}"
