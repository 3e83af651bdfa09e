"""Leads to and from spreadsheets (CSV, XLSX) with Chinese or English headers and values.

Import reads every row, maps headers by name (企业 / Company) and values by the glossary
(慕尼黑 → munich, 洽谈中 → negotiating, 氢能 → hydrogen), and reports each rejected row with
its spreadsheet row number (the header is row 1) and the reason. A row names an existing lead
by its id, or else by the same company at the same node, so importing a file twice updates
and never duplicates. An empty cell leaves the stored value as it is: an export without the
contact columns, edited and imported back, does not erase anyone's contact.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.amounts import read_amount  # the one parser chat intake uses too
from knowledge.glossary import Glossary, cached_glossary, closest, normalize
from knowledge.lead_store import LeadStore
from knowledge.leads import CONTACT_FIELDS, Lead, LeadError, Stage, changed_fields, validate
from knowledge.leads import multiline as multiline_text

# Canonical field → header names people use (compared after normalize()).
HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "lead id", "lead", "编号", "线索编号", "线索id"),
    "title": ("title", "project", "project name", "标题", "项目", "项目名称"),
    "company": ("company", "company name", "企业", "公司", "企业名称", "公司名称"),
    "country": ("country", "国家", "国别"),
    "city": ("city", "城市"),
    "node": ("node", "source node", "节点", "来源节点", "海外节点"),
    "sectors": ("sectors", "sector", "industry", "领域", "行业", "产业", "产业领域"),
    "stage": ("stage", "status", "阶段", "状态", "进展", "项目阶段"),
    "investment_amount": (
        "investment",
        "investment amount",
        "amount",
        "投资额",
        "投资金额",
        "拟投资额",
        "投资规模",
    ),
    "investment_currency": ("currency", "币种", "货币"),
    "expected_jobs": ("expected jobs", "jobs", "预计就业", "就业人数", "新增就业"),
    "needs": ("needs", "需求", "项目需求"),
    "summary": ("summary", "description", "简介", "项目简介", "概要", "项目概况"),
    "language": ("language", "语言"),
    "contact_name": ("contact", "contact name", "联系人"),
    "contact_email": ("email", "contact email", "e mail", "邮箱", "电子邮件"),
    "contact_phone": ("phone", "contact phone", "telephone", "电话", "联系电话"),
    "submitted_by": ("submitted by", "submitter", "提交人", "报送人"),
    "visibility": ("visibility", "可见性", "密级"),
    "assigned_division": ("division", "assigned division", "事业部", "承接事业部"),
}
EXPORT_FIELDS = tuple(HEADERS)
# Multi-line text: its line breaks and blank lines are kept, as the summary's paragraphs.
MULTILINE_FIELDS = ("summary",)
LIST_FIELDS = ("sectors", "needs")


def _header_key(name: str) -> str:
    # "investment_amount" as exported, "Investment amount" as typed: the same column.
    return normalize(name.replace("_", " "))


_BY_HEADER = {_header_key(name): f for f, names in HEADERS.items() for name in (f, *names)}
_LIST_SPLIT = re.compile(r"[,;，；、/|]+")


class SheetError(Exception):
    """The file could not be read at all; the message says why."""


class CellError(LeadError):
    """A cell's value is not usable; names the column as the file's header writes it."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column


@dataclass(frozen=True)
class Rejected:
    row: int
    reason: str
    column: str = ""  # the header of the offending column, when one cell is at fault


@dataclass
class ImportReport:
    rows: int = 0
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    dry_run: bool = False


# ---------------------------------------------------------------------------- reading files
def read_rows(path: Path) -> list[list[Any]]:
    """All rows of the first sheet (or the CSV), header first."""
    if not path.exists():
        raise SheetError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt"):
        return _csv_rows(path)
    raise SheetError(f"{path}: unsupported file type {suffix or '(none)'}; use .csv or .xlsx")


def _xlsx_rows(path: Path) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SheetError(f"{path}: not a readable Excel workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        return [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()


def _csv_rows(path: Path) -> list[list[Any]]:
    data = path.read_bytes()
    # Excel saves UTF-8 CSV with a BOM, and CSV on Chinese Windows in GB18030.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(f"{path}: not UTF-8 or GB18030 text")
    # Only the delimiter is guessed, from the header line: csv.Sniffer also guesses quoting
    # from a sample and gets doubled quotes inside multi-line cells wrong, splitting rows.
    header = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=header.count) if any(d in header for d in ",;\t") else ","
    try:
        # newline="": line breaks inside quoted cells reach the reader as written.
        return [list(row) for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise SheetError(f"{path}: not a readable CSV file ({exc})") from None


# ---------------------------------------------------------------------------- values
def _text(value: Any, *, multiline: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if multiline:
        return multiline_text(str(value))
    return " ".join(str(value).split())


def parse_amount(value: Any) -> tuple[float | None, str | None]:
    """'EUR 12,000,000', '1,200万元', '€12m', '12 Mio. EUR', 3500000 → (amount, currency|None)."""
    if isinstance(value, int | float):
        return float(value), None
    text = _text(value)
    if not text:
        return None, None
    found = read_amount(text)
    if found is None:
        raise LeadError(f"investment {text!r} is not an amount such as 'EUR 12,000,000'")
    return found


_WHAT = {"nodes": "node", "stages": "stage", "sectors": "sector", "needs": "need"}


def unknown_value(what: str, value: str, suggestion: str | None, known: list[str]) -> str:
    """Why a value is refused: the closest known one ("did you mean"), or else all of them."""
    if suggestion is not None:
        return f"unknown {what} {value!r} — did you mean {suggestion!r}?"
    return f"unknown {what} {value!r}; known: {', '.join(known)}"


def _mapped(glossary: Glossary, list_name: str, value: str, column: str) -> str:
    found = glossary.canonical(list_name, value)
    if found is None:
        message = unknown_value(
            _WHAT[list_name],
            value,
            glossary.suggest(list_name, value),
            glossary.ids(list_name),
        )
        raise CellError(column, message)
    return found


def _list(glossary: Glossary, list_name: str, value: str) -> list[str]:
    # Unknown items stay as written here; `_check_lists` rejects them once the row's lead
    # is known (a value a lead already carries is not new).
    items = [v.strip() for v in _LIST_SPLIT.split(value) if v.strip()]
    return [glossary.canonical(list_name, item) or item for item in items]


def _division(divisions: dict[str, str], value: str, column: str) -> str:
    found = divisions.get(normalize(value))
    if found is None:
        known = sorted(set(divisions.values()))
        suggestion = closest(value, divisions)
        raise CellError(column, unknown_value("division", value, suggestion, known))
    return found


def row_values(
    cells: dict[str, Any],
    glossary: Glossary,
    divisions: dict[str, str],
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A row's non-empty cells (field → value as read) as Lead field values, or CellError
    naming the bad cell's column (`headers`: field → the file's header for it)."""
    headers = headers or {}
    values: dict[str, Any] = {}
    for name, raw in cells.items():
        cell = _text(raw, multiline=name in MULTILINE_FIELDS)
        if not cell:
            continue
        column = headers.get(name, name)
        try:
            values.update(_field_value(name, raw, cell, cells, glossary, divisions, column))
        except CellError:
            raise
        except LeadError as exc:
            raise CellError(column, str(exc)) from None
    return values


def _field_value(
    name: str,
    raw: Any,
    cell: str,
    cells: dict[str, Any],
    glossary: Glossary,
    divisions: dict[str, str],
    column: str,
) -> dict[str, Any]:
    if name == "node":
        return {name: _mapped(glossary, "nodes", cell, column)}
    if name == "stage":
        try:
            return {name: Stage(cell.strip().lower()).value}
        except ValueError:
            return {name: _mapped(glossary, "stages", cell, column)}
    if name in LIST_FIELDS:
        return {name: _list(glossary, name, cell)}
    if name == "investment_amount":
        # A number cell (XLSX) goes in as the number, not as its text.
        amount, currency = parse_amount(raw if isinstance(raw, int | float) else cell)
        found: dict[str, Any] = {name: amount}
        if currency and not _text(cells.get("investment_currency")):
            found["investment_currency"] = currency
        return found
    if name == "expected_jobs":
        try:
            return {name: int(float(cell.replace(",", "")))}
        except ValueError:
            raise LeadError(f"expected jobs {cell!r} is not a whole number") from None
    if name == "assigned_division":
        return {name: _division(divisions, cell, column)}
    if name == "id":
        return {name: cell.strip().upper()}
    return {name: cell}


def _check_lists(
    values: dict[str, Any], glossary: Glossary, before: Lead | None, headers: dict[str, str]
) -> None:
    """Reject sectors and needs the glossary does not know, unless the lead has them already
    (stored before imports checked them): a typo never becomes a new sector."""
    for name in LIST_FIELDS:
        carried = set(getattr(before, name)) if before is not None else set()
        for item in values.get(name, []):
            slug = "-".join(item.strip().lower().replace("_", "-").split())  # as validate()
            if glossary.canonical(name, item) is None and slug not in carried:
                message = unknown_value(
                    _WHAT[name], item, glossary.suggest(name, item), glossary.ids(name)
                )
                raise CellError(headers.get(name, name), message)


# ---------------------------------------------------------------------------- import
def _columns(header: Sequence[Any]) -> tuple[dict[int, str], list[str]]:
    columns: dict[int, str] = {}
    unknown: list[str] = []
    for i, cell in enumerate(header):
        name = _text(cell)
        if not name:
            continue
        field_name = _BY_HEADER.get(_header_key(name))
        if field_name is None or field_name in columns.values():
            unknown.append(name)
        else:
            columns[i] = field_name
    return columns, unknown


def import_leads(
    store: LeadStore,
    path: Path,
    actor: str,
    *,
    dry_run: bool = False,
    glossary: Glossary | None = None,
    divisions: dict[str, str] | None = None,
) -> ImportReport:
    rows = read_rows(path)
    if not rows or not any(_text(c) for c in rows[0]):
        raise SheetError(f"{path}: the first row must be a header (company, node, ...)")
    columns, unknown = _columns(rows[0])
    missing = [f for f in ("company", "node") if f not in columns.values()]
    if missing and "id" not in columns.values():
        raise SheetError(
            f"{path}: no column for {', '.join(missing)}; headers found: "
            + ", ".join(_text(c) for c in rows[0] if _text(c))
        )
    glossary = glossary or cached_glossary()
    divisions = divisions if divisions is not None else division_names()
    report = ImportReport(unknown_columns=unknown, dry_run=dry_run)
    existing = {lead.id: lead for lead in store.list()}
    by_company = {(normalize(lead.company), lead.node): lead.id for lead in existing.values()}
    claimed: dict[str, int] = {}
    planned: list[Lead] = []
    headers = {name: _text(rows[0][i]) for i, name in columns.items()}
    for number, row in enumerate(rows[1:], start=2):
        cells = {name: row[i] if i < len(row) else None for i, name in columns.items()}
        if not any(_text(c) for c in cells.values()):
            continue  # blank line
        report.rows += 1
        try:
            values = row_values(cells, glossary, divisions, headers)
            lead = _merge(values, existing, by_company, store)
            _check_lists(values, glossary, existing.get(lead.id), headers)
            key = lead.id or f"{normalize(lead.company)}|{lead.node}"
            if key in claimed:
                raise LeadError(f"same lead as row {claimed[key]}")
            claimed[key] = number
        except CellError as exc:
            report.rejected.append(Rejected(number, str(exc), exc.column))
            continue
        except LeadError as exc:
            report.rejected.append(Rejected(number, str(exc)))
            continue
        planned.append(lead)
    if dry_run:
        for lead in planned:
            status = _preview(lead, existing)
            getattr(report, status).append(lead.id or f"(new) {lead.company}")
        return report
    for lead, status in store.save_many(planned, actor):
        getattr(report, status).append(lead.id)
    return report


def _merge(
    values: dict[str, Any],
    existing: dict[str, Lead],
    by_company: dict[tuple[str, str], str],
    store: LeadStore,
) -> Lead:
    lead_id = values.get("id") or ""
    if lead_id and lead_id not in existing and not values.get("company"):
        raise LeadError(f"no lead {lead_id} to update, and no company to create it")
    if not lead_id and values.get("company") and values.get("node"):
        lead_id = by_company.get((normalize(values["company"]), values["node"]), "")
    if lead_id in existing:
        merged = replace(existing[lead_id], **{k: v for k, v in values.items() if k != "id"})
    else:
        if not values.get("company"):
            raise LeadError("company is required")
        if not values.get("node"):
            raise LeadError("node is required")
        merged = Lead(**{k: v for k, v in values.items() if k != "id"}, id=lead_id)
    return validate(merged, store.nodes)


def _preview(lead: Lead, existing: dict[str, Lead]) -> str:
    before = existing.get(lead.id)
    if before is None:
        return "created"
    # The store's own test of a change, so a dry run predicts what the import will do.
    return "updated" if changed_fields(before, lead) else "unchanged"


def division_names() -> dict[str, str]:
    from knowledge.divisions import load_divisions

    names: dict[str, str] = {}
    for division in load_divisions():
        for name in (division.key, division.name_zh, division.name_en):
            names[normalize(name)] = division.key
        # "环渤海" for "环渤海事业部", "Bohai Rim" for "Bohai Rim Division"
        names[normalize(division.name_zh.removesuffix("事业部"))] = division.key
        names[normalize(division.name_en.removesuffix(" Division"))] = division.key
    return names


# ---------------------------------------------------------------------------- export
def export_rows(leads: Sequence[Lead], *, with_contact: bool) -> Iterator[list[Any]]:
    """Header first, then one row per lead; contact columns only for who may read them."""
    names = [f for f in EXPORT_FIELDS if with_contact or f not in CONTACT_FIELDS]
    yield names
    for lead in leads:
        row = []
        for name in names:
            value = getattr(lead, name)
            if isinstance(value, list):
                value = ", ".join(value)
            elif isinstance(value, float) and value.is_integer():
                value = int(value)  # 6000000, not 6000000.0: read back by any amount parser
            row.append("" if value is None else value)
        yield row


def write_csv(rows: Iterator[list[Any]], stream: io.TextIOBase | Any) -> None:
    # "\n" ends rows as it ends lines inside cells; a text stream (stdout on Windows)
    # translates both alike, so no row ever holds a lone "\r".
    writer = csv.writer(stream, lineterminator="\n")
    for row in rows:
        writer.writerow(row)


def write_xlsx(rows: Iterator[list[Any]], path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("leads")
    for row in rows:
        cells = []
        for value in row:
            if not isinstance(value, str):
                cells.append(value)
                continue
            # Control characters cannot be stored in a workbook at all.
            cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
            # Text that starts with "=" is text: as a formula it would read back empty.
            cell.data_type = "s"
            cells.append(cell)
        sheet.append(cells)
    book.save(path)
