"""The pure flow engine: (state, event) -> (new state, effects). No I/O library is imported here.

Public API: Engine, Outcome, Bundle, render, Rendered, SUPPORTED_LANGUAGES.

May import: nothing else of Harbour's.
"""

from bot.engine.bundle import Bundle
from bot.engine.engine import Engine, Outcome
from bot.engine.languages import RIGHT_TO_LEFT, SUPPORTED_LANGUAGES
from bot.engine.render import Rendered, render

__all__ = [
    "RIGHT_TO_LEFT",
    "SUPPORTED_LANGUAGES",
    "Bundle",
    "Engine",
    "Outcome",
    "Rendered",
    "render",
]
