from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import warnings
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from matplotlib import rc_context
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.image import imread
from rich.console import Console
from sqlalchemy import Engine

from bot.leads import cli as leads_cli
from bot.leads.chart import HEIGHT_PX, WIDTH_PX, summary_chart
from bot.leads.digest import digest_text
from bot.leads.narrative import Mode, narrate, numbers_in
from bot.leads.reports import summary_reply
from bot.leads.summary import RANKING_RATES_TO_CNY, LeadSummary, SummaryFilter, summarize
from bot.llm import LLMClient
from bot.settings import load_settings
from knowledge.lead_store import LeadStore
from knowledge.sql import make_engine
from tests.conftest import run_cli
from tests.fake_openai import FakeOpenAI, serve_fake_openai
from tests.lead_summary_data import START, TODAY, Clock, build_history, expected_summary


def narrative(
    summary: LeadSummary, language: str, llm: LLMClient | None = None
) -> tuple[str, Mode]:
    """The narrative for a one-shot caller (a fresh client per call, so one loop each)."""
    return asyncio.run(narrate(summary, language, llm))


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> LeadStore:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'leads.db'}"
    else:
        url = request.getfixturevalue("postgres_schema_url")
    store = LeadStore(make_engine(url), clock=Clock(START))
    build_history(store)
    return store


FILTERS = [
    SummaryFilter(),
    SummaryFilter(node="munich"),
    SummaryFilter(sector="hydrogen"),
    SummaryFilter(node="munich", sector="hydrogen"),
    SummaryFilter(stage="visiting"),
    SummaryFilter(division="bohai"),
    SummaryFilter(sector="ai", visibility=("internal",)),
    SummaryFilter(visibility=("internal",)),
    SummaryFilter(period="week"),
    SummaryFilter(period="quarter", stalled_days=60),
    SummaryFilter(since=dt.date(2026, 11, 12), stalled_days=10),
    SummaryFilter(node="paris"),
]


def test_every_figure_matches_the_records(store: LeadStore) -> None:
    for where in FILTERS:
        got = summarize(store.engine, where, TODAY).as_json()
        want = expected_summary(store, where)
        for key, value in want.items():
            assert got[key] == value, (where, key)
            if key.startswith("by_"):
                assert list(got[key]) == list(value), (where, key)  # the order shown, too


def test_the_figures_say_what_a_manager_expects(store: LeadStore) -> None:
    """The history's story, spelled out: a guard that the records-based reference itself
    counts what the issue means."""
    summary = summarize(store.engine, SummaryFilter(), TODAY)
    assert summary.total == 12
    assert summary.new == ["L-0003", "L-0006", "L-0010"]  # Lima, an hour before the period: no
    assert summary.advanced == [
        {"id": "L-0001", "from": "qualified", "to": "visiting"},
        {"id": "L-0008", "from": "qualified", "to": "contacted"},
        {"id": "L-0008", "from": "contacted", "to": "visiting"},
    ]
    assert summary.stalled == ["L-0002", "L-0012"]  # Kilo's edit on Nov 20 ended its stall
    # 50 bn KRW ≈ 260 m CNY > 18 m USD > 100 m CNY; Alpha and Hotel tie at 12 m EUR: id order
    assert [lead["id"] for lead in summary.largest] == [
        "L-0006",
        "L-0002",
        "L-0007",
        "L-0001",
        "L-0008",
    ]
    assert summary.unassigned == [
        {"id": "L-0002", "company": "Beacon Bio Inc.", "suggested_division": None},
        {"id": "L-0003", "company": "Cedar AI Ltd", "suggested_division": "bohai"},
        {"id": "L-0006", "company": "Foxtrot Hydrogen", "suggested_division": None},
        {"id": "L-0008", "company": "Hotel Fuel Cells", "suggested_division": "yangtze"},
        {"id": "L-0010", "company": "Juliet Sensors", "suggested_division": None},
        {"id": "L-0012", "company": "Lima Sensors", "suggested_division": None},
    ]


def test_staff_figures_leave_out_restricted_leads_entirely(store: LeadStore) -> None:
    everything = summarize(store.engine, SummaryFilter(), TODAY)
    staff = summarize(store.engine, SummaryFilter(visibility=("public", "internal")), TODAY)
    assert everything.total - staff.total == 2
    assert "biomedicine" in everything.by_sector and "biomedicine" not in staff.by_sector
    restricted = {"L-0002", "L-0007"}
    shown = {
        *staff.new,
        *staff.stalled,
        *(m["id"] for m in staff.advanced),
        *(lead["id"] for lead in staff.largest),
        *(lead["id"] for lead in staff.unassigned),
    }
    assert not shown & restricted


def test_summaries_at_the_same_time_do_not_see_each_others_leads(store: LeadStore) -> None:
    """Each summary copies its matching leads into a temporary table of its connection."""
    alone = [summarize(store.engine, where, TODAY) for where in FILTERS]
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda where: summarize(store.engine, where, TODAY), FILTERS))
    assert together == alone


def test_a_bad_period_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="period 'fortnight'"):
        SummaryFilter(period="fortnight").period_start(TODAY)


# ---------------------------------------------------------------- narrative, chart, chat reply
@pytest.fixture(scope="module")
def history_engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """The history on SQLite, built once for the tests that only read it (a file, not
    :memory:, because the chat reply summarises on a worker thread)."""
    store = LeadStore(make_engine(f"sqlite:///{tmp_path_factory.mktemp('h') / 'leads.db'}"))
    store.clock = Clock(START)
    build_history(store)
    return store.engine


@pytest.fixture(scope="module")
def full(history_engine: Engine) -> LeadSummary:
    return summarize(history_engine, SummaryFilter(), TODAY)


def _llm(base_url: str) -> LLMClient:
    return LLMClient(
        load_settings(
            ZBRAIN_LLM_MODEL="fake-chat",
            OPENAI_BASE_URL=base_url,
            OPENAI_API_KEY="sk-test",
            ZBRAIN_LLM_RETRIES=0,
            ZBRAIN_LLM_TIMEOUT=5,
        )
    )


def test_the_template_states_the_figures_plainly(full: LeadSummary) -> None:
    text, mode = narrative(full, "en")
    assert mode == "template"
    assert text == (
        "Leads matching: 12. By stage: new 4, contacted 2, and visiting 2. "
        "From 2026-11-01 to 2026-12-01: added 3, moved forward 2; "
        "stalled (no change for 30 days or more) 2. "
        "Largest by investment: Foxtrot Hydrogen, ₩50,000,000,000. "
        "Awaiting a division: 6 (2 with a suggested one)."
    )


@pytest.mark.parametrize("language", ["zh", "en", "de", "fr", "ko", "he"])
def test_every_number_in_the_template_comes_from_the_summary(
    full: LeadSummary, language: str
) -> None:
    text, mode = narrative(full, language)
    assert mode == "template"
    # The two derived counts: leads that moved forward (L-0008 moved twice, counts once) and
    # waiting leads that have a suggested division.
    derived = {2.0}
    allowed = numbers_in(json.dumps(full.as_json())) | {float(len(full.unassigned))} | derived
    written = numbers_in(text)
    assert written <= allowed
    assert {12.0, 3.0, 6.0, 30.0, 50e9} <= written
    assert "Foxtrot Hydrogen" in text


def test_the_template_speaks_the_askers_language(full: LeadSummary, history_engine: Engine) -> None:
    assert narrative(full, "zh")[0].startswith("符合条件的线索：12 条。按阶段：新线索 4、")
    assert "50.000.000.000\xa0₩" in narrative(full, "de")[0]  # German groups with dots
    assert "ממתינים לשיוך לאגף: 6" in narrative(full, "he")[0]
    assert narrative(full, "ko")[0].startswith("조건에 맞는 리드: 12건.")
    nothing = summarize(history_engine, SummaryFilter(node="paris"), TODAY)
    assert narrative(nothing, "fr") == ("Aucune piste ne correspond à ces filtres.", "template")


def test_an_llm_narrative_is_written_from_the_figures_in_the_askers_language(
    full: LeadSummary,
) -> None:
    answer = "리드는 모두 12건이며, Foxtrot Hydrogen이 50,000,000,000 KRW로 가장 큽니다."
    with serve_fake_openai(FakeOpenAI(responder=lambda body: answer)) as fake:
        text, mode = narrative(full, "ko", _llm(fake.base_url))
    assert (text, mode) == (answer, "llm")
    [prompt] = fake.prompts_containing("<figures>")
    assert "Korean (한국어)" in prompt
    figures = json.loads(prompt.split("<figures>")[1].split("</figures>")[0])
    assert figures["total_leads"] == 12 and figures["stalled_open_leads"] == 2
    assert figures["by_stage"]["신규"] == 4  # names in the asker's language
    assert figures["largest_by_investment"][0]["investment"] == "₩50,000,000,000"


def test_an_llm_that_invents_a_number_gets_the_template_instead(full: LeadSummary) -> None:
    invented = "There are 12 leads; the pipeline grew by 37% this month."
    with serve_fake_openai(FakeOpenAI(responder=lambda body: invented)) as fake:
        text, mode = narrative(full, "en", _llm(fake.base_url))
    assert mode == "template" and text.startswith("Leads matching: 12.")


def test_a_failing_llm_degrades_to_the_template(full: LeadSummary) -> None:
    with serve_fake_openai(FakeOpenAI(failures=[500])) as fake:
        text, mode = narrative(full, "fr", _llm(fake.base_url))
    assert mode == "template" and text.startswith("Pistes correspondantes : 12.")
    text, mode = narrative(full, "fr", _llm("http://127.0.0.1:9/v1"))  # nothing listening
    assert mode == "template" and text.startswith("Pistes correspondantes : 12.")


def _missing_glyphs(render: Callable[[], object]) -> list[str]:
    """matplotlib reports a character its fonts cannot draw as a UserWarning ("Glyph 32447
    (...) missing from font(s) DejaVu Sans.") and draws an empty box instead."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render()
    return [str(w.message) for w in caught if "missing from font" in str(w.message)]


def test_the_glyph_check_sees_chinese_drawn_without_a_cjk_font() -> None:
    def render() -> None:
        with rc_context({"font.family": ["DejaVu Sans"]}):
            figure = Figure()
            FigureCanvasAgg(figure)
            figure.suptitle("按阶段")
            figure.savefig(io.BytesIO(), format="png")

    assert _missing_glyphs(render)


@pytest.mark.parametrize("language", ["zh", "ko", "he", "de"])
def test_the_chart_draws_every_label_of_every_script(full: LeadSummary, language: str) -> None:
    charts: list[bytes] = []
    assert _missing_glyphs(lambda: charts.append(summary_chart(full, language))) == []
    image = imread(io.BytesIO(charts[0]), format="png")
    assert image.shape[:2] == (HEIGHT_PX, WIDTH_PX)


def test_the_chat_reply_carries_narrative_figures_and_chart(history_engine: Engine) -> None:
    reply = asyncio.run(summary_reply(history_engine, SummaryFilter(), "zh", TODAY, role="manager"))
    assert reply.text.startswith("符合条件的线索：12 条。")
    assert "按节点：波士顿 4、剑桥 3、慕尼黑 3和特拉维夫 2" in reply.text
    assert "L-0003 Cedar AI Ltd → 环渤海事业部" in reply.text
    assert reply.language == "zh" and reply.mode == "extractive" and not reply.abstained
    [chart] = reply.files
    assert (chart.filename, chart.mime_type) == ("leads-summary.png", "image/png")
    assert chart.content.startswith(b"\x89PNG")


_LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def english_words(text: str, companies: Iterable[str]) -> set[str]:
    """Latin words of three letters or more, except those of the companies' names (data, not
    labels) and currency codes: in a Chinese summary, each one is an untranslated label."""
    allowed = {word for company in companies for word in _LATIN_WORD.findall(company)}
    return set(_LATIN_WORD.findall(text)) - allowed - set(RANKING_RATES_TO_CNY)


def _printed_summary(monkeypatch: pytest.MonkeyPatch, summary: LeadSummary, language: str) -> str:
    """What `zbrain leads summary --lang <language>` prints for the summary."""
    screen = io.StringIO()
    monkeypatch.setattr(leads_cli, "out", Console(file=screen, width=200, soft_wrap=True))
    text, mode = narrative(summary, language)
    leads_cli._print_summary(summary, language, text, mode)
    return screen.getvalue()


def test_a_chinese_summary_has_no_english_labels(
    monkeypatch: pytest.MonkeyPatch, full: LeadSummary, history_engine: Engine
) -> None:
    companies = [lead.company for lead in LeadStore(history_engine).list()]
    chat = asyncio.run(summary_reply(history_engine, SummaryFilter(), "zh", TODAY, role="manager"))
    narrowed = summarize(history_engine, SummaryFilter(node="munich", stage="visiting"), TODAY)
    shown = {
        "command line": _printed_summary(monkeypatch, full, "zh"),
        "command line, filtered": _printed_summary(monkeypatch, narrowed, "zh"),
        "chat": chat.text,
        "digest": digest_text(full, "zh"),
    }
    for where, text in shown.items():
        assert "L-0003" in text or "L-0001" in text, where  # the lists are there
        assert english_words(text, companies) == set(), where
    # The check sees labels: the English summary is full of them.
    english = _printed_summary(monkeypatch, full, "en")
    assert {"stage", "leads", "company", "investment"} <= english_words(english, companies)


def test_staff_in_chat_never_see_restricted_leads_and_guests_see_nothing(
    history_engine: Engine,
) -> None:
    staff = asyncio.run(summary_reply(history_engine, SummaryFilter(), "en", TODAY))
    assert staff.text.startswith("Leads matching: 10.")
    assert "Beacon Bio" not in staff.text and "Gimel" not in staff.text
    guest = asyncio.run(summary_reply(history_engine, SummaryFilter(), "de", TODAY, role="guest"))
    assert guest.abstained and not guest.files
    assert guest.text.startswith("Leads sind interne Unterlagen")


# ---------------------------------------------------------------- command line
def test_cli_summary_figures_match_the_sample_leads(
    samples_env: dict[str, str], tmp_path: Path
) -> None:
    chart = tmp_path / "summary.png"
    manager = run_cli(
        "leads",
        "summary",
        "--json",
        "--as",
        "manager",
        "--since",
        "2019-10-01",
        "--chart",
        str(chart),
        env=samples_env,
        # The fresh data dir loads the samples first: quick once an earlier CLI test has
        # filled the session's embedding cache, minutes on a busy machine when run alone.
        timeout=900,
    )
    assert manager.returncode == 0, manager.stderr
    # The records the command summarised, read back with the plain store API.
    settings = load_settings(ZBRAIN_DATA_DIR=samples_env["ZBRAIN_DATA_DIR"])
    store = LeadStore(make_engine(settings.resolved_database_url))
    today = dt.date.today()
    got = json.loads(manager.stdout)
    want = expected_summary(store, SummaryFilter(since=dt.date(2019, 10, 1)), today)
    assert {k: got[k] for k in want} == want
    assert got["total"] == 35 and got["new"]  # the samples were submitted from 2019 on
    assert got["narrative_mode"] == "template"
    assert got["narrative"].startswith("Leads matching: 35.")
    assert imread(str(chart)).shape[:2] == (HEIGHT_PX, WIDTH_PX)

    # Filters in any language, as staff: restricted leads are not counted.
    staff = run_cli(
        "leads",
        "summary",
        "--json",
        "--node",
        "慕尼黑",
        "--sector",
        "Wasserstoff",
        "--period",
        "quarter",
        "--lang",
        "de",
        env=samples_env,
    )
    assert staff.returncode == 0, staff.stderr
    got = json.loads(staff.stdout)
    where = SummaryFilter(
        node="munich", sector="hydrogen", period="quarter", visibility=("internal", "public")
    )
    want = expected_summary(store, where, today)
    assert {k: got[k] for k in want} == want and got["total"] > 0
    assert got["narrative"].startswith(f"Passende Leads: {got['total']}.")

    shown = run_cli("leads", "summary", "--lang", "zh", "--stage", "洽谈中", env=samples_env)
    assert shown.returncode == 0, shown.stderr
    assert "符合条件的线索" in shown.stdout and "按阶段" in shown.stdout
    companies = [lead.company for lead in store.list()]
    assert english_words(shown.stdout, companies) == set()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--period", "fortnight"], "--period 'fortnight' is not one of: week, month, quarter"),
        (["--since", "2026-02-30"], "--since '2026-02-30' is not a date (YYYY-MM-DD)"),
        (["--since", "2026-01-01", "--period", "week"], "give --since or --period, not both"),
        (["--as", "partner"], "role 'partner' may not see lead summaries"),
    ],
)
def test_cli_summary_refuses_bad_options_in_one_line(
    cli_env: dict[str, str], options: list[str], message: str
) -> None:
    result = run_cli("leads", "summary", *options, env=cli_env)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"error: {message}")
    assert not Path(cli_env["ZBRAIN_DATA_DIR"]).exists()  # refused before loading anything
