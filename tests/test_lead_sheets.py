from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import Workbook

from knowledge.lead_sheets import (
    SheetError,
    export_rows,
    import_leads,
    parse_amount,
    write_csv,
)
from knowledge.lead_store import LeadStore
from knowledge.sql import make_engine
from tests.conftest import run_cli

ZH_HEADER = ["企业名称", "节点", "阶段", "领域", "投资额", "预计就业", "需求", "联系人", "邮箱"]
ZH_ROWS = [
    [
        "氢动未来有限公司",
        "慕尼黑",
        "洽谈中",
        "氢能、新能源汽车",
        "1,200万元",
        "80",
        "土地；人才",
        "王强",
        "wq@example.cn",
    ],
    ["Negev Water Ltd", "特拉维夫", "考察中", "农业科技", "USD 3,500,000", "25", "实验室", "", ""],
]


@pytest.fixture
def store(tmp_path: Path) -> LeadStore:
    return LeadStore(make_engine(f"sqlite:///{tmp_path / 'leads.db'}"))


def write_csv_file(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    with path.open("w", encoding=encoding, newline="") as stream:
        csv.writer(stream).writerows(rows)
    return path


def test_chinese_headers_and_values_are_mapped(store: LeadStore, tmp_path: Path) -> None:
    sheet = write_csv_file(tmp_path / "线索.csv", [ZH_HEADER, *ZH_ROWS])
    report = import_leads(store, sheet, "wang.qiang")
    assert report.created == ["L-0001", "L-0002"] and not report.rejected
    first = store.require("L-0001")
    assert (first.node, first.stage) == ("munich", "negotiating")
    assert first.sectors == ["hydrogen", "new-energy-vehicles"]
    assert first.needs == ["land", "talent"]
    assert (first.investment_amount, first.investment_currency) == (12_000_000, "CNY")
    assert first.expected_jobs == 80 and first.contact_email == "wq@example.cn"
    second = store.require("L-0002")
    assert (second.node, second.stage, second.sectors) == ("tel-aviv", "visiting", ["agritech"])
    assert (second.investment_amount, second.investment_currency) == (3_500_000, "USD")


def test_importing_the_same_file_twice_updates_and_never_duplicates(
    store: LeadStore, tmp_path: Path
) -> None:
    sheet = write_csv_file(tmp_path / "leads.csv", [ZH_HEADER, *ZH_ROWS])
    import_leads(store, sheet, "a")
    again = import_leads(store, sheet, "a")
    assert again.unchanged == ["L-0001", "L-0002"] and store.count() == 2
    moved = [ZH_ROWS[0][:2] + ["已签约"] + ZH_ROWS[0][3:], ZH_ROWS[1]]
    write_csv_file(sheet, [ZH_HEADER, *moved])
    third = import_leads(store, sheet, "zhou.mu")
    assert third.updated == ["L-0001"] and store.count() == 2
    change = store.history("L-0001")[-1]
    assert (change.field, change.old, change.new, change.actor) == (
        "stage",
        "negotiating",
        "signed",
        "zhou.mu",
    )


def test_every_rejected_row_is_reported_with_its_row_number(
    store: LeadStore, tmp_path: Path
) -> None:
    rows = [
        ["Company", "Node", "Stage", "Sectors", "Email"],
        ["Good GmbH", "Munich", "new", "hydrogen", ""],
        ["", "Boston", "new", "ai", ""],
        ["Paris SAS", "Paris", "new", "ai", ""],
        ["Bad Stage Inc", "boston", "sleeping", "ai", ""],
        ["Mail Ltd", "cambridge", "new", "ai", "not-an-email"],
        ["good gmbh", "munich", "qualified", "hydrogen", ""],
        ["", "", "", "", ""],
        ["Last One", "tel aviv", "contacted", "clean tech", ""],
    ]
    report = import_leads(store, write_csv_file(tmp_path / "mixed.csv", rows), "a")
    reasons = {r.row: r.reason for r in report.rejected}
    assert set(reasons) == {3, 4, 5, 6, 7}
    assert "company" in reasons[3]
    assert "node 'Paris'" in reasons[4]
    assert "stage 'sleeping'" in reasons[5]
    assert "e-mail" in reasons[6]
    assert "row 2" in reasons[7]  # the same company at the same node as row 2
    assert report.rows == 7 and len(report.created) == 2  # the blank line is not a row
    assert {lead.company for lead in store.list()} == {"Good GmbH", "Last One"}


def test_xlsx_and_gb18030_csv_are_read(store: LeadStore, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["Lead ID", "Company", "Node", "Stage", "Investment", "Currency"])
    sheet.append([None, "Isar Lab GmbH", "munich", "Qualified", 7_500_000, "eur"])
    book.save(tmp_path / "leads.xlsx")
    assert import_leads(store, tmp_path / "leads.xlsx", "a").created == ["L-0001"]
    lead = store.require("L-0001")
    assert (lead.investment_amount, lead.investment_currency) == (7_500_000, "EUR")
    gbk = write_csv_file(tmp_path / "gbk.csv", [ZH_HEADER, ZH_ROWS[0]], encoding="gb18030")
    assert import_leads(store, gbk, "a").created == ["L-0002"]
    assert store.require("L-0002").company == "氢动未来有限公司"


def test_a_file_that_cannot_be_read_changes_nothing(store: LeadStore, tmp_path: Path) -> None:
    import_leads(store, write_csv_file(tmp_path / "ok.csv", [ZH_HEADER, ZH_ROWS[0]]), "a")
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(SheetError, match="not a readable Excel workbook"):
        import_leads(store, broken, "a")
    no_columns = write_csv_file(tmp_path / "x.csv", [["foo", "bar"], ["1", "2"]])
    with pytest.raises(SheetError, match="no column for company, node"):
        import_leads(store, no_columns, "a")
    (tmp_path / "leads.pdf").write_text("%PDF-1.4")
    with pytest.raises(SheetError, match="unsupported file type"):
        import_leads(store, tmp_path / "leads.pdf", "a")
    assert store.count() == 1


def test_dry_run_reports_without_storing(store: LeadStore, tmp_path: Path) -> None:
    report = import_leads(
        store, write_csv_file(tmp_path / "l.csv", [ZH_HEADER, *ZH_ROWS]), "a", dry_run=True
    )
    assert len(report.created) == 2 and report.dry_run and store.count() == 0


def test_an_export_without_contacts_imported_back_keeps_the_contacts(
    store: LeadStore, tmp_path: Path
) -> None:
    import_leads(store, write_csv_file(tmp_path / "l.csv", [ZH_HEADER, *ZH_ROWS]), "a")
    buffer = io.StringIO()
    write_csv(export_rows(store.list(), with_contact=False), buffer)
    exported = list(csv.reader(io.StringIO(buffer.getvalue())))
    assert exported[0][0] == "id" and "contact_email" not in exported[0]
    assert len(exported) == 3
    (tmp_path / "export.csv").write_text(buffer.getvalue(), encoding="utf-8")
    report = import_leads(store, tmp_path / "export.csv", "a")
    assert report.unchanged == ["L-0001", "L-0002"] and not report.rejected
    assert store.require("L-0001").contact_email == "wq@example.cn"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("EUR 12,000,000", (12_000_000, "EUR")),
        ("1,200万元", (12_000_000, "CNY")),
        ("€12m", (12_000_000, "EUR")),
        ("EUR 12.000.000", (12_000_000, "EUR")),
        ("3000万欧元", (30_000_000, "EUR")),
        ("1.2亿人民币", (120_000_000, "CNY")),
        ("1.5 million USD", (1_500_000, "USD")),
        ("3.5 million USD", (3_500_000, "USD")),
        (2_000_000, (2_000_000, None)),
        ("", (None, None)),
    ],
)
def test_amounts_as_people_write_them(cell: object, expected: tuple[object, object]) -> None:
    assert parse_amount(cell) == expected


def test_cli_import_reports_rejected_rows_and_export_prints_csv(
    tmp_path: Path, samples_env: dict[str, str]
) -> None:
    rows = [
        ["Company", "Node", "Stage"],
        ["Alpine Robotics AG", "munich", "new"],
        ["X", "Mars", "new"],
    ]
    sheet = write_csv_file(tmp_path / "new.csv", rows)
    imported = run_cli("leads", "import", str(sheet), "--by", "tester", env=samples_env)
    assert imported.returncode == 0, imported.stderr
    assert "1 were created" in imported.stdout and "row 3, column Node:" in imported.stdout
    assert "node 'Mars'" in imported.stdout
    exported = run_cli("leads", "export", env=samples_env)
    assert exported.returncode == 0, exported.stderr
    lines = list(csv.reader(io.StringIO(exported.stdout)))
    assert lines[0][:3] == ["id", "title", "company"]
    assert len(lines) == 1 + 31 + 1  # header, the 31 unrestricted sample leads, the new one
    assert "contact_email" not in lines[0]
    listed = run_cli("leads", "list", "--node", "慕尼黑", "--json", env=samples_env)
    assert listed.returncode == 0, listed.stderr
    munich = json.loads(listed.stdout)
    assert "Alpine Robotics AG" in {lead["company"] for lead in munich}
    assert {lead["node"] for lead in munich} == {"munich"}
    assert all(lead["contact_email"] is None for lead in munich)  # staff see no contacts
    as_manager = json.loads(
        run_cli("leads", "show", "L-0013", "--as", "manager", "--json", env=samples_env).stdout
    )
    assert as_manager["contact_email"] == "r.hale@example.co.uk"
    assert as_manager["history"][0]["field"] == "created"
    partner = run_cli("leads", "show", "L-0013", "--as", "partner", env=samples_env)
    assert partner.returncode == 2 and "may not see lead L-0013" in partner.stderr
    # The partner who submitted it sees it, with the contact person they gave.
    submitter = as_manager["submitted_by"]
    own = run_cli(
        "leads", "show", "L-0013", "--as", "partner", "--by", submitter, "--json", env=samples_env
    )
    assert own.returncode == 0, own.stderr
    assert json.loads(own.stdout)["contact_email"] == "r.hale@example.co.uk"
    guest = run_cli("leads", "list", "--as", "guest", "--json", env=samples_env)
    assert guest.returncode == 0 and json.loads(guest.stdout) == []
    missing = run_cli("leads", "import", str(tmp_path / "nope.csv"), env=samples_env)
    assert missing.returncode != 0 and "no such file" in missing.stderr
