"""Loading the `.po` files and formatting with Babel (see the package docstring)."""

from __future__ import annotations

import datetime as dt
import gettext
import io
import re
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import (
    format_compact_decimal,
    format_currency,
    format_decimal,
    format_percent,
)

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "zbrain"
LANGUAGES = ("zh", "en", "de", "ko", "he", "fr")
LANGUAGE_NAMES = {
    "zh": "Chinese (简体中文)",
    "en": "English",
    "de": "German (Deutsch)",
    "ko": "Korean (한국어)",
    "he": "Hebrew (עברית)",
    "fr": "French (Français)",
}
# The CLDR locale each working language is formatted in.
_BABEL_LOCALES = {
    "zh": "zh_Hans_CN",
    "en": "en_US",
    "de": "de_DE",
    "ko": "ko_KR",
    "he": "he_IL",
    "fr": "fr_FR",
}
# Old and alternative tags clients send for the same languages.
_ALIASES = {"iw": "he", "cmn": "zh"}


class MissingMessageError(KeyError):
    """A message id no catalogue has: a bug in the code, caught by the catalogue tests."""


def supported(language: str | None) -> str:
    """The working language for a language tag ("de", "zh-CN", "he_IL", "iw"), else English."""
    base = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    base = _ALIASES.get(base, base)
    return base if base in LANGUAGE_NAMES else "en"


def language_name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)


def babel_locale(language: str) -> Locale:
    return Locale.parse(_BABEL_LOCALES[supported(language)])


def po_file(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def _translations(language: str) -> gettext.GNUTranslations:
    # The .po files are the only source: compiled in memory, so there is no build step to forget.
    with po_file(language).open("rb") as handle:
        catalog = read_po(handle, locale=_BABEL_LOCALES[language], domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


@lru_cache(maxsize=len(LANGUAGES))
def catalogue_keys(language: str) -> frozenset[str]:
    """The message ids translated in a language (for the completeness tests)."""
    with po_file(language).open("rb") as handle:
        catalog = read_po(handle, locale=_BABEL_LOCALES[language], domain=DOMAIN)
    return frozenset(
        message.id if isinstance(message.id, str) else message.id[0]
        for message in catalog
        if message.id and message.string and all(message.string)
    )


def has(key: str, language: str = "en") -> bool:
    return key in catalogue_keys(supported(language))


def _lookup(key: str, language: str) -> str:
    for candidate in dict.fromkeys((supported(language), "en")):
        if key in catalogue_keys(candidate):
            return _translations(candidate).gettext(key)
    raise MissingMessageError(key)


def text(key: str, language: str, **values: object) -> str:
    """The message in the language (English where a translation is missing)."""
    return _lookup(key, language).format(**values)


def plural(key: str, count: int, language: str, **values: object) -> str:
    """The message in the plural form the language uses for `count`; `{count}` is the number
    formatted for the language unless given."""
    values.setdefault("count", number(count, language))
    for candidate in dict.fromkeys((supported(language), "en")):
        if key in catalogue_keys(candidate):
            return _translations(candidate).ngettext(key, key, count).format(**values)
    raise MissingMessageError(key)


def number(value: float | int, language: str, *, digits: int | None = None) -> str:
    """12345.6 → '12,345.6' (en), '12.345,6' (de), '12 345,6' (fr)."""
    pattern = None if digits is None else "#,##0." + "0" * digits if digits else "#,##0"
    return format_decimal(value, format=pattern, locale=babel_locale(language))


def money(amount: float | int, currency: str, language: str) -> str:
    """An amount in its own currency, written the language's way: '€15,000,000' (en),
    '15.000.000 €' (de); whole amounts without decimals."""
    locale = babel_locale(language)
    if float(amount).is_integer():
        pattern = locale.currency_formats["standard"].pattern.replace(".00", "")
        return format_currency(
            amount, currency.upper(), pattern, locale=locale, currency_digits=False
        )
    return format_currency(amount, currency.upper(), locale=locale)


# Languages that count large numbers in ten-thousands (万, 만) write 300,000 as 30万.
_MYRIAD = {"zh", "ko"}


def large_number(value: float | int, language: str) -> str:
    """5000000 → '5 million' (en), '5 Millionen' (de), '500万' (zh); amounts below a million
    (ten thousand in zh and ko), and any that would need rounding, with all their digits."""
    language = supported(language)
    scales = (1e8, 1e4) if language in _MYRIAD else (1e9, 1e6)
    for scale in scales:
        if abs(value) >= scale and abs(round(value / scale, 2) * scale - value) < 0.5:
            compact = format_compact_decimal(
                value, format_type="long", locale=babel_locale(language), fraction_digits=2
            )
            return compact.replace("\u200f", "")  # Babel's right-to-left mark in Hebrew
    return number(value, language)


def amount(value: float | int, currency: str, language: str) -> str:
    """An amount as a reader of the language says it: 'RMB 5 million', '5 Millionen RMB',
    '500万元'; currencies other than the yuan as `money` writes them."""
    if currency.upper() == "CNY":
        return text("money.cny", language, amount=large_number(value, language))
    return money(value, currency, language)


def percent(value: float, language: str) -> str:
    return format_percent(value, locale=babel_locale(language))


def date(value: dt.date, language: str, style: str = "medium") -> str:
    return format_date(value, format=style, locale=babel_locale(language))


_HEBREW_LETTER = re.compile(r"[\u05d0-\u05ea]")


def list_of(items: list[str], language: str) -> str:
    """'a, b and c' the language's way ('a、b和c' in zh)."""
    if not items:
        return ""
    if supported(language) != "he" or len(items) < 2:
        return format_list(items, locale=babel_locale(language))
    # Hebrew's "and" is a prefix (ומינכן), written with a hyphen before a word in another
    # script or a number (ו-L-0012, ו-3): CLDR leaves that to the formatter, as ICU does.
    *first, last = items
    joined = format_list([*first, "\0"], locale=babel_locale(language))
    vav = "ו" if _HEBREW_LETTER.match(last) else "ו-"
    return joined.replace("ו\0", vav + last).replace("\0", last)
