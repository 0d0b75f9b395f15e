"""Write a catalogue report's rows as CSV, XLSX or a printable HTML page.

The rows and the one-row totals come from ``reports.catalog`` (totals summed in SQL), so
nothing here adds money up: writers only lay it out. CSV keeps every decimal exactly as
stored; XLSX writes money as numbers with a money format; the HTML page prints on A4
landscape with its title, filters, snapshot id and date (the "PDF-like" output of R-1).
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from reports.catalog import Column, Report
from reports.formatting import money

FORMATS = ("csv", "xlsx", "html")
MONEY_FORMAT = "#,##0.00;-#,##0.00"
_NUMBER_FORMATS = {"money": MONEY_FORMAT, "int": "0", "number": "0.00##",
                   "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm:ss"}
# Columns that repeat the filter on every row: the printable page states them once, on top.
_CONTEXT_COLUMNS = {"connection": ("connection_id", "erp"),
                    "project": ("project_id", "project_number", "project_name")}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ExportContext:
    """Where the rows come from: the snapshot and the filters applied."""

    snapshot_id: str
    snapshot_created: str
    filters: tuple[tuple[str, str], ...] = ()  # (label, value), e.g. ("Project", "P-001")
    exported_at: str = field(default_factory=_now)

    def lines(self, filters: bool = True) -> list[tuple[str, str]]:
        """Label/value pairs describing the export, with the filters (or "none") unless the
        caller states them otherwise."""
        shown = (list(self.filters) or [("Filters", "none (all rows)")]) if filters else []
        return [("Snapshot", self.snapshot_id), ("Snapshot created", self.snapshot_created),
                *shown, ("Exported", self.exported_at)]


# --- CSV ------------------------------------------------------------------------------------

def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")  # never exponent notation: 0E-2 would read as a float
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def write_csv(report: Report, rows: pl.DataFrame, out: io.TextIOBase) -> None:
    """Rows as CSV: a header of column names, then one line per row, decimals exact."""
    writer = csv.writer(out, lineterminator="\n")
    names = report.column_names
    writer.writerow(names)
    for row in rows.select(names).iter_rows():
        writer.writerow([_csv_value(v) for v in row])


def to_csv(report: Report, rows: pl.DataFrame) -> str:
    out = io.StringIO()
    write_csv(report, rows, out)
    return out.getvalue()


# --- XLSX -----------------------------------------------------------------------------------

def _cell_value(column: Column, value: Any) -> Any:
    if isinstance(value, Decimal) and column.kind == "int":
        return int(value)
    return value


def write_xlsx(report: Report, rows: pl.DataFrame, totals: pl.DataFrame | None,
               context: ExportContext, target: Path | BinaryIO) -> None:
    """A workbook: the report sheet (bold frozen header of column titles, money as numbers in
    a money format, a bold totals row) and an "About" sheet (title, description, snapshot,
    filters, export date)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(report.title)
    columns = report.columns
    sheet.append([c.title for c in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for row in rows.select(report.column_names).iter_rows():
        sheet.append([_cell_value(c, v) for c, v in zip(columns, row, strict=True)])
    if totals is not None and report.totals:
        _totals_row(sheet, report, totals)
    _formats(sheet, columns)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{rows.height + 1}"
    _about(book, report, rows, context)
    if isinstance(target, Path):
        target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)


def _sheet_title(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    return "".join(ch for ch in title if ch not in "[]:*?/\\")[:31]


def _totals_row(sheet, report: Report, totals: pl.DataFrame) -> None:
    values = totals.row(0, named=True)
    line = [values.get(c.name) if c.name in report.totals else None for c in report.columns]
    line[0] = f"Total ({values.get('rows', 0)} rows)"
    sheet.append(line)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)


def _formats(sheet, columns: tuple[Column, ...]) -> None:
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        number_format = _NUMBER_FORMATS.get(column.kind)
        widest = len(column.title)
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if number_format and not isinstance(cell.value, str):
                cell.number_format = number_format
            widest = max(widest, len(_csv_value(cell.value)) + (3 if column.kind == "money"
                                                                else 0))
        sheet.column_dimensions[letter].width = min(max(widest + 2, 8), 50)


def _about(book: Workbook, report: Report, rows: pl.DataFrame, context: ExportContext) -> None:
    about = book.create_sheet("About")
    about.append([report.title])
    about["A1"].font = Font(bold=True, size=14)
    about.append([report.description])
    about.append([])
    for label, value in [("Report", report.name), *context.lines(), ("Rows", rows.height)]:
        about.append([label, value])
        about.cell(about.max_row, 1).font = Font(bold=True)
    about.column_dimensions["A"].width = 20
    about.column_dimensions["B"].width = 40


# --- HTML -----------------------------------------------------------------------------------

_CSS = """
@page { size: A4 landscape; margin: 12mm; }
body { font: 10pt/1.35 system-ui, -apple-system, "Segoe UI", Arial, sans-serif; color: #111;
       margin: 16px; }
h1 { font-size: 16pt; margin: 0 0 4px; }
p.description { margin: 0 0 8px; color: #333; max-width: 60em; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 1px 12px; margin: 0 0
          12px; font-size: 9pt; }
dl.meta dt { font-weight: 600; }
dl.meta dd { margin: 0; }
table { border-collapse: collapse; width: 100%; font-size: 8.5pt; }
th, td { border-bottom: 1px solid #ccc; padding: 3px 5px; text-align: left;
         vertical-align: top; }
thead th { border-bottom: 2px solid #333; background: #f2f2f2; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
tfoot td { border-top: 2px solid #333; border-bottom: none; font-weight: 700; }
@media print {
  body { margin: 0; }
  thead { display: table-header-group; }
  tfoot { display: table-row-group; }
  tr, td, th { page-break-inside: avoid; break-inside: avoid; }
  h1, dl.meta { page-break-after: avoid; break-after: avoid; }
}
"""


def _html_value(column: Column, value: Any) -> str:
    if value is None:
        return "" if column.kind != "money" else "—"
    if column.kind == "money":
        return money(value)
    if column.kind == "bool":
        return "yes" if value else "no"
    if column.kind == "int":
        return str(value)
    return _csv_value(value)


def _shown_columns(report: Report, rows: pl.DataFrame,
                   filtered: Iterable[str]) -> tuple[Column, ...]:
    """The columns worth printing: not the filter's own (stated on top), not money columns
    empty on every row (an amount type the ERP lacks)."""
    hidden = {name for key in filtered for name in _CONTEXT_COLUMNS.get(key, ())}
    return tuple(c for c in report.columns if c.name not in hidden
                 and not (c.kind == "money" and rows.height and rows[c.name].null_count()
                          == rows.height))


def to_html(report: Report, rows: pl.DataFrame, totals: pl.DataFrame | None,
            context: ExportContext, filtered: Iterable[str] = ()) -> str:
    """A self-contained printable page. ``filtered`` names the filters applied
    ("connection", "project"): their columns are the same on every row, so the page states
    them once in its header rather than in every row."""
    esc = html.escape
    columns = _shown_columns(report, rows, filtered)
    context_rows = _context_values(report, rows, filtered)
    # The filter columns' own values say more than the filter typed ("P-001" vs its name).
    lines = [*context_rows, *context.lines(filters=not context_rows), ("Rows", rows.height)]
    meta = "".join(f"<dt>{esc(k)}</dt><dd>{esc(str(v))}</dd>" for k, v in lines)
    head = "".join(f'<th{_num(c)}>{esc(c.title)}</th>' for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td{_num(c)}>{esc(_html_value(c, row[c.name]))}</td>"
                         for c in columns) + "</tr>\n"
        for row in rows.iter_rows(named=True))
    foot = _html_totals(report, columns, totals)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{esc(report.title)} · {esc(context.snapshot_id)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{esc(report.title)}</h1>\n"
        f"<p class=\"description\">{esc(report.description)}</p>\n"
        f"<dl class=\"meta\">{meta}</dl>\n"
        f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n{body}</tbody>\n{foot}</table>\n"
        "</body>\n</html>\n")


def _num(column: Column) -> str:
    return ' class="num"' if column.kind in ("money", "int", "number") else ""


def _context_values(report: Report, rows: pl.DataFrame,
                    filtered: Iterable[str]) -> list[tuple[str, Any]]:
    """Title/value of each filter column left out of the table (its value on the first row)."""
    if rows.height == 0:
        return []
    first = rows.row(0, named=True)
    names = [n for key in filtered for n in _CONTEXT_COLUMNS.get(key, ())
             if n in report.column_names]
    return [(report.column(n).title, first[n]) for n in names]


def _html_totals(report: Report, columns: tuple[Column, ...],
                 totals: pl.DataFrame | None) -> str:
    if totals is None or not report.totals:
        return ""
    values = totals.row(0, named=True)
    cells = [f"<td{_num(c)}>{html.escape(_html_value(c, values[c.name]))}</td>"
             if c.name in report.totals else "<td></td>" for c in columns]
    cells[0] = f"<td>Total ({values.get('rows', 0)} rows)</td>"
    return f"<tfoot><tr>{''.join(cells)}</tr></tfoot>\n"
