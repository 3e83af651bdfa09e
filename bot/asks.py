"""What a question asks for: the kind of figure (an amount, a date, a count, a rate) and the
specific things it names (a year, a talent category, a place, a park term or sector), so that
the answer can be checked to hold them and the sentence that carries them can be quoted.

A thing counts as found in a passage when the passage writes it in any language the glossary
knows (a German "München" is found as 慕尼黑), or, for things the glossary does not know (a
city such as Wuhan or 洛阳), as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from knowledge.figures import FigureKind, figure_kinds
from knowledge.glossary import Entry, Glossary, normalize
from knowledge.romanize import hangul_latin
from retrieval.periods import asked_period

_AMOUNT_ASKED = re.compile(
    r"多少钱|多少万|金额|额度|补贴多少|奖励多少|资助多少|多高|how much|what amount|how large|"
    r"how big|wie hoch|wie viel(?!e)|welche[rn]? (?:betrag|summe|höhe)|betrag|höhe der|"
    r"combien(?! de)|quel montant|montant|s'élève|à hauteur|얼마|금액|액수|규모|כמה כסף|"
    r"מה הסכום|סכום|בכמה|גובה",
    re.IGNORECASE,
)
_COUNT_ASKED = re.compile(
    r"多少(?:个|家|条|名|人|项|辆|座|套|次|件|位|批|所)|几(?:个|家|条|名|项|座|位|批)|how many|"
    r"number of|wie viele|anzahl|combien de|nombre de|몇\s?(?:개|명|건|곳|대|골)|מספר ה",
    re.IGNORECASE,
)
_DATE_ASKED = re.compile(
    r"什么时候|何时|哪天|哪一天|截止|日期|哪年|几月|哪一年|\bwhen\b|what date|deadline|until when|"
    r"by when|which year|what year|\bwann\b|bis wann|frist|datum|stichtag|welche[ms]? jahr|"
    r"\bquand\b|quelle date|quelle année|jusqu'à quand|délai|date limite|언제|날짜|기한|마감|"
    r"몇\s?년도|몇\s?년에|어느 해|מתי|תאריך|עד מתי|מועד|באיזו שנה|באיזה שנה|מאיזו שנה",
    re.IGNORECASE,
)
_RATE_ASKED = re.compile(
    r"比例|税率|利率|百分之|几成|费率|\brate\b|percentage|percent|\bratio\b|\bsatz\b|zinssatz|"
    r"steuersatz|quote|prozent|anteil|\btaux\b|pourcentage|proportion|비율|세율|금리|퍼센트|"
    r"שיעור|אחוז",
    re.IGNORECASE,
)
# A size ("how large is the park", "quelle est la surface") is a number with a unit, which
# figures.py reads as a count; "how big is the fund" may still be answered by an amount.
_SIZE_ASKED = re.compile(
    r"多大|面积|占地|how large|how big|what size|wie groß|welche fläche|fläche|quelle surface|"
    r"quelle taille|superficie|surface|넓이|면적|규모|גודל|שטח",
    re.IGNORECASE,
)
# Chinese "多少"/"几" alone and Korean "몇" ask for some figure without saying which.
_NUMBER_ASKED = re.compile(r"多少|几|몇|כמה", re.IGNORECASE)

_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
# The letter is a capital ("a Class II device" names no category A); the words any case.
_CATEGORY = re.compile(
    r"(?i:category|categories|cat\.|class|kategorie|klasse|catégorie|classe|קטגוריה|סוג)\s*"
    r"[\"'“]?([A-H])(?![A-Za-z])|(?<![A-Za-z])([A-H])\s?(?:类|級|级|급|(?i:-?class|-?klasse)\b)",
)
# A place the glossary does not know: a Chinese place name (jieba tags them "ns"), a
# capitalised Latin name before a zone or an administrative word or after "in" (not German
# "im": every German noun is capitalised, "im Talentapartment" names no place), and a Korean
# name before 하이테크존/고신구.
_LATIN_PLACE = re.compile(
    r"(?:\b(?:in|im|at|à|de|du|aus|from)\s+(?:der\s+|the\s+|la\s+)?)?"
    r"\b([A-Z][a-zà-ÿ]+(?:\s[A-Z][a-zà-ÿ]+)?)(?:'s)?\s+(?i:district|high-tech zone|hi-tech zone|"
    r"free trade port|free trade zone|province|city|valley|new area|hightech-zone|bezirk|"
    r"provinz|freihandelshafen|district|province|zone high-tech)\b"
    r"|\b(?:in|à)\s+([A-Z][a-zà-ÿ]{3,})\b(?=\s*[?？.!,]|$)"
    r"|\b(?:zone high-tech|zone de haute technologie|parc high-tech|Hightech-Zone)\s+(?:de\s+)?"
    r"([A-Z][a-zà-ÿ]+)",
)
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HANGUL = re.compile(r"[가-힣]")
# A word of a name long enough to be found by its romanization: shorter ones ("Gu", "Jung")
# sit inside too many romanized Korean words.
_LATIN_NAME = re.compile(r"[A-Za-z]{5,}")
_ZH_PLACE_WORD = re.compile(r"^(?:高新|开发区|经开区|自贸|自由贸易|新区|光谷|市|省|县|区|州)")
_KO_PLACE = re.compile(r"([가-힣]{2,5})\s?(?:하이테크존|고신구|첨단산업단지|특구|개발구)")
# The park's own city, province and country (every document is about them) and words that
# sit in those patterns without naming a place.
_NOT_PLACES = {
    "郑州", "郑州市", "河南", "河南省", "中国", "中原", "高新区", "정저우", "the", "The",
    "Zhengzhou", "Henan", "China", "Chine", "Zhengzhous",
}  # fmt: skip

# A word a question writes in another script than its own (a Latin "Emergence" in a Hebrew
# question, a Korean 딥테크 in a Chinese one) is a name the asker copied as it is written: a
# supporting passage must write it too (or the glossary must know it). Latin words need three
# letters: an "AI" or an "IP" is too common to be a name.
_SCRIPTS = {
    "latin": re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ0-9'&-]{2,}"),
    "han": re.compile(r"[\u4e00-\u9fff]{2,}"),
    "hangul": re.compile(r"[가-힣]{2,}"),
    "hebrew": re.compile(r"[\u0590-\u05ff]{2,}"),
}


# The partner countries by every name and adjective the six languages give them, so that a
# German question about "Deutschland" is answered by an English passage on "German" firms.
_COUNTRIES = (
    ("Germany", "German", "Germans", "Deutschland", "deutsche", "deutschen", "deutscher",
     "Allemagne", "allemand", "allemande", "allemands", "德国", "독일", "גרמניה", "גרמני"),
    ("Israel", "Israeli", "Israelis", "israelisch", "israelische", "Israël", "israélien",
     "israélienne", "以色列", "이스라엘", "ישראל", "ישראלי", "ישראלית"),
    ("United Kingdom", "UK", "Britain", "British", "Großbritannien", "britisch", "britische",
     "Royaume-Uni", "britannique", "英国", "영국", "בריטניה", "בריטי"),
    ("United States", "USA", "US", "America", "American", "USA", "amerikanisch",
     "amerikanische", "États-Unis", "américain", "américaine", "美国", "미국", "ארה\"ב",
     "אמריקה", "אמריקאי"),
    ("Korea", "South Korea", "Korean", "Südkorea", "Korea", "koreanisch", "koreanische",
     "Corée", "coréen", "coréenne", "韩国", "한국", "קוריאה", "קוריאני"),
    ("France", "French", "Frankreich", "französisch", "französische", "France", "français",
     "française", "法国", "프랑스", "צרפת", "צרפתי"),
)  # fmt: skip


def _place_variants(place: str) -> tuple[str, ...]:
    folded = normalize(place)
    for names in _COUNTRIES:
        variants = tuple(dict.fromkeys(normalize(n) for n in names))
        if folded in variants:
            return variants
    return (folded,)


@dataclass(frozen=True)
class Thing:
    """Something the question names that a supporting passage must name too."""

    label: str  # as the question writes it
    variants: tuple[str, ...]  # every spelling that counts, normalized
    # A period must be stated where the figure is (the top passages): any retrieved passage
    # naming 2019 says nothing about a 2019 figure in another document.
    with_figure: bool = False

    def found_in(self, text: str) -> bool:
        key = normalize(text)
        if any(_contains(key, v) for v in self.variants):
            return True
        # A Korean passage writes a Latin-lettered place in Hangul, as it is said: "Pangyo"
        # is 판교. Any long word of the name will do ("Pangyo Techno" is 판교테크노밸리, whose
        # loanword half does not romanize back to "techno").
        names = _LATIN_NAME.findall(self.label)
        if not names or not _HANGUL.search(text):
            return False
        spoken = hangul_latin(text)
        return any(name.lower() in spoken for name in names)


def _contains(key: str, variant: str) -> bool:
    if re.match(r"[a-z0-9]", variant):
        return re.search(rf"(?<![0-9a-zà-ÿ]){re.escape(variant)}", key) is not None
    return variant in key


@dataclass(frozen=True)
class Asked:
    figures: frozenset[FigureKind]  # empty: no figure asked for
    any_figure: bool  # "多少" and the like: some number, kind unsaid
    things: tuple[Thing, ...] = ()
    terms: tuple[Entry, ...] = field(default=())  # park terms and sectors named

    @property
    def specific(self) -> bool:
        return bool(self.figures or self.any_figure or self.things)


def _entry_thing(entry: Entry) -> Thing:
    variants = tuple(dict.fromkeys(normalize(v) for v in entry.variants() if v.strip()))
    label = (entry.names.get("en") or entry.names.get("zh") or ("?",))[0]
    return Thing(label, variants)


def _category_variants(letter: str) -> tuple[str, ...]:
    low = letter.lower()
    return tuple(
        normalize(v)
        for v in (
            f"{letter}类",
            f"{letter}级",
            f"category {letter}",
            f"categories {letter}",
            f"category: {letter}",
            f"kategorie {letter}",
            f"catégorie {letter}",
            f"{letter}급",
            f"קטגוריה {letter}",
            f"class {low}",
            f"类别：{letter}",
        )
    )


_ORDINALS = {
    1: ("first", "ersten", "erstes", "premier", "一", "ראשון"),
    2: ("second", "zweiten", "zweites", "deuxième", "二", "שני"),
    3: ("third", "dritten", "drittes", "troisième", "三", "שלישי"),
    4: ("fourth", "vierten", "viertes", "quatrième", "四", "רביעי"),
}


def _quarter_variants(year: int, number: int) -> tuple[str, ...]:
    """A quarter as the six languages write it (normalized: no spaces, folded case)."""
    en, de, de2, fr, zh, he = _ORDINALS[number]
    n = str(number)
    return tuple(
        normalize(v)
        for v in (
            f"q{n}", f"{year}q{n}", f"{year}-q{n}", f"{en}quarter", f"{n}.quartal",
            f"{de}quartal", f"{de2}quartal", f"{n}etrimestre", f"{n}èmetrimestre",
            f"{n}ertrimestre", f"{fr}trimestre", f"第{zh}季度", f"{zh}季度", f"第{n}季度",
            f"{n}季度", f"{n}분기", f"רבעון{he}", f"רבעוןה{he}", f"הרבעוןה{he}",
        )
    )  # fmt: skip


def asked(question: str, glossary: Glossary | None = None) -> Asked:
    """What the question asks for and what it names."""
    return _asked(question, glossary)


@lru_cache(maxsize=512)
def _asked(question: str, glossary: Glossary | None) -> Asked:
    kinds: set[FigureKind] = set()
    if _AMOUNT_ASKED.search(question):
        kinds.add("amount")
    if _COUNT_ASKED.search(question):
        kinds.add("count")
    if _DATE_ASKED.search(question):
        kinds.add("date")
    if _RATE_ASKED.search(question):
        kinds.add("rate")
    if _SIZE_ASKED.search(question):
        kinds.add("count")
    any_figure = not kinds and bool(_NUMBER_ASKED.search(question))

    things: list[Thing] = []
    for year in dict.fromkeys(_YEAR.findall(question)):
        things.append(Thing(year, (year,), with_figure=True))
    period = asked_period(question)
    if period is not None and period.quarter is not None:
        things.append(Thing(period.label, _quarter_variants(*period.quarter), with_figure=True))
    for match in _CATEGORY.finditer(question):
        letter = (match.group(1) or match.group(2)).upper()
        things.append(Thing(f"category {letter}", _category_variants(letter)))
    known = ""
    terms: list[Entry] = []
    if glossary is not None:
        for entry in glossary.mentioned(question, "nodes"):
            things.append(_entry_thing(entry))
        terms = [*glossary.mentioned(question, "terms"), *glossary.mentioned(question, "sectors")]
        known = " ".join(
            normalize(v)
            for e in (*terms, *glossary.mentioned(question, "nodes"))
            for v in e.variants()
        )
    for place in places_named(question):
        if normalize(place) not in known and place not in _NOT_PLACES:
            things.append(Thing(place, _place_variants(place)))
    named = {normalize(t.label) for t in things}
    for word in foreign_words(question):
        folded = normalize(word)
        if folded not in known and folded not in named and word not in _NOT_PLACES:
            named.add(folded)
            things.append(Thing(word, _place_variants(word)))
    return Asked(frozenset(kinds), any_figure, tuple(things), tuple(terms))


def answering_kinds(text: str) -> set[FigureKind]:
    """The kinds of figure asked for that the text answers: those it states, and an amount
    where it states a rate ("how much is the rent / the subsidy" is answered by "50% of the
    market rent" or "30% of the purchase price" as well as by a sum)."""
    kinds = figure_kinds(text)
    return kinds | {"amount"} if "rate" in kinds else kinds


def foreign_words(question: str) -> list[str]:
    """The words of a question in a script other than its own. Latin names are copied into
    questions far more than the reverse, and a Chinese character carries about two Latin
    letters' worth, so a question is taken as Latin-script only when its Latin letters
    outnumber twice the others (a Hebrew question naming "Bourse French Tech Emergence" holds
    more Latin letters than Hebrew ones)."""
    counts = {name: sum(len(w) for w in p.findall(question)) for name, p in _SCRIPTS.items()}
    others = {
        name: n * (2 if name == "han" else 1) for name, n in counts.items() if name != "latin"
    }
    top = max(others, key=others.__getitem__)
    own = "latin" if counts["latin"] > 2 * others[top] else top
    return [
        word
        for name, pattern in _SCRIPTS.items()
        if name != own
        for word in pattern.findall(question)
    ]


def places_named(question: str) -> list[str]:
    """The places a question names (a city, a district, a country), home ones included."""
    found: list[str] = []
    if _HAN.search(question):
        import jieba.posseg  # loaded on first use: it takes a moment

        words = list(jieba.posseg.cut(question))
        for i, (word, flag) in enumerate(words):
            following = words[i + 1].word if i + 1 < len(words) else ""
            # jieba also tags words such as 新建 as places; a place name is one followed by
            # a zone or another place word (洛阳高新区, 深圳南山区) or ending in one (成都市).
            if flag == "ns" and (
                _ZH_PLACE_WORD.match(following)
                or (i + 1 < len(words) and words[i + 1].flag == "ns")
                or _ZH_PLACE_WORD.search(word[-1:])
            ):
                found.append(word)
    for pattern in (_LATIN_PLACE, _KO_PLACE):
        for match in pattern.finditer(question):
            name = next((g for g in match.groups() if g), None)
            if name:
                found.append(name.strip())
    return list(dict.fromkeys(found))
