"""What the park can offer a lead: the current policies for its sectors and needs, as a short
offer sheet with the figures quoted and every policy cited.

Each sector and need of the lead becomes a topic: a search for policies (in the policies' own
words, see TOPICS) plus terms a figure sentence must name to count. The asker's role goes into
the search itself, so a partner's sheet is built from public and partner policies only and can
be forwarded to the company; expired policies are filtered out the same way. Without a model
the sheet quotes the figure sentences as written; with one, the model writes the sheet in the
asker's language from the numbered sources, and the extractive sheet is the fallback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import prompts
from bot import i18n
from bot.citations import Passage, finalize, sources_block
from bot.extractive import candidate_sentences
from bot.gloss import gloss_line
from bot.leads.access import LeadAccess
from bot.llm import LLMClient, LLMUnavailable
from bot.messages import Reply
from bot.services import Services
from knowledge.glossary import Glossary
from knowledge.leads import Lead
from retrieval.filters import SearchFilters, search_where, where_all
from retrieval.index import Hit
from retrieval.versions import reading_order

log = logging.getLogger(__name__)

TopicKind = Literal["sector", "need"]


@dataclass(frozen=True)
class Topic:
    kind: TopicKind
    id: str
    query: str  # searched with the asker's role, kind=policy, current policies only
    # A figure sentence names one of these to count for the topic. Latin terms are whole
    # words (plurals too) unless they end in "*": "land" is not in "landing".
    terms: tuple[str, ...]


# The searches behind an offer, one place to tune them. Queries use the words the policies
# in knowledge/samples/documents/policies use for the benefit (most policies are Chinese; the
# English translations are found across languages by the dense search). Terms are what a
# figure sentence must mention to count for the need, in Chinese and English, so that a
# policy the search merely brushes (a talent apartment's "免租" for a lab) is not offered.
# Sector topics search only policies tagged with that sector (front matter `sectors`), so
# their terms just rank the sentences. Needs and sectors not listed here fall back to their
# glossary names.
NEED_TOPICS: dict[str, tuple[str, tuple[str, ...]]] = {
    "lab": (
        "研发用房 实验室 租金减免 装修补贴",
        # 科创载体: the rent-free state-owned premises are "载体", not "研发用房".
        ("研发用房", "实验室", "科创载体", "lab", "laborator*", "r&d space", "pilot platform"),
    ),
    "office": (
        "办公空间 软着陆空间 孵化器 免租",
        (
            "办公空间",
            "办公场地",
            "孵化器",
            "软着陆",
            "首年免租",
            "office space",
            "incubat*",
            "soft-landing",
            "no rent",
            "rent-free",
        ),
    ),
    "land": (
        "产业用地 标准厂房 用地计划 厂房投资",
        ("用地", "土地", "厂房", "land", "plant", "factory"),
    ),
    "funding": (
        "引导基金 跟投 股权投资 落地奖励",
        (
            "引导基金",
            "跟投",
            "股权投资",
            "落地奖励",
            "风险补偿",
            "guidance fund",
            "co-invest",
            "landing reward",
            "equity",
        ),
    ),
    "talent": (
        "人才 安家补贴 人才公寓 人才团队 个人所得税奖励",
        ("人才", "安家", "公寓", "团队", "talent", "home-settlement", "income tax", "team"),
    ),
    "equipment": (
        "设备购置 补贴 智能化改造 融资租赁",
        ("设备", "仪器", "equipment", "machinery"),
    ),
    "ip": (
        "知识产权 专利 资助 PCT",
        ("知识产权", "专利", "pct", "patent", "intellectual property"),
    ),
    "market-access": (
        "首台套 应用场景 示范应用 注册证 国际认证",
        ("首台", "应用场景", "示范应用", "注册证", "fda", "market access", "market entry"),
    ),
    "listing": (
        "上市挂牌 股份制改造 首发上市 奖励",
        # Not plain 上市: a drug's or device's market approval (获批上市) is not a listing.
        ("上市挂牌", "首发上市", "股份制改造", "新三板", "证券交易所", "ipo", "stock exchange"),
    ),
}
SECTOR_QUERIES: dict[str, str] = {
    "ai": "人工智能 算力券 大模型 数据集",
    "digital-economy": "数字经济 算力券 数据集",
    "semiconductors": "集成电路 流片 EDA IP核 封装测试",
    "biomedicine": "生物医药 临床试验 创新药",
    "medical-devices": "医疗器械 注册证 国际认证",
    "hydrogen": "氢能 燃料电池 加氢站",
    "new-energy-vehicles": "新能源汽车 核心零部件 动力电池",
    "clean-tech": "新能源 氢能 燃料电池 储能",
    "advanced-manufacturing": "先进制造 设备购置 智能化改造",
    "new-materials": "新材料 设备购置 补贴",
    "information-security": "信息安全 网络安全",
    "agritech": "农业科技 智慧农业",
}

SEARCH_K = 8
POLICIES_PER_TOPIC = 3
SENTENCES_PER_POLICY = 2
_SECURE_LEVELS = ("public", "partner")  # what a company may read; anything else is flagged
_LIST_MARKER = re.compile(r"^\s*(?:\d{1,3}[.)、]|[（(]?[一二三四五六七八九十]{1,3}[）)、])\s*")
# A figure a company can act on: money, a share, an area.
_FIGURE = re.compile(r"万元|亿元|\d\s*元|[%％]|rmb|usd|eur|cny|million|美元|平方米|m²", re.I)
# Words of a benefit; a sentence with one says what the company gets, not how to apply.
_BENEFIT = re.compile(
    r"免租|减半|补贴|奖励|资助|贴息|跟投|抵扣|最高|subsid|reward|rent-free|free of|no rent|"
    r"capped|up to|grant",
    re.I,
)
# Exclusions and refusals name figures too, but a company cannot use them.
_RESTRICTION = re.compile(r"不再享受|不予|不得|不与|cannot|not be combined|no longer", re.I)
# Contact and validity lines carry digits but offer nothing.
_NOT_AN_OFFER = re.compile(r"\d{3,4}-\d{7,8}|有效期至|起施行|effective from|until \d", re.I)
_CJK = re.compile(r"[\u3400-\u9fff\uac00-\ud7af]")


def _text(key: str, language: str, **values: str) -> str:
    return i18n.text(f"offer.{key}", language, **values)


def forwardable(lead: Lead) -> Lead:
    """What an offer sheet may use of a lead: the company and what it asks for, nothing of
    the park's own record (contact, investment, notes, stage), whoever asks."""
    return Lead(
        company=lead.company,
        node=lead.node,
        id=lead.id,
        sectors=list(lead.sectors),
        needs=list(lead.needs),
        language=lead.language,
    )


def topics_for(lead: Lead, glossary: Glossary) -> list[Topic]:
    """The lead's sectors, then its needs, as topics. Sectors come first because a
    sector's own policies are listed under the sector (see find_offers)."""
    topics: list[Topic] = []
    for sector in dict.fromkeys(lead.sectors):
        names = _names(glossary, "sectors", sector)
        query = SECTOR_QUERIES.get(sector) or " ".join(names[:1]) or sector
        terms = tuple(dict.fromkeys([*query.split(), *names]))
        topics.append(Topic("sector", sector, query, terms))
    for need in dict.fromkeys(lead.needs):
        if need in NEED_TOPICS:
            query, terms = NEED_TOPICS[need]
        else:
            names = _names(glossary, "needs", need)
            query, terms = " ".join(names[:1]) or need, tuple(names) or (need,)
        topics.append(Topic("need", need, query, terms))
    return topics


def _names(glossary: Glossary, list_name: str, entry_id: str) -> list[str]:
    """The entry's Chinese and English names (what the policies are written in)."""
    entry = glossary.entry(list_name, entry_id)
    return [*entry.names.get("zh", ()), *entry.names.get("en", ())] if entry else []


def topic_label(topic: Topic, glossary: Glossary, language: str) -> str:
    list_name = "sectors" if topic.kind == "sector" else "needs"
    entry = glossary.entry(list_name, topic.id)
    names = (
        (entry.names.get(i18n.supported(language)) or entry.names.get("en") or ()) if entry else ()
    )
    return names[0][:1].upper() + names[0][1:] if names else topic.id


# ------------------------------------------------------------------------------ finding


@dataclass
class Offer:
    """One policy on the sheet, in the version (original or translation) shown."""

    key: str  # the original's doc id: a policy and its translations are one offer
    metadata: dict[str, object]
    chunks: list[str]
    topics: list[str] = field(default_factory=list)  # ids of the topics that found it
    sentences: list[FigureSentence] = field(default_factory=list)

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.key)


@dataclass
class OfferPlan:
    topics: list[Topic]
    offers: dict[str, Offer]  # by key, in the order they were first found
    found: dict[str, list[str]]  # topic id -> offer keys, best first
    owner: dict[str, str]  # offer key -> the topic it is listed under

    def listed_under(self, topic: Topic) -> list[str]:
        return [key for key in self.found[topic.id] if self.owner[key] == topic.id]

    def referenced_from(self, topic: Topic) -> list[str]:
        return [key for key in self.found[topic.id] if self.owner[key] != topic.id]


def _term_hits(sentence: str, terms: Sequence[str]) -> int:
    lowered = sentence.lower()
    hits = 0
    for term in terms:
        term = term.lower()
        if _CJK.search(term):
            hits += term in lowered
        elif term.endswith("*"):
            hits += re.search(rf"(?<![0-9a-z]){re.escape(term[:-1])}", lowered) is not None
        else:
            pattern = rf"(?<![0-9a-z]){re.escape(term)}(?:e?s)?(?![0-9a-z])"
            hits += re.search(pattern, lowered) is not None
    return hits


def _clean(sentence: str) -> str:
    return _LIST_MARKER.sub("", sentence.replace("**", "")).strip()


@dataclass(frozen=True)
class FigureSentence:
    text: str
    chunk: int  # which of the policy's chunks it stands in
    order: int  # its place in the policy
    figure: bool  # names money, a share or an area
    benefit: bool
    restriction: bool
    hits: int  # how many of the topic's terms it names

    @property
    def score(self) -> float:
        # A benefit with a figure first; the topic's terms break ties among those, so a
        # table row ("A类、B类 | 120—150平方米 | 免租") beats a sentence that merely names
        # the topic ("现有人才公寓…共约1600套").
        return (
            3.0 * self.figure
            + 5.0 * self.benefit
            - 6.0 * self.restriction
            + 2.0 * min(self.hits, 2)
        )


def figure_sentences(chunks: Sequence[str], terms: Sequence[str]) -> list[FigureSentence]:
    """The sentences of a policy's chunks that state a number (not a list number, phone
    number or validity date), in reading order."""
    found: list[FigureSentence] = []
    seen: set[str] = set()
    order = 0
    for chunk_no, chunk in enumerate(chunks):
        header = ""  # a table's header row says what its rows' figures are ("安家补贴")
        for line in chunk.splitlines():
            if not line.lstrip().startswith("|"):
                header = ""
            elif not re.search(r"\d", line):
                header = line
            for raw in candidate_sentences(line):
                sentence = _clean(raw)
                order += 1
                if sentence in seen or not re.search(r"\d", sentence):
                    continue
                if _NOT_AN_OFFER.search(sentence):
                    continue
                seen.add(sentence)
                context = f"{header} {sentence}"
                found.append(
                    FigureSentence(
                        text=sentence,
                        chunk=chunk_no,
                        order=order,
                        figure=_FIGURE.search(sentence) is not None,
                        benefit=_BENEFIT.search(context) is not None,
                        restriction=_RESTRICTION.search(sentence) is not None,
                        hits=_term_hits(context, terms),
                    )
                )
    return found


def offers_for(chunks: Sequence[str], topic: Topic) -> bool:
    """Whether the policy offers something for the topic: for a need, a number in a sentence
    naming the need; for a sector (the search only sees that sector's policies), a figure."""
    sentences = figure_sentences(chunks, topic.terms)
    if topic.kind == "need":
        return any(s.hits for s in sentences)
    return any(s.figure for s in sentences)


def best_sentences(
    chunks: Sequence[str],
    terms: Sequence[str],
    *,
    on_topic: bool,
    count: int = SENTENCES_PER_POLICY,
) -> list[FigureSentence]:
    """The policy's best figure sentences for the terms, in reading order. With `on_topic`,
    sentences naming the terms go first (a lab's rent relief, not the same policy's
    equipment subsidy), as long as there are any."""
    sentences = figure_sentences(chunks, terms)
    for keep in ((lambda s: s.figure), (lambda s: s.hits > 0 or not on_topic)):
        if any(keep(s) for s in sentences):
            sentences = [s for s in sentences if keep(s)]
    ranked = sorted(sentences, key=lambda s: (-s.score, s.order))[:count]
    return sorted(ranked, key=lambda s: s.order)


def _versions(
    services: Services, key: str, role: str, filters: SearchFilters
) -> dict[str, list[tuple[dict[str, object], str]]]:
    """Every chunk of the policy and its translations that the role may read, by doc id.
    The role's condition is part of the query, as in search."""
    where = where_all(
        search_where(role, filters), {"$or": [{"doc_id": key}, {"translation_of": key}]}
    )
    by_doc: dict[str, list[tuple[dict[str, object], str]]] = {}
    for _, meta, text in services.index.iter_documents(where):
        by_doc.setdefault(str(meta.get("doc_id")), []).append((meta, text))
    for chunks in by_doc.values():
        chunks.sort(key=lambda item: int(str(item[0].get("chunk_index") or 0)))
    return by_doc


def _choose_version(
    versions: dict[str, list[tuple[dict[str, object], str]]], key: str, language: str
) -> list[tuple[dict[str, object], str]]:
    """The asker's language if the policy exists in it, else the version the asker reads best
    (English for a German reader, retrieval/versions.py), else the original (which
    prevails)."""
    for preferred in reading_order(language):
        for chunks in versions.values():
            if chunks and chunks[0][0].get("language") == preferred:
                return chunks
    return versions.get(key) or next(iter(versions.values()))


def find_offers(
    services: Services,
    lead: Lead,
    *,
    role: str,
    language: str,
    today: dt.date | None = None,
) -> OfferPlan:
    """The current policies the role may read that fit the lead's sectors and needs."""
    topics = topics_for(lead, services.glossary)
    base = SearchFilters(kind="policy", today=today or dt.date.today())
    sectors = set(lead.sectors)
    offers: dict[str, Offer] = {}
    rejected: set[tuple[str, str]] = set()  # (topic, key) pairs without a figure sentence
    found: dict[str, list[str]] = {}
    for topic in topics:
        filters = replace(base, sector=topic.id) if topic.kind == "sector" else base
        hits = services.search(topic.query, role=role, k=SEARCH_K, filters=filters, per_document=1)
        keys: list[str] = []
        for hit in hits:
            tagged = set(hit.metadata.get("sectors") or [])  # type: ignore[call-overload]
            if topic.kind == "need" and tagged and not tagged & sectors:
                continue  # a policy for other industries (hydrogen scenarios for a biotech)
            key = str(hit.metadata.get("translation_of") or hit.metadata.get("doc_id"))
            if key in keys or (topic.id, key) in rejected:
                continue
            offer = offers.get(key) or _load_offer(services, key, role, base, language)
            if offer is None or not offers_for(offer.chunks, topic):
                rejected.add((topic.id, key))
                continue
            offers.setdefault(key, offer).topics.append(topic.id)
            keys.append(key)
            if len(keys) == POLICIES_PER_TOPIC:
                break
        found[topic.id] = keys
    # A sector's own policies are listed under the sector; a policy found for several topics
    # is listed once and referred to from the others.
    owner: dict[str, str] = {}
    for topic in topics:
        for key in found[topic.id]:
            owner.setdefault(key, topic.id)
    by_id = {topic.id: topic for topic in topics}
    for offer in offers.values():
        terms = [term for topic_id in offer.topics for term in by_id[topic_id].terms]
        owned_by_need = by_id[owner[offer.key]].kind == "need"
        offer.sentences = best_sentences(offer.chunks, terms, on_topic=owned_by_need)
    return OfferPlan(topics, offers, found, owner)


def _load_offer(
    services: Services, key: str, role: str, filters: SearchFilters, language: str
) -> Offer | None:
    versions = _versions(services, key, role, filters)
    if not versions:
        return None
    chunks = _choose_version(versions, key, language)
    return Offer(key, dict(chunks[0][0]), [text for _, text in chunks])


# ------------------------------------------------------------------------------ the sheet


def _display_order(plan: OfferPlan) -> list[Topic]:
    """Needs first (what the company asked for), then sectors."""
    return [t for t in plan.topics if t.kind == "need"] + [
        t for t in plan.topics if t.kind == "sector"
    ]


def _passages(plan: OfferPlan) -> list[Passage]:
    """One numbered passage per policy, in the order the sheet lists them; the passage text
    is the policy's chunks that hold its figures."""
    passages: list[Passage] = []
    for topic in _display_order(plan):
        for key in plan.listed_under(topic):
            offer = plan.offers[key]
            used = sorted({s.chunk for s in offer.sentences})
            text = "\n".join(offer.chunks[n] for n in used)
            hit = Hit(chunk_id=f"offer:{key}", text=text, score=0.0, metadata=offer.metadata)
            passages.append(Passage(len(passages) + 1, hit))
    return passages


def _number_of(passages: Sequence[Passage]) -> dict[str, int]:
    return {str(p.hit.chunk_id).removeprefix("offer:"): p.number for p in passages}


def _refs(numbers: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


def _joined(sentences: Sequence[FigureSentence]) -> str:
    trimmed = [s.text.rstrip("；;，,。. ") for s in sentences]
    return ("；" if any(_CJK.search(s) for s in trimmed) else "; ").join(trimmed)


def extractive_body(
    plan: OfferPlan, passages: Sequence[Passage], language: str, glossary: Glossary
) -> str:
    number = _number_of(passages)
    lines = [i18n.text("answer.extractive_preface", language)]
    for topic in _display_order(plan):
        listed, elsewhere = plan.listed_under(topic), plan.referenced_from(topic)
        if not listed and not elsewhere:
            continue
        label = topic_label(topic, glossary, language)
        if not listed:
            see = _text("see", language, refs=_refs([number[k] for k in elsewhere]))
            lines.append(f"• {label}: {see}")
            continue
        lines.append(f"• {label}:")
        for key in listed:
            offer = plan.offers[key]
            doc_number = offer.metadata.get("doc_number")
            title = f"{offer.title} ({doc_number})" if doc_number else offer.title
            lines.append(f" - {title}: {_joined(offer.sentences)} [{number[key]}]")
            if str(offer.metadata.get("language") or language) != language:
                gloss = gloss_line(_joined(offer.sentences), language, glossary)
                if gloss:
                    lines.append(f"   {gloss}")
        if elsewhere:
            lines.append(f" - {_text('see', language, refs=_refs([number[k] for k in elsewhere]))}")
    return "\n".join(lines)


def _missing_line(plan: OfferPlan, language: str, glossary: Glossary) -> str | None:
    missing = [t for t in _display_order(plan) if not plan.found[t.id]]
    if not missing:
        return None
    items = i18n.list_of([topic_label(t, glossary, language) for t in missing], language)
    return _text("missing", language, items=items)


def _request(plan: OfferPlan, passages: Sequence[Passage], company: str, glossary: Glossary) -> str:
    """What the model is asked: the company's name and, per topic, the sources found for it.
    Nothing else of the lead goes into the prompt."""
    number = _number_of(passages)
    lines = [f"Offer sheet for the company {company!r}. Topics and their sources:"]
    for topic in _display_order(plan):
        if plan.found[topic.id]:
            label = topic_label(topic, glossary, "en")
            refs = _refs([number[k] for k in plan.found[topic.id]])
            lines.append(f"- {label} ({topic.kind}): {refs}")
    return "\n".join(lines)


async def _llm_body(
    llm: LLMClient,
    plan: OfferPlan,
    passages: Sequence[Passage],
    company: str,
    language: str,
    glossary: Glossary,
) -> str:
    values = {"language": language, "language_name": i18n.language_name(language)}
    messages = [
        {"role": "system", "content": prompts.render("answer.system", **values)},
        {
            "role": "user",
            "content": prompts.render(
                "offer_sheet.user",
                sources=sources_block(passages),
                question=_request(plan, passages, company, glossary),
                **values,
            ),
        },
    ]
    return await llm.complete(messages, max_tokens=900)


def lead_for_offer(services: Services, lead_id: str, role: str, actor: str = "") -> Lead:
    """The lead, if the asker may ask for its offer sheet (`bot.leads.access`: a partner for
    the leads they submitted, to forward to the company; staff for unrestricted leads;
    managers for all; guests never); LeadError saying why not."""
    return forwardable(LeadAccess(role, actor).require(services, lead_id))


async def offer_sheet(
    services: Services,
    lead: Lead,
    *,
    role: str,
    language: str,
    llm: LLMClient | None = None,
    today: dt.date | None = None,
) -> Reply:
    """The offer sheet for the lead in the asker's language, from the policies the role may
    read. Only the company's name, sectors and needs are used (see `forwardable`): the sheet
    says nothing else about the lead."""
    language = i18n.supported(language)
    glossary = services.glossary
    lead = forwardable(lead)
    plan = await asyncio.to_thread(
        find_offers, services, lead, role=role, language=language, today=today
    )
    heading = _text("heading", language, company=lead.company)
    if not plan.offers:
        text = f"{heading}\n\n{_text('none', language)}"
        return Reply(text=text, mode="extractive", language=language)
    passages = _passages(plan)
    body, mode = "", "extractive"
    if llm is not None and not llm.breaker.is_open:
        try:
            body = await _llm_body(llm, plan, passages, lead.company, language, glossary)
            mode = "llm"
        except LLMUnavailable as exc:
            log.warning("offer sheet without the language model: %s", exc)
    cleaned, citations, cited = finalize(body, passages) if body else ("", (), [])
    if mode == "llm" and (not citations or cleaned.startswith("NO_ANSWER")):
        # A sheet whose figures cite nothing cannot be checked against the policies.
        log.warning("the model's offer sheet cited no source; using the extractive sheet")
        mode = "extractive"
    if mode == "extractive":
        body = extractive_body(plan, passages, language, glossary)
        cleaned, citations, cited = finalize(body, passages)
    day = today or dt.date.today()
    citations = tuple(
        replace(c, expired=p.expired_on(day) is not None)
        for c, p in zip(citations, cited, strict=True)
    )
    notes = [line for line in [_missing_line(plan, language, glossary)] if line]
    internal = [c.number for c in citations if c.visibility not in _SECURE_LEVELS]
    if internal:
        notes.append(_text("internal", language, refs=_refs(internal)))
    text = "\n\n".join([heading, cleaned, *(["\n".join(notes)] if notes else [])])
    return Reply(text=text, citations=citations, mode=mode, language=language)  # type: ignore[arg-type]


OfferHook = Callable[..., Awaitable[Reply]]  # (lead id, role, language, actor="") -> Reply


def chat_offer(services: Services, llm: LLMClient | None = None) -> OfferHook:
    """The chat assistant's `offer` hook ("what can we offer L-0042?"): the sheet in the
    asker's language, or LeadError when the asker may not ask about that lead. `actor` is
    the asker's "platform:user_id": without it a partner owns no lead."""

    async def offer(lead_id: str, role: str, language: str, actor: str = "") -> Reply:
        lead = await asyncio.to_thread(lead_for_offer, services, lead_id, role, actor)
        return await offer_sheet(services, lead, role=role, language=language, llm=llm)

    return offer
