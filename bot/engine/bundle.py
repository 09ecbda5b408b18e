"""Everything the engine needs, loaded once at start-up by bot.flows.files.load_bundle."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.engine.catalogue import Catalogue
from bot.engine.definitions import Flow, Node
from bot.engine.urgent import PhraseBank


@dataclass(frozen=True)
class Bundle:
    flows: Mapping[str, Flow]
    catalogue: Catalogue
    urgent_bank: PhraseBank = field(default_factory=PhraseBank.empty)

    def node(self, flow: str, node: str) -> Node | None:
        found = self.flows.get(flow)
        return found.nodes.get(node) if found is not None else None
