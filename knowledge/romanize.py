"""Korean text in Latin letters (Revised Romanization, syllable by syllable), so that a name a
question writes in Latin letters ("Pangyo", "Daedeok", "Seongnam") can be found in a Korean
passage that writes it in Hangul (판교, 대덕, 성남). Place names are romanized this way on
maps and signs; loanwords (테크노밸리, "techno valley") and company names (삼성, "Samsung")
are not, and are not found by it.
"""

from __future__ import annotations

from functools import lru_cache

_FIRST_SYLLABLE, _LAST_SYLLABLE = 0xAC00, 0xD7A3
_INITIALS = (
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t",
    "p", "h",
)  # fmt: skip
_VOWELS = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo",
    "we", "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
# A final consonant as written before a pause; Revised Romanization writes an initial ㄱ as
# "g" (교 "gyo") but a final one as "k" (덕 "deok"), and ㄹ as "l" at the end.
_FINALS = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p",
    "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip


@lru_cache(maxsize=2048)
def hangul_latin(text: str) -> str:
    """The text in lower case with every Hangul syllable romanized; other characters as they
    are."""
    out = []
    previous_final = ""
    for char in text:
        code = ord(char)
        if _FIRST_SYLLABLE <= code <= _LAST_SYLLABLE:
            initial, rest = divmod(code - _FIRST_SYLLABLE, 21 * 28)
            vowel, final = divmod(rest, 28)
            # ㄹㄹ is written "ll" (울릉도 "Ulleungdo").
            start = (
                "l" if previous_final == "l" and _INITIALS[initial] == "r" else _INITIALS[initial]
            )
            previous_final = _FINALS[final]
            out.append(start + _VOWELS[vowel] + previous_final)
        else:
            previous_final = ""
            out.append(char.lower())
    return "".join(out)
