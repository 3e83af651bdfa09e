"""What a message asks for, by whole words in six languages; and the explicit commands."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.intents import COMMANDS, Intent, action_intent, command_intent, recognize
from bot.leads.requests import SummaryRequest, offer_request, summary_request
from bot.words import Lexicon, Text
from knowledge.glossary import Glossary, cached_glossary
from knowledge.lead_sheets import division_names


@pytest.fixture(scope="module")
def glossary() -> Glossary:
    return cached_glossary()


@pytest.fixture(scope="module")
def divisions() -> dict[str, str]:
    return division_names()


# Questions that must stay questions although they hold look-alike words.
NEGATIVES = [
    # en
    "Give me an overview of the leading semiconductor policies",
    "What leadership programmes does the zone run? Give me an overview.",
    "summary of leadership training subsidies",
    "Who is the contact person for L-0042?",
    "When was L-0042 last updated?",
    "Does L-0042 match the hydrogen programme?",
    "New leadership programmes in the zone?",
    "I need help with the land policy",
    "What are the prospects for hydrogen? An overview please.",
    "How do I submit leads to the park?",
    # zh
    "高新区重点项目概况",
    "项目申报流程是什么",
    "氢能项目概况",
    "重点项目的土地政策汇总",
    "L-0042 的联系人是谁？",
    "统计局有没有发布线索相关的数据？",  # 统计 inside 统计局
    "汇总表里的线索在哪一栏",  # 汇总 inside 汇总表
    "L-0042 现在是什么阶段？",
    # de
    "Projektförderung für Wasserstoff",
    "Überblick über die Projektförderung für Wasserstoff",
    "Zusammenfassung der führenden Förderprogramme für Leadership",
    "neues Projektförderprogramm für KMU?",
    "Welche Förderung gibt es für Leadership-Trainings? Überblick bitte",
    # fr
    "politiques de soutien aux projets",
    "Résumé des politiques de soutien aux projets",
    "Bilan des leaders du marché des batteries",
    "J'ai besoin d'aide pour le dossier de subvention",
    "Aperçu des aides pour les projets pilotes",
    # ko
    "리더십 프로그램 현황",
    "반도체 산업을 리드하는 기업 현황",
    "프로젝트 지원 정책 요약",
    "리드타임 단축 지원 정책 현황",
    # he
    "מנהיגות",
    "מה יש ליד הפארק?",
    "סיכום מדיניות ההשקעה ליד חיפה",
    "תוכניות מנהיגות לחברות הזנק",
    "סיכום תוכניות הסיוע לפרויקטים",
]

POSITIVES: list[tuple[str, Intent]] = [
    # summaries: a summary word and a lead word, filters in the asker's words
    (
        "summarise this month's Tel Aviv leads",
        Intent("summary", summary=SummaryRequest(period="month", node="tel-aviv")),
    ),
    (
        "本月特拉维夫线索汇总",
        Intent("summary", summary=SummaryRequest(period="month", node="tel-aviv")),
    ),
    (
        "本月环渤海事业部的线索汇总",
        Intent("summary", summary=SummaryRequest(period="month", division="bohai")),
    ),
    (
        "Fasse die Leads dieses Monats zusammen",
        Intent("summary", summary=SummaryRequest(period="month")),
    ),
    (
        "Übersicht der Leads in München diese Woche",
        Intent("summary", summary=SummaryRequest(period="week", node="munich")),
    ),
    (
        "Résumé des leads de Munich ce trimestre",
        Intent("summary", summary=SummaryRequest(period="quarter", node="munich")),
    ),
    (
        "이번 달 텔아비브 리드 현황",
        Intent("summary", summary=SummaryRequest(period="month", node="tel-aviv")),
    ),
    ("뮌헨 리드를 요약해줘", Intent("summary", summary=SummaryRequest(node="munich"))),
    ("סכם את הלידים של החודש", Intent("summary", summary=SummaryRequest(period="month"))),
    (
        "lead summary since 2025-01-01",
        Intent("summary", summary=SummaryRequest(since=dt.date(2025, 1, 1))),
    ),
    # offers: a lead id and an offer word
    ("What can we offer L-0042?", Intent("offer", lead_id="L-0042")),
    ("L-0042可以享受哪些政策", Intent("offer", lead_id="L-0042")),
    ("Was können wir L-0042 bieten?", Intent("offer", lead_id="L-0042")),
    ("Quelles aides pour l-0042 ?", Intent("offer", lead_id="L-0042")),
    ("L-0042에 어떤 혜택을 줄 수 있나요?", Intent("offer", lead_id="L-0042")),
    ("אילו הטבות אפשר להציע ל-L-0042?", Intent("offer", lead_id="L-0042")),
    # one lead, and matching it to a division
    ("show L-0042", Intent("lead", lead_id="L-0042")),
    ("lead L-0042", Intent("lead", lead_id="L-0042")),
    ("查看线索L-0042", Intent("lead", lead_id="L-0042")),
    ("리드 L-0042 보여줘", Intent("lead", lead_id="L-0042")),
    ("הצג ליד L-0042", Intent("lead", lead_id="L-0042")),
    ("match L-0042", Intent("match", lead_id="L-0042")),
    ("为L-0042匹配事业部", Intent("match", lead_id="L-0042")),
    # intake, help, cancel
    ("new lead: Acme GmbH battery plant", Intent("new_lead", text="Acme GmbH battery plant")),
    ("新线索：慕尼黑某电池企业", Intent("new_lead", text="慕尼黑某电池企业")),
    ("help", Intent("help")),
    ("/help", Intent("help")),
    ("帮助", Intent("help")),
    ("Hilfe", Intent("help")),
    ("aide", Intent("help")),
    ("도움말", Intent("help")),
    ("עזרה", Intent("help")),
    ("取消", Intent("cancel")),
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alike_words_leave_a_question_a_question(
    text: str, glossary: Glossary, divisions: dict[str, str]
) -> None:
    intent = recognize(text, glossary, divisions)
    assert (intent.name, intent.text) == ("ask", text)


@pytest.mark.parametrize(("text", "want"), POSITIVES)
def test_requests_are_recognised_in_six_languages(
    text: str, want: Intent, glossary: Glossary, divisions: dict[str, str]
) -> None:
    got = recognize(text, glossary, divisions)
    assert got.name == want.name
    assert got.lead_id == want.lead_id
    assert got.summary == want.summary
    if want.name == "new_lead":
        assert got.text == want.text


def test_the_old_helpers_use_the_same_whole_word_rule(glossary: Glossary) -> None:
    assert summary_request("高新区重点项目概况", glossary) is None
    assert summary_request("Give me an overview of the leading policies", glossary) is None
    assert summary_request("线索概况", glossary) == SummaryRequest()
    assert offer_request("What policies fit L-0042?") == "L-0042"
    assert offer_request("Who is the contact person for L-0042?") is None
    assert offer_request("XL-0042 policies") is None  # not a lead id


@pytest.mark.parametrize(
    ("phrase", "text", "found"),
    [
        ("项目", "项目申报流程是什么", True),
        ("项目", "高新区重点项目概况", False),
        ("lead", "查看lead L-0042", True),
        ("lead", "leading policies", False),
        ("리드", "리드를 보여줘", True),
        ("리드", "리더십", False),
        ("לידים", "הלידים של החודש", True),
        ("ליד", "לידה", False),
    ],
)
def test_whole_words_by_the_rules_of_each_script(phrase: str, text: str, found: bool) -> None:
    assert Lexicon([phrase]).found_in(Text(text)) is found


# ------------------------------------------------------------------- explicit commands
def test_summary_command_reads_filters_in_any_language(
    glossary: Glossary, divisions: dict[str, str]
) -> None:
    zh = command_intent("summary", "本月 慕尼黑", glossary, divisions)
    assert zh.name == "summary"
    assert zh.summary == SummaryRequest(period="month", node="munich")
    en = command_intent("/summary", "quarter hydrogen Bohai Rim", glossary, divisions)
    assert en.summary == SummaryRequest(period="quarter", sector="hydrogen", division="bohai")
    assert command_intent("summary", "", glossary).summary == SummaryRequest()


def test_lead_commands_take_a_lead_id_in_short_or_long_form(glossary: Glossary) -> None:
    assert command_intent("lead", "L-0042", glossary) == Intent("lead", lead_id="L-0042")
    assert command_intent("offer", "l-0042", glossary).lead_id == "L-0042"
    assert command_intent("match", "42", glossary).lead_id == "L-0042"
    with pytest.raises(ValueError, match="the offer command needs a lead id"):
        command_intent("offer", "Acme", glossary)


def test_the_other_commands(glossary: Glossary) -> None:
    assert command_intent("ask", " 研发用房租金怎么减免？ ", glossary) == Intent(
        "ask", text="研发用房租金怎么减免？"
    )
    assert command_intent("new-lead", "Acme GmbH, battery cells", glossary) == Intent(
        "new_lead", text="Acme GmbH, battery cells"
    )
    assert command_intent("new_lead", "", glossary) == Intent("new_lead")
    assert command_intent("feedback", "up", glossary, reply_id="R-1") == Intent(
        "feedback", value="up", reply_id="R-1"
    )
    assert command_intent("feedback", "down R-2", glossary).reply_id == "R-2"
    assert command_intent("route", "R-3", glossary) == Intent("route", reply_id="R-3")
    assert command_intent("help", "", glossary) == Intent("help")
    assert command_intent("cancel", "", glossary) == Intent("cancel")


@pytest.mark.parametrize(
    ("name", "argument", "kw", "message"),
    [
        ("ask", "  ", {}, "the ask command needs a question"),
        ("feedback", "sideways", {"reply_id": "R-1"}, "feedback 'sideways' is not one of: up"),
        ("feedback", "up", {}, "feedback needs the id of the reply"),
        ("route", "", {}, "the route command needs the id of the reply"),
    ],
)
def test_a_command_missing_its_argument_says_what(
    glossary: Glossary, name: str, argument: str, kw: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        command_intent(name, argument, glossary, **kw)


def test_an_unknown_command_names_itself_and_the_known_ones(glossary: Glossary) -> None:
    with pytest.raises(ValueError) as raised:
        command_intent("summon", "L-0042", glossary)
    message = str(raised.value)
    assert "'summon'" in message
    assert all(name in message for name in COMMANDS)


def test_button_presses() -> None:
    assert action_intent("feedback", "up", "R-9") == Intent("feedback", value="up", reply_id="R-9")
    assert action_intent("feedback", "👎", "R-9").value == "down"
    assert action_intent("route", "", "R-9") == Intent("route", reply_id="R-9")
    assert action_intent("offer", "L-0042", "R-9").lead_id == "L-0042"
    with pytest.raises(ValueError, match="feedback 'maybe' is not one of"):
        action_intent("feedback", "maybe", "R-9")
    with pytest.raises(ValueError, match="route button needs the id of the reply"):
        action_intent("route", "", "")
    with pytest.raises(ValueError, match="unknown button 'delete'.*feedback, route"):
        action_intent("delete", "L-0042", "R-9")
