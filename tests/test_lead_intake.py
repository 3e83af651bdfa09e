from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator

import pytest

from bot.leads.intake import Intake, starts_intake
from bot.llm import LLMClient
from bot.settings import load_settings
from knowledge.leads import Lead
from tests.fake_openai import FakeOpenAI, serve_fake_openai
from tests.heartbeat import longest_stall

CONVERSATION = "telegram:4711"


class Chat:
    """A conversation with the intake, read like a transcript. Every message of the test runs
    on one event loop, as in a server."""

    loops: list[asyncio.Runner] = []

    def __init__(
        self, intake: Intake, role: str = "staff", language: str = "en", user: str = "u1"
    ) -> None:
        self.intake, self.role, self.language, self.user = intake, role, language, user
        self.replies: list[str] = []
        if not Chat.loops:
            Chat.loops.append(asyncio.Runner())

    def say(self, text: str) -> str:
        return Chat.loops[0].run(self.said(text))

    async def said(self, text: str) -> str:
        draft = await self.intake.active(CONVERSATION, self.user)
        if draft is None:
            description = starts_intake(text)
            assert description is not None, f"not an intake trigger: {text}"
            reply = await self.intake.start(CONVERSATION, self.user, self.language, description)
        else:
            reply = await self.intake.handle(draft, text, self.role, f"telegram:{self.user}")
        self.replies.append(reply.text)
        return reply.text


@pytest.fixture(autouse=True)
def one_loop_per_test() -> Iterator[None]:
    yield
    while Chat.loops:
        Chat.loops.pop().close()


@pytest.fixture
def services(services_factory):  # type: ignore[no-untyped-def]
    return services_factory()


def test_the_guided_form_asks_only_what_the_description_did_not_say(services) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(Intake(services), language="de")
    first = chat.say("Neues Projekt: Wasserstoff-Start-up aus München, braucht ein Labor")
    assert "Wie heißt das Unternehmen" in first
    assert "Investition" in chat.say("H2 Motion GmbH")  # node, sector and need were given
    assert "Arbeitsplätze" in chat.say("EUR 12.000.000")
    assert "Ansprechpartner" in chat.say("60")
    draft = chat.say("Anna Weber, anna.weber@example.de")
    assert "Bitte prüfen Sie den Entwurf" in draft
    assert "Unternehmen: H2 Motion GmbH" in draft and "Knoten: München" in draft
    assert "Branchen: Wasserstoff" in draft and "Bedarf: Labor" in draft
    saved = chat.say("ja")
    assert saved.startswith("Gespeichert als L-0001") and "Pearl River Delta" in saved
    lead = services.leads.require("L-0001")
    assert (lead.company, lead.node, lead.sectors, lead.needs) == (
        "H2 Motion GmbH", "munich", ["hydrogen"], ["lab"],
    )  # fmt: skip
    assert (lead.investment_amount, lead.investment_currency) == (12_000_000, "EUR")
    assert lead.contact_email == "anna.weber@example.de" and lead.submitted_by == "telegram:u1"
    assert lead.suggested_division == "pearl"
    assert "München" in lead.summary
    assert services.leads.history("L-0001")[0].actor == "telegram:u1"


def test_a_bad_answer_is_asked_again_and_cancel_saves_nothing(services) -> None:  # type: ignore[no-untyped-def]
    chat = Chat(Intake(services))
    chat.say("new lead")
    chat.say("Negev Water Ltd")
    retry = chat.say("Paris")
    assert 'could not use "Paris"' in retry and "Which overseas node" in retry
    assert "Which sectors" in chat.say("Tel Aviv")
    assert "cancelled" in chat.say("cancel").lower()
    assert services.leads.count() == 0 and _no_draft(services, "u1")


def _no_draft(services, user: str) -> bool:  # type: ignore[no-untyped-def]
    return asyncio.run(Intake(services).active(CONVERSATION, user)) is None


def test_a_draft_survives_a_restart(services) -> None:  # type: ignore[no-untyped-def]
    Chat(Intake(services)).say("new lead")
    restarted = Chat(Intake(services))
    assert "Which overseas node" in restarted.say("Isar Lab GmbH")


def _draft_to_confirm(chat: Chat, company: str) -> None:
    chat.say("new lead: a Munich maker of fuel cells for trucks, needs land")
    chat.say(company)
    for _ in range(4):  # investment, jobs, contact; sectors unless the glossary found them
        if "Please check the draft" in chat.replies[-1]:
            break
        chat.say("skip")
    assert "Please check the draft" in chat.replies[-1]


def test_a_likely_duplicate_is_offered_before_saving(services) -> None:  # type: ignore[no-untyped-def]
    services.leads.create(
        Lead(company="H2 Motion GmbH", node="munich", sectors=["clean-tech"], summary="Trucks."),
        "munich-node",
    )
    chat = Chat(Intake(services))
    _draft_to_confirm(chat, "H2 Motion")
    question = chat.say("yes")
    assert "This looks like L-0001 (H2 Motion GmbH)" in question
    assert "Added to L-0001" in chat.say("add")
    merged = services.leads.require("L-0001")
    assert services.leads.count() == 1
    assert merged.sectors == ["clean-tech"] and merged.needs == ["land"]
    assert "fuel cells" in merged.summary

    other = Chat(Intake(services))
    _draft_to_confirm(other, "H2 Motion")
    other.say("yes")
    assert other.say("new").startswith("Saved as L-0002")


def test_a_partner_is_not_told_about_internal_leads(services) -> None:  # type: ignore[no-untyped-def]
    services.leads.create(Lead(company="H2 Motion GmbH", node="munich"), "munich-node")
    told: list[tuple[str, str]] = []

    async def tell_managers(lead: Lead, twin: Lead) -> None:
        told.append((lead.id, twin.id))

    chat = Chat(Intake(services, tell_managers=tell_managers), role="partner")
    _draft_to_confirm(chat, "H2 Motion")
    saved = chat.say("yes")
    assert saved.startswith("Saved as L-0002") and "L-0001" not in saved
    assert "A similar lead already exists; a manager has been told." in saved
    # The partner reads their own lead's summary: the twin's id is not in it either.
    assert "L-0001" not in services.leads.require("L-0002").summary
    assert told == [("L-0002", "L-0001")]


def test_a_partner_is_asked_about_a_twin_they_submitted(services) -> None:  # type: ignore[no-untyped-def]
    own = Lead(company="H2 Motion GmbH", node="munich", submitted_by="telegram:u1")
    services.leads.create(own, "telegram:u1")
    partner = Chat(Intake(services), role="partner")  # the intake's actor is telegram:u1
    _draft_to_confirm(partner, "H2 Motion")
    assert "This looks like L-0001 (H2 Motion GmbH)" in partner.say("yes")


def test_staff_are_not_told_about_a_restricted_twin(services) -> None:  # type: ignore[no-untyped-def]
    quiet = Lead(company="H2 Motion GmbH", node="munich", visibility="restricted")
    services.leads.create(quiet, "munich-node")
    staff = Chat(Intake(services), role="staff")
    _draft_to_confirm(staff, "H2 Motion")
    saved = staff.say("yes")
    assert saved.startswith("Saved as L-0002") and "L-0001" not in saved


def test_with_an_llm_the_description_is_read_into_the_draft(services) -> None:  # type: ignore[no-untyped-def]
    extracted = {
        "company": "Negev Water Ltd",
        "node": "Tel Aviv",
        "sectors": ["agritech"],
        "investment_amount": 3500000,
        "investment_currency": "usd",
        "expected_jobs": 25,
        "needs": ["lab", "land"],
        "city": "Beersheba",
    }
    fake = FakeOpenAI(responder=lambda body: "```json\n" + json.dumps(extracted) + "\n```")
    with serve_fake_openai(fake):
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", ZBRAIN_LLM_MODEL="m"
        )
        llm = LLMClient(settings)
        chat = Chat(Intake(services, llm=llm))
        first = chat.say("new lead: Negev Water (Beersheba) wants a pilot for drip irrigation")
        Chat.loops[0].run(llm.aclose())
    assert "Contact person" in first  # everything else was in the description
    assert "drip irrigation" in fake.prompts_containing("JSON schema")[0]
    draft = chat.say("skip")
    assert "Investment: 3,500,000 USD" in draft and "Node: Tel Aviv" in draft
    assert chat.say("yes").startswith("Saved as L-0001")
    assert services.leads.require("L-0001").city == "Beersheba"


def test_what_the_llm_extracted_passes_the_form_s_checks(services) -> None:  # type: ignore[no-untyped-def]
    extracted = {
        "company": "25",
        "node": "Paris",
        "sectors": ["Munich", "hydrogen", "2000万美元"],
        "investment_amount": 20000000,
        "investment_currency": "dollars",
        "expected_jobs": -5,
        "needs": ["unicorns"],
    }
    fake = FakeOpenAI(responder=lambda body: json.dumps(extracted))
    with serve_fake_openai(fake):
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url, OPENAI_API_KEY="k", ZBRAIN_LLM_MODEL="m"
        )
        llm = LLMClient(settings)
        chat = Chat(Intake(services, llm=llm))
        first = chat.say("new lead: an electrolyser maker wants a pilot plant")
        Chat.loops[0].run(llm.aclose())
    values = Chat.loops[0].run(chat.intake.active(CONVERSATION, "u1")).values  # type: ignore[union-attr]
    # "25" is no company, Paris no node, -5 no number of jobs, unicorns no need: all asked.
    assert "company's name" in first
    assert "company" not in values and "node" not in values and "expected_jobs" not in values
    assert values["sectors"] == ["hydrogen"] and "needs" not in values
    assert values["investment"] == [20_000_000, "USD"]


def test_when_the_llm_fails_the_guided_form_takes_over(services) -> None:  # type: ignore[no-untyped-def]
    with serve_fake_openai(FakeOpenAI(failures=[500] * 10)) as fake:
        settings = load_settings(
            OPENAI_BASE_URL=fake.base_url,
            OPENAI_API_KEY="k",
            ZBRAIN_LLM_MODEL="m",
            ZBRAIN_LLM_RETRIES=0,
        )
        llm = LLMClient(settings)
        chat = Chat(Intake(services, llm=llm), language="zh")
        assert "企业名称是" in chat.say("新线索：一家以色列农业科技公司想在郑州做示范")
        Chat.loops[0].run(llm.aclose())


def test_a_saved_lead_is_announced_to_its_division_channel(services, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from bot.channels import FilePoster, PosterRegistry, read_posts
    from bot.divisions import load_divisions
    from bot.leads.announce import announcer

    posters = PosterRegistry()
    posters.register("#", FilePoster(tmp_path / "outbox"))
    chat = Chat(Intake(services, announce=announcer(posters, load_divisions())))
    chat.say("new lead: hydrogen refuelling start-up from Munich")
    chat.say("H2 Motion GmbH")
    while "Please check the draft" not in chat.replies[-1]:
        chat.say("skip")
    chat.say("yes")
    posts = read_posts(tmp_path / "outbox")
    assert [p["channel"] for p in posts] == ["#div-pearl"]
    assert "新线索 L-0001：H2 Motion GmbH" in str(posts[0]["text"])
    assert "产业方向匹配" in str(posts[0]["text"])


def test_an_unserved_channel_does_not_lose_the_lead(services) -> None:  # type: ignore[no-untyped-def]
    from bot.channels import PosterRegistry
    from bot.divisions import load_divisions
    from bot.leads.announce import announcer

    chat = Chat(Intake(services, announce=announcer(PosterRegistry(), load_divisions())))
    chat.say("new lead: hydrogen refuelling start-up from Munich")
    chat.say("H2 Motion GmbH")
    while "Please check the draft" not in chat.replies[-1]:
        chat.say("skip")
    assert chat.say("yes").startswith("Saved as L-0001")


def test_two_people_in_one_thread_each_have_their_own_draft(services) -> None:  # type: ignore[no-untyped-def]
    intake = Intake(services)
    anna, ben = Chat(intake, user="anna"), Chat(intake, user="ben")
    assert "company's name" in anna.say("new lead")
    # Ben's question is his own, not an answer to Anna's form.
    assert _no_draft(services, "ben")
    assert "company's name" in ben.say("new lead: an Israeli drip-irrigation start-up")
    assert "Which overseas node" in anna.say("Isar Lab GmbH")
    assert "Which overseas node" in ben.say("Negev Water Ltd")
    assert "cancelled" in anna.say("cancel").lower()
    assert _no_draft(services, "anna") and not _no_draft(services, "ben")
    assert "Which sectors" in ben.say("Tel Aviv")
    assert ben.intake.drafts.get(CONVERSATION, "ben").values["company"] == "Negev Water Ltd"


def test_the_intake_never_blocks_the_event_loop(services, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Draft SQL, the duplicate search and the save are slow here; the loop stays free."""
    from knowledge.lead_drafts import DraftStore

    services.leads.create(Lead(company="Isar Lab GmbH", node="munich"), "munich-node")
    assert services.flush_indexing(timeout=120)
    slow = 0.5

    def slowed(function):  # type: ignore[no-untyped-def]
        def run(*args, **kwargs):  # type: ignore[no-untyped-def]
            time.sleep(slow)
            return function(*args, **kwargs)

        return run

    for name in ("get", "save", "drop"):
        monkeypatch.setattr(DraftStore, name, slowed(getattr(DraftStore, name)))
    # The save's re-indexing is measured by the concurrency benchmark (Chroma's writes hold
    # the GIL, which on a loaded machine reads as a stall); here only the intake's own work.
    monkeypatch.setattr(services, "index_leads", lambda changed: None)
    for name in ("list", "create"):
        monkeypatch.setattr(services.leads, name, slowed(getattr(services.leads, name)))
    chat = Chat(Intake(services))

    async def whole_intake() -> str:
        await chat.said("new lead: a Munich maker of fuel cells for trucks, needs land")
        await chat.said("H2 Motion GmbH")
        while "Please check the draft" not in chat.replies[-1]:
            await chat.said("skip")
        return await chat.said("yes")

    saved, stall = Chat.loops[0].run(longest_stall(whole_intake()))
    assert saved.startswith("Saved as L-0002")
    assert stall < slow / 2, f"the loop stalled {stall:.2f} s"


def test_a_saved_lead_is_confirmed_before_it_is_indexed(services) -> None:  # type: ignore[no-untyped-def]
    """The confirmation does not wait for re-indexing; after a flush the lead is found."""
    indexing, release = threading.Event(), threading.Event()
    index_leads = services.index_leads

    def held(changed):  # type: ignore[no-untyped-def]
        indexing.set()
        assert release.wait(60), "the test never released the indexer"
        return index_leads(changed)

    services.index_leads = held
    chat = Chat(Intake(services))
    chat.say("new lead: hydrogen refuelling start-up from Munich")
    chat.say("H2 Motion GmbH")
    while "Please check the draft" not in chat.replies[-1]:
        chat.say("skip")
    assert chat.say("yes").startswith("Saved as L-0001")
    assert indexing.wait(10)  # handed to the worker, which is still held
    assert not services.flush_indexing(timeout=0.1)
    assert not services.search("H2 Motion hydrogen", role="staff", k=3, kind="lead")
    release.set()
    assert services.flush_indexing(timeout=120)
    hits = services.search("H2 Motion hydrogen", role="staff", k=3, kind="lead")
    assert hits and hits[0].metadata["doc_id"] == "L-0001"
