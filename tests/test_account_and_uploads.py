"""A person's own standing (welcome, privacy, their leads, invites) and documents sent in
chat, as transcripts through the real handler."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest

from bot.messages import Action, IncomingMessage, Reply, Upload
from bot.runtime import build_runtime
from knowledge.leads import Lead
from tests.transcript import CapturingPoster, Transcript

REPORT = """# Munich node report, November 2026

The Munich node met 14 hydrogen start-ups in November; three asked about pilot lines
in the zone. Zugspitze Electrolysis plans a 20 MW electrolyser test line.
"""


@pytest.fixture
def chat(sample_services) -> Iterator[Transcript]:  # type: ignore[no-untyped-def]
    transcript = Transcript(build_runtime(services=sample_services))
    yield transcript
    transcript.close()


@pytest.fixture
def fresh(services_factory) -> Iterator[Transcript]:  # type: ignore[no-untyped-def]
    """A data dir of its own: documents uploaded here change no other test's index."""
    runtime = build_runtime(services=services_factory())
    transcript = Transcript(runtime)
    yield transcript
    transcript.close()


def file_message(chat: Transcript, name: str, data: bytes, *, as_: str, **kwargs) -> Reply:  # type: ignore[no-untyped-def]
    async def read() -> bytes:
        return data

    upload = Upload(name, "application/octet-stream", len(data), read)
    message = IncomingMessage(
        text="",
        platform=chat.platform,
        user_id=chat.user(as_),
        conversation_id=chat.conversation,
        attachments=(upload,),
        display_name=as_,
        **kwargs,
    )
    chat.replies.append(chat.loop.run_until_complete(chat._drive(message)))
    return chat.pop()


def test_start_welcomes_in_the_clients_language_and_redeems_a_code(chat: Transcript) -> None:
    welcome = chat.ask(action=Action("start"), locale="de-DE")
    assert "Hightech-Zone" in welcome.text and "/start" in welcome.text
    code = chat.runtime.services.invites.create("munich").code
    joined = chat.ask(action=Action("start", value=code), as_="guest:new", locale="en")
    assert "Munich" in joined.text
    partner = chat.ask(action=Action("start"), as_="guest:new", locale="en")
    assert "/submit" in partner.text  # the partner welcome lists what partners can do


def test_privacy_says_what_is_kept_and_for_how_long(chat: Transcript) -> None:
    reply = chat.ask(action=Action("privacy"), locale="fr")
    assert f"{chat.runtime.settings.audit_retention_days} jours" in reply.text


def test_a_partner_sees_only_the_leads_they_submitted(fresh: Transcript) -> None:
    chat = fresh  # leads of its own: the shared sample index stays as the samples made it
    partner = chat.user("partner:munich")
    store = chat.runtime.services.leads
    mine = store.create(
        Lead(company="Isar Quantum GmbH", node="munich", submitted_by=f"test:{partner}"), "test"
    )
    other = store.create(
        Lead(company="Lech Photonics AG", node="munich", submitted_by="test:someone-else"), "t"
    )
    reply = chat.ask(action=Action("my_leads"), as_="partner:munich", locale="en")
    assert mine.id in reply.text and "Isar Quantum" in reply.text
    assert other.id not in reply.text and "Lech" not in reply.text
    assert "project you submitted" in reply.text
    nobody = chat.ask(action=Action("my_leads"), as_="partner:boston", locale="en")
    assert "not submitted any" in nobody.text
    guest = chat.ask(action=Action("my_leads"), locale="en")
    assert "Only partners and staff" in guest.text


def test_staff_hand_out_invites_and_partners_cannot(chat: Transcript) -> None:
    made = chat.ask(action=Action("invite", value="慕尼黑"), as_="staff", locale="zh")
    code = made.text.split("：", 1)[1].split()[0]
    assert chat.runtime.services.invites.redeem(code, "test", "someone").node == "munich"
    refused = chat.ask(action=Action("invite", value="munich"), as_="partner:munich", locale="en")
    assert refused.abstained and "Only staff" in refused.text
    unknown = chat.ask(action=Action("invite", value="paris"), as_="staff", locale="en")
    assert "paris" in unknown.text


def test_suggested_prompts_come_in_the_users_language(chat: Transcript) -> None:
    prompts = chat.runtime.assistant.suggested_prompts("ko-KR")
    assert len(prompts) == 4 and all(any("\uac00" <= ch <= "\ud7a3" for ch in p) for p in prompts)


def test_staff_upload_is_filed_by_kind_and_visibility_then_answerable(fresh: Transcript) -> None:
    asked = file_message(fresh, "munich-nov.md", REPORT.encode(), as_="staff", locale="en")
    assert "What kind" in asked.text
    visibility = fresh.press(asked, "ingest", as_="staff", value=asked.actions[1].value)
    assert "Who may see" in visibility.text
    internal = next(a for a in visibility.actions if a.value.endswith("visibility=internal"))
    added = fresh.press(visibility, "ingest", as_="staff", value=internal.value)
    assert "Added munich-nov.md" in added.text and "internal" in added.text
    answer = fresh.ask("How many hydrogen start-ups did the Munich node meet?", as_="staff")
    assert "Munich node report, November 2026" in {c.title for c in answer.citations}
    guest = fresh.ask("How many hydrogen start-ups did the Munich node meet?")
    assert "Munich node report, November 2026" not in {c.title for c in guest.citations}


def test_a_partners_report_is_stored_for_partners_and_the_division_told(
    fresh: Transcript,
) -> None:
    poster = CapturingPoster()
    fresh.runtime.posters.register("#", poster)
    added = file_message(
        fresh, "report.md", REPORT.encode(), as_="partner:munich", action=Action("report")
    )
    assert "Added report.md" in added.text and "node report" in added.text.lower()
    assert poster.posts and "munich" in poster.posts[0][1].text
    answer = fresh.ask("Munich node hydrogen start-ups November", as_="partner:boston")
    cited = {c.title: c for c in answer.citations}
    assert cited["Munich node report, November 2026"].visibility == "partner"
    assert cited["Munich node report, November 2026"].kind == "node_report"


def test_uploads_that_cannot_be_added_say_why(fresh: Transcript) -> None:
    exe = file_message(fresh, "setup.exe", b"MZ\x00\x00", as_="staff", locale="en")
    assert exe.abstained and "setup.exe" in exe.text and ".pdf" in exe.text
    empty = file_message(fresh, "empty.md", b"", as_="staff", locale="en")
    assert "empty" in empty.text
    fresh.runtime.services.settings.upload_max_mb = 0.001
    big = file_message(fresh, "big.md", b"x" * 5000, as_="staff", locale="en")
    assert "larger than" in big.text
    guest = file_message(fresh, "notes.md", b"# hi", as_="guest", locale="en")
    assert guest.abstained and "Only staff and partners" in guest.text


def test_only_the_sender_can_file_a_waiting_upload(fresh: Transcript) -> None:
    asked = file_message(fresh, "notes.md", REPORT.encode(), as_="staff", locale="en")
    stolen = fresh.press(asked, "ingest", as_="manager", value=asked.actions[0].value)
    assert "no longer waiting" in stolen.text


def test_a_file_nobody_filed_for_a_day_is_let_go(fresh: Transcript) -> None:
    asked = file_message(fresh, "notes.md", REPORT.encode(), as_="staff", locale="en")
    token = asked.actions[0].value.split()[0]
    waiting = fresh.runtime.services.settings.data_dir / "uploads" / "pending" / token
    day_ago = time.time() - 25 * 3600
    os.utime(waiting, (day_ago, day_ago))
    file_message(fresh, "other.md", REPORT.encode(), as_="staff", locale="en")
    assert not waiting.exists()
    late = fresh.press(asked, "ingest", as_="staff", value=asked.actions[0].value)
    assert "no longer waiting" in late.text
