"""« Déposer des pièces jointes » with only the mail received: an account holder asked for documents
before any validation has no account yet, so the mail carries a personal deposit link to that
request alone; it works until the deposit is finished, the deadline passes or a new request for
documents replaces it. A holder who can log in gets the usual wording."""
from datetime import timedelta

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest
from browser import Browser
from files import pdf_bytes
from instruction_steps import Agent, file_request, link_in
from journey import Supplier
from people import log_in, make_user

AWAITING = "awaiting_documents"


def status_of(app, public_id) -> str:
    with app.app_context():
        return db.session.scalar(db.select(EnrolmentRequest.status).where(EnrolmentRequest.public_id == public_id))


def ask_documents(agent, public_id, message="Merci de fournir un KBIS de moins de trois mois."):
    page = agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message=message)
    assert page.status == 200, (page.status, page.errors())


def request_mail(mailbox, email):
    """The latest « Demande de pièces justificatives complémentaires » mail to ``email``."""
    mails = [m for m in mailbox.to(email) if m["Subject"].startswith("Demande de pièces")]
    assert mails, [m["Subject"] for m in mailbox.to(email)]
    return mails[-1]


def deposit_link(mailbox, email) -> str:
    return link_in(mailbox.text(request_mail(mailbox, email)), "/depot/")


def deposit(browser, link, name="kbis.pdf"):
    """Open the mail's link, import a KBIS and « Terminer mon dépôt »; returns the last page."""
    page = browser.get(link)
    assert page.status == 200 and page.doc.xpath("//form[@data-form-key='supporting_documents']"), \
        (page.status, page.content[:300])
    page = page.form().fill(document_type="kbis").attach("document_file", name, pdf_bytes("KBIS")).submit("Importer")
    assert page.status == 200 and f"« {name} » a bien été importé" in " ".join(page.alerts()), page.alerts()
    return page.form().submit("Confirmer")


def refused(page, reason):
    assert page.status == 410 and page.h1 == "Lien de dépôt non valide", (page.status, page.h1)
    assert reason in page.content, page.content


def test_a_holder_without_account_deposits_with_the_mail_link_once(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    ask_documents(agent, public_id)
    mail = request_mail(mailbox, supplier.holder_email)
    text = mailbox.text(mail)
    assert "ouvrez votre lien personnel de dépôt" in text and "connectez-vous" not in text
    link = link_in(text, "/depot/")
    assert link in mailbox.html(mail) and "ne le transmettez pas" in text

    browser = Browser(portal.test_client())  # nothing but the mail: no account, another browser
    page = deposit(browser, link)
    assert page.status == 200 and page.h1 == "Dépôt terminé", (page.status, page.h1, page.alerts())
    assert "transmises au gestionnaire" in page.content
    assert status_of(portal, public_id) == "in_progress"
    assert "kbis.pdf" in agent.review(public_id).text

    # Reused after « Terminer mon dépôt »: in the same browser or any other, and the session is closed.
    refused(browser.get(link), "Ce lien a déjà servi")
    refused(Browser(portal.test_client()).get(link), "Ce lien a déjà servi")
    assert browser.get(f"/demandes/{public_id}/etape").status == 404


def test_each_request_for_documents_sends_a_new_link_and_the_old_one_stops(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    ask_documents(agent, public_id)
    first = deposit_link(mailbox, supplier.holder_email)
    browser = Browser(portal.test_client())
    # The deposit finished without reaching the « Dépôt terminé » page (tab closed): the link is spent anyway.
    page = browser.get(first).form().fill(document_type="kbis").attach(
        "document_file", "kbis.pdf", pdf_bytes("KBIS")).submit("Importer")
    page.form().submit("Confirmer", follow=False)
    assert status_of(portal, public_id) == "in_progress"
    refused(Browser(portal.test_client()).get(first), "Ce lien a déjà servi")

    ask_documents(agent, public_id, message="Le KBIS est illisible : merci de le déposer de nouveau.")
    second = deposit_link(mailbox, supplier.holder_email)
    assert second != first
    refused(Browser(portal.test_client()).get(first), "remplacé par un lien plus récent")
    assert browser.get(f"/demandes/{public_id}/etape").status == 404  # the first link's session is over
    page = deposit(Browser(portal.test_client()), second, "kbis-lisible.pdf")
    assert page.h1 == "Dépôt terminé" and status_of(portal, public_id) == "in_progress"


def test_the_link_opens_that_request_only(portal, mailbox):
    public_id, supplier = file_request(portal)
    other, _ = file_request(portal, Supplier(ans_number="MSv2VIL014", siret="81245367800011"))
    agent = Agent(portal)
    ask_documents(agent, other)
    ask_documents(agent, public_id)  # both holders are the same person: this mail comes last
    browser = Browser(portal.test_client())
    assert browser.get(deposit_link(mailbox, supplier.holder_email)).status == 200
    for path in ("etape", "confirmation", "diagramme"):
        assert browser.get(f"/demandes/{other}/{path}").status == 404, path
    assert browser.get("/espace/demandes", follow=False).status == 302  # no supplier space either
    # A link of an unknown or altered token.
    refused(browser.get("/depot/pas-un-vrai-jeton"), "Ce lien de dépôt n'est pas reconnu")
    refused(browser.get(deposit_link(mailbox, supplier.holder_email) + "x"), "n'est pas reconnu")


def test_the_link_expires_after_its_deadline(portal, mailbox):
    public_id, supplier = file_request(portal)
    start = clock.now()
    clock.freeze(start)
    ask_documents(Agent(portal), public_id)
    link = deposit_link(mailbox, supplier.holder_email)
    assert "valable jusqu'au " + clock.datetime_fr(start + timedelta(days=30)) in \
        mailbox.text(request_mail(mailbox, supplier.holder_email))
    browser = Browser(portal.test_client())
    clock.freeze(start + timedelta(days=29, hours=23))
    assert browser.get(link).status == 200
    clock.freeze(start + timedelta(days=30, minutes=1))
    refused(Browser(portal.test_client()).get(link), "Ce lien de dépôt a expiré le")
    assert browser.get(f"/demandes/{public_id}/etape").status == 404  # the session opened before, too
    assert status_of(portal, public_id) == AWAITING


def test_a_holder_who_can_log_in_gets_the_usual_wording(portal, mailbox):
    public_id, supplier = file_request(portal)
    login, password = make_user(portal, "supplier", email=supplier.holder_email, sirets=[supplier.siret])
    ask_documents(Agent(portal), public_id)
    text = mailbox.text(request_mail(mailbox, supplier.holder_email))
    assert "/depot/" not in text and "connectez-vous au portail" in text
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    page = browser.get(f"/espace/demandes/{public_id}").follow("Déposer des pièces jointes")
    assert page.status == 200 and page.doc.xpath("//form[@data-form-key='supporting_documents']")


def test_a_holder_whose_account_cannot_see_the_siret_gets_the_link(portal, mailbox):
    public_id, supplier = file_request(portal)
    make_user(portal, "supplier", email=supplier.holder_email, sirets=["81245367800011"])  # another company's
    ask_documents(Agent(portal), public_id)
    text = mailbox.text(request_mail(mailbox, supplier.holder_email))
    assert "/depot/" in text and "connectez-vous au portail" not in text


def test_the_reminder_carries_a_new_link_and_the_deposit_page_leads_back_without_an_account(portal, mailbox):
    from app.services import timers
    from app.worker import drain
    public_id, supplier = file_request(portal)
    ask_documents(Agent(portal), public_id)
    first = deposit_link(mailbox, supplier.holder_email)
    browser = Browser(portal.test_client())
    page = browser.get(first)
    back = page.doc.xpath("//a[normalize-space()='Retour']/@href")
    assert back == [f"/demandes/{public_id}/confirmation"], back  # not the supplier space: no account to log in
    assert browser.get(back[0]).status == 200

    clock.freeze(clock.now() + timedelta(days=15, minutes=1))  # the reminder timer falls due
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1
    reminders = [m for m in mailbox.to(supplier.holder_email) if m["Subject"].startswith("Relance")]
    assert len(reminders) == 1
    text = mailbox.text(reminders[0])
    assert "connectez-vous" not in text and "remplace celui du courriel précédent" in text
    second = link_in(text, "/depot/")
    assert second != first
    refused(Browser(portal.test_client()).get(first), "a été remplacé")
    page = deposit(Browser(portal.test_client()), second)
    assert page.status == 200 and page.h1 == "Dépôt terminé", (page.status, page.h1, page.alerts())
