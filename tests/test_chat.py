"""Conversations with the chat-ready core, read as transcripts: who asks decides what the
answer may use, buttons attach to the reply they were shown under, and every exchange ends
with a reply and a record."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from bot.ratelimit import RateLimiter
from bot.runtime import build_runtime
from knowledge.leads import Lead
from tests.transcript import CapturingPoster, Transcript

NEGOTIATION = "招商引资项目谈判授权与让利标准（内部）"


@pytest.fixture
def chat(sample_services) -> Iterator[Transcript]:  # type: ignore[no-untyped-def]
    runtime = build_runtime(services=sample_services)
    transcript = Transcript(runtime)
    yield transcript
    transcript.close()


def test_an_unknown_person_is_a_guest_and_never_sees_internal_rules(chat: Transcript) -> None:
    question = "招商项目谈判的让利标准和授权权限是什么？"
    staff = chat.ask(question, as_="staff")
    assert NEGOTIATION in {c.title for c in staff.citations}
    guest = chat.ask(question, as_="guest")
    assert all(c.visibility == "public" for c in guest.citations)
    assert NEGOTIATION not in guest.text


def test_a_shared_channel_is_answered_at_the_level_of_its_audience(chat: Transcript) -> None:
    reply = chat.ask("招商项目谈判的让利标准和授权权限是什么？", as_="manager", audience="partner")
    assert {c.visibility for c in reply.citations} <= {"public", "partner"}


def test_citations_are_one_per_document_and_never_a_server_path(chat: Transcript) -> None:
    reply = chat.ask("Förderung für Wasserstofftankstellen?", as_="partner:munich")
    doc_ids = [c.doc_id for c in reply.citations]
    assert doc_ids and len(doc_ids) == len(set(doc_ids))
    assert [c.number for c in reply.citations] == list(range(1, len(doc_ids) + 1))
    for citation in reply.citations:
        assert citation.url is None or citation.url.startswith(("http://", "https://"))
    assert not re.search(r"(/tmp/|/work/|\.md\b)", reply.text)


@pytest.mark.parametrize(
    "question",
    ["Give me an overview of the leading semiconductor policies", "高新区重点项目概况"],
)
def test_questions_with_look_alike_words_are_answered_not_refused(
    chat: Transcript, question: str
) -> None:
    reply = chat.ask(question, as_="partner:boston")
    assert not reply.files and "internal material" not in reply.text
    assert reply.citations or reply.abstained


def test_a_partner_joins_with_an_invite_and_a_revoked_partner_is_a_guest_again(
    chat: Transcript,
) -> None:
    from bot.messages import Action

    services = chat.runtime.services
    invite = services.invites.create("munich", created_by="test")
    chat.push(action=Action("redeem", value=invite.code), as_="guest", locale="de")
    welcome = chat.pop()
    assert "Partner des Knotens München" in welcome.text
    user = chat.user("guest")
    assert services.identities.get("test", user).role == "partner"  # type: ignore[union-attr]
    chat.push(action=Action("redeem", value=invite.code), as_="guest:other", locale="de")
    assert "bereits verwendet" in chat.pop().text
    services.identities.revoke("test", user, by="test")
    again = chat.ask("Welche Förderung gibt es für Wasserstofftankstellen?", as_="guest")
    assert {c.visibility for c in again.citations} <= {"public"}


def test_feedback_attaches_to_the_reply_it_was_shown_under(chat: Transcript) -> None:
    reply = chat.ask("研发用房租金怎么减免？", as_="staff")
    assert [a.id for a in reply.actions] == ["feedback", "feedback", "route"]
    assert all(a.reply_id == reply.id for a in reply.actions)
    thanks = chat.press(reply, "feedback", value="down", as_="staff")
    assert thanks.text == "感谢您的反馈。"
    audit = chat.runtime.services.audit
    exchange = audit.exchange(reply.id)
    assert exchange is not None and exchange.question == "研发用房租金怎么减免？"
    assert exchange.mode == "extractive" and exchange.doc_ids
    scores = [
        row for row in audit.query(user=f"test:{chat.user('staff')}") if row.reply_id == reply.id
    ]
    assert scores


def test_route_to_a_person_posts_to_the_partners_division_and_tells_them(
    chat: Transcript,
) -> None:
    poster = CapturingPoster()
    chat.runtime.posters.register("#", poster)
    reply = chat.ask(
        "How much is the home-settlement subsidy for top talent?", as_="partner:munich"
    )
    told = chat.press(reply, "route", as_="partner:munich")
    assert "Yangtze River Delta Division" in told.text and "follow up" in told.text
    [(channel, post)] = poster.posts
    assert channel == "#div-yangtze"
    assert "home-settlement subsidy" in post.text and "munich" in post.text


def test_route_without_a_reachable_channel_gives_the_divisions_contact(chat: Transcript) -> None:
    reply = chat.ask(
        "How much is the home-settlement subsidy for top talent?", as_="partner:munich"
    )
    told = chat.press(reply, "route", as_="partner:munich")
    assert "contact them directly" in told.text and "@" in told.text


def test_a_lead_draft_belongs_to_the_person_who_started_it(chat: Transcript) -> None:
    thread = "shared-thread"
    started = chat.ask("new lead", as_="staff", conversation=thread)
    assert "company's name" in started.text
    other = chat.ask("研发用房租金怎么减免？", as_="manager", conversation=thread)
    assert other.citations, (
        "a colleague's question in the thread is answered, not taken as a company name"
    )
    cancelled = chat.ask("cancel", as_="staff", conversation=thread)
    assert "cancel" in cancelled.text.lower()


def test_a_failure_inside_ends_with_a_localized_reply_and_a_record(
    chat: Transcript, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("index corrupted")

    monkeypatch.setattr(chat.runtime.services, "search", broken)
    reply = chat.ask("Quelles aides pour les incubateurs ?", as_="partner:boston")
    assert reply.error and "référence" in reply.text and reply.id in reply.text
    exchange = chat.runtime.services.audit.exchange(reply.id)
    assert exchange is not None and exchange.mode == "error"


def test_questions_are_rate_limited_per_person_with_a_polite_message(chat: Transcript) -> None:
    now = [0.0]
    chat.runtime.assistant.limiter = RateLimiter({"question": (1.0, 2)}, clock=lambda: now[0])
    chat.ask("help", as_="staff")  # free: help draws no tokens
    assert chat.ask("研发用房租金怎么减免？", as_="staff").citations
    assert chat.ask("顶尖人才安家补贴多少钱？", as_="staff").citations
    limited = chat.ask("孵化器有什么政策？", as_="staff")
    assert limited.text.startswith("您发送消息太快了") and not limited.citations
    assert chat.ask("孵化器有什么政策？", as_="manager").citations, "others are not held up"
    now[0] = 61.0
    assert chat.ask("孵化器有什么政策？", as_="staff").citations


def _partner_lead(services, actor: str) -> Lead:  # type: ignore[no-untyped-def]
    lead = Lead(
        company="Isar Quantum Sensors GmbH",
        node="munich",
        sectors=["semiconductors"],
        summary="Quantum sensors for chip metrology.",
        language="de",
        contact_name="Anna Berger",
        contact_email="anna@example.com",
        submitted_by=actor,
    )
    return services.leads.create(lead, actor)


def test_every_lead_path_follows_the_one_access_rule_for_every_role(services_factory) -> None:  # type: ignore[no-untyped-def]
    # A data dir of its own (the session's embedding cache makes it cheap): this test saves a
    # lead, which the shared sample index must not gain.
    services = services_factory("own-leads")
    services.ensure_samples()
    chat = Transcript(build_runtime(services=services))
    own = _partner_lead(services, f"test:{chat.user('partner:munich')}")
    restricted = next(lead for lead in services.leads.list() if lead.visibility == "restricted")
    internal = next(lead for lead in services.leads.list() if lead.visibility == "internal")

    def card(lead_id: str, who: str) -> str:
        return chat.ask(f"lead {lead_id}", as_=who).text

    # Guests see no lead, partners only their own (with their own contact), staff no
    # restricted lead and no contacts, managers and admins everything.
    assert "guests may not see them" in card(internal.id, "guest")
    assert "only the leads they submitted" in card(internal.id, "partner:munich")
    own_card = card(own.id, "partner:munich")
    assert "Isar Quantum Sensors" in own_card and "anna@example.com" in own_card
    assert "only the leads they submitted" in card(own.id, "partner:boston")
    staff_card = card(internal.id, "staff")
    assert internal.company in staff_card and "@" not in staff_card
    assert "only managers may see it" in card(restricted.id, "staff")
    for who in ("manager", "admin"):
        assert restricted.company in card(restricted.id, who)
    assert "no lead L-9999" in card("L-9999", "staff").replace("There is ", "")

    summary = "summarise this month's Munich leads"
    for who in ("guest", "partner:munich"):
        refused = chat.ask(summary, as_=who)
        assert not refused.files and refused.abstained
    assert chat.ask(summary, as_="staff").files
    assert chat.ask(summary, as_="manager").files

    offer = "What can we offer {}?"
    assert "guests may not see them" in chat.ask(offer.format(internal.id), as_="guest").text
    refused = chat.ask(offer.format(internal.id), as_="partner:munich").text
    assert "only the leads they submitted" in refused
    sheet = chat.ask(offer.format(own.id), as_="partner:munich")
    assert sheet.citations and {c.visibility for c in sheet.citations} <= {"public", "partner"}
    assert chat.ask(offer.format(internal.id), as_="staff").citations

    assert "only the leads" in chat.ask(f"match {internal.id}", as_="partner:munich").text
    assert "Division" in chat.ask(f"match {internal.id}", as_="staff").text
    chat.close()


def test_the_audit_log_keeps_no_contact_person_from_an_intake(chat: Transcript) -> None:
    thread = "intake-contact"
    chat.ask("new lead", as_="partner:munich", conversation=thread)
    chat.ask("Alpenglas Sensorik GmbH", as_="partner:munich", conversation=thread)
    reply = chat.ask("Munich", as_="partner:munich", conversation=thread)
    for _ in range(6):
        if "Contact" in reply.text:
            break
        reply = chat.ask("skip", as_="partner:munich", conversation=thread)
    assert "Contact" in reply.text
    draft = chat.ask(
        "Hans Meier, hans.meier@example.com, +49 89 1234567",
        as_="partner:munich",
        conversation=thread,
    )
    assert "Hans Meier" in draft.text, "the person sees their draft"
    logged = chat.runtime.services.audit.query(user=f"test:{chat.user('partner:munich')}")
    assert logged and not any("Hans Meier" in e.question + e.answer for e in logged)
    assert not any("hans.meier@" in e.question + e.answer for e in logged)
    chat.ask("cancel", as_="partner:munich", conversation=thread)
