"""Exports of the lists (« Exporter (CSV) », « Exporter (Excel) »): the agents' queue with its
filters and order, the supplier's list with its search; through HTTP with real accounts, on real
filed requests (tests/test_agent_queue.py's three filings)."""
import csv
import io
import tempfile
from datetime import datetime, timezone
from urllib.parse import urljoin

import openpyxl
import pytest

from app import clock
import test_agent_queue
from test_agent_queue import file_requests, numbers, person, queue, review, set_columns

quick_recap_pdf = test_agent_queue.quick_recap_pdf  # autouse: the recap PDF is tested elsewhere

HEADERS = ["Numéro", "Type", "Statut", "Déposée le", "Dernière modification", "Validée le", "SIRET",
           "Raison sociale", "N° ANS", "Logiciel", "Agent en charge", "Jours d'attente"]
SUPPLIER_HEADERS = [header for header in HEADERS if header != "Agent en charge"]
EXPORTED_ON = datetime(2026, 3, 20, 23, 30, tzinfo=timezone.utc)   # the 21st in Paris


@pytest.fixture
def three(portal):
    filed = file_requests(portal, 3)
    clock.freeze(EXPORTED_ON)
    return filed


@pytest.fixture
def alice(portal):
    return person(portal, "agent", "Alice", "Durand")


def export_link(page, label: str) -> str:
    """The address of the page's button ``label`` (« Exporter (CSV) »)."""
    [href] = [a.get("href") for a in page.doc.xpath("//a")
              if " ".join(a.text_content().split()).startswith(label)]
    return urljoin(page.url, href)


def download(browser, url: str, extension: str):
    response = browser.client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.headers["Content-Disposition"] == f'attachment; filename="demandes-2026-03-21.{extension}"'
    return response


def csv_rows(browser, url: str) -> list[list[str]]:
    response = download(browser, url, "csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")                     # the BOM: Excel reads it as UTF-8
    text = body[3:].decode("utf-8")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def sheet(browser, url: str):
    response = download(browser, url, "xlsx")
    assert response.headers["Content-Type"] == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(response.get_data())).active


def by_number(rows, headers) -> dict[str, dict]:
    return {row[0]: dict(zip(headers, row)) for row in rows[1:]}


def test_agent_exports_the_queue_with_its_filters_and_order(portal, three, alice):
    # ENR0003 was validated on 12/03 (Paris); Alice holds ENR0002.
    set_columns(portal, "ENR0003M0", status="validated",
                validated_at=datetime(2026, 3, 12, 15, 45, tzinfo=timezone.utc),
                status_changed_at=datetime(2026, 3, 12, 15, 45, tzinfo=timezone.utc))
    review(alice, three["ENR0002M0"]).form("claim-form").submit("Prendre en charge")

    page = queue(alice, status="toutes", type="INITIAL", sort="number", order="asc")
    assert numbers(page) == ["ENR0001M0", "ENR0002M0"]
    rows = csv_rows(alice, export_link(page, "Exporter (CSV)"))
    assert rows[0] == HEADERS
    assert [row[0] for row in rows[1:]] == ["ENR0001M0", "ENR0002M0"]   # the filtered rows, the page's order
    first, second = by_number(rows, HEADERS).values()
    assert first == {
        "Numéro": "ENR0001M0", "Type": "INITIAL", "Statut": "En cours",
        "Déposée le": "02/03/2026 10:00",                                   # 09:00 UTC, Paris time
        "Dernière modification": first["Dernière modification"], "Validée le": "",
        "SIRET": "34866299000038", "Raison sociale": first["Raison sociale"], "N° ANS": "JGe2DPI009",
        "Logiciel": "LOGICIEL HOP-DPI", "Agent en charge": "", "Jours d'attente": "19"}   # 02/03 → 21/03 in Paris
    assert first["Raison sociale"] and first["Dernière modification"].startswith("02/03/2026")
    assert second["Agent en charge"] == "Alice Durand" and second["Déposée le"] == "05/03/2026 15:30"

    # The order and the rows of each sort and filter are the page's.
    for args in ({}, {"status": "toutes"}, {"status": "toutes", "sort": "status", "order": "asc"},
                 {"status": "toutes", "sort": "status"}, {"status": "validated"},
                 {"status": "toutes", "deposited_from": "2026-03-10", "deposited_to": "2026-03-10"},
                 {"status": "toutes", "deposited_from": "05/03/2026"}):      # a wrong date: ignored, as on the page
        page = queue(alice, **args)
        assert [row[0] for row in csv_rows(alice, export_link(page, "Exporter (CSV)"))[1:]] == numbers(page), args
    validated = by_number(csv_rows(alice, export_link(queue(alice, status="validated"), "Exporter (CSV)")), HEADERS)
    assert validated["ENR0003M0"]["Statut"] == "Validée"
    assert validated["ENR0003M0"]["Validée le"] == "12/03/2026 16:45"
    assert validated["ENR0003M0"]["Jours d'attente"] == "9"
    assert validated["ENR0003M0"]["Type"] == "INITIAL ANTICIPE"

    # The same cells in Excel, dates as dates (Paris time), the header bold and kept in view.
    page = queue(alice, status="toutes", type="INITIAL", sort="number", order="asc")
    book = sheet(alice, export_link(page, "Exporter (Excel)"))
    assert [cell.value for cell in book[1]] == HEADERS
    assert all(cell.font.b for cell in book[1]) and book.freeze_panes == "A2"
    cells = {row[0].value: dict(zip(HEADERS, row)) for row in book.iter_rows(min_row=2)}
    assert list(cells) == ["ENR0001M0", "ENR0002M0"]
    filed = cells["ENR0001M0"]["Déposée le"]
    assert filed.is_date and filed.value == datetime(2026, 3, 2, 10, 0)
    assert filed.number_format == "dd/mm/yyyy hh:mm"
    assert cells["ENR0001M0"]["Jours d'attente"].value == 19
    assert cells["ENR0001M0"]["SIRET"].value == "34866299000038"        # text: its zeros kept
    assert cells["ENR0001M0"]["Validée le"].value is None
    assert cells["ENR0002M0"]["Agent en charge"].value == "Alice Durand"
    assert cells["ENR0001M0"]["Logiciel"].value == "LOGICIEL HOP-DPI"
    assert book.column_dimensions["H"].width > 30                        # Raison sociale


def test_the_buttons_say_the_format_and_carry_the_filters(portal, three, alice):
    page = queue(alice, status="toutes", siret="34866299000038")
    links = page.doc.xpath('//ul[contains(@class, "export-buttons")]//a')
    assert [" ".join(a.text_content().split()) for a in links] == [
        "Exporter (CSV) : 1 demande(s) de la liste, avec ses filtres et son tri, au format CSV",
        "Exporter (Excel) : 1 demande(s) de la liste, avec ses filtres et son tri, au format Excel"]
    assert all("status=toutes" in a.get("href") and "siret=34866299000038" in a.get("href") for a in links)
    assert [row[0] for row in csv_rows(alice, export_link(page, "Exporter (CSV)"))[1:]] == ["ENR0001M0"]


def test_supplier_exports_only_their_requests_with_the_lists_search(portal, three):
    supplier = person(portal, "supplier", "Sam", "Fournisseur", sirets=["34866299000038", "35600000049008"])
    page = supplier.get("/espace/demandes")
    rows = csv_rows(supplier, export_link(page, "Exporter (CSV)"))
    assert rows[0] == SUPPLIER_HEADERS                                   # who holds it is the agency's business
    assert [row[0] for row in rows[1:]] == ["ENR0003M0", "ENR0001M0"]  # never the other supplier's ENR0002
    assert by_number(rows, SUPPLIER_HEADERS)["ENR0003M0"]["Statut"] == "En cours"

    searched = supplier.get("/espace/demandes?type=INITIAL")
    assert [row[0] for row in csv_rows(supplier, export_link(searched, "Exporter (CSV)"))[1:]] == ["ENR0001M0"]
    book = sheet(supplier, export_link(searched, "Exporter (Excel)"))
    assert [cell.value for cell in book[1]] == SUPPLIER_HEADERS
    assert [row[0].value for row in book.iter_rows(min_row=2)] == ["ENR0001M0"]
    # A search for another supplier's request finds nothing.
    assert csv_rows(supplier, "/espace/demandes/export.csv?number=ENR0002") == [SUPPLIER_HEADERS]


def test_who_may_export(portal, three, alice, client):
    supplier = person(portal, "supplier", "Sam", "Fournisseur", sirets=["34866299000038"])
    for url in ("/gestion/demandes/export.csv", "/gestion/demandes/export.xlsx", "/espace/demandes/export.csv",
                "/espace/demandes/export.xlsx"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/connexion"), url
    for extension in ("csv", "xlsx"):
        assert supplier.client.get(f"/gestion/demandes/export.{extension}").status_code == 404
        assert alice.client.get(f"/espace/demandes/export.{extension}").status_code == 404
    assert alice.client.get("/gestion/demandes/export.pdf").status_code == 404


def test_a_cell_that_looks_like_a_formula_stays_text(portal, three, alice):
    set_columns(portal, "ENR0001M0", company_name='=HYPERLINK("http://example.com";"Cliquez")')
    set_columns(portal, "ENR0002M0", company_name="-2+3", ans_number="@SUM(A1)")
    rows = by_number(csv_rows(alice, "/gestion/demandes/export.csv?status=toutes"), HEADERS)
    assert rows["ENR0001M0"]["Raison sociale"] == '\'=HYPERLINK("http://example.com";"Cliquez")'
    assert rows["ENR0002M0"]["Raison sociale"] == "'-2+3" and rows["ENR0002M0"]["N° ANS"] == "'@SUM(A1)"
    assert rows["ENR0001M0"]["N° ANS"] == "JGe2DPI009"
    book = sheet(alice, "/gestion/demandes/export.xlsx?status=toutes")
    cells = {row[0].value: dict(zip(HEADERS, row)) for row in book.iter_rows(min_row=2)}
    company = cells["ENR0001M0"]["Raison sociale"]
    assert company.data_type == "s" and company.value == '=HYPERLINK("http://example.com";"Cliquez")'
    assert cells["ENR0002M0"]["Raison sociale"].data_type == "s"


def test_the_file_is_sent_as_it_is_written(portal, three, alice, monkeypatch, tmp_path):
    monkeypatch.setattr("app.services.exports.CHUNK", 1)
    monkeypatch.setattr("app.services.exports.CSV_ROWS", 1)
    monkeypatch.setattr("app.services.exports.BLOCK", 512)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    response = alice.client.get("/gestion/demandes/export.csv?status=toutes", buffered=False)
    assert response.is_streamed
    blocks = list(response.response)
    assert len(blocks) == 4 and blocks[0].startswith(b"\xef\xbb\xbf")  # the header, then row by row
    response.close()

    response = alice.client.get("/gestion/demandes/export.xlsx?status=toutes", buffered=False)
    blocks = list(response.response)
    response.close()
    assert len(blocks) > 1
    assert [row[0] for row in openpyxl.load_workbook(io.BytesIO(b"".join(blocks))).active.values][1:] == \
        ["ENR0003M0", "ENR0002M0", "ENR0001M0"]
    assert list(tmp_path.iterdir()) == []                              # the temporary file is removed
