"""What a question asks for, the figures a passage states, the near-miss check that uses
both, and the glosses under excerpts quoted in another language."""

from __future__ import annotations

import pytest

from bot import i18n
from bot.abstain import misses_what_is_asked
from bot.asks import asked
from bot.gloss import gloss_line
from knowledge.figures import amounts, figure_kinds
from knowledge.glossary import cached_glossary
from knowledge.romanize import hangul_latin
from retrieval.index import Hit

GLOSSARY = cached_glossary()
TALENT_ZH = Hit(
    "t1",
    "| 类别 | 说明 | 安家补贴 |\n| A类 | 顶尖人才（诺贝尔奖获得者、两院院士等） | 500万元 |\n"
    "| D类 | 博士及青年拔尖人才 | 30万元 |",
    0.1,
    {"title": "郑州高新区高层次人才安家补贴及生活保障实施细则", "language": "zh"},
)
LAB_RENT_ZH = Hit(
    "l1",
    "入驻区属国有载体的，前两年免租，后三年减半；租用市场化载体的，每平方米每月补贴20元。",
    0.1,
    {"title": "郑州高新区研发用房租金减免办法", "language": "zh"},
)
LAUNCH_EN = Hit(
    "n1",
    'Of the world\'s 2,734 "hidden champions", 1,307 are German.',
    0.1,
    {"title": "Zhengzhou High-tech Zone launches its system", "language": "en"},
)
VENTURE_2023 = Hit(
    "v1",
    "2023년 신규 벤처투자는 약 10조 9천억 원으로, 2022년보다 줄었다.",
    0.1,
    {"title": "2023년 벤처투자 동향", "language": "ko"},
)
EQUIPMENT_ZH = Hit(
    "e1",
    "设备购置补贴：按生产性设备购置额的10%给予补贴。",
    0.1,
    {"title": "郑州高新区设备购置补贴办法", "language": "zh"},
)
LAUNCH_2019 = Hit(
    "n2",
    "The system was launched in 2019 with nodes in four countries.",
    0.1,
    {"title": "Launch news", "language": "en"},
)
PANGYO_KO = Hit(
    "p1",
    "판교테크노밸리는 경기도 성남시 분당구에 조성된 첨단 산업단지로, 2015년에 완공되었다.",
    0.1,
    {"title": "판교테크노밸리", "language": "ko"},
)
MUNICH_2026 = Hit(
    "m1",
    "2026年第三季度慕尼黑节点新推送线索4条。",
    0.1,
    {"title": "慕尼黑节点2026年第三季度工作报告", "language": "zh"},
)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("| A类 | 顶尖人才 | 500万元 |", {"amount"}),
        ("Subsidy: RMB 5 million", {"amount"}),
        ("Die Förderung beträgt 2,5 Mio. Euro.", {"amount"}),
        ("2025年15元/公斤", {"amount", "rate", "date"}),
        ("80% of the zone-retained share", {"rate"}),
        ("Im dritten Quartal wurden 12 Leads gemeldet.", {"date", "count"}),
        ("咨询电话：0371-67981425", set()),
        ("2023년 신규 벤처투자는 약 10조 9천억 원이다.", {"amount", "date"}),
        ("郑高人才〔2025〕3号", set()),
    ],
)
def test_figure_kinds(text: str, kinds: set[str]) -> None:
    assert figure_kinds(text) == kinds


def test_amounts_are_read_in_every_language() -> None:
    values = [
        (a.value, a.currency)
        for t in ("500万元", "RMB 5 million", "5 millions de yuans", "500만 위안", "5 מיליון יואן")
        for a in amounts(t)
    ]
    assert values == [(5_000_000, "CNY")] * 5
    assert [(a.value, a.currency) for a in amounts("약 10조 9천억 원")] == [(10.9e12, "KRW")]
    assert [(a.value, a.currency) for a in amounts("2.000.000 € und 300,000 USD")] == [
        (2_000_000, "EUR"),
        (300_000, "USD"),
    ]


@pytest.mark.parametrize(
    ("question", "figures", "things"),
    [
        ("How much is the home-settlement subsidy for top talent?", {"amount"}, []),
        (
            "Wie hoch ist die Ansiedlungsprämie im Optics Valley in Wuhan?",
            {"amount"},
            ["Optics", "Wuhan"],
        ),
        ("洛阳高新区的研发用房租金减免标准是多少？", set(), ["洛阳"]),
        ("C급 인재로 인정받으면 정착 보조금을 얼마나 받을 수 있나요?", {"amount"}, ["category C"]),
        ("慕尼黑节点2019年第四季度推送了多少条线索？", {"count"}, ["2019", "2019 Q4", "Munich"]),
        ("Quand la loi britannique entre-t-elle en vigueur ?", {"date"}, []),
        # German capitalises every noun: "im Talentapartment," names no place.
        ("Wie viel Miete zahle ich im Talentapartment, und wie lange?", {"amount"}, []),
        ("2023년 3분기 벤처투자는 얼마였나요?", {"amount"}, ["2023", "2023 Q3"]),
        # "which year" in every language asks for a date
        ("באיזו שנה נוסד המרכז?", {"date"}, []),
        ("팁스 프로그램은 몇 년도에 시작됐어요?", {"date"}, []),
        ("In welchem Jahr wurde der Fonds gegründet?", {"date"}, []),
        ("En quelle année le campus a-t-il ouvert ?", {"date"}, []),
        ("מה שיעור המס?", {"rate"}, []),
        # a name copied from another script must be written by a passage; the glossary's
        # terms (PCT) are checked in any language instead
        (
            "מה הסכום המקסימלי של Bourse French Tech Emergence?",
            {"amount"},
            ["Bourse", "French", "Tech", "Emergence"],
        ),
        ("韩国TIPS的深科技（딥테크）专项最多能拿多少钱？", {"amount"}, ["TIPS", "딥테크"]),
        ("מה המענק על פטנט במסלול PCT?", set(), []),
        # a size is answered by a number with its unit (read as a count), or by a sum
        ("Quelle est la surface de Station F ?", {"count"}, []),
        ("How big is the guidance fund?", {"amount", "count"}, []),
    ],
)
def test_what_a_question_asks(question: str, figures: set[str], things: list[str]) -> None:
    got = asked(question, GLOSSARY)
    assert set(got.figures) == figures
    assert [t.label for t in got.things] == things


@pytest.mark.parametrize(
    ("question", "hits", "declined"),
    [
        # answerable: the passage holds the figure and the thing, across languages
        ("How much is the Category A home-settlement subsidy?", [TALENT_ZH], False),
        ("顶尖人才安家补贴多少钱？", [TALENT_ZH], False),
        ("Wie viel Miete zahlt man in den staatlichen Laboren?", [LAB_RENT_ZH], False),
        ("慕尼黑节点2026年第三季度推送了多少条线索？", [MUNICH_2026], False),
        # a partner country by another language's name
        ("Wie viele Hidden Champions gibt es in Deutschland?", [LAUNCH_EN], False),
        # near misses: on topic, but the category, place or year is not there
        ("E급 인재 정착 보조금 금액은 얼마인가요?", [TALENT_ZH], True),
        ("洛阳高新区的研发用房租金减免标准是多少？", [LAB_RENT_ZH], True),
        ("慕尼黑节点2019年第四季度推送了多少条线索？", [MUNICH_2026], True),
        ("What is the home-settlement subsidy for talent in Wuhan City?", [TALENT_ZH], True),
        # a quarter must be named where the figure is; a year's total does not answer it
        ("2023년 벤처투자는 얼마였나요?", [VENTURE_2023], False),
        ("2023년 3분기 벤처투자는 얼마였나요?", [VENTURE_2023], True),
        # a year must stand in one of the top passages, not in any retrieved one
        ("How much venture capital was invested in 2019?", [VENTURE_2023, LAUNCH_2019], False),
        (
            "How much venture capital was invested in 2019?",
            [VENTURE_2023, TALENT_ZH, LAB_RENT_ZH, LAUNCH_2019],
            True,
        ),
        # a Latin name in a Hebrew question, written by the passage or not
        ("כמה חממות טכנולוגיות יש ב-Munich?", [MUNICH_2026], False),
        ("כמה לידים דחף Fenbridge ב-2026?", [MUNICH_2026], True),
        # a Latin place name in a Korean passage, written in Hangul as it is said
        ("In welcher Stadt liegt das Pangyo Techno Valley?", [PANGYO_KO], False),
        ("En quelle année Pangyo Techno Valley a-t-il été achevé ?", [PANGYO_KO], False),
        ("In welchem Jahr wurde das Daedeok Innopolis Valley eröffnet?", [PANGYO_KO], True),
        # a share of the cost answers "how much"
        ("Wie hoch ist der Zuschuss für Geräte?", [EQUIPMENT_ZH], False),
    ],
)
def test_near_misses_are_declined_and_answerable_ones_not(
    question: str, hits: list[Hit], declined: bool
) -> None:
    assert misses_what_is_asked(question, hits, GLOSSARY) is declined


def test_korean_is_romanized_as_place_names_are_written() -> None:
    assert hangul_latin("판교테크노밸리") == "pangyotekeunobaelli"
    assert [hangul_latin(w) for w in ("대덕", "성남시", "울릉도", "Seoul 서울")] == [
        "daedeok",
        "seongnamsi",
        "ulleungdo",
        "seoul seoul",
    ]


def test_a_question_that_asks_nothing_specific_is_left_to_the_scores() -> None:
    assert not misses_what_is_asked("Tell me about talent support", [LAB_RENT_ZH], GLOSSARY)


def test_glosses_from_the_number_formatter_and_the_glossary() -> None:
    line = gloss_line(
        "新建日加氢能力500公斤及以上的固定式加氢站，建成投运后给予一次性建设补贴300万元；",
        "de",
        GLOSSARY,
    )
    assert line == "Auf Deutsch: 300万元 = 3 Millionen RMB; 加氢站 = Wasserstofftankstelle"
    row = "类别：A类 | 说明：顶尖人才（两院院士等） | 安家补贴：500万元"
    assert gloss_line(row, "en", GLOSSARY) == (
        "In English: 500万元 = RMB 5 million; 顶尖人才 = top talent; "
        "安家补贴 = home-settlement subsidy"
    )
    assert gloss_line("Subsidy: RMB 5 million", "zh", GLOSSARY).startswith(
        "中文对照：RMB 5 million = 500万元"
    )


def test_nothing_is_glossed_that_neither_knows() -> None:
    assert gloss_line("公示5个工作日。", "en", GLOSSARY) is None
    assert gloss_line("Subsidy: RMB 5 million", "en", GLOSSARY) is None


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "RMB 5 million"),
        ("de", "5 Millionen RMB"),
        ("fr", "5 millions RMB"),
        ("zh", "500万元"),
        ("ko", "500만 위안"),
        ("he", "5 מיליון יואן"),
    ],
)
def test_amounts_the_asker_s_way(language: str, expected: str) -> None:
    assert i18n.amount(5_000_000, "CNY", language) == expected
    assert i18n.large_number(1_234_567, language).replace("\u202f", " ") in (
        "1,234,567",
        "1.234.567",
        "1 234 567",
    )


def test_a_term_inside_a_longer_one_and_with_a_plural_ending_is_named() -> None:
    def named(text: str) -> set[str]:
        return {e.names["zh"][0] for e in GLOSSARY.mentioned(text)}

    # The subsidy's German name holds the station's, in the plural.
    assert {"加氢站建设补贴", "加氢站"} <= named("Förderung für Wasserstofftankstellen?")
    assert "加氢站" in named("Wo gibt es Wasserstofftankstellen?")
    # Short terms still stand as whole words only: "its" is not "IT", "said" holds no "AI".
    assert not {e.id for e in GLOSSARY.mentioned("What does it say about its future?", "sectors")}
    assert not GLOSSARY.mentioned("He said so.", "sectors")


def test_a_passage_stating_the_figure_asked_for_comes_before_an_overview() -> None:
    from dataclasses import replace

    from bot.figure_ranking import favour_figures

    overview = Hit(
        "o1",
        "The zone supports talent with housing and relocation subsidies.",
        0.1,
        {"title": "Investing in the zone", "language": "en"},
        rank_score=3.0,
    )
    policy = replace(TALENT_ZH, rank_score=2.5)
    question = "How much is the home-settlement subsidy for top talent?"
    assert [h.chunk_id for h in favour_figures(question, [overview, policy], GLOSSARY)] == [
        "t1",
        "o1",
    ]
    # A clear lead stands, and a question asking for no figure keeps the order.
    far_ahead = replace(overview, rank_score=4.0)
    assert favour_figures(question, [far_ahead, policy], GLOSSARY)[0].chunk_id == "o1"
    assert favour_figures("Tell me about talent support", [overview, policy], GLOSSARY)[0] == (
        overview
    )
