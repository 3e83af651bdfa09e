"""Leads out to a spreadsheet and back in without loss: every exported column is read back,
nothing counts as changed, and history is written only for values that really changed."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import fields, replace
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.divisions import load_divisions
from bot.leads.matching import suggest_division
from bot.settings import load_settings
from knowledge.lead_seed import sample_leads
from knowledge.lead_sheets import (
    EXPORT_FIELDS,
    ImportReport,
    export_rows,
    import_leads,
    write_csv,
    write_xlsx,
)
from knowledge.lead_store import LeadStore
from knowledge.leads import EDITABLE, Lead, lead_events
from knowledge.sql import make_engine
from tests.conftest import run_cli

# Every currency the amount code names (symbols and Chinese names), plus the ones the sample
# leads use.
CURRENCIES = ("EUR", "USD", "GBP", "CNY", "ILS", "KRW", "JPY", "HKD", "CHF")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

SUMMARY = """**企业概况。** 氢动未来是一家位于慕尼黑的电解槽企业，员工约120人。

**为何选择郑州。** 看重"引导基金"与土地配套；对方说："价格, 交期; 质量"。

  - 缩进的一行, with "quotes", commas; and semicolons
=SUM(A1:A2) is text, not a formula

סיכום בעברית: החברה מחפשת קרקע ומימון.


Last paragraph after two blank lines."""


def synthetic_leads() -> list[Lead]:
    """One lead per currency with every field filled, in Chinese, Hebrew and English."""
    divisions = ("bohai", "yangtze", "pearl")
    nodes = ("munich", "tel-aviv", "boston", "cambridge")
    made = []
    for n, currency in enumerate(CURRENCIES):
        made.append(
            Lead(
                id=f"L-{900 + n:04d}",
                title=f"慕尼黑：氢动未来 {currency} – 电解槽 “示范” 项目 {n}",
                company=f'שמש ירוקה בע"מ {n}' if n % 2 else f"氢动未来有限公司 {n}",
                country="IL" if n % 2 else "DE",
                city="תל אביב" if n % 2 else "München",
                node=nodes[n % len(nodes)],
                sectors=["hydrogen", "clean-tech"] if n % 2 else ["semiconductors", "ai"],
                stage=("new", "qualified", "negotiating", "signed", "dropped")[n % 5],
                investment_amount=12_500_000.0 + n * 1_000_000 if n else 1_234_567.89,
                investment_currency=currency,
                expected_jobs=40 + n,
                needs=["land", "funding", "talent"] if n % 2 else ["market-access", "ip"],
                summary=SUMMARY + f"\n\nLead {n}.",
                language=("zh", "he", "en", "de", "fr", "ko")[n % 6],
                contact_name="王强" if n % 2 else "דנה כהן",
                contact_email=f"contact{n}@example.co.il",
                contact_phone="+972 3-555 0101" if n % 2 else "0049 89 1234 5678",
                submitted_by=f"Munich node – Zhang Wei ({n})",
                visibility=("internal", "partner", "restricted")[n % 3],
                assigned_division=divisions[n % 3],
                created_at=T0,
            )
        )
    return made


def _store(tmp_path: Path, name: str, with_suggester: bool = True) -> LeadStore:
    store = LeadStore(make_engine(f"sqlite:///{tmp_path / name}"))
    if with_suggester:
        # As `zbrain` runs it: every save re-suggests a division.
        store.suggester = suggest_division(load_divisions())
    return store


def _events(store: LeadStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lead_events)).scalar() or 0)


def _export(store: LeadStore, path: Path, *, with_contact: bool = True) -> Path:
    rows = export_rows(store.list(), with_contact=with_contact)
    if path.suffix == ".xlsx":
        write_xlsx(rows, path)
    else:
        with path.open("w", encoding="utf-8-sig", newline="") as stream:
            write_csv(rows, stream)
    return path


def _nothing_changed(report: ImportReport, count: int) -> None:
    assert report.rejected == [] and report.unknown_columns == []
    assert report.rows == count and len(report.unchanged) == count
    assert report.created == [] and report.updated == []


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[LeadStore]:
    store = _store(tmp_path, "filled.db")
    store.save_many([*sample_leads(), *synthetic_leads()], "seed")
    yield store


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
@pytest.mark.parametrize("with_contact", [True, False])
def test_export_then_import_changes_nothing_and_writes_no_history(
    filled: LeadStore, tmp_path: Path, suffix: str, with_contact: bool
) -> None:
    count = filled.count()
    assert count == 35 + len(CURRENCIES)
    before = {lead.id: lead for lead in filled.list()}
    events = _events(filled)
    sheet = _export(filled, tmp_path / f"leads{suffix}", with_contact=with_contact)
    _nothing_changed(import_leads(filled, sheet, "tester", dry_run=True), count)
    _nothing_changed(import_leads(filled, sheet, "tester"), count)
    assert _events(filled) == events
    assert {lead.id: lead for lead in filled.list()} == before


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_every_field_survives_the_trip_into_an_empty_store(
    filled: LeadStore, tmp_path: Path, suffix: str
) -> None:
    sheet = _export(filled, tmp_path / f"leads{suffix}")
    fresh = _store(tmp_path, f"fresh{suffix}.db")
    report = import_leads(fresh, sheet, "tester")
    assert report.rejected == [] and len(report.created) == filled.count()
    for lead in filled.list():
        copy = fresh.require(lead.id)
        lost = {n: (getattr(lead, n), getattr(copy, n)) for n in EDITABLE}
        assert {n: pair for n, pair in lost.items() if pair[0] != pair[1]} == {}, lead.id
    hebrew = fresh.require("L-0901")
    assert hebrew.summary.endswith("Lead 1.") and "\n\n\nLast paragraph" in hebrew.summary
    assert hebrew.summary.count("\n\n") == SUMMARY.count("\n\n") + 1
    assert hebrew.city == "תל אביב" and hebrew.investment_currency == "USD"
    assert fresh.require("L-0900").investment_amount == pytest.approx(1_234_567.89)


EDITED = {
    "title": "新标题 – new title",
    "company": "Neue Firma GmbH",
    "country": "FR",
    "city": "Paris",
    "node": "boston",
    "sectors": "agritech, biomedicine",
    "stage": "landed",
    "investment_amount": 7_000_000,
    "investment_currency": "JPY",
    "expected_jobs": 7,
    "needs": "lab",
    "summary": "Neu.\n\nZwei Absätze.",
    "language": "fr",
    "contact_name": "Jean Dupont",
    "contact_email": "j@example.fr",
    "contact_phone": "+33 1 23 45 67 89",
    "submitted_by": "Boston node",
    "visibility": "restricted",
    "assigned_division": "pearl",
}


def test_every_exported_column_is_read_back(filled: LeadStore, tmp_path: Path) -> None:
    sheet = _export(filled, tmp_path / "leads.xlsx")
    book = load_workbook(sheet)
    rows = book.worksheets[0]
    header = [c.value for c in rows[1]]
    assert tuple(header) == EXPORT_FIELDS and set(EDITED) == set(EXPORT_FIELDS) - {"id"}
    row = next(r for r in rows.iter_rows(min_row=2) if r[0].value == "L-0900")
    for cell, name in zip(row, header, strict=True):
        if name in EDITED:
            cell.value = EDITED[name]
    book.save(sheet)
    report = import_leads(filled, sheet, "editor")
    assert report.unknown_columns == [] and report.rejected == []
    assert report.updated == ["L-0900"]
    lead = filled.require("L-0900")
    stored = {name: getattr(lead, name) for name in EDITED}
    assert stored == {
        **EDITED,
        "sectors": ["agritech", "biomedicine"],
        "needs": ["lab"],
        "investment_amount": 7_000_000.0,
    }
    changed = {e.field for e in filled.history("L-0900") if e.actor == "editor"}
    assert set(EDITED) <= changed


def test_a_real_edit_is_one_update_with_one_event(filled: LeadStore, tmp_path: Path) -> None:
    sheet = _export(filled, tmp_path / "leads.csv")
    text = sheet.read_text(encoding="utf-8-sig")
    # L-0901's stage: "qualified" in its row, nowhere else in that row.
    start = text.index("\nL-0901,")
    end = text.index("\nL-0902,")
    row = text[start:end]
    assert row.count(",qualified,") == 1
    sheet.write_text(text[:start] + row.replace(",qualified,", ",visiting,") + text[end:])
    events = _events(filled)
    dry = import_leads(filled, sheet, "zhou.mu", dry_run=True)
    assert dry.updated == ["L-0901"] and not dry.rejected
    report = import_leads(filled, sheet, "zhou.mu")
    assert report.updated == ["L-0901"] and len(report.unchanged) == filled.count() - 1
    new_events = filled.history("L-0901")[-(_events(filled) - events) :]
    # The stage, and the division suggestion that follows from the edit; nothing else.
    assert "stage" in {e.field for e in new_events}
    assert {e.field for e in new_events} <= {"stage", "suggested_division"}
    stage = next(e for e in new_events if e.field == "stage")
    assert (stage.old, stage.new, stage.actor) == ("qualified", "visiting", "zhou.mu")


def test_a_save_that_changes_only_spacing_writes_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path, "s.db")
    lead = store.create(synthetic_leads()[1], "seed")
    events = _events(store)
    respaced = replace(
        lead,
        summary=lead.summary.replace("\n", "  \r\n") + "\n\n",
        city=" תל   אביב ",
        contact_name="王强 ",
        investment_amount=float(f"{lead.investment_amount:.2f}"),
    )
    assert store.save_many([respaced], "someone") == [(store.require(lead.id), "unchanged")]
    assert _events(store) == events


def test_the_store_keeps_every_field_it_is_given() -> None:
    # Guard for the trip tests: the synthetic leads fill every editable field.
    for lead in synthetic_leads():
        empty = [f.name for f in fields(Lead) if f.name in EDITABLE and not getattr(lead, f.name)]
        assert empty == []


# ---------------------------------------------------------------- sectors and needs
def _sheet(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as stream:
        write_csv(iter(rows), stream)
    return path


def test_unknown_sectors_and_needs_are_rejected_with_row_column_and_a_suggestion(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path, "v.db", with_suggester=False)
    sheet = _sheet(
        tmp_path / "v.csv",
        [
            ["企业名称", "节点", "领域", "需求"],
            ["Good GmbH", "munich", "氢能, ai", "土地"],
            ["Foo AG", "munich", "foo-sector", "land"],
            ["Typo Ltd", "boston", "hydrogne", "land"],
            ["Horn Inc", "boston", "ai", "unicorns"],
            ["Need Ltd", "boston", "ai", "fundng"],
        ],
    )
    report = import_leads(store, sheet, "tester")
    assert report.created == ["L-0001"] and store.count() == 1
    rejected = {r.row: r for r in report.rejected}
    assert set(rejected) == {3, 4, 5, 6}
    assert rejected[3].column == "领域" and "unknown sector 'foo-sector'" in rejected[3].reason
    assert "known: ai, semiconductors" in rejected[3].reason  # nothing close: the known ones
    assert rejected[4].reason == "unknown sector 'hydrogne' — did you mean 'hydrogen'?"
    assert rejected[5].column == "需求" and "unknown need 'unicorns'" in rejected[5].reason
    assert rejected[6].reason == "unknown need 'fundng' — did you mean 'funding'?"


def test_a_sector_a_lead_already_has_is_not_rejected_when_it_comes_back(
    tmp_path: Path,
) -> None:
    store = _store(tmp_path, "legacy.db", with_suggester=False)
    # Stored before imports checked sectors.
    store.create(Lead(company="Old GmbH", node="munich", sectors=["quantum"]), "then")
    sheet = _export(store, tmp_path / "legacy.csv")
    _nothing_changed(import_leads(store, sheet, "now"), 1)
    other = _sheet(
        tmp_path / "other.csv", [["company", "node", "sectors"], ["New", "boston", "quantum"]]
    )
    assert "unknown sector 'quantum'" in import_leads(store, other, "now").rejected[0].reason


def test_unknown_node_stage_and_division_cells_name_their_column(tmp_path: Path) -> None:
    store = _store(tmp_path, "n.db", with_suggester=False)
    sheet = _sheet(
        tmp_path / "n.csv",
        [
            ["Company", "Node", "Stage", "Division"],
            ["A", "munchen", "new", ""],
            ["B", "munich", "negociating", ""],
            ["C", "munich", "new", "yangtse"],
        ],
    )
    rejected = import_leads(store, sheet, "t").rejected
    assert [(r.row, r.column) for r in rejected] == [(2, "Node"), (3, "Stage"), (4, "Division")]
    assert rejected[0].reason == "unknown node 'munchen' — did you mean 'munich'?"
    assert rejected[1].reason == "unknown stage 'negociating' — did you mean 'negotiating'?"
    assert rejected[2].reason == "unknown division 'yangtse' — did you mean 'yangtze'?"


# ---------------------------------------------------------------- through the CLI
@pytest.fixture(scope="module")
def loaded_env(
    tmp_path_factory: pytest.TempPathFactory, shared_cache_url: str, samples_cli_template: Path
) -> dict[str, str]:
    """A data dir with the samples loaded, shared by this module's CLI tests (none of which
    changes a lead)."""
    data = tmp_path_factory.mktemp("cli") / "data"
    shutil.copytree(samples_cli_template, data)
    return {"ZBRAIN_DATA_DIR": str(data), "ZBRAIN_EMBEDDING_CACHE_URL": shared_cache_url}


def _counts(output: str) -> dict[str, int]:
    found = re.search(
        r"(\d+) rows read from .*?: (\d+) (?:would be|were) created, (\d+) (?:would be|were) "
        r"updated, (\d+) unchanged, (\d+) rejected",
        output,
    )
    assert found, output
    rows, created, updated, unchanged, rejected = (int(g) for g in found.groups())
    return {
        "rows": rows,
        "created": created,
        "updated": updated,
        "unchanged": unchanged,
        "rejected": rejected,
    }


def _history(env: dict[str, str]) -> list[int]:
    """How many history entries the first five leads have (read in-process: the CLI's own
    list and show commands are tested elsewhere)."""
    settings = load_settings(ZBRAIN_DATA_DIR=env["ZBRAIN_DATA_DIR"])
    engine = make_engine(settings.resolved_database_url)
    try:
        store = LeadStore(engine)
        return [len(store.history(lead.id)) for lead in store.list()[:5]]
    finally:
        engine.dispose()


def test_cli_export_and_import_round_trip_csv_and_xlsx(
    loaded_env: dict[str, str], tmp_path: Path
) -> None:
    exported = run_cli("leads", "export", env=loaded_env)
    assert exported.returncode == 0, exported.stderr
    sheet = tmp_path / "leads.csv"
    sheet.write_text(exported.stdout, encoding="utf-8")
    dry = run_cli("leads", "import", str(sheet), "--dry-run", env=loaded_env)
    assert dry.returncode == 0, dry.stderr
    assert _counts(dry.stdout) == {
        "rows": 31,
        "created": 0,
        "updated": 0,
        "unchanged": 31,
        "rejected": 0,
    }
    assert "Ignored columns" not in dry.stdout
    history = _history(loaded_env)
    workbook = tmp_path / "leads.xlsx"
    written = run_cli(
        "leads", "export", "--as", "manager", "--format", "xlsx", "-o", str(workbook),
        env=loaded_env,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    imported = run_cli("leads", "import", str(workbook), env=loaded_env)
    assert imported.returncode == 0, imported.stderr
    assert _counts(imported.stdout) == {
        "rows": 35,
        "created": 0,
        "updated": 0,
        "unchanged": 35,
        "rejected": 0,
    }
    assert "Ignored columns" not in imported.stdout
    assert _history(loaded_env) == history


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("leads", "list", "--node", "munchen"), "unknown node 'munchen' — did you mean 'munich'?"),
        (("leads", "summary", "--node", "munchen"), "did you mean 'munich'?"),
        (("leads", "list", "--sector", "quantum"), "unknown sector 'quantum'; known values: "),
        (("leads", "summary", "--sector", "hydrogne"), "did you mean 'hydrogen'?"),
        (("leads", "list", "--stage", "negociating"), "did you mean 'negotiating'?"),
        (("leads", "summary", "--stage", "negociating"), "did you mean 'negotiating'?"),
        (("leads", "list", "--division", "yangtse"), "did you mean 'yangtze'?"),
        (("leads", "summary", "--division", "mars"), "unknown division 'mars'; known values: "),
        (("search", "hydrogen", "--node", "paris"), "unknown node 'paris'; known values: boston"),
        (("search", "hydrogen", "--node", "munchen"), "did you mean 'munich'?"),
    ],
)
def test_cli_unknown_filter_values_say_so_and_suggest(
    loaded_env: dict[str, str], args: tuple[str, ...], message: str
) -> None:
    line = _one_error_line(run_cli(*args, env=loaded_env))
    assert message in line and "role" not in line


def test_cli_filters_in_any_language_still_work(loaded_env: dict[str, str]) -> None:
    import json

    found = run_cli(
        "leads", "list", "--node", "慕尼黑", "--sector", "氢能", "--json", env=loaded_env
    )
    assert found.returncode == 0, found.stderr
    leads = json.loads(found.stdout)
    assert leads and all(
        lead["node"] == "munich" and "hydrogen" in lead["sectors"] for lead in leads
    )
    hits = run_cli("search", "hydrogen", "--node", "慕尼黑", "--json", env=loaded_env)
    assert hits.returncode == 0, hits.stderr
    assert {hit["node"] for hit in json.loads(hits.stdout)} == {"munich"}
