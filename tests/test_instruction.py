"""Instruction by agents through the portal: each decision to each final state, the mails of each
transition over SMTP, the supporting-documents loop and the anticipated finalisation."""
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.models import AuditEntry, EnrolmentRequest
from files import jpeg_bytes, pdf_bytes, png_bytes
from instruction_steps import Agent, Holder
from journey import Journey, Supplier

VALIDATED_NON_DPI = "MSv2VIL014"   # see app/data/referencing_demo.csv
PENDING_DPI = "JGe2DPI015"
PENDING_NON_DPI = "BIo2LBM007"


def file_request(app, supplier: Supplier | None = None) -> tuple[str, Supplier]:
    supplier = supplier or Supplier()
    journey = Journey(app.test_client(), supplier)
    page = journey.complete()
    public_id = page.url.split("/")[2]
    return public_id, supplier


def stored(app, public_id) -> EnrolmentRequest:
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        db.session.expunge(request)
        return request


def subjects(mailbox, email):
    return [m["Subject"] for m in mailbox.to(email)]


def test_validation_opens_the_account_and_the_supplier_sees_its_request(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    page = agent.decide(public_id, "valider")
    assert page.status == 200, page.alerts()
    request = stored(portal, public_id)
    assert request.status == "Validée"
    mails = subjects(mailbox, supplier.holder_email)
    assert len(mails) == 4, mails  # acknowledgment, validation, identifiant, password link
    assert any(s.startswith("Acceptation de votre demande d'inscription ENR") for s in mails)
    holder = Holder(portal, mailbox, supplier.holder_email)
    detail = holder.detail(public_id)
    assert detail.status == 200 and "Statut : Validée" in detail.text
    with portal.app_context():
        audit = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [a.action for a in audit][-1] == "Décision : Valider"
