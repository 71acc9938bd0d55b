"""Instruction by agents through the portal: each decision to each final state, the mails of each
transition over SMTP, the supporting-documents loop and the anticipated finalisation."""
from datetime import timedelta

import pytest

from app import clock
from app.extensions import db
from app.models import AuditEntry, EnrolmentRequest
from app.worker import drain
from files import jpeg_bytes, pdf_bytes
from instruction_steps import PENDING_DPI, PENDING_NON_DPI, Agent, Holder, file_request
from journey import Supplier
from rows import stored


def subjects(mailbox, email):
    return [m["Subject"] for m in mailbox.to(email)]


def test_validation_opens_the_account_and_the_supplier_sees_its_request(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    page = agent.decide(public_id, "valider")
    assert page.status == 200, page.alerts()
    request = stored(portal, public_id)
    assert request.status == "validated"
    mails = subjects(mailbox, supplier.holder_email)
    assert len(mails) == 4, mails  # acknowledgment, validation, identifiant, password link
    assert any(s.startswith("Acceptation de votre demande d'inscription ENR") for s in mails)
    holder = Holder(portal, mailbox, supplier.holder_email)
    detail = holder.detail(public_id)
    assert detail.status == 200 and "Statut : Validée" in detail.content
    with portal.app_context():
        audit = db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [a.action for a in audit][-1] == "Décision : Valider"


def test_rejection_needs_a_reason_and_mails_it(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    page = agent.decide(public_id, "rejeter")
    assert page.status == 422 and "Veuillez indiquer le motif du rejet" in " ".join(page.errors().get("reason", []))
    page = agent.decide(public_id, "rejeter", reason="Le RIB ne correspond pas au titulaire indiqué.")
    assert stored(portal, public_id).status == "rejected"
    rejection = next(m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Rejet"))
    assert "Le RIB ne correspond pas au titulaire indiqué." in mailbox.text(rejection)
    assert "nouvelle demande" in mailbox.text(rejection)
    assert len(mailbox.to(supplier.holder_email)) == 2  # no account for a rejected request
    page = agent.review(public_id)
    assert "Le RIB ne correspond pas au titulaire indiqué." in page.content  # in the history


def test_partial_validation_is_offered_only_for_an_anticipated_request(portal, mailbox):
    public_id, _ = file_request(portal)
    form = Agent(portal).decision_form(public_id).form_with("Enregistrer la décision")
    values = form.element.xpath(".//input[@name='decision']/@value")
    assert values == ["valider", "rejeter", "demander_pieces"]
    anticipated, _ = file_request(portal, Supplier(ans_number=PENDING_DPI))
    form = Agent(portal).decision_form(anticipated).form_with("Enregistrer la décision")
    assert "valider_partiellement" in form.element.xpath(".//input[@name='decision']/@value")


def test_an_agent_must_hold_the_request_to_decide(portal, mailbox):
    public_id, _ = file_request(portal)
    first, second = Agent(portal), Agent(portal)
    first.claim(public_id)
    page = second.browser.get(f"/demandes/{public_id}/etape")  # back on the request's page, told why
    assert page.url.endswith(f"/gestion/demandes/{public_id}")
    assert "Prenez d'abord la demande en charge" in " ".join(page.alerts())
    token = page.doc.xpath("//input[@name='csrf_token']/@value")[0]
    response = second.browser.client.post(f"/demandes/{public_id}/etape",
                                          data={"csrf_token": token, "decision": "valider"})
    assert response.status_code == 403 and "la demande en charge" in response.get_data(as_text=True)
    page = first.decide(public_id, "valider")
    assert stored(portal, public_id).status == "validated"


def _request_documents(agent, public_id, *types, message="Merci de fournir ces pièces."):
    page = agent.decide(public_id, "demander_pieces", requested_types=list(types), message=message)
    assert page.status == 200, (page.status, page.errors())
    return page


def test_the_supporting_documents_loop_runs_three_times(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    page = agent.decide(public_id, "demander_pieces")
    assert page.status == 422
    assert set(page.errors()) >= {"requested_types", "message"}
    # A supplier account exists only after a validation: the agency opens it for the loop's tests.
    from people import make_user
    login, password = make_user(portal, "supplier", sirets=[supplier.siret])
    from browser import Browser
    from people import log_in
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    for round_number in range(1, 4):
        _request_documents(agent, public_id, "kbis", "rib", message=f"Tour {round_number} : KBIS et RIB récents.")
        assert stored(portal, public_id).status == "awaiting_documents"
        request_mail = [m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Demande de pièces")]
        assert len(request_mail) == round_number
        text = mailbox.text(request_mail[-1])
        assert "- KBIS" in text and "- RIB" in text and f"Tour {round_number} : KBIS et RIB récents." in text
        listing = browser.get("/espace/demandes")
        assert "Déposer des pièces jointes" in listing.text
        page = browser.get(f"/demandes/{public_id}/etape")
        assert page.status == 200 and page.doc.xpath("//form[@data-form-key='supporting_documents']")
        # Finishing without any file is refused; a wrong file is refused with its reason.
        page = page.form().submit("Confirmer")
        assert page.status == 422 and "Importez au moins une pièce" in page.text
        page = page.form().fill(document_type="kbis").attach("document_file", "kbis.exe", b"MZ\x90\x00").submit("Importer")
        assert page.status == 422 and "kbis.exe" in " ".join(page.errors().get("document_file", []))
        page = page.form().fill(document_type="kbis").attach(
            "document_file", f"kbis-{round_number}.pdf", pdf_bytes("KBIS")).submit("Importer")
        assert page.status == 200 and f"« kbis-{round_number}.pdf » a bien été importé" in " ".join(page.alerts())
        assert f"kbis-{round_number}.pdf" in " ".join(page.texts("//*[@id='imported']//a"))
        page = page.form().submit("Confirmer")
        assert stored(portal, public_id).status == "in_progress"
        review = agent.review(public_id)
        assert f"kbis-{round_number}.pdf" in review.text
    agent.decide(public_id, "valider")
    assert stored(portal, public_id).status == "validated"


def test_no_documents_to_add_sends_the_request_back_to_the_agent(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    _request_documents(agent, public_id, "kbis")
    from browser import Browser
    from people import log_in, make_user
    login, password = make_user(portal, "supplier", sirets=[supplier.siret])
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    page = browser.get(f"/demandes/{public_id}/etape").form().submit("Je ne souhaite pas ajouter de pièces justificatives")
    assert page.status == 200 and "Statut : En cours" in page.content  # back on the request's page
    assert stored(portal, public_id).status == "in_progress"
    assert agent.decision_form(public_id).status == 200


def test_the_reminder_fires_when_the_deposit_is_late(portal, mailbox):
    from app.services import timers
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    start = clock.now()
    clock.freeze(start)
    _request_documents(agent, public_id, "rib")
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 0
    clock.freeze(start + timedelta(days=14, hours=23))
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 0
    assert stored(portal, public_id).overdue_since is None
    clock.freeze(start + timedelta(days=15, minutes=1))
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1
    request = stored(portal, public_id)
    assert request.overdue_since is not None and request.status == "awaiting_documents"
    reminder = [m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Relance")]
    assert len(reminder) == 1 and "- RIB" in mailbox.text(reminder[0])
    queue = agent.browser.get("/gestion/demandes?status=toutes")
    assert "En retard" in queue.content
    with portal.app_context():  # the timer fires once
        assert sum(drain(timers.fire_next)) == 0


@pytest.mark.parametrize("ans_number, hosts", [(PENDING_DPI, "oui"), (PENDING_DPI, "non"), (PENDING_NON_DPI, None)],
                         ids=["DPI with HDS certificate", "DPI with attestation", "not DPI"])
def test_anticipated_enrolment_is_finalised_with_its_certificates(portal, mailbox, ans_number, hosts):
    public_id, supplier = file_request(portal, Supplier(ans_number=ans_number))
    assert stored(portal, public_id).enrolment_type == "INITIAL ANTICIPE"
    agent = Agent(portal)
    agent.decide(public_id, "valider_partiellement")
    assert stored(portal, public_id).status == "partially_validated"
    partial = next(m for m in mailbox.to(supplier.holder_email) if "« anticipé »" in m["Subject"])
    text = mailbox.text(partial)
    assert "Votre certificat de référencement" in text
    assert ("hébergement de données de santé" in text) == (hosts is not None)

    holder = Holder(portal, mailbox, supplier.holder_email)
    listing = holder.browser.get("/espace/demandes")
    assert "Ajouter le certificat de référencement" in listing.content
    page = holder.task(public_id)
    assert page.doc.xpath("//form[@data-form-key='certificates_deposit']")
    form = page.form()
    assert ("final_hosts_health_data" in form.fields()) == (hosts is not None)
    page = form.submit("Confirmer")  # nothing deposited yet
    assert page.status == 422 and "doc_final_referencing_certificate" in page.errors()
    form = page.form().attach("doc_final_referencing_certificate", "certificat-ans.pdf", pdf_bytes("Certificat ANS"))
    if hosts == "oui":
        form.fill(final_hosts_health_data="oui").attach("doc_final_hds_certificate", "hds.pdf", pdf_bytes("HDS"))
    elif hosts == "non":
        form.fill(final_hosts_health_data="non").attach("doc_final_hds_attestation", "attestation.jpg", jpeg_bytes())
    page = form.submit("Confirmer")
    assert page.status == 200, page.errors()
    request = stored(portal, public_id)
    assert request.status == "certificates_to_validate"
    with portal.app_context():
        kinds = [d.kind for d in db.session.get(EnrolmentRequest, request.id).documents if d.state == "filed"]
    assert "referencing_certificate" in kinds
    assert ({"hds_certificate", "hds_attestation"} & set(kinds)) == (
        {"hds_certificate"} if hosts == "oui" else {"hds_attestation"} if hosts == "non" else set())

    agent.decide(public_id, "valider")
    assert stored(portal, public_id).status == "validated"
    validated = [m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Validation de vos certificats")]
    assert len(validated) == 1 and "« Validée »" in mailbox.text(validated[0])
    detail = holder.detail(public_id)
    assert "Statut : Validée" in detail.content and "certificat-ans.pdf" in detail.content


def test_certificates_can_be_rejected(portal, mailbox):
    public_id, supplier = file_request(portal, Supplier(ans_number=PENDING_NON_DPI))
    agent = Agent(portal)
    agent.decide(public_id, "valider_partiellement")
    holder = Holder(portal, mailbox, supplier.holder_email)
    holder.task(public_id).form().attach("doc_final_referencing_certificate", "certificat.pdf",
                                         pdf_bytes("Faux")).submit("Confirmer")
    page = agent.decision_form(public_id)
    assert "valider_partiellement" not in page.form_with("Enregistrer la décision").element.xpath(
        ".//input[@name='decision']/@value")
    agent.decide(public_id, "rejeter", reason="Le certificat ne correspond pas au numéro ANS.")
    assert stored(portal, public_id).status == "rejected"
    assert any(m["Subject"].startswith("Rejet") for m in mailbox.to(supplier.holder_email))


def test_two_tabs_deciding_at_once_record_one_decision_and_one_mail(portal, mailbox):
    import threading
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    agent.claim(public_id)
    sessions = [agent, Agent(portal, credentials=(agent.login, agent.password))]  # two browsers, one agent
    forms = [s.decision_form(public_id).form_with("Enregistrer la décision").fill(decision="valider")
             for s in sessions]
    barrier, results = threading.Barrier(2), []

    def decide(form):
        barrier.wait()
        results.append(form.submit("Enregistrer la décision", follow=False).status)

    threads = [threading.Thread(target=decide, args=(form,)) for form in forms]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [303, 409], results
    assert stored(portal, public_id).status == "validated"
    with portal.app_context():
        decisions = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action.like("Décision%"))).all()
    assert len(decisions) == 1
    validation = [m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Acceptation")]
    assert len(validation) == 1
