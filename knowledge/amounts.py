"""Money amounts as people write them, in the six working languages: `EUR 15 million`,
`15 Mio. €`, `5 millions d'euros`, `1,200万元`, `€12m`, `2000万美元`, `$3.5M`, `₪10m`,
`10억 원`, `10 מיליון ש"ח`, `EUR 12.000.000`.

One parser for every way an amount comes in (chat intake, spreadsheet import), so an amount
accepted in one place is never rejected in another.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Currency names → ISO 4217. Latin-script names must stand as whole words ("euro" is not in
# "europe"); symbols and CJK, Hangul and Hebrew names need no boundary.
CURRENCIES: dict[str, tuple[str, ...]] = {
    "EUR": ("eur", "euro", "euros", "€", "欧元", "유로", "אירו", "יורו"),
    "USD": (
        "usd", "us$", "$", "dollar", "dollars", "us dollars", "us-dollar", "us-dollars",
        "美元", "美金", "달러", "미국 달러", "דולר", "דולרים",
    ),
    "CNY": ("cny", "rmb", "yuan", "renminbi", "¥", "元", "人民币", "人民币元", "위안", "יואן"),
    "GBP": ("gbp", "£", "pound", "pounds", "pfund", "livres sterling", "英镑", "파운드"),
    "ILS": (
        "ils", "nis", "₪", "shekel", "shekels", "new shekels", "schekel", "shekalim",
        "谢克尔", "新谢克尔", "셰켈", 'ש"ח', "שקל", "שקלים",
    ),
    "KRW": ("krw", "₩", "won", "원", "韩元", "韩币"),
    "JPY": ("jpy", "yen", "日元"),
    "HKD": ("hkd", "hk$", "港元", "港币"),
    "CHF": ("chf", "franken", "francs suisses", "瑞士法郎"),
    "CAD": ("cad",),
    "AUD": ("aud",),
    "SGD": ("sgd",),
}  # fmt: skip
# Scale words → factor. German and French write the decimal comma ("3,5 Mio."): the scales
# marked here decide how a comma reads.
SCALES: dict[str, float] = {
    "k": 1e3, "thousand": 1e3, "tsd": 1e3, "tausend": 1e3, "mille": 1e3, "千": 1e3, "천": 1e3,
    "אלף": 1e3,
    "万": 1e4, "만": 1e4,
    "m": 1e6, "mn": 1e6, "mln": 1e6, "mio": 1e6, "million": 1e6, "millions": 1e6,
    "millionen": 1e6, "百万": 1e6, "백만": 1e6, "מיליון": 1e6, "מליון": 1e6,
    "千万": 1e7, "천만": 1e7,
    "亿": 1e8, "억": 1e8,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9, "mrd": 1e9, "milliarde": 1e9,
    "milliarden": 1e9, "milliard": 1e9, "milliards": 1e9, "十亿": 1e9, "십억": 1e9,
    "מיליארד": 1e9,
    "조": 1e12,
}  # fmt: skip
_DECIMAL_COMMA_SCALES = frozenset(
    {"tsd", "tausend", "mille", "mio", "millions", "millionen", "mrd", "milliarde", "milliarden"}
    | {"milliard", "milliards"}
)
_BY_NAME = {name: code for code, names in CURRENCIES.items() for name in names}
_LATIN = re.compile(r"^[a-z]")
_NOT_LETTER = r"(?![a-zà-ÿ])"
_ISO = "(?:" + "|".join(c.lower() for c in CURRENCIES) + ")"
_ISO_AFTER = f"(?={_ISO}{_NOT_LETTER})"


# Codes that are also words ("ils ont 60 emplois", "c.-à-d." written "cad"): capitals only.
_CAPITALS_ONLY = {"ils", "cad", "aud"}


def _alternatives(names: list[str], *, scale: bool = False) -> str:
    parts = []
    for name in sorted(names, key=len, reverse=True):
        escaped = re.escape(name).replace(r"\ ", r"\s+")
        if name in _CAPITALS_ONLY:
            escaped = f"(?-i:{name.upper()})"
        if _LATIN.match(name):
            # A scale may run into an ISO code ("5 MEUR"); otherwise whole words only.
            after = f"(?:{_NOT_LETTER}|{_ISO_AFTER})" if scale else _NOT_LETTER
            parts.append(f"(?<![a-zà-ÿ]){escaped}{after}")
        else:
            parts.append(escaped)
    return "|".join(parts)


_CURRENCY = _alternatives(list(_BY_NAME))
# Before a number only symbols and codes ("we won 3 prizes" is no 3 KRW, and in 직원 40명
# the 원 ends the word for staff); names follow the number.
_CURRENCY_BEFORE = _alternatives(
    [n for n in _BY_NAME if not n.isalpha() or n.upper() in CURRENCIES or n in ("人民币", "rmb")]
)
_SCALE = _alternatives(list(SCALES), scale=True)
_NUMBER = r"\d{1,3}(?:[,.'\u00a0\u202f ]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
# Currency before or after (or both: 人民币5000万元), a scale word, "de"/"d'" before a
# French currency name ("5 millions d'euros").
_AMOUNT = (
    rf"(?:(?P<pre>{_CURRENCY_BEFORE})\s*|(?<![0-9a-zà-ÿ])(?<![0-9][.,]))(?P<sign>[-−])?\s*(?P<num>{_NUMBER})"
    rf"(?:\s*(?P<scale>{_SCALE})\.?(?P<glued>{_ISO}{_NOT_LETTER})?)?"
    rf"(?:\s*(?:(?:de|d'|of)\s*)?(?P<post>{_CURRENCY}))?"
)
_PATTERN = re.compile(_AMOUNT, re.IGNORECASE)
_WHOLE = re.compile(rf"\s*{_AMOUNT}\s*", re.IGNORECASE)
_QUOTES = str.maketrans({"’": "'", "‘": "'", "׳": "'", "״": '"', "“": '"', "”": '"'})


@dataclass(frozen=True)
class Amount:
    value: float
    currency: str | None
    start: int  # the span in normalize_text(text)
    end: int


def normalize_text(text: str) -> str:
    """Full-width digits and punctuation to ASCII, quotes unified (Hebrew ש״ח is ש"ח): the
    text the spans of `find_amounts` refer to."""
    return unicodedata.normalize("NFKC", text).translate(_QUOTES)


def currency_code(name: str) -> str | None:
    """The ISO code of a currency name or symbol ("euros", "美元", "₪", "usd"), or None."""
    key = " ".join(normalize_text(name).casefold().split())
    return _BY_NAME.get(key)


def _number(raw: str, scale: str) -> float:
    digits = re.sub(r"[\s'\u00a0\u202f]", "", raw)
    decimal_comma = scale in _DECIMAL_COMMA_SCALES
    if "," in digits and "." in digits:
        # Whichever comes last is the decimal separator: 1.250,5 and 1,250.5.
        grouping = "." if digits.rfind(",") > digits.rfind(".") else ","
        digits = digits.replace(grouping, "").replace(",", ".")
    elif "," in digits:
        if re.fullmatch(r"\d{1,3}(,\d{3})+", digits) and not decimal_comma:
            digits = digits.replace(",", "")
        else:
            digits = digits.replace(",", ".") if digits.count(",") == 1 else digits
    elif "." in digits:
        # 12.000.000 groups thousands; so does 12.000 unless a scale follows (1.500 million
        # is one and a half), except a German or French one (1.500 Mio. is 1500 Mio.).
        several = digits.count(".") > 1
        grouped = re.fullmatch(r"\d{1,3}(\.\d{3})+", digits) is not None
        if grouped and (several or not scale or decimal_comma):
            digits = digits.replace(".", "")
    return float(digits)


def _read(match: re.Match[str]) -> tuple[float, str | None] | None:
    scale = re.sub(r"\s+", " ", (match["scale"] or "").casefold())
    try:
        value = _number(match["num"], scale)
    except ValueError:
        return None
    value *= SCALES.get(scale, 1.0)
    if match["sign"]:
        value = -value
    currency = None
    for part in (match["post"], match["glued"], match["pre"]):  # a currency before the number wins
        if part:
            currency = currency_code(part)
    return value, currency


def find_amounts(text: str) -> list[Amount]:
    """Every amount with a currency in the text (a bare number is not an amount here: it may
    be jobs, a year or square metres). Spans refer to normalize_text(text)."""
    found = []
    for match in _PATTERN.finditer(normalize_text(text)):
        if not (match["pre"] or match["post"] or match["glued"]):
            continue
        read = _read(match)
        if read is not None:
            found.append(Amount(read[0], read[1], match.start(), match.end()))
    return found


def read_amount(text: str) -> tuple[float, str | None] | None:
    """The amount the text is, its currency None when it names none ("12000000", as an
    export writes it next to a currency column); None when the text is not one amount."""
    normal = normalize_text(text).strip()
    match = _WHOLE.fullmatch(normal)
    if match is not None:
        return _read(match)
    amounts = find_amounts(normal)
    if len(amounts) == 1:  # "ca. EUR 20m", "约2000万美元"
        return amounts[0].value, amounts[0].currency
    return None


def parse_amount(text: str) -> tuple[float, str] | None:
    """(amount in units, ISO currency) of an amount written with its currency, else None."""
    found = read_amount(text)
    if found is None or found[1] is None:
        return None
    return found[0], found[1]
