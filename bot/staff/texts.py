"""Texts for staff, from the gettext catalogues in locales/staff/ (read with Babel).

Staff catalogues are separate from the survivor flows: an advocate's language may differ
from every survivor's, and these texts carry case codes, never names or numbers.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po

DEFAULT_LANGUAGE = "en"


class StaffTexts:
    def __init__(self, catalogues: dict[str, dict[str, str]]) -> None:
        if DEFAULT_LANGUAGE not in catalogues:
            raise ValueError("the staff catalogue needs an English (en.po) file")
        self._catalogues = catalogues

    @classmethod
    def load(cls, directory: Path) -> StaffTexts:
        catalogues: dict[str, dict[str, str]] = {}
        for path in sorted(directory.glob("*.po")):
            with path.open("rb") as handle:
                catalogue = read_po(handle)
            catalogues[path.stem] = {
                str(m.context): str(m.string or m.id) for m in catalogue if m.id and m.context
            }
        return cls(catalogues)

    def keys(self) -> set[str]:
        return set(self._catalogues[DEFAULT_LANGUAGE])

    def text(self, key: str, language: str = DEFAULT_LANGUAGE, /, **params: str) -> str:
        """The text in the staff member's language, falling back to English."""
        catalogue = self._catalogues.get(language, self._catalogues[DEFAULT_LANGUAGE])
        template = catalogue.get(key) or self._catalogues[DEFAULT_LANGUAGE][key]
        return template.format(**params)

    def reason(self, reason: str, language: str = DEFAULT_LANGUAGE, /, **params: str) -> str:
        """Turn an escalation reason such as "phrase:danger" into words."""
        head, _, category = reason.partition(":")
        if head in ("phrase", "translation"):
            return self.text(f"staff.reason.{head}", language, category=category)
        key = f"staff.reason.{head}"
        if key in self._catalogues[DEFAULT_LANGUAGE]:
            return self.text(key, language, **params)
        return head.replace("_", " ")
