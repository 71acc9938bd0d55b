"""« Télécharger le récapitulatif (PDF) »: the recap generated at « Terminer » is offered to the
browser that filed the request (its confirmation page) and in the supplier's space; when it could
not be generated, the page says so instead of a dead link."""
from browser import Browser
from instruction_steps import Agent, Holder, file_request
from journey import Journey
from people import log_in, make_user
from test_incidents import break_handler

RECAP = "Télécharger le récapitulatif (PDF)"
MISSING = "Le récapitulatif (PDF) de votre demande n'est pas encore disponible"


def download_recap(page):
    """Click « Télécharger le récapitulatif (PDF) » on ``page``: the response, checked to be the PDF."""
    links = page.doc.xpath(f"//a[contains(., '{RECAP}')]/@href")
    assert links, f"no « {RECAP} » on {page.url}"
    response = page.browser.client.get(links[0])
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF-") and "attachment" in response.headers["Content-Disposition"]
    return response


def test_the_filer_downloads_the_recap_from_the_confirmation_page(portal):
    journey = Journey(portal.test_client())
    confirmation = journey.complete()
    number = confirmation.texts("//*[@id='request-number']")[0]
    recap = download_recap(confirmation)
    assert f"filename={number.rsplit('M', 1)[0]}_" in recap.headers["Content-Disposition"]  # the guide's name
    link = confirmation.doc.xpath(f"//a[contains(., '{RECAP}')]/@href")[0]
    assert Browser(portal.test_client()).get(link).status == 404  # nobody else's browser


def test_the_supplier_downloads_the_recap_from_their_space(portal, mailbox):
    public_id, supplier = file_request(portal)
    Agent(portal).decide(public_id, "valider")
    holder = Holder(portal, mailbox, supplier.holder_email)
    download_recap(holder.detail(public_id))


def test_a_recap_not_generated_is_said_rather_than_linked(portal, monkeypatch):
    break_handler(monkeypatch, "enrolment.recap_pdf")
    journey = Journey(portal.test_client())
    journey.start()
    journey.until("confirmation")
    journey.next("Terminer")  # held up by the incident
    public_id = journey.page.url.split("/")[2]
    confirmation = journey.browser.get(f"/demandes/{public_id}/confirmation")
    assert confirmation.status == 200 and MISSING in confirmation.content
    assert RECAP not in confirmation.content
    login, password = make_user(portal, "supplier", sirets=[journey.supplier.siret])
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    detail = browser.get(f"/espace/demandes/{public_id}")
    assert detail.status == 200 and MISSING in detail.content and RECAP not in detail.content
