"""What the intake reads from a lead description without a model, as a table: each
description in one of the six languages, and every field it must yield (no more: a field the
text does not hold must be asked, not guessed). Pure functions over the sample glossary."""

from __future__ import annotations

from typing import Any

import pytest

from bot.leads.intake_fields import FieldError, FieldReader, field_named, labelled
from bot.leads.intake_mining import find_company, find_jobs, form_language, mine
from knowledge.glossary import Glossary, cached_glossary
from knowledge.leads import DEFAULT_NODES

DESCRIPTIONS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "en",
        "Zugspitze Electrolysis GmbH from the Munich node, hydrogen electrolysers, "
        "EUR 15 million, 60 jobs, needs land and funding",
        dict(
            company="Zugspitze Electrolysis GmbH",
            node="munich",
            sectors=["hydrogen"],
            needs=["land", "funding"],
            investment=(15000000, "EUR"),
            expected_jobs=60,
        ),
    ),
    (
        "en",
        "Negev Water Ltd from Tel Aviv: precision irrigation pilot, $3.5M, 25 jobs, "
        "needs lab space",
        dict(
            company="Negev Water Ltd",
            node="tel-aviv",
            sectors=["agritech"],
            needs=["lab"],
            investment=(3500000, "USD"),
            expected_jobs=25,
        ),
    ),
    (
        "en",
        "Boston Dynamics Inc. wants to build an advanced manufacturing plant, USD 20 million, "
        "150 new jobs, needs land",
        dict(
            company="Boston Dynamics Inc.",
            sectors=["advanced-manufacturing"],
            needs=["land"],
            investment=(20000000, "USD"),
            expected_jobs=150,
        ),
    ),
    (
        "en",
        "Cambridge node: Granta Bio Ltd., a biotech spin-out, £5m, 40 employees, "
        "needs lab and talent",
        dict(
            company="Granta Bio Ltd.",
            node="cambridge",
            sectors=["biomedicine"],
            needs=["lab", "talent"],
            investment=(5000000, "GBP"),
            expected_jobs=40,
        ),
    ),
    (
        "en",
        "Acme Robotics LLC, €12m, office space, 30 jobs",
        dict(
            company="Acme Robotics LLC",
            needs=["office"],
            investment=(12000000, "EUR"),
            expected_jobs=30,
        ),
    ),
    (
        "en",
        "ChipCo Co., Ltd. from Boston, semiconductors, 1.5 million USD",
        dict(
            company="ChipCo Co., Ltd.",
            node="boston",
            sectors=["semiconductors"],
            investment=(1500000, "USD"),
        ),
    ),
    (
        "de",
        "Isar Lab GmbH aus München, Wasserstoff, 15 Mio. €, 60 Arbeitsplätze, "
        "braucht ein Grundstück",
        dict(
            company="Isar Lab GmbH",
            node="munich",
            sectors=["hydrogen"],
            needs=["land"],
            investment=(15000000, "EUR"),
            expected_jobs=60,
        ),
    ),
    (
        "de",
        "Alpine Robotics AG, Knoten München, KI und Halbleiter, 12 Mio. EUR Investition, "
        "45 neue Arbeitsplätze, Finanzierung",
        dict(
            company="Alpine Robotics AG",
            node="munich",
            sectors=["ai", "semiconductors"],
            needs=["funding"],
            investment=(12000000, "EUR"),
            expected_jobs=45,
        ),
    ),
    (
        "de",
        "Die Bayern Batterie GmbH & Co. KG plant eine Fabrik für Elektrofahrzeuge, "
        "3,5 Mio. Euro, 120 Stellen",
        dict(
            company="Bayern Batterie GmbH & Co. KG",
            sectors=["new-energy-vehicles"],
            investment=(3500000, "EUR"),
            expected_jobs=120,
        ),
    ),
    (
        "de",
        "Medizintechnik-Startup aus München sucht Laborflächen, 2 Millionen Euro, 20 Mitarbeiter",
        dict(
            node="munich",
            sectors=["medical-devices"],
            needs=["lab"],
            investment=(2000000, "EUR"),
            expected_jobs=20,
        ),
    ),
    (
        "fr",
        "Hydrogène Alpes SAS, nœud de Munich, hydrogène, 5 millions d'euros, 60 emplois, "
        "besoin de terrain",
        dict(
            company="Hydrogène Alpes SAS",
            node="munich",
            sectors=["hydrogen"],
            needs=["land"],
            investment=(5000000, "EUR"),
            expected_jobs=60,
        ),
    ),
    (
        "fr",
        "La société Médica France SA cherche un laboratoire pour des dispositifs médicaux, "
        "12 M€, 35 emplois",
        dict(
            company="Médica France SA",
            sectors=["medical-devices"],
            needs=["lab"],
            investment=(12000000, "EUR"),
            expected_jobs=35,
        ),
    ),
    (
        "fr",
        "Start-up de cybersécurité de Tel-Aviv, 2 millions de dollars, 15 postes, "
        "besoin de bureaux",
        dict(
            node="tel-aviv",
            sectors=["information-security"],
            needs=["office"],
            investment=(2000000, "USD"),
            expected_jobs=15,
        ),
    ),
    (
        "fr",
        "Agrinov SARL, agriculture intelligente, 800 000 €, 10 emplois",
        dict(
            company="Agrinov SARL",
            sectors=["agritech"],
            investment=(800000, "EUR"),
            expected_jobs=10,
        ),
    ),
    (
        "zh",
        "慕尼黑节点推荐的德国氢能科技有限公司，投资2000万美元，创造60个就业岗位，需要用地和资金",
        dict(
            company="德国氢能科技有限公司",
            node="munich",
            sectors=["hydrogen"],
            needs=["land", "funding"],
            investment=(20000000, "USD"),
            expected_jobs=60,
        ),
    ),
    (
        "zh",
        "波士顿生物医药股份有限公司，1,200万元，新增就业80人，需要实验室",
        dict(
            company="波士顿生物医药股份有限公司",
            sectors=["biomedicine"],
            needs=["lab"],
            investment=(12000000, "CNY"),
            expected_jobs=80,
        ),
    ),
    (
        "zh",
        "来自特拉维夫的节水灌溉企业，投资1.2亿人民币，带动就业200人",
        dict(
            node="tel-aviv", sectors=["agritech"], investment=(120000000, "CNY"), expected_jobs=200
        ),
    ),
    (
        "zh",
        "剑桥节点：Granta Bio Ltd，生物医药，3000万欧元，50个岗位，需要人才和实验室",
        dict(
            company="Granta Bio Ltd",
            node="cambridge",
            sectors=["biomedicine"],
            needs=["lab", "talent"],
            investment=(30000000, "EUR"),
            expected_jobs=50,
        ),
    ),
    (
        "zh",
        "新能源汽车动力电池项目，来自慕尼黑，投资额5亿元",
        dict(node="munich", sectors=["new-energy-vehicles"], investment=(500000000, "CNY")),
    ),
    (
        "ko",
        "주식회사 수소테크는 뮌헨 거점 소개, 수소, 10억 원 투자, 일자리 60개, 부지 필요",
        dict(
            company="주식회사 수소테크",
            node="munich",
            sectors=["hydrogen"],
            needs=["land"],
            investment=(1000000000, "KRW"),
            expected_jobs=60,
        ),
    ),
    (
        "ko",
        "보스턴 노드에서 온 바이오 기업 (주)메디진, 1,000만 달러, 직원 40명 채용, 실험실 필요",
        dict(
            company="(주)메디진",
            node="boston",
            sectors=["biomedicine"],
            needs=["lab", "talent"],
            investment=(10000000, "USD"),
            expected_jobs=40,
        ),
    ),
    (
        "ko",
        "텔아비브 사이버보안 스타트업 시큐어랩 주식회사, 500만 유로 투자, 25개의 일자리",
        dict(
            company="시큐어랩 주식회사",
            node="tel-aviv",
            sectors=["information-security"],
            investment=(5000000, "EUR"),
            expected_jobs=25,
        ),
    ),
    (
        "ko",
        "케임브리지 반도체 기업, 50억원 투자 예정, 사무실 필요",
        dict(
            node="cambridge",
            sectors=["semiconductors"],
            needs=["office"],
            investment=(5000000000, "KRW"),
        ),
    ),
    (
        "he",
        'אלקטרו מימן בע"מ מתל אביב, מימן, 10 מיליון ש"ח, 60 משרות, צריכים קרקע',
        dict(
            company='אלקטרו מימן בע"מ',
            node="tel-aviv",
            sectors=["hydrogen"],
            needs=["land"],
            investment=(10000000, "ILS"),
            expected_jobs=60,
        ),
    ),
    (
        "he",
        'חברת אגרוטק ירוק בע"מ, חקלאות חכמה, $3.5M, 25 משרות, צריכים מעבדה',
        dict(
            company='אגרוטק ירוק בע"מ',
            sectors=["agritech"],
            needs=["lab"],
            investment=(3500000, "USD"),
            expected_jobs=25,
        ),
    ),
    (
        "he",
        "סטארט-אפ סייבר מבוסטון, 5 מיליון דולר, 30 עובדים, צריכים משרדים ומימון",
        dict(
            node="boston",
            sectors=["information-security"],
            needs=["office", "funding"],
            investment=(5000000, "USD"),
            expected_jobs=30,
        ),
    ),
    (
        "he",
        "מכשור רפואי ממינכן, ₪10m, גיוס עובדים",
        dict(
            node="munich",
            sectors=["medical-devices"],
            needs=["talent"],
            investment=(10000000, "ILS"),
        ),
    ),
]


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return cached_glossary()


def _fields(found: dict[str, Any]) -> dict[str, Any]:
    fields = {k: v for k, v in found.items() if k != "investment"}
    if "investment" in found:
        fields["investment"] = tuple(found["investment"])
    return fields


def test_the_table_covers_six_languages_and_at_least_25_descriptions() -> None:
    assert len(DESCRIPTIONS) >= 25
    assert {language for language, _, _ in DESCRIPTIONS} == {"zh", "en", "de", "ko", "he", "fr"}


@pytest.mark.parametrize(("language", "description", "expected"), DESCRIPTIONS)
def test_a_description_yields_exactly_the_fields_it_holds(
    glossary: Glossary, language: str, description: str, expected: dict[str, Any]
) -> None:
    assert _fields(mine(description, glossary, DEFAULT_NODES)) == expected


@pytest.mark.parametrize(("language", "description", "expected"), DESCRIPTIONS)
def test_the_form_speaks_the_language_of_the_description(
    glossary: Glossary, language: str, description: str, expected: dict[str, Any]
) -> None:
    # "xx" would show if the detection fell back: every description here says enough.
    assert form_language(description, glossary, "xx") == language


def test_a_legal_form_makes_no_language_and_too_little_text_keeps_the_asker_s(
    glossary: Glossary,
) -> None:
    issue = DESCRIPTIONS[0][1]  # detected as German on the whole text, "GmbH" and all
    assert form_language(issue, glossary, "de") == "en"
    assert form_language("Isar Lab GmbH", glossary, "zh") == "zh"
    assert form_language("Negev Water Ltd, EUR 5m", glossary, "fr") == "fr"


def test_labelled_lines_are_read_as_the_fields_they_name(glossary: Glossary) -> None:
    found = mine(
        "Company: Isar Lab\nnode: München; Jobs: 60; Investition: 12 Mio. EUR",
        glossary,
        DEFAULT_NODES,
    )
    assert _fields(found) == dict(
        company="Isar Lab", node="munich", expected_jobs=60, investment=(12_000_000, "EUR")
    )  # and "Isar Lab" is no need for a lab


@pytest.mark.parametrize(
    ("text", "company"),
    [
        ("we met H2 Motion GmbH at the fair", "H2 Motion GmbH"),
        ("the Munich-based Isar Lab GmbH", "Isar Lab GmbH"),
        ("Hydrogène de France SAS", "Hydrogène de France SAS"),
        ("华为技术有限公司，深圳", "华为技术有限公司"),
        ("来自慕尼黑的氢能科技有限公司", "氢能科技有限公司"),
        ("수소테크 주식회사는 보스턴 노드", "수소테크 주식회사"),
        ("a hydrogen start-up from Munich", None),
    ],
)
def test_a_company_is_found_by_its_legal_form(text: str, company: str | None) -> None:
    found = find_company(text)
    assert (found[0] if found else None) == company


@pytest.mark.parametrize(
    ("text", "jobs"),
    [
        ("60 jobs", 60),
        ("1,200 new jobs", 1200),
        ("60 Arbeitsplätze", 60),
        ("60个就业岗位", 60),
        ("带动就业200人", 200),
        ("60 emplois", 60),
        ("일자리 60개", 60),
        ("60 משרות", 60),
        ("-5 jobs", None),
        ("H2 for trucks", None),
    ],
)
def test_jobs_are_found_in_every_language(text: str, jobs: int | None) -> None:
    assert find_jobs(text) == jobs


# ---------------------------------------------------------------------------- each field
def _reader(glossary: Glossary, language: str = "en") -> FieldReader:
    return FieldReader(glossary, DEFAULT_NODES, language)


@pytest.mark.parametrize(
    ("field", "answer", "key"),
    [
        ("sectors", "Munich", "sector"),
        ("sectors", "2000万美元", "sector"),
        ("sectors", "hydrogne", "sector_suggest"),
        ("needs", "unicorns", "need"),
        ("node", "Paris", "node"),
        ("node", "Munchen", "node_suggest"),
        ("expected_jobs", "-5", "jobs"),
        ("expected_jobs", "0", "jobs"),
        ("expected_jobs", "5.5", "jobs"),
        ("expected_jobs", "many", "jobs"),
        ("investment", "a lot", "amount"),
        ("investment", "12000000", "currency"),
        ("investment", "-5 EUR", "amount_positive"),
        ("contact", "25", "contact"),
        ("contact", "Anna, 12", "contact"),
        ("company", "25", "company"),
        ("company", "Munich", "company"),
        ("company", "2000万美元", "company"),
    ],
)
def test_an_answer_that_does_not_fit_its_field_is_refused(
    glossary: Glossary, field: str, answer: str, key: str
) -> None:
    with pytest.raises(FieldError) as refused:
        _reader(glossary).read(field, answer)
    assert refused.value.key == key


@pytest.mark.parametrize(
    ("field", "answer", "value"),
    [
        ("sectors", "Wasserstoff, KI", ["hydrogen", "ai"]),
        ("sectors", "hydrogen and semiconductors", ["hydrogen", "semiconductors"]),
        ("sectors", "氢能、人工智能", ["hydrogen", "ai"]),
        ("needs", "skip", []),
        ("node", "慕尼黑", "munich"),
        ("node", "from Tel Aviv", "tel-aviv"),
        ("expected_jobs", "60", 60),
        ("expected_jobs", "about 1,200", 1200),
        ("expected_jobs", "60명", 60),
        ("investment", "12 Mio. EUR", [12_000_000, "EUR"]),
        ("investment", "5 millions d'euros", [5_000_000, "EUR"]),
        ("investment", "skip", [None, None]),
        (
            "contact",
            "Anna Weber, anna@example.de, +49 89 1234567",
            ["Anna Weber", "anna@example.de", "+49 89 1234567"],
        ),
        ("contact", "王强", ["王强", None, None]),
        ("contact", "Anna Weber, Tel. +49 89 1234567", ["Anna Weber", None, "+49 89 1234567"]),
        ("contact", "王强，电话：13812345678", ["王强", None, "13812345678"]),
        ("company", "  Isar   Lab GmbH ", "Isar Lab GmbH"),
    ],
)
def test_an_answer_is_read_as_its_field(
    glossary: Glossary, field: str, answer: str, value: object
) -> None:
    assert _reader(glossary).read(field, answer) == value


def test_a_refusal_speaks_the_form_s_language_and_suggests_the_closest_sector(
    glossary: Glossary,
) -> None:
    with pytest.raises(FieldError) as refused:
        _reader(glossary, "zh").read("sectors", "Wasserstof")
    assert refused.value.render("zh") == "“Wasserstof”不是已知的产业领域。您是指氢能吗？"
    with pytest.raises(FieldError) as jobs:
        _reader(glossary, "fr").read("expected_jobs", "-5")
    assert jobs.value.render("fr").startswith("le nombre d'emplois doit être un nombre entier")


@pytest.mark.parametrize(
    ("text", "pair"),
    [
        ("investment: EUR 20m", ("investment", "EUR 20m")),
        ("jobs: 80", ("expected_jobs", "80")),
        ("投资额：2000万美元", ("investment", "2000万美元")),
        ("Sektor: Wasserstoff", ("sectors", "Wasserstoff")),
        ("Emplois : 80", ("expected_jobs", "80")),
        ("일자리: 80", ("expected_jobs", "80")),
        ("משרות: 80", ("expected_jobs", "80")),
        ("note: call back tomorrow", None),
        ("EUR 20m", None),
    ],
)
def test_a_correction_names_its_field_in_any_language(
    text: str, pair: tuple[str, str] | None
) -> None:
    assert labelled(text) == pair


def test_a_field_is_named_in_any_language() -> None:
    words = ("Investition", "投资额", "emplois", "분야", "צומת", "Ansprechpartner", "x")
    assert [field_named(w) for w in words] == [
        "investment", "investment", "expected_jobs", "sectors", "node", "contact", None,
    ]  # fmt: skip


def test_a_model_s_extraction_keeps_only_what_passes_the_checks(glossary: Glossary) -> None:
    extracted = {
        "company": "Isar Lab GmbH",
        "node": "München",
        "sectors": ["hydrogen", "Munich"],
        "needs": ["unicorns"],
        "investment_amount": "12 Mio. EUR",
        "expected_jobs": "60",
        "city": " Garching ",
    }
    assert _reader(glossary).extracted(extracted) == {
        "company": "Isar Lab GmbH",
        "node": "munich",
        "sectors": ["hydrogen"],
        "investment": [12_000_000, "EUR"],
        "expected_jobs": 60,
        "city": "Garching",
    }
    refused = {"company": "25", "node": "Paris", "investment_amount": 5, "expected_jobs": -5}
    assert _reader(glossary).extracted(refused) == {}  # 5 without a currency is no amount


def test_a_contact_correction_is_known_to_hold_a_contact() -> None:
    from bot.leads.intake import holds_contact
    from knowledge.lead_drafts import Draft

    at_draft = Draft("c", "u", "en", step="confirm")
    assert holds_contact(at_draft, "contact: Hans Meier, hans@example.com")
    assert holds_contact(at_draft, "Ansprechpartner: Hans Meier")
    assert not holds_contact(at_draft, "jobs: 80")
    assert holds_contact(Draft("c", "u", "en", step="contact"), "Hans Meier")


def test_a_long_description_is_read_in_linear_time(glossary: Glossary) -> None:
    import time

    # One 20 000-letter word once took about a minute (a name pattern tried at every letter).
    text = "a" * 20_000 + " 가" * 5_000 + " Isar Lab GmbH, 60 jobs, EUR 15m"
    started = time.perf_counter()
    found = mine(text, glossary, DEFAULT_NODES)
    assert time.perf_counter() - started < 5
    assert (found["company"], found["expected_jobs"]) == ("Isar Lab GmbH", 60)
