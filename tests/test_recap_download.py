"""« Télécharger le récapitulatif (PDF) »: the recap is an asynchronous task of the diagrams, made by
the worker after « Terminer » (which answers at once with the request number and says the PDF is being
prepared); it is then offered to the browser that filed the request (its confirmation page) and in
the supplier's space; when it could not be generated, the page says so instead of a dead link, and
a retry from the incidents page makes it."""
from background import run_continuations
from browser import Browser
from instruction_steps import Agent, Holder, file_request
from journey import Journey
from people import log_in, make_user
from test_incidents import break_handler, incidents_of

RECAP = "Télécharger le récapitulatif (PDF)"
PREPARING = "Le récapitulatif PDF est en cours de préparation…"
MISSING = "Le récapitulatif (PDF) de votre demande n'est pas encore disponible"


def download_recap(page):
    """Click « Télécharger le récapitulatif (PDF) » on ``page``: the response, checked to be the PDF."""
    links = page.doc.xpath(f"//a[contains(., '{RECAP}')]/@href")
    assert links, f"no « {RECAP} » on {page.url}"
    response = page.browser.client.get(links[0])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and "attachment" in response.headers["Content-Disposition"]
    return response


def refresh(page):
    """Follow « Actualiser la page » (what recap.js does by itself)."""
    return page.browser.get(page.doc.xpath("//p[@id='recap']//a[contains(., 'Actualiser la page')]/@href")[0])


def test_terminer_answers_at_once_and_the_recap_follows_from_the_worker(portal, mailbox):
    journey = Journey(portal.test_client())
    confirmation = journey.complete(worker=False)
    number = confirmation.texts("//*[@id='request-number']")[0]
    assert number.startswith("ENR")
    # Not made inside « Terminer »: the page says it is being prepared, with a way to refresh.
    assert PREPARING in confirmation.content and RECAP not in confirmation.content
    assert confirmation.doc.xpath("//script[contains(@src, 'js/recap.js')]")
    assert refresh(confirmation).doc.xpath("//p[@id='recap']/@data-recap-pending")
    # The steps after the PDF wait for it too: the acknowledgement leaves once it is made.
    assert mailbox.to(journey.supplier.holder_email) == []
    # Meanwhile the request's pages show where it stands: the task the worker is to run.
    public_id = confirmation.url.split("/")[2]
    agent = Agent(portal)
    assert agent.review(public_id).status == 200
    [top] = agent.browser.client.get(f"/demandes/{public_id}/diagramme").get_json()["processes"]
    assert top["current"] == ["recap_pdf"]
    supplier = Browser(portal.test_client())
    log_in(supplier, *make_user(portal, "supplier", sirets=[journey.supplier.siret]))
    detail = supplier.get(f"/espace/demandes/{public_id}")
    assert detail.status == 200 and PREPARING in detail.content

    assert run_continuations(portal) == 1
    assert run_continuations(portal) == 0  # done once
    page = refresh(confirmation)
    assert PREPARING not in page.content and not page.doc.xpath("//script[contains(@src, 'js/recap.js')]")
    recap = download_recap(page)
    assert f"filename={number.rsplit('M', 1)[0]}_" in recap.headers["Content-Disposition"]  # the guide's name
    [acknowledgement] = mailbox.to(journey.supplier.holder_email)
    assert number in mailbox.text(acknowledgement)
    link = page.doc.xpath(f"//a[contains(., '{RECAP}')]/@href")[0]
    assert Browser(portal.test_client()).get(link).status == 404  # nobody else's browser


def test_the_supplier_downloads_the_recap_from_their_space(portal, mailbox):
    public_id, supplier = file_request(portal)
    Agent(portal).decide(public_id, "valider")
    holder = Holder(portal, mailbox, supplier.holder_email)
    download_recap(holder.detail(public_id))


def test_a_recap_not_generated_is_said_rather_than_linked_until_a_retry_makes_it(portal, mailbox, monkeypatch):
    break_handler(monkeypatch, "enrolment.recap_pdf")
    journey = Journey(portal.test_client())
    journey.complete(worker=False)
    public_id = journey.page.url.split("/")[2]
    assert run_continuations(portal) == 0  # the worker's try failed: an incident
    [incident] = incidents_of(portal, public_id)
    assert (incident.task_bpmn_id, incident.handler, incident.resolved_at) == ("recap_pdf", "enrolment.recap_pdf", None)
    assert run_continuations(portal) == 0  # not taken again: the request waits for the retry
    confirmation = journey.browser.get(f"/demandes/{public_id}/confirmation")
    assert confirmation.status == 200 and MISSING in confirmation.content
    assert RECAP not in confirmation.content and PREPARING not in confirmation.content
    login, password = make_user(portal, "supplier", sirets=[journey.supplier.siret])
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    detail = browser.get(f"/espace/demandes/{public_id}")
    assert detail.status == 200 and MISSING in detail.content and RECAP not in detail.content
    assert mailbox.to(journey.supplier.holder_email) == []  # the acknowledgement comes after the PDF

    # Fixed: « Relancer » on the incidents page makes the PDF at once, and the diagram goes on.
    monkeypatch.undo()
    admin = Agent(portal, "admin")
    page = admin.browser.get("/gestion/incidents").form_with("Relancer").submit("Relancer")
    assert "a repris" in " ".join(page.alerts())
    [incident] = incidents_of(portal, public_id)
    assert incident.resolved_at is not None
    download_recap(browser.get(f"/espace/demandes/{public_id}"))
    assert len(mailbox.to(journey.supplier.holder_email)) == 1
    assert run_continuations(portal) == 0
