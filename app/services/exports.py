"""Exports of the request lists (the agents' queue, the supplier's list) as CSV and Excel files.
No HTTP here: the views give a select (already scoped by ``access.visible_requests()``, filtered
and sorted as their page) and stream what ``chunks`` yields.

The rows are read with a server-side cursor, ``CHUNK`` at a time, and written out as they come:
exporting 100,000 requests holds one chunk in memory, not the list (bench/exports.py measures it).
The Excel file is written by XlsxWriter in ``constant_memory`` mode (one row in memory) into a
temporary file, which is then read back in blocks and removed.

    select, runs = ...                       # the page's select; runs: see listing.paginate
    for block in exports.chunks("csv", select, staff=True, runs=runs): ...
"""
import csv
import io
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from typing import Callable, Iterator

import xlsxwriter
from sqlalchemy import true

from .. import clock
from ..extensions import db
from ..models import EnrolmentRequest, User
from ..package import statuses

#: Rows fetched from the database at a time (server-side cursor).
CHUNK = 1000
#: Bytes read from the temporary Excel file at a time.
BLOCK = 64 * 1024
#: CSV rows written before their text is handed on.
CSV_ROWS = 500

MIMETYPES = {"csv": "text/csv; charset=utf-8",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}

#: The columns read from the database (in this order, as the tuple given to each Column's value).
_SOURCE = (EnrolmentRequest.number, EnrolmentRequest.enrolment_type, EnrolmentRequest.status,
           EnrolmentRequest.submitted_at, EnrolmentRequest.updated_at, EnrolmentRequest.validated_at,
           EnrolmentRequest.siret, EnrolmentRequest.company_name, EnrolmentRequest.ans_number,
           # only the software's name out of the request's JSON data, not the whole of it
           EnrolmentRequest.data["referencing"]["software_name"].as_string(),
           EnrolmentRequest.claimed_by_id, EnrolmentRequest.status_changed_at)


@dataclass(frozen=True)
class Row:
    number: str
    type: str | None
    status: str
    submitted_at: datetime | None
    updated_at: datetime | None
    validated_at: datetime | None
    siret: str | None
    company_name: str | None
    ans_number: str | None
    software: str | None
    holder_id: int | None
    status_changed_at: datetime | None


@dataclass(frozen=True)
class Column:
    header: str
    #: The cell's value: text, a date and time (aware, shown in Paris time), an integer or None.
    value: Callable[["_Context", Row], object]
    width: int
    #: Shown to agents only (who holds a request is the agency's business).
    staff_only: bool = False


class _Context:
    """What the values need besides the row: who reads (labels), today, the agents' names."""

    def __init__(self, staff: bool):
        self.staff = staff
        self.today = clock.local(clock.now()).date()
        self.statuses = statuses.current()
        self._holders: dict[int, str] = {}

    def holder(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        if user_id not in self._holders:  # a handful of agents: one look-up each
            user = db.session.get(User, user_id)
            self._holders[user_id] = user.display_name if user else ""
        return self._holders[user_id]

    def status_label(self, code: str) -> str:
        return self.statuses[code].label(staff=self.staff) if code in self.statuses else code

    def days_waiting(self, since: datetime | None) -> int | None:
        """Calendar days (in Paris) since the request entered its current status."""
        return (self.today - clock.local(since).date()).days if since else None


COLUMNS = (
    Column("Numéro", lambda c, r: r.number, 12),
    Column("Type", lambda c, r: r.type, 26),
    Column("Statut", lambda c, r: c.status_label(r.status), 40),
    Column("Déposée le", lambda c, r: r.submitted_at, 17),
    Column("Dernière modification", lambda c, r: r.updated_at, 17),
    Column("Validée le", lambda c, r: r.validated_at, 17),
    Column("SIRET", lambda c, r: r.siret, 16),
    Column("Raison sociale", lambda c, r: r.company_name, 36),
    Column("N° ANS", lambda c, r: r.ans_number, 14),
    Column("Logiciel", lambda c, r: r.software, 30),
    Column("Agent en charge", lambda c, r: c.holder(r.holder_id), 24, staff_only=True),
    Column("Jours d'attente", lambda c, r: c.days_waiting(r.status_changed_at), 10),
)


def columns(staff: bool) -> tuple[Column, ...]:
    return tuple(column for column in COLUMNS if staff or not column.staff_only)


def file_name(extension: str) -> str:
    """« demandes-2026-12-01.csv »: the day of the export, in Paris."""
    return f"demandes-{clock.local(clock.now()).date().isoformat()}.{extension}"


def records(select, staff: bool, runs=()) -> Iterator[list]:
    """The values of each row of ``select`` (a select of EnrolmentRequest, filtered and ordered),
    in its order, read run by run when ``runs`` are given (listing.paginate's ``runs``)."""
    context, shown = _Context(staff), columns(staff)
    rows = select.with_only_columns(*_SOURCE)
    for condition in runs or (true(),):
        result = db.session.execute(rows.where(condition).execution_options(yield_per=CHUNK))
        for values in result:
            row = Row(*values)
            yield [column.value(context, row) for column in shown]


# --- CSV ----------------------------------------------------------------------------------------

#: A cell that a spreadsheet would read as a formula (or a DDE command) begins with one of these.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return clock.local(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value  # shown as text, never evaluated
    return str(value)


def csv_chunks(select, staff: bool, runs=()) -> Iterator[bytes]:
    """The list as CSV for French spreadsheets: UTF-8 with a BOM, « ; » between cells, CRLF."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in columns(staff)])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for count, values in enumerate(records(select, staff, runs), start=1):
        writer.writerow([_csv_cell(value) for value in values])
        if count % CSV_ROWS == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


# --- Excel --------------------------------------------------------------------------------------

def xlsx_chunks(select, staff: bool, runs=()) -> Iterator[bytes]:
    """The list as an Excel workbook: a bold header row that stays in view, dates as dates."""
    handle, path = tempfile.mkstemp(prefix="segur-export-", suffix=".xlsx")
    os.close(handle)
    try:
        _write_workbook(path, select, staff, runs)
        with open(path, "rb") as written:
            while block := written.read(BLOCK):
                yield block
    finally:
        os.remove(path)


def _write_workbook(path: str, select, staff: bool, runs) -> None:
    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": os.path.dirname(path)})
    sheet = workbook.add_worksheet("Demandes")
    bold = workbook.add_format({"bold": True})
    moment = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm"})
    shown = columns(staff)
    for index, column in enumerate(shown):
        sheet.set_column(index, index, column.width)
        sheet.write_string(0, index, column.header, bold)
    sheet.freeze_panes(1, 0)
    line = 0
    for line, values in enumerate(records(select, staff, runs), start=1):
        for index, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, datetime):
                sheet.write_datetime(line, index, clock.local(value).replace(tzinfo=None), moment)
            elif isinstance(value, int):
                sheet.write_number(line, index, value)
            else:
                sheet.write_string(line, index, value)  # text stays text: never read as a formula
    sheet.autofilter(0, 0, line, len(shown) - 1)
    workbook.close()


WRITERS = {"csv": csv_chunks, "xlsx": xlsx_chunks}


def chunks(extension: str, select, staff: bool, runs=()) -> Iterator[bytes]:
    """The export of ``select`` in the format of ``extension`` (one of WRITERS), block by block."""
    return WRITERS[extension](select, staff, runs)
