"""Glosses for an excerpt quoted in another language: its amounts written the asker's way
(500万元 → "RMB 5 million") and its park terms in the asker's language (加氢站 →
"Wasserstofftankstelle"), from the number formatter and the glossary only — nothing is
translated that neither knows."""

from __future__ import annotations

import re

from bot import i18n
from knowledge.figures import amounts
from knowledge.glossary import Entry, Glossary, normalize

MAX_TERMS = 3
MAX_AMOUNTS = 3
SMALL_AMOUNT = 1000
_CJK = re.compile(r"[\u3400-\u9fff]")


def _variant_in(entry: Entry, key: str, language: str) -> str | None:
    """The first of the entry's names in other languages that the text writes (names come in
    the glossary's order: the documents' own wording first)."""
    for lang, names in entry.names.items():
        if lang == language:
            continue
        for name in names:
            folded = normalize(name)
            if not folded:
                continue
            if re.match(r"[a-z0-9à-ÿ]", folded):
                if re.search(rf"(?<![0-9a-zà-ÿ]){re.escape(folded)}(?![0-9a-zà-ÿ])", key):
                    return name
            elif folded in key:
                return name
    return None


def _too_short(name: str) -> bool:
    # Two Chinese characters (补贴, 氢能) also sit inside other words (加氢能力).
    return bool(_CJK.match(name)) and len(name) <= 2


def glosses(sentence: str, language: str, glossary: Glossary | None = None) -> list[str]:
    """'500万元 = 5 Millionen RMB', '加氢站 = Wasserstofftankstelle', … for a sentence shown to
    an asker of `language`; empty when there is nothing to gloss."""
    items: list[str] = []
    for found in amounts(sentence):
        if found.value < SMALL_AMOUNT or len(items) == MAX_AMOUNTS:
            continue  # "15元 = 15 RMB" tells nobody anything
        rendered = i18n.amount(found.value, found.currency, language)
        if normalize(rendered) != normalize(found.text) and rendered not in items:
            items.append(f"{found.text} = {rendered}")
    if glossary is None:
        return items
    key = normalize(sentence)
    terms: list[tuple[str, str]] = []
    for list_name in ("terms", "sectors"):
        for entry in glossary.mentioned(sentence, list_name):
            own = entry.names.get(language) or ()
            if not own or any(normalize(n) in key for n in own):
                continue
            written = _variant_in(entry, key, language)
            if written and not _too_short(written):
                terms.append((written, own[0]))
    # Longest first, and none inside another ("补贴" inside "安家补贴"); then as written.
    kept: list[tuple[str, str]] = []
    for written, own_name in sorted(terms, key=lambda t: -len(t[0])):
        if not any(written in other for other, _ in kept) and len(kept) < MAX_TERMS:
            kept.append((written, own_name))
    kept.sort(key=lambda t: key.find(normalize(t[0])))
    return items + [f"{written} = {own_name}" for written, own_name in kept]


def gloss_line(sentence: str, language: str, glossary: Glossary | None = None) -> str | None:
    """The gloss line under a quoted sentence ("Auf Deutsch: 500万元 = 5 Millionen RMB"), or
    None when nothing needs glossing."""
    items = glosses(sentence, language, glossary)
    if not items:
        return None
    return i18n.text("answer.gloss", language, items="; ".join(items))
