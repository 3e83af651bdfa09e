"""The answer pipeline: language → standalone question → role-filtered retrieval → a cited
answer from the LLM, or from the extractive composer when there is none or it fails."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass

import prompts
from bot import i18n
from bot.abstain import LLM_SLACK, lacks_support, misses_what_is_asked
from bot.citations import Passage, finalize, select_passages, sources_block
from bot.conversations import ConversationStore, Turn
from bot.divisions import Division, closest_division
from bot.extractive import compose
from bot.figure_ranking import favour_figures
from bot.followups import TopicMemory, is_follow_up, topic_question
from bot.llm import LLMClient, LLMUnavailable
from bot.messages import Citation, IncomingMessage, PartialText, Reply, ReplyUpdate
from bot.services import Services
from knowledge.language import detect_language
from retrieval.filters import SearchFilters, asks_about_history, search_where, where_all
from retrieval.index import Hit
from retrieval.periods import Period, asked_period, document_period
from retrieval.search import rrf
from retrieval.versions import in_language, reading_order

log = logging.getLogger(__name__)

NO_ANSWER = "NO_ANSWER"
RETRIEVE_K = 8
# How many of the last answer's documents a follow-up prefers.
TOPIC_DOCUMENTS = 3


@dataclass(frozen=True)
class Retrieval:
    hits: list[Hit]
    unsupported: bool
    # On topic, but no passage holds what is asked (bot/abstain.py misses_what_is_asked).
    not_stated: bool = False


def _fuse(result_lists: Sequence[list[Hit]]) -> list[Hit]:
    """One ranking from the searches of the question and its translations."""
    by_id = {hit.chunk_id: hit for hits in result_lists for hit in hits}
    scores = rrf([[hit.chunk_id for hit in hits] for hits in result_lists])
    return [by_id[cid] for cid in sorted(scores, key=scores.__getitem__, reverse=True)]


class AnswerService:
    def __init__(
        self,
        services: Services,
        *,
        llm: LLMClient | None = None,
        conversations: ConversationStore | None = None,
        divisions: Sequence[Division] = (),
        role_of: Callable[[IncomingMessage], str] = lambda message: "guest",
        language_of: Callable[[IncomingMessage], str | None] = lambda message: None,
    ) -> None:
        self.services = services
        self.llm = llm
        self.conversations = conversations or ConversationStore(services.engine)
        self.divisions = list(divisions)
        self.role_of = role_of
        self.language_of = language_of
        self.retrieve_k = RETRIEVE_K
        # What the last question retrieved, best first (read by `zbrain eval`).
        self.last_hits: list[Hit] = []
        self.topics = TopicMemory()

    # -- the handler the adapters drive ------------------------------------------------
    async def __call__(self, message: IncomingMessage) -> AsyncIterator[ReplyUpdate]:
        question = message.text.strip()
        language = i18n.supported(self.language_of(message) or detect_language(question))
        async for update in self.respond(
            question,
            role=self.role_of(message),
            language=language,
            platform=message.platform,
            conversation_id=message.conversation_id,
            user_id=message.user_id,
        ):
            yield update

    async def respond(
        self,
        question: str,
        *,
        role: str,
        language: str,
        platform: str,
        conversation_id: str,
        user_id: str,
        trace: list[Hit] | None = None,
    ) -> AsyncIterator[ReplyUpdate]:
        """Answer one question of a conversation as `role`; `trace` receives what was
        retrieved (per call, so concurrent questions never see each other's hits)."""
        history = await asyncio.to_thread(
            self.conversations.last, platform, conversation_id, self.services.settings.history_turns
        )
        hits: list[Hit] = trace if trace is not None else []
        conversation = (platform, conversation_id)
        async with aclosing(
            self._answer(question, language, role, history, hits, conversation)
        ) as updates:
            async for update in updates:
                if isinstance(update, Reply):
                    # Before the final yield: an adapter may stop reading once it has the Reply.
                    await asyncio.to_thread(
                        self._remember, platform, conversation_id, user_id, question, update.text
                    )
                yield update

    def _remember(
        self, platform: str, conversation_id: str, user_id: str, question: str, answer: str
    ) -> None:
        self.conversations.add(platform, conversation_id, user_id, "user", question)
        self.conversations.add(platform, conversation_id, user_id, "assistant", answer)

    async def _answer(
        self,
        question: str,
        language: str,
        role: str,
        history: list[Turn],
        trace: list[Hit],
        conversation: tuple[str, str] = ("", ""),
    ) -> AsyncIterator[ReplyUpdate]:
        standalone = await self._standalone(question, history)
        # A follow-up stays with the documents the previous question was answered from.
        follow_up = any(t.speaker == "user" for t in history) and is_follow_up(
            question, self.services.glossary
        )
        prefer = self.topics.documents(conversation) if follow_up else []
        retrieval = await self._retrieve(standalone, language, role, prefer)
        trace[:] = retrieval.hits
        self.last_hits = retrieval.hits
        self.topics.remember(conversation, _documents(retrieval.hits)[:TOPIC_DOCUMENTS])
        period = asked_period(standalone)
        # Quoted (and cited) in the asker's language where the document has that version.
        hits = await asyncio.to_thread(self._in_language, retrieval.hits, language, role)
        if retrieval.unsupported:
            yield self._abstain(
                language,
                hits,
                mode="llm" if self._llm_ready() else "extractive",
                closest=retrieval.not_stated,
            )
            return
        settings = self.services.settings
        # In a thread: the tokenizer waits for the model, which another question may be using.
        passages = await asyncio.to_thread(
            select_passages,
            hits,
            self.services.embedder.count_tokens,
            settings.context_tokens,
        )
        if self._llm_ready():
            try:
                async for update in self._llm_answer(standalone, language, passages, hits, period):
                    yield update
                return
            except LLMUnavailable as exc:
                log.warning("answering without the language model: %s", exc)
        yield await asyncio.to_thread(
            self._extractive, standalone, language, passages, role, period
        )

    def _llm_ready(self) -> bool:
        return self.llm is not None and not self.llm.breaker.is_open

    # -- steps ---------------------------------------------------------------------------
    async def _standalone(self, question: str, history: list[Turn]) -> str:
        last_question = next((t.text for t in reversed(history) if t.speaker == "user"), None)
        if last_question is None:
            return question
        if self._llm_ready():
            assert self.llm is not None
            transcript = "\n".join(f"{t.speaker}: {t.text}" for t in history)
            try:
                rewritten = await self.llm.complete(
                    [
                        {
                            "role": "user",
                            "content": prompts.render(
                                "condense.user", history=transcript, question=question
                            ),
                        }
                    ],
                    max_tokens=200,
                )
                if rewritten:
                    return rewritten
            except LLMUnavailable as exc:
                log.warning("follow-up not condensed: %s", exc)
        earlier = [t.text for t in history if t.speaker == "user"]
        return topic_question(question, earlier, self.services.glossary)

    async def _translations(self, question: str) -> list[tuple[str, str]]:
        """(language, query) pairs of the question in Chinese and English, by one LLM call."""
        if not self._llm_ready():
            return []
        assert self.llm is not None
        try:
            reply = await self.llm.complete(
                [
                    {
                        "role": "user",
                        "content": prompts.render("translate_query.user", question=question),
                    }
                ],
                max_tokens=200,
            )
        except LLMUnavailable as exc:
            log.warning("query not translated: %s", exc)
            return []
        found = []
        for line in reply.splitlines():
            match = re.match(r"^\s*(zh|en)\s*[:：]\s*(.+)$", line)
            if match and match.group(2).strip() != question:
                found.append((match.group(1), match.group(2).strip()))
        return found

    async def _retrieve(
        self, question: str, language: str, role: str, prefer: Sequence[str] = ()
    ) -> Retrieval:
        queries = [(language, question), *await self._translations(question)]
        slack = LLM_SLACK if self._llm_ready() else 0.0

        def run() -> Retrieval:
            filters = SearchFilters(include_expired=asks_about_history(question))
            glossary = self.services.glossary
            lists = [
                favour_figures(
                    q,
                    self.services.search(
                        q,
                        role=role,
                        k=self.retrieve_k,
                        filters=filters,
                        query_language=lang,
                        prefer_documents=prefer,
                    ),
                    glossary,
                )
                for lang, q in queries
            ]
            not_stated = any(lists) and all(
                misses_what_is_asked(q, hits, glossary)
                for (_, q), hits in zip(queries, lists, strict=True)
            )
            unsupported = not_stated or all(
                lacks_support(q, lang, hits, slack=slack, glossary=glossary)
                for (lang, q), hits in zip(queries, lists, strict=True)
            )
            fused = _fuse(lists) if len(lists) > 1 else lists[0]
            return Retrieval(fused, unsupported, not_stated)

        return await asyncio.to_thread(run)

    async def _llm_answer(
        self,
        question: str,
        language: str,
        passages: list[Passage],
        hits: list[Hit],
        period: Period | None = None,
    ) -> AsyncIterator[ReplyUpdate]:
        assert self.llm is not None
        values = {"language": language, "language_name": i18n.language_name(language)}
        messages = [
            {"role": "system", "content": prompts.render("answer.system", **values)},
            {
                "role": "user",
                "content": prompts.render(
                    "answer.user", sources=sources_block(passages), question=question, **values
                ),
            },
        ]
        text = ""
        async for delta in self.llm.stream(messages):
            text += delta
            if not NO_ANSWER.startswith(text.strip()[: len(NO_ANSWER)]):
                yield PartialText(text)
        if text.strip().startswith(NO_ANSWER) or not text.strip():
            yield self._abstain(language, hits, mode="llm")
            return
        yield self._reply(text, passages, language, mode="llm", period=period)

    def _in_language(self, hits: list[Hit], language: str, role: str) -> list[Hit]:
        return in_language(
            hits,
            reading_order(language),
            index=self.services.index,
            vectors=self.services.vectors,
            role=role,
            filters=SearchFilters(include_expired=True),
        )

    def _siblings(self, passages: list[Passage], role: str) -> list[str]:
        """The other chunks of the first passage's document that the role may read."""
        if not passages:
            return []
        meta = passages[0].hit.metadata
        where = where_all(
            search_where(role, SearchFilters(include_expired=True)),
            {"doc_id": str(meta.get("doc_id") or "")},
            {"root": str(meta.get("root") or "")},
        )
        shown = {p.hit.chunk_id for p in passages}
        chunks = [
            (int(str(m.get("chunk_index") or 0)), text)
            for cid, m, text in self.services.index.iter_documents(where)
            if cid not in shown
        ]
        return [text for _, text in sorted(chunks)]

    def _extractive(
        self,
        question: str,
        language: str,
        passages: list[Passage],
        role: str = "guest",
        period: Period | None = None,
    ) -> Reply:
        text = compose(
            question,
            passages,
            language,
            self.services.embedder,
            self.services.glossary,
            siblings=self._siblings(passages, role),
            centroids=self.services.calibration.centroids(),
        )
        return self._reply(text, passages, language, mode="extractive", period=period)

    def _reply(
        self,
        text: str,
        passages: list[Passage],
        language: str,
        *,
        mode: str,
        period: Period | None = None,
    ) -> Reply:
        cleaned, citations, cited = finalize(text, passages)
        notes = []
        for number, passage in enumerate(cited, start=1):
            expired = passage.expired_on(dt.date.today())
            if expired:
                notes.append(
                    i18n.text("answer.expired", language, number=str(number), date=expired)
                )
        other = other_period_note(period, cited, language)
        if other:
            notes.append(other)
        if notes:
            cleaned += "\n\n" + "\n".join(notes)
        return Reply(text=cleaned, citations=citations, mode=mode, language=language)  # type: ignore[arg-type]

    def _abstain(
        self, language: str, hits: list[Hit], *, mode: str, closest: bool = False
    ) -> Reply:
        """The knowledge base does not answer; for a question it is close to (`closest`),
        which document comes nearest, cited; and whom to ask."""
        citations: tuple[Citation, ...] = ()
        if closest and hits:
            text = i18n.text("answer.not_stated", language)
            passage = Passage(1, hits[0])
            line = i18n.text("answer.closest", language, title=passage.title)
            cleaned, citations, _ = finalize(line, [passage])
            text += "\n" + cleaned
        else:
            text = i18n.text("answer.abstain", language)
        division = closest_division(self.divisions, hits)
        if division is not None:
            text += "\n" + i18n.text(
                "answer.contact",
                language,
                division=division.name(language),
                contact=division.contact_line(),
            )
        return Reply(
            text=text,
            citations=citations,
            mode=mode,  # type: ignore[arg-type]
            language=language,
            abstained=True,
        )


def _documents(hits: Sequence[Hit]) -> list[str]:
    return list(dict.fromkeys(str(h.metadata.get("doc_id")) for h in hits if h.metadata))


def other_period_note(period: Period | None, cited: Sequence[Passage], language: str) -> str:
    """A note when the question names a period and no cited source covers it ("you asked
    about 2019 Q4, but the sources cited are from 2026 Q3"); empty otherwise."""
    if period is None or not cited:
        return ""
    spans = [document_period(p.hit.metadata) for p in cited]
    known = [s for s in spans if s is not None]
    if not known or any(s.overlaps(period) for s in known):
        return ""
    labels = list(dict.fromkeys(s.label for s in known))
    return i18n.text(
        "answer.other_period",
        language,
        asked=period.label,
        periods=i18n.list_of(labels, language),
    )


def answer_service(services: Services, **kwargs: object) -> AnswerService:
    """The answer service on the configured LLM (if any) and the divisions file."""
    from bot.divisions import load_divisions
    from bot.llm import make_llm

    return AnswerService(
        services,
        llm=make_llm(services.settings),
        divisions=load_divisions(),
        **kwargs,  # type: ignore[arg-type]
    )
