"""Language tags and detection for the six working languages (and a few neighbours)."""

from __future__ import annotations

import re
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

WORKING_LANGUAGES = ("zh", "en", "de", "ko", "he", "fr")

# Neighbours are included so that, say, Spanish or Japanese text is not forced into
# one of the six; a small set keeps the detector fast and its memory low.
_DETECTABLE = (
    Language.CHINESE,
    Language.ENGLISH,
    Language.GERMAN,
    Language.KOREAN,
    Language.HEBREW,
    Language.FRENCH,
    Language.JAPANESE,
    Language.SPANISH,
    Language.ITALIAN,
    Language.RUSSIAN,
    Language.ARABIC,
    Language.DUTCH,
    Language.PORTUGUESE,
)

_TAG = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


@lru_cache(maxsize=1)
def _detector() -> LanguageDetector:
    return LanguageDetectorBuilder.from_languages(*_DETECTABLE).build()


def normalize_tag(tag: str) -> tuple[str, str] | None:
    """Split a BCP-47-ish tag into (primary language, full tag), e.g. zh-Hant → (zh, zh-Hant).

    Returns None when the value is not a language tag at all.
    """
    value = str(tag).strip()
    if not _TAG.match(value):
        return None
    parts = re.split(r"[-_]", value)
    primary = parts[0].lower()
    if primary == "iw":  # the pre-1989 code for Hebrew still appears in old systems
        primary = "he"
    rest = [p.title() if len(p) == 4 else p.upper() if len(p) == 2 else p for p in parts[1:]]
    return primary, "-".join([primary, *rest])


def _script_language(text: str) -> str | None:
    """Scripts that identify the language outright; cheaper and surer than statistics."""
    counts = {"he": 0, "ko": 0, "ja": 0, "zh": 0, "latin": 0}
    for char in text:
        code = ord(char)
        if 0x0590 <= code <= 0x05FF:
            counts["he"] += 1
        elif 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            counts["ko"] += 1
        elif 0x3040 <= code <= 0x30FF:
            counts["ja"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF:
            counts["zh"] += 1
        elif char.isalpha() and code < 0x0250:
            counts["latin"] += 1
    if counts["ja"] and counts["ja"] * 5 >= counts["zh"]:
        return "ja"
    # Chinese characters carry several Latin letters' worth of meaning each.
    weighted = {**counts, "zh": counts["zh"] * 3}
    best = max(weighted, key=weighted.__getitem__)
    if weighted[best] == 0 or best == "latin":
        return None
    return best


def detect_language(text: str, default: str = "en") -> str:
    """Best-guess ISO 639-1 code of the text's main language."""
    sample = text[:4000]
    by_script = _script_language(sample)
    if by_script:
        return by_script
    if not re.search(r"[^\W\d_]", sample):
        return default
    found = _detector().detect_language_of(sample)
    if found is None:
        return default
    iso: IsoCode639_1 = found.iso_code_639_1
    return iso.name.lower()
