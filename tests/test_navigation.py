"""Moving through the steps: back keeps everything, quit leaves nothing, drafts expire, a stale
form is refused clearly, look-ups that find nothing say so."""
from datetime import timedelta
from pathlib import Path

from app import clock
from app.access import MAX_DRAFTS
from app.extensions import db
from app.models import Document, EnrolmentRequest, WorkflowInstance
from browser import Browser
from journey import Journey, Supplier


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(model))


def stored_files(app) -> list:
    return [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]


def value(page, name):
    return page.doc.xpath(f'string(//*[@name="{name}"]/@value)')


def checked(page, name):
    return page.doc.xpath(f'string(//input[@name="{name}"][@checked]/@value)')


def test_back_keeps_what_was_entered_on_every_page(portal, client):
    journey = Journey(client, Supplier(legal_representative="non", quality="employe"))
    journey.start()
    journey.until("bank_details")
    # Type on the bank page, then go back without submitting it.
    form = journey.page.form().fill(iban="FR76 3000 4000 0100 0123 4567 830", account_holder="TITULAIRE")
    page = journey.page = form.submit("Etape précédente")
    assert journey.form_key == "applicant"
    assert value(page, "trade_name") == "BIS SANTE"
    assert value(page, "rep_email") == "representant.legal@fournisseur-sante.fr"
    assert value(page, "rep_email_confirmation") == "representant.legal@fournisseur-sante.fr"
    assert checked(page, "is_legal_representative") == "non"
    assert checked(page, "depositary_quality") == "employe"
    assert value(page, "dep_last_name") == "DEPOT"
    assert "Fichier déposé : cni-representant.jpg" in page.content
    assert "Fichier déposé : mandat-delegation.pdf" in page.content
    # Forward again: the applicant page needs no new upload, the bank page kept what was typed.
    page = journey.page = page.form().submit("Etape suivante")
    assert journey.form_key == "bank_details", page.errors()
    assert value(page, "iban") == "FR76 3000 4000 0100 0123 4567 830"
    assert value(page, "account_holder") == "TITULAIRE"
    # Back twice more, to step 1: the certificate and the HDS answer are still there.
    journey.back()
    journey.back()
    assert journey.form_key == "siret_search" and value(journey.page, "siret") == "34866299000038"
    page = journey.back()
    assert journey.form_key == "referencing_dpi"
    assert checked(page, "hosts_health_data") == "oui"
    assert "Fichier déposé : certificat-referencement.pdf" in page.content
    # And the request still ends normally, each document once.
    journey.complete()
    with portal.app_context():
        kinds = [d.kind for d in db.session.scalars(db.select(Document))]
    assert sorted(kinds) == sorted(["referencing_certificate", "hds_certificate", "representative_id",
                                    "depositary_id", "signature_mandate", "rib", "recap_pdf"])


def test_reinitialiser_returns_to_the_ans_number(portal, client):
    journey = Journey(client)
    journey.start()
    journey.next()
    assert journey.form_key == "referencing_dpi"
    journey.page = journey.page.form("step-back").submit()
    assert journey.form_key == "referencing_search"
    assert value(journey.page, "ans_number") == "JGe2DPI009"
    journey.supplier.ans_number = "MSv2VIL014"
    journey.next()
    assert journey.form_key == "referencing_certificate"
    assert "MEDISOFT CABINET" in journey.page.content


def test_quit_leaves_nothing_behind(portal, client):
    journey = Journey(client)
    journey.start()
    journey.until("bank_details")
    assert count(portal, Document) == 3 and len(stored_files(portal)) == 3
    page = journey.page.follow("Quitter sans enregistrer")
    assert page.h1 == "Quitter sans enregistrer ?"
    page = page.form().submit("Quitter sans enregistrer")
    assert page.h1 == "Portail SEGUR Numérique"
    assert "Votre demande d'enrôlement a été abandonnée" in " ".join(page.alerts())
    assert count(portal, EnrolmentRequest) == count(portal, WorkflowInstance) == count(portal, Document) == 0
    assert stored_files(portal) == []
    # The abandoned request cannot be reached any more.
    assert client.get(journey.page.url).status_code == 404


def test_expired_drafts_are_purged_by_the_worker(portal, client):
    old = Journey(client)
    old.start()
    old.until("applicant")
    clock.advance(timedelta(hours=portal.config["DRAFT_MAX_AGE_HOURS"] - 1))
    recent = Journey(portal.test_client())
    recent.start()
    submitted = Journey(portal.test_client())
    submitted.complete()
    clock.advance(timedelta(hours=2))
    result = portal.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "drafts : 1" in result.output
    with portal.app_context():
        left = {r.public_id for r in db.session.scalars(db.select(EnrolmentRequest))}
        owners = {d.request.public_id for d in db.session.scalars(db.select(Document))}
    assert left == {recent.page.url.split("/")[2], submitted.page.url.split("/")[2]}
    assert owners <= left
    assert count(portal, WorkflowInstance) == 2
    assert client.get(old.page.url).status_code == 404
    assert len(stored_files(portal)) == count(portal, Document)


def test_unknown_ans_number_says_to_contact_the_assistance(portal, client):
    journey = Journey(client, Supplier(ans_number="XXe2ZZZ999"))
    journey.start()
    page = journey.next()
    assert journey.form_key == "referencing_search"
    assert "Le numéro « XXe2ZZZ999 » n'est pas connu de l'ASP" in page.content
    assert page.doc.xpath('//a[contains(., "contactez l\'assistance")]/@href') == [portal.config["ASSISTANCE_URL"]]
    assert value(page, "ans_number") == "XXe2ZZZ999"
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest))
        assert (request.ans_number, request.status, request.number) == (None, "draft", None)
    # Correcting the number continues normally.
    journey.supplier.ans_number = "JGe2DPI009"
    journey.next()
    assert journey.form_key == "referencing_dpi"


def test_unknown_siret_and_unavailable_directory(portal, client):
    journey = Journey(client, Supplier(siret="73282932000074"))
    journey.start()
    journey.until("siret_search")
    page = journey.next()
    assert journey.form_key == "siret_search"
    assert "Aucun établissement ne correspond au numéro SIRET « 73282932000074 »" in page.content
    # The public API is down: a clear message, the input kept, and retrying works once it is back.
    portal.config.update(COMPANY_DIRECTORY="api", COMPANY_API_URL="http://127.0.0.1:9", COMPANY_API_TIMEOUT=0.5)
    journey.supplier.siret = "34866299000038"
    page = journey.next()
    assert journey.form_key == "siret_search"
    assert "La recherche des entreprises ne répond pas pour le moment" in page.content
    assert value(page, "siret") == "34866299000038"
    portal.config["COMPANY_DIRECTORY"] = "csv"
    journey.next()
    assert journey.form_key == "applicant"
    assert value(journey.page, "company_name") == "BEAUJOLAIS INFORMATIQUE SANTE"


def test_a_stale_form_gets_a_409_and_the_current_step(portal, client):
    journey = Journey(client)
    journey.start()
    journey.until("siret_search")
    stale = journey.fill()              # the form as a second tab shows it
    journey.next()                      # the first tab moves on
    assert journey.form_key == "applicant"
    page = journey.page = stale.submit("Rechercher")
    assert page.status == 409
    assert "Cette étape a déjà été enregistrée" in page.content
    assert journey.form_key == "applicant"


def test_steps_are_not_reachable_without_the_draft_session(portal, client):
    journey = Journey(client)
    journey.start()
    other = Browser(portal.test_client())
    assert other.get(journey.page.url).status == 404
    assert portal.test_client().post(journey.page.url, data={}).status_code in (400, 404)


def test_deposited_files_are_downloadable_by_their_owner_only(portal, client):
    journey = Journey(client)
    journey.start()
    journey.until("siret_search")
    page = journey.back()
    [link] = page.doc.xpath('//a[text()="certificat-referencement.pdf"]/@href')
    response = client.get(link)
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.data.startswith(b"%PDF-")
    # Someone else, or the owner asking for another request's document: nothing.
    assert portal.test_client().get(link).status_code == 404
    Journey(client).start()     # another tab of the same browser: the first request stays reachable
    assert client.get(link).status_code == 200
    for _ in range(MAX_DRAFTS - 1):  # the browser keeps the last MAX_DRAFTS requests it started
        Journey(client).start()
    assert client.get(link).status_code == 404
