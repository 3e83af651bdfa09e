"""The background re-indexing of saved leads: saves return at once, batches coalesce, a failed
re-index is logged with the lead ids and retried, flush waits until every lead is searchable."""

from __future__ import annotations

import logging
import threading
from dataclasses import replace

import pytest

from bot.indexing import LeadIndexer
from knowledge.leads import Lead


class Store:
    """The leads as stored, and what the index was given, batch by batch."""

    def __init__(self) -> None:
        self.leads: dict[str, Lead] = {}
        self.batches: list[list[tuple[str, str]]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()
        self.broken: set[str] = set()

    def save(self, lead_id: str, company: str) -> Lead:
        self.leads[lead_id] = Lead(company=company, node="munich", id=lead_id)
        return self.leads[lead_id]

    def index(self, changed: list[Lead]) -> None:
        self.entered.set()
        assert self.gate.wait(30)
        if any(lead.company in self.broken for lead in changed):
            raise ConnectionError("the vector store is down")
        self.batches.append([(lead.id, lead.company) for lead in changed])


@pytest.fixture
def store() -> Store:
    return Store()


@pytest.fixture
def indexer(store: Store):  # type: ignore[no-untyped-def]
    indexer = LeadIndexer(store.leads.get, store.index, name=f"indexing-{id(store)}")
    yield indexer
    store.gate.set()
    indexer.close(timeout=10)


def test_saves_while_the_worker_is_busy_become_one_batch_of_the_stored_leads(
    store: Store, indexer: LeadIndexer
) -> None:
    store.gate.clear()
    indexer.submit([store.save("L-0001", "first")])
    assert store.entered.wait(5)  # the worker holds L-0001; the next saves must wait
    stale = store.save("L-0002", "Isar Lab")
    indexer.submit([stale])
    indexer.submit([store.save("L-0003", "Negev Water")])
    store.save("L-0002", "Isar Lab GmbH")  # changed again before the worker got to it
    indexer.submit([replace(stale, company="ignored: the store is read again")])
    assert not indexer.flush(timeout=0.05)  # still held
    store.gate.set()
    assert indexer.flush(timeout=10)
    assert store.batches == [
        [("L-0001", "first")],
        [("L-0002", "Isar Lab GmbH"), ("L-0003", "Negev Water")],
    ]


def test_a_failed_re_index_is_logged_with_the_ids_and_retried_by_the_next_save(
    store: Store, indexer: LeadIndexer, caplog: pytest.LogCaptureFixture
) -> None:
    store.broken = {"H2 Motion"}
    indexer.submit([store.save("L-0007", "H2 Motion")])
    assert not indexer.flush(timeout=10)  # tried again by the flush, failed again
    assert indexer.failed == ["L-0007"]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert errors and all("L-0007" in r.getMessage() for r in errors)
    store.broken = set()
    indexer.submit([store.save("L-0008", "Isar Lab")])
    assert indexer.flush(timeout=10)
    assert indexer.failed == []
    assert store.batches == [[("L-0007", "H2 Motion"), ("L-0008", "Isar Lab")]]


def test_after_close_no_worker_is_left_and_a_late_save_is_still_indexed(
    store: Store, indexer: LeadIndexer
) -> None:
    indexer.submit([store.save("L-0001", "first")])
    assert indexer.close(timeout=10)
    assert not [t for t in threading.enumerate() if t.name == f"indexing-{id(store)}"]
    indexer.submit([store.save("L-0002", "late")])
    assert store.batches == [[("L-0001", "first")], [("L-0002", "late")]]
