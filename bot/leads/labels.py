"""Names of stages, nodes, sectors and divisions in the asker's language, for summaries.

Stored records carry canonical ids (negotiating, munich, hydrogen, bohai); people read the
glossary's first name for the id in their language. Divisions take their official zh/en names
from divisions.yaml, the other languages from the glossary's `divisions` list.
"""

from __future__ import annotations

from functools import cache

from babel import Locale, UnknownLocaleError

from bot import i18n
from bot.divisions import load_divisions
from knowledge.glossary import Glossary, cached_glossary

UNASSIGNED = "unassigned"


def _first_name(glossary: Glossary, list_name: str, key: str, language: str) -> str | None:
    entry = glossary.entry(list_name, key)
    names = (entry.names.get(language) or entry.names.get("en") or ()) if entry else ()
    return names[0] if names else None


def name(list_name: str, key: str, language: str, glossary: Glossary | None = None) -> str:
    """The id's name in the language (a stage, node or sector); the id itself when the
    glossary does not know it, so a new sector still shows up instead of vanishing."""
    language = i18n.supported(language)
    return _first_name(glossary or cached_glossary(), list_name, key, language) or key


@cache
def _division_names() -> dict[str, tuple[str, str]]:
    return {d.key: (d.name_zh, d.name_en) for d in load_divisions()}


def division_name(key: str, language: str, glossary: Glossary | None = None) -> str:
    language = i18n.supported(language)
    if key == UNASSIGNED:
        return i18n.text("division.unassigned", language)
    official = _division_names().get(key)
    if official is not None and language in ("zh", "en"):
        return official[0] if language == "zh" else official[1]
    found = _first_name(glossary or cached_glossary(), "divisions", key, language)
    return found or (official[1] if official else key)


def spoken_language(code: str, language: str) -> str:
    """A language a division or node speaks ("de", "yue"), named in the reader's language by
    CLDR ("德语", "Cantonese"); the code itself when CLDR does not know it."""
    try:
        return Locale.parse(code).get_language_name(i18n.babel_locale(language)) or code
    except (ValueError, UnknownLocaleError):
        return code
