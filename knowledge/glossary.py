"""The park's multilingual glossary (glossary.yaml in the knowledge folder).

It serves two jobs: cross-lingual query expansion (a French question naming the "fonds
d'orientation" also searches for 引导基金 and "guidance fund", so the Chinese policy matches
word for word) and mapping values people write in any language (慕尼黑, 洽谈中, Wasserstoff)
to the canonical ids stored on records (munich, negotiating, hydrogen).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from knowledge.ingest import SAMPLES_DIR

DEFAULT_GLOSSARY_FILE = SAMPLES_DIR.parent / "glossary.yaml"
LISTS = ("terms", "nodes", "sectors", "stages", "needs", "divisions")
LANGUAGES = ("zh", "en", "de", "fr", "ko", "he")
_LATIN = re.compile(r"[a-z0-9à-ÿ]")
# Phones type curly quotes, Hebrew has its own geresh and gershayim.
_PUNCTUATION = str.maketrans({"’": "'", "‘": "'", "׳": "'", "״": '"', "“": '"', "”": '"', "-": " "})


def normalize(text: str) -> str:
    """Full-width to half-width, case folded, quotes unified, spaces collapsed: how people
    vary the spelling of the same term."""
    folded = unicodedata.normalize("NFKC", text).casefold().translate(_PUNCTUATION)
    return " ".join(folded.split())


@dataclass(frozen=True)
class Entry:
    id: str | None
    names: dict[str, tuple[str, ...]]

    def variants(self) -> tuple[str, ...]:
        return tuple(v for names in self.names.values() for v in names)


# Plural and case endings a longer Latin-script term may carry (Wasserstofftankstelle-n,
# subvention-s); short ones must match exactly, or "it" would be in "its".
_INFLECTION = "(?:e|s|es|n|en|er|ern)?"


class _Matcher:
    """Finds which entries a text mentions. Latin-script variants must stand as whole words
    ("ai" is not in "said"); CJK, Hangul and Hebrew ones may carry particles and prefixes."""

    def __init__(self, entries: list[Entry]) -> None:
        latin: list[tuple[str, int]] = []
        self.plain: list[tuple[str, int]] = []
        for i, entry in enumerate(entries):
            for variant in entry.variants():
                key = normalize(variant)
                if not key:
                    continue
                (latin if _LATIN.match(key[0]) else self.plain).append((key, i))
        self.pattern = None
        self.by_variant: dict[str, int] = {}
        if latin:
            latin.sort(key=lambda item: -len(item[0]))
            self.by_variant = {key: i for key, i in latin}
            alternatives = "|".join(
                rf"(?P<v{n}>{re.escape(key)}){_INFLECTION if len(key) >= 5 else ''}"
                for n, (key, _) in enumerate(latin)
            )
            self.groups = [key for key, _ in latin]
            # Bounded by Latin letters and digits only, so "申请PCT专利" still names PCT. In a
            # lookahead, so that a term inside a longer one is found too: "Förderung für
            # Wasserstofftankstellen" names the subsidy and the station.
            self.pattern = re.compile(rf"(?<![0-9a-zà-ÿ])(?=(?:{alternatives})(?![0-9a-zà-ÿ]))")

    def find(self, text: str) -> list[int]:
        key = normalize(text)
        found: dict[int, None] = {}
        if self.pattern is not None:
            for match in self.pattern.finditer(key):
                variant = self.groups[int(str(match.lastgroup)[1:])]
                found[self.by_variant[variant]] = None
        for variant, i in self.plain:
            if variant in key:
                found[i] = None
        return list(found)


class Glossary:
    def __init__(self, lists: dict[str, list[Entry]]) -> None:
        self.lists = lists
        self._matchers = {name: _Matcher(entries) for name, entries in lists.items()}
        self._ids = {
            name: {normalize(v): e.id for e in entries for v in (*e.variants(), e.id or "") if e.id}
            for name, entries in lists.items()
        }

    def entry(self, list_name: str, entry_id: str) -> Entry | None:
        """The entry of a list (nodes, sectors, ...) with this id."""
        return next((e for e in self.lists.get(list_name, []) if e.id == entry_id), None)

    def mentioned(self, text: str, list_name: str = "terms") -> list[Entry]:
        entries = self.lists.get(list_name, [])
        return [entries[i] for i in self._matchers[list_name].find(text)] if entries else []

    def expansions(self, text: str, languages: tuple[str, ...] = ("zh", "en")) -> list[str]:
        """Names in the given languages of every term and sector the text mentions, except
        names already in it: what to add so documents in those languages match."""
        key = normalize(text)
        extra: dict[str, None] = {}
        for list_name in ("terms", "sectors"):
            for entry in self.mentioned(text, list_name):
                for language in languages:
                    for name in entry.names.get(language, ())[:1]:
                        if normalize(name) not in key:
                            extra[name] = None
        return list(extra)

    def canonical(self, list_name: str, value: str) -> str | None:
        """The id of the entry whose id or name equals the value, or None."""
        return self._ids.get(list_name, {}).get(normalize(value))

    def ids(self, list_name: str) -> list[str]:
        """The ids of a list's entries, in the glossary's order."""
        return [e.id for e in self.lists.get(list_name, []) if e.id]

    def suggest(self, list_name: str, value: str, extra: Iterable[str] = ()) -> str | None:
        """The id closest to a mistyped value ("munchen" → munich, "hydrogne" → hydrogen),
        compared with every id and name in every language, or None when nothing is close."""
        choices = dict(self._ids.get(list_name, {}))
        choices.update({normalize(e): e for e in extra})
        return closest(value, choices)


def closest(value: str, choices: dict[str, str], cutoff: float = 70) -> str | None:
    """The choice (normalised spelling → what to suggest) nearest to the value, or None."""
    from rapidfuzz import fuzz, process

    key = normalize(value)
    if not key or not choices:
        return None
    found = process.extractOne(key, list(choices), scorer=fuzz.WRatio, score_cutoff=cutoff)
    return choices[found[0]] if found else None


def _entries(raw: object, list_name: str, file: Path) -> list[Entry]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ValueError(f"{file}: '{list_name}' must be a list")
    entries = []
    for n, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ValueError(f"{file}: {list_name} item {n} must be a mapping")
        names: dict[str, tuple[str, ...]] = {}
        for language in LANGUAGES:
            value = item.get(language) or []
            values = [value] if isinstance(value, str) else list(value)
            names[language] = tuple(str(v) for v in values if str(v).strip())
        if not any(names.values()):
            raise ValueError(f"{file}: {list_name} item {n} names nothing in {LANGUAGES}")
        entry_id = item.get("id")
        if list_name != "terms" and not entry_id:
            raise ValueError(f"{file}: {list_name} item {n} needs an id")
        entries.append(Entry(str(entry_id) if entry_id else None, names))
    return entries


def load_glossary(path: Path | None = None) -> Glossary:
    file = path or DEFAULT_GLOSSARY_FILE
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"cannot read glossary {file}: {exc}") from None
    return Glossary({name: _entries(data.get(name), name, file) for name in LISTS})


@lru_cache(maxsize=4)
def cached_glossary(path: Path | None = None) -> Glossary:
    return load_glossary(path)
