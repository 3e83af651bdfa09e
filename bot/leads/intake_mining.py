"""What a lead description already says, read without a language model: the company (by its
legal form: GmbH, Ltd, SAS, 有限公司, 주식회사, בע"מ …), the node, sectors and needs (through
the glossary), the investment (knowledge.amounts) and the jobs, plus "field: value" lines.
The form then asks only for what is missing, in the language of the description's own words.

Everything here is a pure function of the text and the glossary: fast, and tested as a table.
"""

from __future__ import annotations

import contextlib
import re
from functools import lru_cache
from typing import Any

from bot.leads.intake_fields import FieldError, FieldReader, labelled
from knowledge.amounts import find_amounts, normalize_text
from knowledge.glossary import Glossary
from knowledge.language import WORKING_LANGUAGES, detect_language

# Latin legal forms, matched case-sensitively ("SA" is a form, "sa" is not), longest first.
_LATIN_FORMS = (
    "GmbH & Co. KG", "GmbH & Co KG", "Co., Ltd.", "Co., Ltd", "Co. Ltd.", "Co. Ltd",
    "Pte. Ltd.", "Pte Ltd", "Pty Ltd", "S.A.S.", "S.A.", "S.à r.l.", "S.p.A.", "S.r.l.",
    "L.L.C.", "B.V.", "N.V.", "SARL", "SAS", "SA", "gGmbH", "GmbH", "AG", "KG", "SE", "UG",
    "Ltd.", "Ltd", "LTD", "Limited", "Inc.", "Inc", "INC", "LLC", "LLP", "PLC", "plc",
    "Corp.", "Corp", "Corporation", "Co.", "BV", "NV", "Oy", "AB", "A/S", "ApS", "SpA", "Srl",
)  # fmt: skip
_LATIN_FORM = re.compile(
    r"(?<![\w&])(?:" + "|".join(re.escape(f) for f in _LATIN_FORMS) + r")(?![\w&])"
)
_CJK_FORM = re.compile(r"(?:股份有限公司|有限责任公司|有限公司|集团|株式会社)")
_KOREAN_FORM = r"(?:주식회사|유한회사|\(주\))"
_KOREAN_PREFIX = re.compile(_KOREAN_FORM + r"\s*(?P<name>[\w&\-]+(?:\s[A-Za-z][\w&\-]*)*)")
# Names start at a word's start (tried everywhere, a long word would cost its length squared).
_KOREAN_SUFFIX = re.compile(r"(?<![\w&\-])(?P<name>[\w&\-]{1,40})\s*" + _KOREAN_FORM)
_HEBREW_FORM = re.compile(r'בע"מ')
# Where a name cannot run across.
_BREAK = re.compile(r"[,;:!?()\[\]\n。，；：！？、]|\s[-–—]\s")
# Lowercase words that may join the capitalised words of a name (Hydrogène de France SAS).
_JOINERS = {"&", "and", "und", "de", "du", "des", "la", "le", "von", "der", "of", "et", "+"}
# Capitalised words that start a sentence rather than a name.
_LEADING = {
    "the", "a", "an", "die", "der", "das", "ein", "eine", "la", "le", "les", "l'", "un",
    "une", "new", "neuer", "neues", "nouveau", "nouvelle", "lead", "project", "projekt",
    "projet", "company", "firma", "société", "from", "aus", "de", "von", "with", "mit",
}  # fmt: skip
# Chinese words after which a name starts (来自慕尼黑的氢能科技有限公司, 一家名为…).
_CJK_BEFORE = re.compile(r".*(?:的|是|一家|名为|叫做|来自|推荐|线索|项目)")
_KOREAN_PARTICLE = re.compile(r"(?<=\w\w)(?:은|는|의|와|과|에서)$")
_KOREAN_STOP = {"리드", "신규", "새", "프로젝트", "기업", "회사"}
_HEBREW_STOP = {"ליד", "חדש", "חדשה", "פרויקט", "של", "עם", "היא", "הוא", "זו", "זה", "את", "מ"}
# The number in "60 jobs", "60 Arbeitsplätze", "60个就业岗位", "60 emplois", "일자리 60개",
# "60 משרות" (and the other way round: "就业60人", "일자리 60개").
_N = r"(?<![\d\-−])(?<!\d[.,])(?P<n>\d{1,3}(?:[,.' ]\d{3})+|\d+)"
_JOBS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        _N + r"\s*(?:(?:new|direct|permanent|full[- ]time|local|skilled|high[- ]skilled)\s+)*"
        r"(?:jobs?|positions|employees|staff|hires|workers)\b",
        _N + r"\s*(?:neue[n]?\s+)?(?:Arbeitsplätze[n]?|Jobs|Stellen|Mitarbeiter(?:innen|n)?|"
        r"Mitarbeitende[n]?|Beschäftigte[n]?)",
        _N + r"\s*(?:nouveaux\s+)?(?:emplois|postes|salariés|employés|collaborateurs)",
        _N + r"\s*(?:个|名|人)?\s*(?:新增)?(?:就业岗位|工作岗位|就业机会|岗位|职位|员工|就业)",
        r"(?:就业|岗位|招聘|雇佣|雇用)\s*" + _N + r"\s*(?:人|个|名)",
        r"일자리\s*" + _N + r"\s*개",
        _N + r"\s*(?:개의?|명의?)\s*(?:일자리|고용|채용|직원|인력)",
        r"(?:고용|채용)\s*" + _N + r"\s*명",
        _N + r"\s*(?:משרות|מקומות עבודה|עובדים|משרה)",
        r"(?:jobs|arbeitsplätze|emplois|משרות)\s*[:：]\s*" + _N,
    )
]
_EMAIL_OR_URL = re.compile(r"\S+@\S+|https?://\S+")
SURE_LANGUAGE = 0.55  # lingua's confidence for the best Latin-script language
LANGUAGE_SAMPLE = 2000  # characters: a description's language shows in its opening


def find_company(text: str) -> tuple[str, tuple[int, int]] | None:
    """The company named by its legal form, and its span in normalize_text(text)."""
    normal = normalize_text(text)
    candidates = [c for c in (_latin(normal), _cjk(normal), _korean(normal), _hebrew(normal)) if c]
    return min(candidates, key=lambda c: c[1][0]) if candidates else None


def _before(text: str, end: int) -> tuple[str, int]:
    """The text before `end` back to the last break, and where it starts."""
    window = max(0, end - 200)  # names are short; a long text must not cost its length per form
    breaks = [m.end() for m in _BREAK.finditer(text, window, end)]
    start = breaks[-1] if breaks else window
    return text[start:end], start


def _latin(text: str) -> tuple[str, tuple[int, int]] | None:
    for form in _LATIN_FORM.finditer(text):
        before, offset = _before(text, form.start())
        words = list(re.finditer(r"\S+", before))
        taken: list[re.Match[str]] = []
        for word in reversed(words[-8:]):
            token = word.group(0).strip("\"'«»")
            lower = token.casefold()
            if lower.endswith(("-based", "-basierte", "-basiertes")):
                break
            if token[:1].isupper() or token[:1].isdigit() or (lower in _JOINERS and taken):
                taken.insert(0, word)
            else:
                break
        while taken and (taken[0].group(0).casefold().strip("\"'«»") in _LEADING | _JOINERS):
            taken.pop(0)
        if taken:
            start = offset + taken[0].start()
            name = " ".join(f"{text[start : form.start()]} {form.group(0)}".split())
            return name.strip("\"'«» "), (start, form.end())
    return None


def _cjk(text: str) -> tuple[str, tuple[int, int]] | None:
    for form in _CJK_FORM.finditer(text):
        before, offset = _before(text, form.start())
        # A name is short: looking further back only costs time on a long line.
        tail = before[-60:]
        offset += len(before) - len(tail)
        run = re.search(r"(?:[A-Za-z0-9][\w&\-]*\s+)*[\w&·\-]+\s*$", tail)
        if run is None:
            continue
        name = run.group(0)
        cut = _CJK_BEFORE.match(name)
        start = offset + run.start() + (cut.end() if cut and cut.end() < len(name) else 0)
        company = text[start : form.end()].strip()
        if len(company) > len(form.group(0)):
            return company, (start, form.end())
    return None


def _korean(text: str) -> tuple[str, tuple[int, int]] | None:
    prefix = _KOREAN_PREFIX.search(text)
    suffix = next((m for m in _KOREAN_SUFFIX.finditer(text) if m["name"] not in _KOREAN_STOP), None)
    match = min((m for m in (prefix, suffix) if m), key=lambda m: m.start(), default=None)
    if match is None:
        return None
    if match is prefix:
        name = _KOREAN_PARTICLE.sub("", match["name"])
        end = match.start("name") + len(name)
        return text[match.start() : end], (match.start(), end)
    return match.group(0), (match.start(), match.end())


def _hebrew(text: str) -> tuple[str, tuple[int, int]] | None:
    form = _HEBREW_FORM.search(text)
    if form is None:
        return None
    before, offset = _before(text, form.start())
    words = list(re.finditer(r"\S+", before))
    taken = []
    for word in reversed(words[-3:]):
        if word.group(0) in _HEBREW_STOP:
            break
        taken.insert(0, word)
    while taken and taken[0].group(0) in ("חברת", "חברה"):
        taken.pop(0)
    if not taken:
        return None
    start = offset + taken[0].start()
    return " ".join(text[start : form.end()].split()), (start, form.end())


def find_jobs(text: str) -> int | None:
    """The number of jobs the text names ("60 jobs", "60个就业岗位", "일자리 60개")."""
    normal = normalize_text(text)
    hits = [(m.start(), m["n"]) for pattern in _JOBS for m in pattern.finditer(normal)]
    for _, raw in sorted(hits):
        number = int(re.sub(r"\D", "", raw))
        if number > 0:
            return number
    return None


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def mine(description: str, glossary: Glossary, nodes: tuple[str, ...]) -> dict[str, Any]:
    """The draft values the description holds (keys as in `Draft.values`)."""
    text = normalize_text(description)
    stated = _stated(text, FieldReader(glossary, nodes, "en"))
    found: dict[str, Any] = {}
    spans: list[tuple[int, int]] = []
    company = find_company(text)
    if "company" in stated:
        at = text.find(stated["company"])
        spans += [(at, at + len(stated["company"]))] if at >= 0 else []
    elif company is not None:
        found["company"] = company[0]
        spans.append(company[1])
    amounts = find_amounts(text)
    if amounts and amounts[0].value > 0 and amounts[0].currency:
        found["investment"] = [amounts[0].value, amounts[0].currency]
    rest = _blank(text, spans + [(a.start, a.end) for a in amounts])
    jobs = find_jobs(rest)  # "EUR 15m" is no 15 jobs
    if jobs is not None:
        found["expected_jobs"] = jobs
    # The node and needs come from the text around the name ("Isar Lab GmbH" needs no lab,
    # "Munich Hydrogen GmbH" may come from Boston); a sector in the name is a fair hint.
    mentioned = {e.id for e in glossary.mentioned(rest, "nodes") if e.id in nodes}
    if len(mentioned) == 1:
        found["node"] = mentioned.pop()
    for list_name, source in (("sectors", text), ("needs", rest)):
        ids = [e.id for e in glossary.mentioned(source, list_name) if e.id]
        if ids:
            found[list_name] = ids
    return {**found, **stated}  # what is said outright outranks a guess


def _stated(text: str, reader: FieldReader) -> dict[str, Any]:
    """Fields written as "Company: Isar Lab; jobs: 60" (in any of the six languages)."""
    stated: dict[str, Any] = {}
    for segment in re.split(r"[\n;；]|,\s+(?=\w[^,:：]{0,25}[:：])", text):
        pair = labelled(segment)
        if pair is None or pair[0] == "summary":
            continue
        with contextlib.suppress(FieldError):  # a wrong value there is asked for later
            stated[pair[0]] = reader.read(pair[0], pair[1])
    return stated


@lru_cache(maxsize=1)
def _latin_detector():  # type: ignore[no-untyped-def]
    from lingua import Language, LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_languages(
        Language.ENGLISH, Language.GERMAN, Language.FRENCH
    ).build()


def form_language(description: str, glossary: Glossary, fallback: str) -> str:
    """The language of the description's own words: company names, legal forms ("GmbH" is
    no German), amounts, node names and addresses removed first. When that leaves too little
    to be sure, the fallback (the language the person was answered in)."""
    text = normalize_text(description[:LANGUAGE_SAMPLE])
    spans = find_amounts(text)
    company = find_company(text)
    rest = _blank(text, [(a.start, a.end) for a in spans] + ([company[1]] if company else []))
    rest = _LATIN_FORM.sub(" ", _EMAIL_OR_URL.sub(" ", rest))
    for entry in glossary.lists.get("nodes", []):
        for variant in sorted(entry.variants(), key=len, reverse=True):
            rest = re.sub(re.escape(variant), " ", rest, flags=re.IGNORECASE)
    rest = re.sub(r"[\d\W_]+", " ", rest).strip()
    if len(re.findall(r"[^\W\d_]", rest)) < 4:
        return fallback
    language = detect_language(rest, default=fallback)
    if language not in ("en", "de", "fr"):
        return language if language in WORKING_LANGUAGES else fallback
    values = _latin_detector().compute_language_confidence_values(rest)
    best = values[0] if values else None
    if best is None or best.value < SURE_LANGUAGE:
        return fallback
    return best.language.iso_code_639_1.name.lower()
