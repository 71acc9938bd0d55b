"""The review grid (issue 15): the agent who holds a request judges each of its documents
« conforme » / « non conforme » with a reason; the verdicts go to the history, to the next agent, to
« Demander des pièces » (pre-filled) and to the supplier's deposit page; a replaced document is
kept as an earlier version, for the staff only."""
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from app import clock
from app.extensions import db
from app.models import Document, DocumentVerdict, EnrolmentRequest
from browser import Browser
from files import pdf_bytes
from instruction_steps import Agent, file_request
from journey import Supplier
from people import log_in, make_user


def _documents(portal, public_id) -> dict[str, SimpleNamespace]:
    """{file name: its id, kind, type label and name} for the request's documents as stored now."""
    with portal.app_context():
        rows = db.session.scalars(db.select(Document).join(Document.request)
                                  .where(EnrolmentRequest.public_id == public_id).order_by(Document.id)).all()
        return {row.original_name: SimpleNamespace(id=row.id, kind=row.kind, label=row.label,
                                                   original_name=row.original_name) for row in rows}


def with_kbis() -> Supplier:
    """A supplier with a new dénomination sociale: its request has a KBIS."""
    return Supplier(company_name="Santé Logiciels SAS")


def _verdicts(portal) -> list[tuple[int, str, str, str | None]]:
    with portal.app_context():
        return [(v.document_id, v.verdict, v.reason, v.reason_code)
                for v in db.session.scalars(db.select(DocumentVerdict).order_by(DocumentVerdict.id))]


def _row(page, name):
    """The grid's row of the file ``name``."""
    rows = page.doc.xpath(f"//table[@id='document-grid']//tr[td//a[normalize-space()='{name}']]")
    assert len(rows) == 1, f"no single row for {name} in the grid"
    return rows[0]


def _judge(page, document_id, **values):
    """Submit the grid's form of ``document_id`` with ``values`` (verdict, reason_code, reason)."""
    form = next(f for f in (page.form(i) for i in range(len(page.doc.forms)))
                if f.element.get("action", "").endswith(f"/pieces/{document_id}/avis"))
    return form.fill(**{f"piece-{document_id}-{name}": value for name, value in values.items()}).submit()


def _text(element) -> str:
    return " ".join(element.text_content().split())


def test_verdicts_flow_from_the_grid_to_the_next_agent_the_request_for_documents_and_the_supplier(portal, mailbox):
    clock.freeze(datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc))
    public_id, supplier = file_request(portal, with_kbis())
    docs = _documents(portal, public_id)
    kbis, rib, identity = docs["kbis.pdf"], docs["rib.pdf"], docs["cni-representant.jpg"]
    first = Agent(portal, first_name="Alice", last_name="Durand")
    page = first.claim(public_id)

    # A first verdict, then another one on the same document: both kept, the latest counts.
    page = _judge(page, kbis.id, verdict="conforme")
    assert page.status == 200 and "Avis enregistré" in " ".join(page.alerts())
    page = _judge(page, kbis.id, verdict="non_conforme", reason_code="expire")
    page = _judge(page, rib.id, verdict="conforme")
    page = _judge(page, identity.id, verdict="non_conforme", reason_code="autre", reason="Photo coupée, nom illisible")
    assert page.status == 200, page.errors()
    assert _verdicts(portal) == [(kbis.id, "conforme", "", None), (kbis.id, "non_conforme", "Document expiré", "expire"),
                                 (rib.id, "conforme", "", None),
                                 (identity.id, "non_conforme", "Photo coupée, nom illisible", None)]
    history = page.texts("//div[@id='history-table']//tbody/tr")
    assert any("Alice Durand" in line and "Pièce « KBIS » jugée non conforme" in line
               and "Document expiré (fichier « kbis.pdf »)" in line for line in history), history
    assert any("Pièce « KBIS » jugée conforme" in line for line in history)

    # The next agent, after a release, sees the verdicts with who and when, and no form (not holding).
    first.review(public_id).form_with("Libérer").submit("Libérer")
    clock.advance(timedelta(hours=1))
    second = Agent(portal, first_name="Bruno", last_name="Petit")
    page = second.review(public_id)
    assert "non conforme Document expiré Par Alice Durand, le 01/12/2026 à 10:30" in _text(_row(page, "kbis.pdf"))
    assert "conforme Par Alice Durand" in _text(_row(page, "rib.pdf"))
    assert "Photo coupée, nom illisible" in _text(_row(page, "cni-representant.jpg"))
    assert not page.doc.xpath("//form[contains(@action, '/avis')]")

    # « Demander des pièces » starts from the documents found non conforming, exactly.
    form = second.decision_form(public_id).form_with("Enregistrer la décision")
    assert sorted(form.values["requested_types"]) == sorted([kbis.kind, identity.kind])
    # (a browser drops the line break that opens a <textarea>: WTForms writes one)
    assert [form.values["message"][0].removeprefix("\n")] == [f"- KBIS « kbis.pdf » : Document expiré\n"
                                      f"- {identity.label} « cni-representant.jpg » : Photo coupée, nom illisible"]
    page = form.fill(decision="demander_pieces").submit("Enregistrer la décision")
    assert page.status == 200, page.errors()

    # The supplier's deposit page says what was refused and why, never by whom.
    login, password = make_user(portal, "supplier", sirets=[supplier.siret])
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    page = browser.get(f"/demandes/{public_id}/etape")
    refused = page.texts("//*[@id='refused-documents']//li")
    assert refused == ["KBIS « kbis.pdf » — Refusé : Document expiré",
                       f"{identity.label} « cni-representant.jpg » — Refusé : Photo coupée, nom illisible"]
    assert "Durand" not in page.text and "Petit" not in page.text

    # A new KBIS, and the identity card in two files (both sides) in the same deposit: each type's
    # current version; the first ones are « version 1 », for the staff only.
    for kind, name in (("kbis", "kbis-2026.pdf"), (identity.kind, "cni-recto.pdf"), (identity.kind, "cni-verso.pdf")):
        page = page.form().fill(document_type=kind).attach("document_file", name, pdf_bytes(name)).submit("Importer")
        assert page.status == 200, page.errors()
    page.form().submit("Confirmer")
    page = second.review(public_id)
    current, earlier = _row(page, "kbis-2026.pdf"), _row(page, "kbis.pdf")
    assert current.get("data-current") is not None and "Version actuelle" in _text(current)
    assert "version 2" in _text(current) and "Pas encore d'avis" in _text(current)
    assert earlier.get("data-current") is None and "version 1" in _text(earlier)
    for side in ("cni-recto.pdf", "cni-verso.pdf"):  # one version in two files: both current
        row = _row(page, side)
        assert row.get("data-current") is not None and "Version actuelle version 2" in _text(row), _text(row)
    assert _row(page, "cni-representant.jpg").get("data-current") is None
    assert second.browser.client.get(f"/demandes/{public_id}/documents/{kbis.id}").status_code == 200
    assert browser.client.get(f"/demandes/{public_id}/documents/{kbis.id}").status_code == 404
    sides = _documents(portal, public_id)
    for side in ("cni-recto.pdf", "cni-verso.pdf"):
        assert browser.client.get(f"/demandes/{public_id}/documents/{sides[side].id}").status_code == 200
    detail = browser.get(f"/espace/demandes/{public_id}")
    assert "kbis-2026.pdf" in detail.text and "kbis.pdf" not in detail.text.replace("kbis-2026.pdf", "")
    # The new files are not judged yet: the next request for documents starts from nothing refused.
    form = second.decision_form(public_id).form_with("Enregistrer la décision")
    assert form.values.get("requested_types", []) == []


def test_only_the_holder_judges_and_bad_input_is_refused_in_french(portal, mailbox):
    public_id, supplier = file_request(portal, with_kbis())
    kbis = _documents(portal, public_id)["kbis.pdf"]
    holder, other = Agent(portal), Agent(portal)
    page = holder.claim(public_id)

    page = _judge(page, kbis.id)  # nothing chosen
    assert page.status == 422
    assert page.errors()[f"piece-{kbis.id}-verdict"] == ["Veuillez choisir « Conforme » ou « Non conforme »."]
    assert "L'avis n'a pas été enregistré" in " ".join(page.alerts())
    page = _judge(page, kbis.id, verdict="non_conforme")
    assert page.status == 422
    assert page.errors()[f"piece-{kbis.id}-reason_code"] == ["Veuillez choisir le motif de non-conformité."]
    page = _judge(page, kbis.id, verdict="non_conforme", reason_code="autre", reason="  ")
    assert page.status == 422
    assert page.errors()[f"piece-{kbis.id}-reason"] == ["Veuillez préciser le motif de non-conformité."]
    # What was typed is kept in the form shown again.
    form = next(f for f in (page.form(i) for i in range(len(page.doc.forms)))
                if f.element.get("action", "").endswith(f"/pieces/{kbis.id}/avis"))
    assert form.values[f"piece-{kbis.id}-verdict"] == ["non_conforme"]
    assert form.values[f"piece-{kbis.id}-reason_code"] == ["autre"]

    token = page.doc.xpath("//input[@name='csrf_token']/@value")[0]
    data = {"csrf_token": token, f"piece-{kbis.id}-verdict": "conforme"}
    page = holder.browser.post(f"/gestion/demandes/{public_id}/pieces/999999/avis", {k: [v] for k, v in data.items()})
    assert "Cette pièce ne fait pas partie de la demande" in " ".join(page.alerts())

    other_page = other.review(public_id)
    other_token = other_page.doc.xpath("//input[@name='csrf_token']/@value")[0]
    response = other.browser.client.post(f"/gestion/demandes/{public_id}/pieces/{kbis.id}/avis",
                                         data={**data, "csrf_token": other_token})
    assert response.status_code == 403 and "peut juger ses pièces" in response.get_data(as_text=True)

    login, password = make_user(portal, "supplier", sirets=[supplier.siret])
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    [supplier_token] = browser.get("/espace/demandes").doc.xpath("//input[@name='csrf_token']/@value")[:1]
    response = browser.client.post(f"/gestion/demandes/{public_id}/pieces/{kbis.id}/avis",
                                   data={**data, "csrf_token": supplier_token})
    assert response.status_code == 404  # no such page for a supplier
    assert _verdicts(portal) == []
