"""Extractive answers on the sample knowledge base through the real pipeline: the sentence
that carries what is asked, table rows with their header, the asker's language version of a
document, glosses for excerpts in another language, and near misses declined with the
closest document and a contact."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.answer import AnswerService
from bot.divisions import load_divisions
from bot.messages import IncomingMessage, Reply


def _ask(services, question: str, *, role: str = "guest", language: str | None = None) -> Reply:  # type: ignore[no-untyped-def]
    service = AnswerService(
        services,
        divisions=load_divisions(),
        role_of=lambda m: role,
        language_of=lambda m: language,
    )
    message = IncomingMessage(question, "test", "u1", uuid.uuid4().hex)

    async def collect() -> list[object]:
        return [update async for update in service(message)]

    reply = asyncio.run(collect())[-1]
    assert isinstance(reply, Reply)
    return reply


def _quotes(reply: Reply) -> list[str]:
    return [line for line in reply.text.splitlines() if line.startswith("- ")]


def test_readme_first_example_answers_with_the_amount(sample_services) -> None:  # type: ignore[no-untyped-def]
    reply = _ask(sample_services, "How much is the home-settlement subsidy for top talent?")
    assert not reply.abstained and reply.mode == "extractive"
    row = next(q for q in _quotes(reply) if "RMB 5 million" in q)
    # The table row is whole and says what its figure is.
    assert "Category: A" in row and "Subsidy: RMB 5 million" in row and "etc.)" in row
    assert reply.citations[0].doc_id == "policy-talent-housing-2025-en"


def test_readme_german_example_quotes_the_hydrogen_station_subsidy_with_a_gloss(
    sample_services,  # type: ignore[no-untyped-def]
) -> None:
    reply = _ask(sample_services, "Förderung für Wasserstofftankstellen?", role="partner")
    assert reply.language == "de" and not reply.abstained
    assert reply.citations[0].doc_id == "policy-hydrogen-2025"
    assert any("300万元" in q for q in _quotes(reply))
    # Something in German to hold on to: the amount and the park term, glossed.
    assert "Auf Deutsch: 300万元 = 3 Millionen RMB" in reply.text
    assert "Wasserstofftankstelle" in reply.text


def test_the_asker_s_language_version_is_quoted(sample_services) -> None:  # type: ignore[no-untyped-def]
    # Without a German version, a German reader gets the English translation, glossed.
    german = _ask(sample_services, "Wie hoch ist der Ansiedlungszuschuss für Spitzentalente?")
    assert german.citations[0].doc_id == "policy-talent-housing-2025-en"
    assert "RMB 5 million = 5 Millionen RMB" in german.text
    reply = _ask(sample_services, "顶尖人才安家补贴多少钱？", language="en")
    assert reply.language == "en"
    assert [c.doc_id for c in reply.citations][:1] == ["policy-talent-housing-2025-en"]
    assert "RMB 5 million" in reply.text
    chinese = _ask(sample_services, "顶尖人才安家补贴多少钱？")
    assert chinese.citations[0].doc_id == "policy-talent-housing-2025"
    assert any("500万元" in q for q in _quotes(chinese))


@pytest.mark.parametrize(
    ("question", "language"),
    [
        ("E급 인재 정착 보조금 금액은 얼마인가요?", "ko"),
        ("洛阳高新区的研发用房租金减免标准是多少？", "zh"),
        ("Wie hoch ist die Ansiedlungsprämie im Optics Valley in Wuhan?", "de"),
    ],
)
def test_near_misses_say_the_documents_do_not_answer(
    sample_services,  # type: ignore[no-untyped-def]
    question: str,
    language: str,
) -> None:
    reply = _ask(sample_services, question)
    assert reply.abstained and reply.language == language
    assert len(reply.citations) == 1 and "[1]" in reply.text  # the closest document
    assert "0371-" in reply.text  # the division's contact


@pytest.mark.parametrize(
    ("question", "facts"),
    [
        # Quoted from the English translation, glossed in Korean.
        ("C급 인재로 인정받으면 정착 보조금을 얼마나 받을 수 있나요?", ["100만 위안", "100万元"]),
        ("加氢站2026年的运营补贴标准是多少？", ["12元/公斤"]),
        (
            "Quel est le montant de l'aide à l'installation pour un talent de catégorie A ?",
            ["5 millions RMB", "500万元"],
        ),
    ],
)
def test_answerable_questions_are_answered_with_the_figure(
    sample_services,  # type: ignore[no-untyped-def]
    question: str,
    facts: list[str],
) -> None:
    reply = _ask(sample_services, question)
    assert not reply.abstained
    assert any(fact in reply.text for fact in facts), reply.text


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "How large is Research Triangle Park and how many companies are located there?",
            ["How large is Research Triangle Park", "and how many companies are located there?"],
        ),
        (
            "巴黎-萨克雷大学是哪一年开始运行的？萨克雷位于哪个方向？",
            ["巴黎-萨克雷大学是哪一年开始运行的？", "萨克雷位于哪个方向？"],
        ),
        (
            "Wie hoch ist der Zuschuss, und bis zu welcher Höhe sind Beteiligungen möglich?",
            ["Wie hoch ist der Zuschuss", "und bis zu welcher Höhe sind Beteiligungen möglich?"],
        ),
        (
            "설립된 지 몇 년 미만이어야 하고, 직원 수 제한은 어떻게 되나요?",
            ["설립된 지 몇 년 미만이어야 하고", "직원 수 제한은 어떻게 되나요?"],
        ),
        (
            "מי הקים את Station F, ובאיזו שנה הוא נפתח?",
            ["מי הקים את Station F", "ובאיזו שנה הוא נפתח?"],
        ),
        # one question: "and" inside it opens no second one
        (
            "What support is there for research and development?",
            ["What support is there for research and development?"],
        ),
    ],
)
def test_a_question_is_split_where_it_asks_a_second_thing(question: str, parts: list[str]) -> None:
    from bot.extractive import question_parts

    assert question_parts(question) == parts
