"""The initial enrolment, end to end through HTTP: every branch of the diagram ends with the right
type, status, documents, acknowledgment mail (received over SMTP) and PDF recap."""
import io
import re
from datetime import datetime, timezone

import pytest
from pypdf import PdfReader

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest
from app.services import documents
from journey import DEPOSITARY, REPRESENTATIVE, Journey, Supplier

SUBMITTED_AT = datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)   # 15:30 in Paris


@pytest.fixture(autouse=True)
def submission_date(app):
    clock.freeze(SUBMITTED_AT)


def only_request(app):
    with app.app_context():
        requests = db.session.scalars(db.select(EnrolmentRequest)).all()
        assert len(requests) == 1
        request = requests[0]
        return request, {d.kind: (d.original_name, d.state) for d in request.documents}, \
            documents.path_of(next(d for d in request.documents if d.kind == "recap_pdf")).read_bytes()


SCENARIOS = {
    "validated DPI, hosts health data, editor, legal representative, VAT 20 %": (
        Supplier(), "INITIAL",
        {"referencing_certificate", "hds_certificate", "representative_id", "rib"}),
    "validated DPI, no hosting, distributor, name changed, tiers prestataire, not VAT liable": (
        Supplier(hosts_health_data="non", siret="88412097300018", company_name="DISTRIMED SANTE",
                 legal_representative="non", quality="prestataire", vat_liable="non"), "INITIAL",
        {"referencing_certificate", "hds_attestation", "kbis", "editor_mandate", "representative_id",
         "depositary_id", "service_contract", "rib", "non_vat_proof"}),
    "validated non-DPI, same company other establishment, tiers employee, VAT 5.5 %": (
        Supplier(ans_number="MSv2VIL014", siret="81245367800029", legal_representative="non",
                 quality="employe", vat_rate="5.5"), "INITIAL",
        {"referencing_certificate", "representative_id", "depositary_id", "signature_mandate", "rib"}),
    "pending DPI (anticipated), La Poste distributor, legal representative, not VAT liable": (
        Supplier(ans_number="JGe2DPI015", siret="35600000049008", vat_liable="non"), "INITIAL ANTICIPE",
        {"editor_mandate", "representative_id", "rib", "non_vat_proof"}),
    "pending non-DPI (anticipated), editor with changed name, tiers employee, VAT 10 %": (
        Supplier(ans_number="BIo2LBM007", siret="43176520500015", company_name="BIOLAB SYSTEMES SAS",
                 legal_representative="non", quality="employe", vat_rate="10"), "INITIAL ANTICIPE",
        {"kbis", "representative_id", "depositary_id", "signature_mandate", "rib"}),
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_each_branch_ends_with_the_right_request(portal, client, mailbox, scenario):
    supplier, expected_type, expected_documents = SCENARIOS[scenario]
    journey = Journey(client, supplier)
    page = journey.complete()

    number = page.doc.xpath('string(//*[@id="request-number"])')
    assert number == "ENR0001M0"
    assert "Demande d'enrôlement enregistrée. Le numéro de votre demande est le ENR0001M0." in page.content

    request, filed, recap = only_request(portal)
    assert (request.number, request.status, request.enrolment_type) == ("ENR0001M0", "in_progress", expected_type)
    assert request.siret == supplier.siret and request.ans_number == supplier.ans_number
    assert request.submitted_at == SUBMITTED_AT
    assert request.holder_email == supplier.holder_email
    assert set(filed) == expected_documents | {"recap_pdf"}
    assert all(state == "filed" for _, state in filed.values())
    assert filed["recap_pdf"][0] == "ENR0001_20260305153000.pdf"

    # The acknowledgment mail of the guide, received over SMTP by the account holder only.
    received = mailbox.to(supplier.holder_email)
    assert len(received) == 1 and len(mailbox.messages) == 1
    text = mailbox.text(received[0])
    assert (f"Votre demande d'enrôlement dans le cadre du financement « numérique en santé pour le SIRET » "
            f"{supplier.siret} en date du 05/03/2026 a bien été réceptionnée par l'Agence.") in text
    assert "ENR0001M0" in received[0]["Subject"]

    # The PDF recap: the number, the type, and what was entered.
    pdf_text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(recap)).pages)
    assert "ENR0001M0" in pdf_text and expected_type in pdf_text
    assert supplier.trade_name in pdf_text


def test_acknowledgment_goes_to_the_depositary_for_a_tiers_declarant(portal, client, mailbox):
    Journey(client, Supplier(legal_representative="non")).complete()
    assert mailbox.to(DEPOSITARY["email"]) and not mailbox.to(REPRESENTATIVE["email"])
