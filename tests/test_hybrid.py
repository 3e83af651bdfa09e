from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from retrieval.filters import SearchFilters, asks_about_history, filter_conditions
from retrieval.search import rrf
from retrieval.tokenize import tokenize


@pytest.fixture
def services(services_factory, fixture_kb: Path):  # type: ignore[no-untyped-def]
    (fixture_kb / "policies" / "old.md").write_text(
        "---\nid: fixture-old-rent\ntitle: 旧版研发用房租金补贴（已失效）\nlanguage: zh\n"
        "published: 2021-01-01\nexpires: 2022-12-31\nsectors: [ai]\n---\n"
        "旧版办法：研发用房租金补贴按50%执行，每年最高30万元。\n",
        encoding="utf-8",
    )
    built = services_factory()
    built.ingestor().ingest([fixture_kb])
    return built


def test_tokenizer_handles_each_script() -> None:
    assert {"研发", "用房", "租金"} <= set(tokenize("研发用房租金"))
    assert "수소" in tokenize("수소 충전소") and "충전" in tokenize("수소 충전소")
    assert "מצב" in tokenize("המצב")  # the article prefix is also stripped
    assert tokenize("1,000,000 EUR for the Wasserstoff line") == [
        "1000000",
        "eur",
        "wasserstoff",
        "line",
    ]


def test_bm25_follows_every_ingest_including_removals(services, fixture_kb: Path) -> None:  # type: ignore[no-untyped-def]
    allowed = filter_conditions("manager", SearchFilters(include_expired=True))
    assert (
        services.lexical.search("Elektrolyseur Pilotanlage", 5, allowed)[0][0].find(
            ":reports/munich.md:"
        )
        > 0
    )
    (fixture_kb / "reports" / "munich.md").unlink()
    services.ingestor().ingest([fixture_kb])
    assert not services.lexical.search("Elektrolyseur Pilotanlage", 5, allowed)
    assert services.lexical.state().size == services.index.count()
    assert services.vectors.state().size == services.index.count()


@pytest.mark.parametrize("copy", ["lexical", "vectors"])
def test_a_copy_that_fell_behind_is_rebuilt(services, copy: str) -> None:  # type: ignore[no-untyped-def]
    derived = getattr(services, copy)
    derived.folder.joinpath("chunks.json").write_text(
        '{"ids": [], "columns": {"categories": {}, "dates": {}, "sectors": []}}'
    )
    derived.folder.joinpath("stamp").write_text("written by an interrupted run")
    hits = services.search("研发用房", role="guest", k=3)
    assert hits and derived.state().size == services.index.count()


def _edit_in_another_process(services_factory, fixture_kb: Path, old: str, new: str) -> None:  # type: ignore[no-untyped-def]
    report = fixture_kb / "reports" / "munich.md"
    report.write_text(report.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    services_factory().ingestor().ingest([fixture_kb])


def test_an_edit_ingested_by_another_process_is_found_at_once(
    services, services_factory, fixture_kb: Path
) -> None:  # type: ignore[no-untyped-def]
    # A running bot keeps its copies in memory. An ingest run elsewhere edits a report; the
    # chunk count stays the same, so only the rebuild stamp tells the bot its copy is stale.
    assert services.search("Elektrolyseur Pilotanlage", role="partner", k=1, mode="dense")
    count = services.index.count()
    _edit_in_another_process(
        services_factory, fixture_kb, "Pilotanlage", "Pilotanlage mit Testfeld"
    )
    assert services.index.count() == count
    for mode in ("dense", "bm25", "hybrid"):
        hits = services.search("Pilotanlage mit Testfeld", role="partner", k=3, mode=mode)
        assert any("Testfeld" in h.text for h in hits), mode


def test_a_restriction_made_by_another_process_applies_at_once(
    services, services_factory, fixture_kb: Path
) -> None:  # type: ignore[no-untyped-def]
    assert services.search("Elektrolyseur Pilotanlage", role="partner", k=1, mode="dense")
    _edit_in_another_process(
        services_factory, fixture_kb, "visibility: partner", "visibility: internal"
    )
    for mode in ("dense", "bm25", "hybrid"):
        hits = services.search("Elektrolyseur Pilotanlage", role="partner", k=5, mode=mode)
        assert not any(":reports/munich.md:" in h.chunk_id for h in hits), mode


@pytest.mark.parametrize("role", ["guest", "partner", "staff"])
def test_restricted_text_never_enters_the_bm25_candidates(services, role: str) -> None:  # type: ignore[no-untyped-def]
    assert (
        services.lexical.search(
            "CANARY-7731 Canary Robotics valuation", 50, filter_conditions(role)
        )
        == []
    )
    assert not any(
        "CANARY" in h.text for h in services.search("CANARY-7731", role=role, k=20, mode="bm25")
    )


def test_manager_finds_the_canary_by_its_exact_term(services) -> None:  # type: ignore[no-untyped-def]
    hits = services.search("CANARY-7731", role="manager", k=3, mode="bm25")
    assert "CANARY-7731" in hits[0].text


def test_expired_documents_only_when_the_question_is_about_history(services) -> None:  # type: ignore[no-untyped-def]
    current = services.search("研发用房租金补贴", role="guest", k=10)
    assert "fixture-old-rent" not in {h.metadata["doc_id"] for h in current}
    history = services.search(
        "研发用房租金补贴", role="guest", k=10, filters=SearchFilters(include_expired=True)
    )
    assert "fixture-old-rent" in {h.metadata["doc_id"] for h in history}
    assert asks_about_history("2021年的研发用房租金补贴是多少？", today=dt.date(2026, 11, 26))
    assert asks_about_history("Is the listing reward still valid?")
    assert not asks_about_history("研发用房租金补贴是多少？")


def test_metadata_filters(services) -> None:  # type: ignore[no-untyped-def]
    def docs(**kwargs):  # type: ignore[no-untyped-def]
        hits = services.search(
            "补贴 Förderung subsidy",
            role="manager",
            k=20,
            filters=SearchFilters(include_expired=True, **kwargs),
        )
        return {h.metadata["doc_id"] for h in hits}

    assert docs(sector="ai") == {"fixture-rent", "fixture-old-rent"}
    assert docs(language="de") == {"reports/munich.md"}
    assert docs(since=dt.date(2025, 2, 1)) == {"reports/munich.md", "policies/talent.md"}
    assert docs(until=dt.date(2021, 12, 31)) == {"fixture-old-rent"}


def test_weighted_reciprocal_rank_fusion() -> None:
    scores = rrf([["a", "b"], ["b", "c"]], [1.0, 0.5])
    assert scores["b"] == pytest.approx(1 / 62 + 0.5 / 61)
    assert max(scores, key=scores.__getitem__) == "b"


def test_optional_term_reranker_lifts_exact_matches(services_factory, fixture_kb: Path) -> None:  # type: ignore[no-untyped-def]
    plain = services_factory("plain")
    plain.ingestor().ingest([fixture_kb])
    reranked = services_factory("reranked", ZBRAIN_RERANKER="terms")
    reranked.ingestor().ingest([fixture_kb])
    query = "安家补贴 300万元"
    top = reranked.search(query, role="guest", k=2, per_document=None)
    assert "300万元" in top[0].text
    assert {h.chunk_id for h in top} <= {
        h.chunk_id for h in plain.search(query, role="guest", k=20)
    }
