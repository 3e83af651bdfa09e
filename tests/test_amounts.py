"""Amounts as people write them, one parser for chat intake and spreadsheet import."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from knowledge.amounts import find_amounts, parse_amount, read_amount
from knowledge.lead_sheets import import_leads
from knowledge.lead_sheets import parse_amount as sheet_amount
from knowledge.lead_store import LeadStore
from knowledge.sql import make_engine

AMOUNTS = [
    ("EUR 15 million", (15_000_000, "EUR")),
    ("15 Mio. €", (15_000_000, "EUR")),
    ("12 Mio. EUR", (12_000_000, "EUR")),
    ("3,5 Mio. Euro", (3_500_000, "EUR")),
    ("1,5 Mrd. €", (1_500_000_000, "EUR")),
    ("5 millions d'euros", (5_000_000, "EUR")),
    ("2 milliards de dollars", (2_000_000_000, "USD")),
    ("12 M€", (12_000_000, "EUR")),
    ("12 000 000 €", (12_000_000, "EUR")),
    ("1,200万元", (12_000_000, "CNY")),
    ("2000万美元", (20_000_000, "USD")),
    ("1.2亿人民币", (120_000_000, "CNY")),
    ("人民币5000万元", (50_000_000, "CNY")),
    ("€12m", (12_000_000, "EUR")),
    ("$3.5M", (3_500_000, "USD")),
    ("USD 3,500,000", (3_500_000, "USD")),
    ("1.5 million USD", (1_500_000, "USD")),
    ("£5m", (5_000_000, "GBP")),
    ("5 MEUR", (5_000_000, "EUR")),
    ("EUR 12.000.000", (12_000_000, "EUR")),
    ("₪10m", (10_000_000, "ILS")),
    ('10 מיליון ש"ח', (10_000_000, "ILS")),
    ("10 מיליון ש״ח", (10_000_000, "ILS")),
    ("5 מיליון דולר", (5_000_000, "USD")),
    ("10억 원", (1_000_000_000, "KRW")),
    ("1,000만 유로", (10_000_000, "EUR")),
    ("ca. EUR 20m", (20_000_000, "EUR")),
    ("约2000万美元", (20_000_000, "USD")),
]


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_an_amount_is_read_however_it_is_written(text: str, expected: tuple[int, str]) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(("text", "expected"), AMOUNTS)
def test_import_reads_the_same_amounts_as_chat(text: str, expected: tuple[int, str]) -> None:
    assert sheet_amount(text) == expected


@pytest.mark.parametrize("text", ["Munich", "hydrogen", "a lot", "EUR 5m and EUR 2m", ""])
def test_what_is_no_amount_is_none(text: str) -> None:
    assert parse_amount(text) is None


def test_a_number_without_currency_is_an_amount_only_for_import() -> None:
    assert parse_amount("12000000") is None  # chat asks for the currency
    assert read_amount("12000000") == (12_000_000, None)
    assert sheet_amount("12000000") == (12_000_000, None)  # the export's currency column
    assert sheet_amount(3_500_000) == (3_500_000, None)


def test_in_running_text_only_amounts_with_a_currency_count() -> None:
    text = "H2 Motion GmbH, 60 jobs, 5000 m² land, EUR 15 million in 2026, staff 40명, 직원 40명"
    assert [(a.value, a.currency) for a in find_amounts(text)] == [(15_000_000, "EUR")]
    assert find_amounts("they won 3 prizes; ils ont 60 emplois") == []
    assert [a.value for a in find_amounts("ILS 5m, 5 ILS")] == [5_000_000, 5]


def test_a_spreadsheet_with_german_and_french_amounts_imports(tmp_path: Path) -> None:
    sheet = tmp_path / "leads.csv"
    with sheet.open("w", encoding="utf-8", newline="") as stream:
        csv.writer(stream).writerows(
            [
                ["Company", "Node", "Investment"],
                ["Isar Lab GmbH", "munich", "12 Mio. EUR"],
                ["Hydrogène Alpes SAS", "munich", "5 millions d'euros"],
                ["Negev Water Ltd", "tel-aviv", "lots of money"],
            ]
        )
    store = LeadStore(make_engine(f"sqlite:///{tmp_path / 'leads.db'}"))
    report = import_leads(store, sheet, "tester")
    assert report.created == ["L-0001", "L-0002"]
    assert [r.row for r in report.rejected] == [4]
    amounts = [(lead.investment_amount, lead.investment_currency) for lead in store.list()]
    assert sorted(amounts) == [(5_000_000, "EUR"), (12_000_000, "EUR")]
