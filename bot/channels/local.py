"""The local channel: the terminal in local mode, and JSON lines in `harbour simulate`.

Addresses are plain names: a survivor id such as "s1", or "advocate:<handle>" / "staff:<handle>"
for staff. Sending hands the message to a callback that prints it.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from typing import Any

from bot.ports import InboundMessage, OutboundMessage, SendResult

MAX_ADDRESS = 64


class LocalChannel:
    name = "local"

    def __init__(self, deliver: Callable[[OutboundMessage], None], render_as: str = "sms") -> None:
        self._deliver = deliver
        self.render_as = render_as  # "sms": numbered choices in the text; "telegram": buttons
        self._ids = itertools.count(1)

    def parse(self, payload: Mapping[str, Any]) -> InboundMessage | None:
        sender = payload.get("from")
        text = payload.get("text", "")
        choice = payload.get("choice")
        language = payload.get("language")
        if not isinstance(sender, str) or not sender or len(sender) > MAX_ADDRESS:
            return None
        return InboundMessage(
            channel=self.name,
            address=sender,
            text=text if isinstance(text, str) else "",
            choice=choice if isinstance(choice, str) else None,
            language_hint=language if isinstance(language, str) else None,
        )

    async def send(self, message: OutboundMessage) -> SendResult:
        self._deliver(message)
        return SendResult(status="sent", provider_id=f"local-{next(self._ids)}")
