"""The figures a text states, by kind (an amount of money, a date, a count, a rate), and the
amounts themselves as numbers, in the ways the six working languages write them.

Used to check that a passage holds the kind of figure a question asks for, to pick the
sentence that carries it, and to gloss an amount quoted in another language (500万元 is
5,000,000 CNY). Phone numbers, document numbers (〔2025〕3号) and list numbers are no figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

FigureKind = Literal["amount", "date", "count", "rate"]
KINDS: tuple[FigureKind, ...] = ("amount", "date", "count", "rate")

_NUM = r"\d+(?:[.,  '’]\d{3})*(?:[.,]\d+)?"
_CURRENCY_WORDS = {
    "cny": "CNY",
    "rmb": "CNY",
    "yuan": "CNY",
    "yuans": "CNY",
    "元": "CNY",
    "人民币": "CNY",
    "위안": "CNY",
    "יואן": "CNY",
    "eur": "EUR",
    "euro": "EUR",
    "euros": "EUR",
    "€": "EUR",
    "欧元": "EUR",
    "유로": "EUR",
    "אירו": "EUR",
    "usd": "USD",
    "us$": "USD",
    "$": "USD",
    "dollar": "USD",
    "dollars": "USD",
    "us-dollar": "USD",
    "美元": "USD",
    "달러": "USD",
    "דולר": "USD",
    "₪": "ILS",
    'ש"ח': "ILS",
    "שקל": "ILS",
    "ils": "ILS",
    "원": "KRW",
    "krw": "KRW",
    "gbp": "GBP",
    "£": "GBP",
    "英镑": "GBP",
}
_SCALES = {
    "万": 1e4,
    "亿": 1e8,
    "千": 1e3,
    "thousand": 1e3,
    "k": 1e3,
    "million": 1e6,
    "millions": 1e6,
    "mio": 1e6,
    "mio.": 1e6,
    "millionen": 1e6,
    "billion": 1e9,
    "bn": 1e9,
    "mrd": 1e9,
    "mrd.": 1e9,
    "milliarden": 1e9,
    "milliard": 1e9,
    "milliards": 1e9,
    "만": 1e4,
    "억": 1e8,
    "천만": 1e7,
    "백억": 1e10,
    "천억": 1e11,
    "조": 1e12,
    "מיליון": 1e6,
    "אלף": 1e3,
    "מיליארד": 1e9,
}
_SCALE = (
    r"(?:万|亿|千|thousand|million|millions|billion|bn|mio\.?|millionen|mrd\.?|milliarden|"
    r"milliards?|천만|백억|천억|조|만|억|מיליון|מיליארד|אלף)"
)
_CUR_BEFORE = r"(?:rmb|cny|eur|usd|us\$|€|\$|£|gbp|₪|ils|人民币)"
_CUR_AFTER = (
    r"(?:元|美元|欧元|英镑|yuans?|euros?|eur|rmb|cny|usd|us-dollar|dollars?|€|위안|원|달러|유로|"
    r"יואן|אירו|דולר|שקל|ש\"ח|₪)"
)
# "RMB 5 million", "€ 2.5 Mio.", "500万元", "5 millions de yuans", "500만 위안", "5 מיליון יואן".
_AMOUNT = re.compile(
    # Korean writes trillions and the rest together: "10조 9천억 원" is 10.9 trillion won.
    rf"(?P<tn>{_NUM})\s?조\s?(?P<n0>{_NUM})\s?(?P<s0>천억|백억|억)\s?(?P<cur0>원)"
    rf"|(?P<cur1>{_CUR_BEFORE})\s?(?P<n1>{_NUM})\s?(?P<s1>{_SCALE})?(?![\w])"
    rf"|(?P<n2>{_NUM})\s?(?P<s2>{_SCALE})?\s?(?:de\s+|d')?(?P<cur2>{_CUR_AFTER})",
    re.IGNORECASE,
)
_RATE = re.compile(
    rf"{_NUM}\s?(?:%|％|percent|per cent|prozent|pour cent|퍼센트|אחוז)|百分之|"
    r"\d\s?(?:元|yuan|rmb)?\s?/\s?(?:公斤|千克|吨|度|kg|kwh|m²|平方米)|"
    r"per (?:kg|kilogram|tonne|kwh|square metre)|pro (?:kg|kilogramm)|par (?:kg|kilo)",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d{2}(?!\d)|\d{1,2}\s?月\s?\d{1,2}\s?日|\d{1,2}\.\s?(?:januar|februar|märz|"
    r"april|mai|juni|juli|august|september|oktober|november|dezember)|"
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december|janvier|février|mars|avril|juin|juillet|août|septembre|octobre|novembre|"
    r"décembre)\b|\bq[1-4]\b|第[一二三四1-4]季度|\d\s?분기|\d{1,2}월|רבעון|quarter|quartal|trimestre",
    re.IGNORECASE,
)
# A count: a number with a counter word, or any other number left once amounts, rates and
# dates are taken out ("no older than 55", "12 Leads").
_COUNT = re.compile(
    r"\d+\s?(?:个|家|条|名|人|项|辆|座|套|次|件|位|批|所|개|명|건|곳|대)|(?<![\d.,])\d{1,6}(?![\d])",
)
# Not figures: phone numbers, document numbers, list markers, section numbers.
_NOT_FIGURES = re.compile(
    r"\d{3,4}-\d{7,8}|[〔\[(（]\s?\d{4}\s?[〕\])）]\s?\d+\s?号|^\s*\d{1,3}[.)、]\s|\b\d+\.\d+\s+(?=[A-Z])",
    re.MULTILINE,
)


def _strip(text: str) -> str:
    return _NOT_FIGURES.sub(" ", text)


def figure_kinds(text: str) -> set[FigureKind]:
    """The kinds of figure the text states."""
    clean = _strip(text)
    kinds: set[FigureKind] = set()
    if _AMOUNT.search(clean):
        kinds.add("amount")
    if _RATE.search(clean):
        kinds.add("rate")
    if _DATE.search(clean):
        kinds.add("date")
    without = _DATE.sub(" ", _RATE.sub(" ", _AMOUNT.sub(" ", clean)))
    if _COUNT.search(without):
        kinds.add("count")
    return kinds


@dataclass(frozen=True)
class Amount:
    value: float
    currency: str  # ISO 4217
    text: str  # as written
    start: int
    end: int


def _number(raw: str) -> float | None:
    raw = raw.replace(" ", "").replace(" ", "").replace("'", "").replace("’", "")
    if re.fullmatch(r"\d{1,3}(?:[.,]\d{3})+", raw):
        return float(re.sub(r"[.,]", "", raw))  # thousands separators: 300,000 / 300.000
    try:
        return float(raw.replace(",", "."))
    except ValueError:
        return None


def amounts(text: str) -> list[Amount]:
    """The amounts of money in the text with their values, in order."""
    found = []
    for match in _AMOUNT.finditer(text):
        raw = match.group("n0") or match.group("n1") or match.group("n2")
        scale = (match.group("s0") or match.group("s1") or match.group("s2") or "").lower()
        currency = (match.group("cur0") or match.group("cur1") or match.group("cur2") or "").lower()
        value = _number(raw)
        code = _CURRENCY_WORDS.get(currency)
        if value is None or code is None:
            continue
        total = value * _SCALES.get(scale, 1.0)
        trillions = _number(match.group("tn")) if match.group("tn") else None
        if trillions is not None:
            total += trillions * _SCALES["조"]
        found.append(
            Amount(
                total,
                code,
                match.group(0).strip(),
                match.start(),
                match.end(),
            )
        )
    return found
