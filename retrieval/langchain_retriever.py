"""The park's knowledge as a LangChain retriever, for teams building their own LangChain or
LangGraph apps on it.

`ZbrainRetriever` runs the role-filtered hybrid search (anything with the `search` method
of bot.services.Services) and returns LangChain Documents carrying the citation metadata
(title, kind, date, visibility, doc_id, url). The role is fixed when the retriever is built:
what a chain may read cannot be widened by the chain. The async path runs the search in a
worker thread, so an event loop never waits on embedding or the index.

```python
from bot.services import Services
from retrieval.langchain_retriever import ZbrainRetriever

retriever = ZbrainRetriever(searcher=Services(), role="partner", k=5)
docs = retriever.invoke("Förderung für Wasserstofftankstellen?")
```
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any, Protocol

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field, field_validator

from knowledge.model import Role, parse_choice
from retrieval.filters import SearchFilters
from retrieval.index import Hit


class Searcher(Protocol):
    """What the retriever needs: bot.services.Services has it."""

    def search(
        self,
        query: str,
        *,
        role: str = ...,
        k: int = ...,
        filters: SearchFilters | None = ...,
    ) -> list[Hit]: ...


def public_url(source: object) -> str | None:
    """The source's link when a reader can open it; a server path is never handed out."""
    text = str(source or "").strip()
    return text if re.match(r"^https?://\S+$", text, re.IGNORECASE) else None


def to_document(hit: Hit) -> Document:
    """A hit as a LangChain Document with the metadata a citation needs."""
    meta = hit.metadata
    return Document(
        id=hit.chunk_id,
        page_content=hit.text,
        metadata={
            "title": str(meta.get("title") or meta.get("doc_id") or ""),
            "kind": str(meta.get("kind") or ""),
            "date": meta.get("published"),
            "visibility": str(meta.get("visibility") or ""),
            "doc_id": str(meta.get("doc_id") or ""),
            "url": public_url(meta.get("source")),
            "language": meta.get("language"),
            "heading": meta.get("heading"),
            "chunk_id": hit.chunk_id,
            "score": hit.score,
        },
    )


class ZbrainRetriever(BaseRetriever):
    """Role-filtered hybrid search over the park's knowledge base."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    searcher: Any = Field(exclude=True)  # a Searcher; Any, since pydantic cannot check it
    role: str = Field(frozen=True)
    k: int = Field(default=5, ge=1, le=50)
    filters: SearchFilters | None = None

    @field_validator("role")
    @classmethod
    def _known_role(cls, value: str) -> str:
        return parse_choice(Role, value, "role").value

    def _search(self, query: str) -> list[Document]:
        hits: Sequence[Hit] = self.searcher.search(
            query, role=self.role, k=self.k, filters=self.filters
        )
        return [to_document(hit) for hit in hits]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        return self._search(query)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        return await asyncio.to_thread(self._search, query)
