"""The period a question asks about ("2019年第四季度", "Q4 2019", "im Jahr 2027") and the period
a document covers (front matter `period`, a quarter or year in its title, its validity, the
year it was published), so search can prefer documents of the period asked for and answers can
say when their sources are of another."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_YEAR = r"(19[5-9]\d|20\d\d)"
_QUARTER_WORDS = {
    "一": 1, "二": 2, "三": 3, "四": 4,
    "ראשון": 1, "שני": 2, "שלישי": 3, "רביעי": 4,
}  # fmt: skip
_QUARTERS = [
    # (pattern, group of the year, group of the quarter)
    (re.compile(rf"\bQ([1-4])\s*[/-]?\s*{_YEAR}(?!\d)", re.I), 2, 1),
    (re.compile(rf"(?<!\d){_YEAR}\s*[/-]?\s*Q([1-4])\b", re.I), 1, 2),
    (re.compile(rf"(?<!\d){_YEAR}\s*年?\s*第?\s*([一二三四1-4])\s*季度"), 1, 2),
    (re.compile(rf"(?<!\d)([1-4])\.\s*Quartal\s*(?:des\s+Jahres\s+)?{_YEAR}(?!\d)", re.I), 2, 1),
    (re.compile(rf"(?<!\d){_YEAR}\s*년\s*([1-4])\s*분기"), 1, 2),
    (re.compile(rf"(?<!\d)([1-4])\s*(?:e|er|ème|eme)\s+trimestre\s+(?:de\s+)?{_YEAR}", re.I), 2, 1),
    (re.compile(rf"רבעון\s+ה?(ראשון|שני|שלישי|רביעי)\s+(?:של\s+|ב-?)?{_YEAR}"), 2, 1),
]
# A four-digit number is not a year when it is an amount, a document number's bracketed year
# (郑高管〔2025〕5号 names a document, not a period) or part of a longer number.
_UNITS = r"万|亿|元|%|€|euro|eur|usd|rmb|yuan|원|₪|ש\"ח|m²|km"
_YEAR_IN_TEXT = re.compile(
    rf"(?<![\d.,〔\[(¥$€₪])(?<!No\. ){_YEAR}(?![\d〕\]])(?!\s*(?:{_UNITS}))", re.I
)


@dataclass(frozen=True)
class Period:
    start: int  # YYYYMMDD, inclusive
    end: int
    label: str  # as shown to people: "2019 Q4", "2027", "2021–2023"

    def overlaps(self, other: Period) -> bool:
        return self.start <= other.end and other.start <= self.end

    @property
    def quarter(self) -> tuple[int, int] | None:
        """(year, quarter number) when the period is one calendar quarter."""
        year, first = divmod(self.start // 100, 100)
        if (
            first in (1, 4, 7, 10)
            and self.start % 100 == 1
            and self == quarter(year, first // 3 + 1)
        ):
            return year, first // 3 + 1
        return None


def _ymd(day: dt.date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def quarter(year: int, number: int) -> Period:
    first = (number - 1) * 3 + 1
    last_day = {1: 331, 2: 630, 3: 930, 4: 1231}[number]
    return Period(year * 10000 + first * 100 + 1, year * 10000 + last_day, f"{year} Q{number}")


def years(first: int, last: int) -> Period:
    label = str(first) if first == last else f"{first}–{last}"
    return Period(first * 10000 + 101, last * 10000 + 1231, label)


def _quarter_in(text: str) -> Period | None:
    for pattern, year_group, quarter_group in _QUARTERS:
        match = pattern.search(text)
        if match:
            raw = match.group(quarter_group)
            number = _QUARTER_WORDS.get(raw) or int(raw)
            return quarter(int(match.group(year_group)), number)
    return None


def _years_in(text: str) -> Period | None:
    found = [int(y) for y in _YEAR_IN_TEXT.findall(text)]
    return years(min(found), max(found)) if found else None


def asked_period(question: str) -> Period | None:
    """The quarter, year or span of years the question names, if any."""
    return _quarter_in(question) or _years_in(question)


def _date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _explicit(value: Any) -> Period | None:
    text = str(value).strip()
    if re.fullmatch(r"\d{4}", text):
        return years(int(text), int(text))
    return _quarter_in(text) or _years_in(text)


def document_period(meta: Mapping[str, Any]) -> Period | None:
    """What a document covers: its front-matter `period`, else a quarter in its title, else its
    validity (effective from … expires), else the years in its title, else the year it was
    published. None when nothing tells."""
    if meta.get("period") not in (None, ""):
        found = _explicit(meta["period"])
        if found is not None:
            return found
    title = str(meta.get("title") or "")
    in_title = _quarter_in(title)
    if in_title is not None:
        return in_title
    start, end = _date(meta.get("effective_from")), _date(meta.get("expires"))
    if start is not None or end is not None:
        begin = start or _date(meta.get("published")) or dt.date(1900, 1, 1)
        finish = end or dt.date(9999, 12, 31)
        label = f"{begin.isoformat()} – {end.isoformat()}" if end else f"{begin.isoformat()} –"
        return Period(_ymd(begin), _ymd(finish), label)
    title_years = _years_in(title)
    if title_years is not None:
        return title_years
    published = _date(meta.get("published"))
    return years(published.year, published.year) if published is not None else None


def strip_periods(text: str) -> str:
    """The text without the quarters and years it names (for a question whose period a
    follow-up replaces)."""
    for pattern, _, _ in _QUARTERS:
        text = pattern.sub(" ", text)
    return re.sub(r"\s+", " ", _YEAR_IN_TEXT.sub(" ", text)).strip()
