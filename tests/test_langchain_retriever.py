"""The LangChain retriever: role fixed at build time, citation metadata on every Document,
sync and async, and inside an LCEL chain with langchain-core's fake chat model."""

from __future__ import annotations

import asyncio
import threading

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from pydantic import ValidationError

from retrieval.filters import SearchFilters
from retrieval.index import Hit
from retrieval.langchain_retriever import ZbrainRetriever

POLICY = {
    "title": "郑州高新区支持氢能与新能源汽车产业发展若干措施",
    "kind": "policy",
    "published": "2025-06-20",
    "visibility": "public",
    "doc_id": "policy-hydrogen-2025",
    "language": "zh",
    "source": "https://example.org/policies/hydrogen",
    "path": "policies/zh-hydrogen-new-energy.md",
}
NODE_REPORT = {
    "title": "Munich node Q3 2020",
    "kind": "node_report",
    "published": "2020-09-30",
    "visibility": "internal",
    "doc_id": "munich-2020-q3",
    "language": "de",
    "source": "/srv/kb/node_reports/munich-2020-q3-de.md",
}


class FakeSearcher:
    """Records every call; staff also see the internal node report."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int, SearchFilters | None, str]] = []

    def search(
        self, query: str, *, role: str = "staff", k: int = 5, filters: SearchFilters | None = None
    ) -> list[Hit]:
        self.calls.append((query, role, k, filters, threading.current_thread().name))
        hits = [Hit("c1", "新建加氢站给予一次性建设补贴300万元。", 0.12, POLICY)]
        if role in ("staff", "manager", "admin"):
            hits.append(Hit("c2", "Wasserstofftankstelle in Planung.", 0.05, NODE_REPORT))
        return hits[:k]


def test_documents_carry_the_citation_metadata_and_no_server_path() -> None:
    searcher = FakeSearcher()
    retriever = ZbrainRetriever(searcher=searcher, role="staff", k=5)
    docs = retriever.invoke("Förderung für Wasserstofftankstellen?")
    assert [d.page_content[:5] for d in docs] == ["新建加氢站", "Wasse"]
    first = docs[0].metadata
    assert {k: first[k] for k in ("title", "kind", "date", "visibility", "doc_id", "url")} == {
        "title": POLICY["title"],
        "kind": "policy",
        "date": "2025-06-20",
        "visibility": "public",
        "doc_id": "policy-hydrogen-2025",
        "url": "https://example.org/policies/hydrogen",
    }
    # A file path is no link, and never leaves the server.
    assert docs[1].metadata["url"] is None
    assert all("/srv/" not in str(v) for d in docs for v in d.metadata.values())


def test_the_role_is_fixed_when_the_retriever_is_built() -> None:
    searcher = FakeSearcher()
    retriever = ZbrainRetriever(searcher=searcher, role="partner", k=3)
    docs = retriever.invoke("Wasserstoff")
    assert [d.metadata["doc_id"] for d in docs] == ["policy-hydrogen-2025"]
    assert searcher.calls[-1][1:3] == ("partner", 3)
    with pytest.raises(ValidationError):
        retriever.role = "admin"
    with pytest.raises(ValidationError):
        ZbrainRetriever(searcher=searcher, role="superuser")


def test_async_runs_the_search_in_a_worker_thread() -> None:
    searcher = FakeSearcher()
    retriever = ZbrainRetriever(searcher=searcher, role="guest")

    async def ask() -> list[str]:
        docs = await retriever.ainvoke("加氢站补贴")
        return [d.metadata["doc_id"] for d in docs]

    assert asyncio.run(ask()) == ["policy-hydrogen-2025"]
    assert searcher.calls[-1][4] != threading.main_thread().name


def test_runs_inside_an_lcel_chain_with_a_fake_chat_model() -> None:
    searcher = FakeSearcher()
    retriever = ZbrainRetriever(searcher=searcher, role="guest")
    prompt = ChatPromptTemplate.from_messages(
        [("system", "Answer from the sources only.\n{context}"), ("human", "{question}")]
    )
    seen: list[str] = []

    def record(value):  # type: ignore[no-untyped-def]
        seen.append(value.to_string())
        return value

    model = FakeListChatModel(responses=["300万元 [1]"])
    chain = (
        {
            "context": retriever
            | (lambda docs: "\n".join(f"[{d.metadata['title']}] {d.page_content}" for d in docs)),
            "question": RunnablePassthrough(),
        }
        | prompt
        | RunnableLambda(record)
        | model
        | StrOutputParser()
    )
    assert chain.invoke("How much for a hydrogen station?") == "300万元 [1]"
    assert "300万元" in seen[0] and POLICY["title"] in seen[0]
    assert "Wasserstofftankstelle in Planung" not in seen[0]  # internal: not for a guest
    assert asyncio.run(chain.ainvoke("again")) == "300万元 [1]"


def test_over_the_sample_knowledge_base_a_guest_gets_public_documents_only(
    sample_services,  # type: ignore[no-untyped-def]
) -> None:
    retriever = ZbrainRetriever(searcher=sample_services, role="guest", k=5)
    docs = retriever.invoke("Förderung für Wasserstofftankstellen?")
    assert docs[0].metadata["doc_id"] == "policy-hydrogen-2025"
    assert {d.metadata["visibility"] for d in docs} == {"public"}
    staff = ZbrainRetriever(searcher=sample_services, role="staff", k=8)
    visible = {d.metadata["visibility"] for d in staff.invoke("Munich node hydrogen leads")}
    assert visible - {"public"}, "staff also read partner or internal documents"
