"""The supplier's space through HTTP: « Accueil fournisseur », « Gérer mes demandes d'enrôlement »
(search, pagination, actions by status), the detail of a request with its documents and mails;
a supplier sees the requests of its account's SIRETs and nothing else."""
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode, urljoin

import pytest
from flask import render_template_string

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest
from app.services import enrolment as enrolments
from app.services import listing
from browser import Browser
from journey import Journey, Supplier
from people import log_in, make_user

SIRET_A = "34866299000038"     # the editor of JGe2DPI009 (Journey's default supplier)
SIRET_B = "88412097300018"     # a distributor of the same software
# The statuses of bpmn/package/statuses.json (codes) and what suppliers read.
IN_PROGRESS, PARTIALLY_VALIDATED, AWAITING_DOCUMENTS, CERTIFICATES_TO_VALIDATE, REJECTED, VALIDATED = GUIDE_STATUSES = [
    "in_progress", "partially_validated", "awaiting_documents", "certificates_to_validate", "rejected", "validated"]
LABELS = {IN_PROGRESS: "En cours", PARTIALLY_VALIDATED: "Validation partielle - En attente de certificat(s)",
          AWAITING_DOCUMENTS: "En attente de pièce(s) jointe(s) complémentaire(s)",
          CERTIFICATES_TO_VALIDATE: "Certificat(s) à valider", REJECTED: "Rejetée", VALIDATED: "Validée"}
FILED_AT = datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)
COLUMNS = ["Numéro demande", "Date de dépôt", "Statut", "Siret fournisseur", "Profil référencé",
           "Type d'enrôlement", "Actions"]


@pytest.fixture(autouse=True)
def filing_date(request):
    if "portal" in request.fixturenames:  # after the app fixture, which releases the clock
        request.getfixturevalue("portal")
        clock.freeze(FILED_AT)


# --- helpers ------------------------------------------------------------------------------------

def file_request(app, supplier: Supplier | None = None) -> tuple[str, Journey]:
    """An initial enrolment filed through the portal by an anonymous person (own browser)."""
    journey = Journey(app.test_client(), supplier)
    page = journey.complete()
    return page.doc.get_element_by_id("request-number").text_content().strip(), journey


def add_requests(app, count: int, siret: str, status: str = IN_PROGRESS, **values) -> list[str]:
    """``count`` submitted requests of ``siret`` written through the services, without the forms
    (a real workflow instance and number each; projections as the diagram sets them); each one
    submitted a minute after the previous. Enough for lists; their detail pages have no data."""
    numbers = []
    with app.test_request_context():
        for _ in range(count):
            enrolment = enrolments.start()
            db.session.flush()
            enrolments.allocate_number(enrolment)
            fields = {"siret": siret, "status": status, "enrolment_type": "INITIAL",
                      "ans_number": "JGe2DPI009", "profile": "Général, Stockage, Environnement",
                      "company_name": "BEAUJOLAIS INFORMATIQUE SANTE",
                      "submitted_at": clock.advance(timedelta(minutes=1))} | values
            for name, value in fields.items():
                setattr(enrolment, name, value)
            numbers.append(enrolment.number)
        db.session.commit()
    return numbers


def set_status(app, number: str, status: str, **values) -> None:
    with app.app_context():
        db.session.execute(db.update(EnrolmentRequest).where(EnrolmentRequest.number == number)
                           .values(status=status, **values))
        db.session.commit()


def public_id(app, number: str) -> str:
    with app.app_context():
        return db.session.scalar(db.select(EnrolmentRequest.public_id).where(EnrolmentRequest.number == number))


def logged_in(app, client, role="supplier", sirets=(SIRET_A,)) -> Browser:
    login, password = make_user(app, role, sirets=sirets if role == "supplier" else ())
    browser = Browser(client)
    log_in(browser, login, password)
    return browser


def rows(page, table="requests") -> list[dict]:
    """The rows of a table as {column header: cell text}."""
    headers = page.texts(f'//table[@id="{table}"]/thead//th')
    return [dict(zip(headers, (" ".join(td.text_content().split()) for td in tr.xpath("./td"))))
            for tr in page.doc.xpath(f'//table[@id="{table}"]/tbody/tr[not(contains(@class, "document-preview"))]')
            if len(tr.xpath("./td")) == len(headers)]


def links(element_or_page, xpath=".//a") -> dict[str, str]:
    """Visible link text → href."""
    root = element_or_page.doc if hasattr(element_or_page, "doc") else element_or_page
    result = {}
    for a in root.xpath(xpath):
        for hidden in a.xpath('.//*[contains(@class, "fr-sr-only")]'):
            hidden.drop_tree()
        result[" ".join(a.text_content().split())] = a.get("href")
    return result


def submit_get(form):
    """Submit a GET form as a browser does (tests/browser.py posts)."""
    assert form.element.get("method") == "get"
    query = urlencode([(name, value) for name, values in form.values.items() for value in values])
    return form.page.browser.get(urljoin(form.page.url, form.element.get("action")) + "?" + query)


def row_of(page, number) -> object:
    found = page.doc.xpath(f'//table[@id="requests"]/tbody/tr[@data-number="{number}"]')
    assert found, f"{number} not listed"
    return found[0]


# --- « Accueil fournisseur » ----------------------------------------------------------------------

def test_home_counts_the_account_requests_by_status_zeros_included(portal, client):
    add_requests(portal, 2, SIRET_A)
    add_requests(portal, 1, SIRET_A, status=VALIDATED)
    add_requests(portal, 4, SIRET_B)
    browser = logged_in(portal, client)

    page = browser.get("/espace")
    assert page.status == 200 and page.h1 == "Accueil fournisseur"
    counts = {row["Statut"]: row["Nombre de demandes"] for row in rows(page, "status-counts")}
    assert counts == {LABELS[IN_PROGRESS]: "2", LABELS[PARTIALLY_VALIDATED]: "0", LABELS[AWAITING_DOCUMENTS]: "0",
                      LABELS[CERTIFICATES_TO_VALIDATE]: "0", LABELS[REJECTED]: "0", LABELS[VALIDATED]: "1"}
    assert page.texts('//table[@id="status-counts"]/tfoot//td') == ["3"]
    assert links(page, "//main//a")["Gérer mes demandes d'enrôlement"] == "/espace/demandes"

    validated = browser.get(page.doc.xpath(f'//tr[@data-status="{VALIDATED}"]//a')[0].get("href"))
    assert [row["Statut"] for row in rows(validated)] == [LABELS[VALIDATED]]


# --- « Gérer mes demandes d'enrôlement » ------------------------------------------------------------

def test_list_shows_the_guide_columns_for_a_filed_request(portal, client):
    number, _ = file_request(portal)
    browser = logged_in(portal, client)

    page = browser.get("/espace").follow("Gérer mes demandes d'enrôlement")
    assert page.h1 == "Gérer mes demandes d'enrôlement"
    assert page.texts('//table[@id="requests"]/thead//th') == COLUMNS
    assert "Rechercher une demande d'enrôlement" in page.content
    assert page.texts("//table[@id='requests']/caption") == ["Liste des demandes d'enrôlement (1)"]
    [row] = rows(page)
    assert number == "ENR0001M0"
    assert row == {"Numéro demande": "ENR0001", "Date de dépôt": "05/03/2026", "Statut": LABELS[IN_PROGRESS],
                   "Siret fournisseur": SIRET_A, "Profil référencé": "Général, Stocka…",
                   "Type d'enrôlement": "INITIAL", "Actions": "Consulter la demande ENR0001"}
    assert row_of(page, number).xpath(".//span[@title]")[0].get("title") == "Général, Stockage"
    assert list(links(row_of(page, number))) == ["Consulter"]
    assert page.texts('//nav[contains(@class, "fr-pagination")]//a') == ["Précédent", "1", "Suivant"]


def test_list_pages_by_20_newest_first(portal, client):
    numbers = add_requests(portal, 25, SIRET_A)
    browser = logged_in(portal, client)

    def listed(page):
        return [row["Numéro demande"] for row in rows(page)]

    first = browser.get("/espace/demandes")
    assert listed(first) == [n[:-2] for n in reversed(numbers[5:])]
    assert first.texts("//table[@id='requests']/caption") == ["Liste des demandes d'enrôlement (25)"]
    assert first.texts('//nav[contains(@class, "fr-pagination")]//a') == ["Précédent", "1", "2", "Suivant"]
    assert first.texts('//nav[contains(@class, "fr-pagination")]//a[@aria-current="page"]') == ["1"]

    second = first.follow("Suivant")
    assert listed(second) == [n[:-2] for n in reversed(numbers[:5])]
    assert second.texts('//nav[contains(@class, "fr-pagination")]//a[@aria-current="page"]') == ["2"]
    assert listed(second.follow("Précédent")) == listed(first)
    assert listed(browser.get("/espace/demandes?page=99")) == listed(second)   # past the end: the last page
    for junk in ["0", "-3", "abc", ""]:
        assert listed(browser.get(f"/espace/demandes?page={junk}")) == listed(first)


def test_search_by_number_ans_number_status_and_type(portal, client):
    first, second = add_requests(portal, 2, SIRET_A)
    [anticipated] = add_requests(portal, 1, SIRET_A, status=PARTIALLY_VALIDATED, ans_number="JGe2DPI015",
                                 enrolment_type="INITIAL ANTICIPE")
    [other] = add_requests(portal, 1, SIRET_B)
    browser = logged_in(portal, client)

    def search(**criteria):
        page = submit_get(browser.get("/espace/demandes").form("search").fill(**criteria))
        assert page.status == 200
        return page, {row["Numéro demande"] for row in rows(page)}

    assert search()[1] == {first[:-2], second[:-2], anticipated[:-2]}
    assert search(number=first[:-2].lower())[1] == {first[:-2]}
    assert search(number=first)[1] == {first[:-2]}
    assert search(number=str(int(first[3:7])))[1] == {first[:-2]}      # digits only: that number (« 1 »)
    assert search(ans_number="jge2dpi015")[1] == {anticipated[:-2]}      # its beginning, any case
    assert search(ans_number="jge2dpi")[1] == {first[:-2], second[:-2], anticipated[:-2]}
    assert search(ans_number="dpi015")[1] == set()                       # not any part of it (an index serves it)
    assert search(status=PARTIALLY_VALIDATED)[1] == {anticipated[:-2]}
    assert search(type="INITIAL")[1] == {first[:-2], second[:-2]}
    assert search(status=IN_PROGRESS, ans_number="JGe2DPI009", number=second[:-2])[1] == {second[:-2]}
    page, found = search(number=other[:-2])      # someone else's request: as if it did not exist
    assert found == set() and "Aucune demande d'enrôlement ne correspond à votre recherche." in page.content
    assert search(number="%")[1] == set() and search(number="_")[1] == set()   # no wildcards

    # The form shows the search in use; unknown statuses and types are ignored.
    page = browser.get(f"/espace/demandes?status={PARTIALLY_VALIDATED}&number=ENR")
    assert page.form("search").values["status"] == [PARTIALLY_VALIDATED]
    assert page.form("search").values["number"] == ["ENR"]
    assert len(rows(browser.get("/espace/demandes?status=Brouillon&type=AUTRE"))) == 3


def test_pagination_keeps_the_search(portal, client):
    add_requests(portal, 22, SIRET_A, enrolment_type="COMPLEMENTAIRE")
    add_requests(portal, 3, SIRET_A)
    browser = logged_in(portal, client)
    page = browser.get("/espace/demandes?type=COMPLEMENTAIRE")
    assert len(rows(page)) == 20
    second = page.follow("Suivant")
    assert "type=COMPLEMENTAIRE" in second.url and "page=2" in second.url
    assert [row["Type d'enrôlement"] for row in rows(second)] == ["COMPLEMENTAIRE"] * 2


@pytest.mark.parametrize("status, action", [
    (IN_PROGRESS, None),
    (PARTIALLY_VALIDATED, "Ajouter le certificat de référencement"),
    (AWAITING_DOCUMENTS, "Déposer des pièces jointes"),
    (CERTIFICATES_TO_VALIDATE, None),
    (REJECTED, None),
    (VALIDATED, None),
])
def test_actions_follow_the_status(portal, client, status, action):
    [number] = add_requests(portal, 1, SIRET_A, status=status)
    request_id = public_id(portal, number)
    browser = logged_in(portal, client)

    offered = links(row_of(browser.get("/espace/demandes"), number))
    expected = {"Consulter": f"/espace/demandes/{request_id}"}
    if action:
        expected[action] = f"/demandes/{request_id}/etape"
    assert offered == expected

    detail = browser.get(f"/espace/demandes/{request_id}")
    buttons = links(detail, '//main//a[contains(@class, "fr-btn")]')
    assert buttons == {"Retour": "/espace/demandes"} | ({action: f"/demandes/{request_id}/etape"} if action else {})


# --- the detail of a request ------------------------------------------------------------------------

def test_detail_shows_recap_sections_documents_and_mails(portal, client, mailbox):
    number, journey = file_request(portal)
    mailbox.deliver()                                      # the worker sends the acknowledgement
    browser = logged_in(portal, client)

    page = browser.get(links(row_of(browser.get("/espace/demandes"), number))["Consulter"])
    assert page.status == 200
    assert page.h1 == f"Détails de la demande d'enrôlement ENR0001 - Statut : {LABELS[IN_PROGRESS]}"
    recap = page.texts('//section[@id="recapitulatif"]//p')
    assert recap == ["Enrôlement : ENR0001M0", f"SIRET : {SIRET_A}",
                     "Dénomination sociale : BEAUJOLAIS INFORMATIQUE SANTE",
                     "Type d'enrôlement : INITIAL", "Date de dépôt : 05/03/2026"]

    assert page.texts('//section[@id="demande"]//button[@class="fr-accordion__btn"]') == [
        "Logiciel", "Personne morale", "Demandeur", "Régime TVA", "Coordonnées bancaires"]
    software = page.texts('//*[@id="demande-referencing"]')[0]
    assert "N° unique de référencement (ANS) JGe2DPI009" in software and "LOGICIEL HOP-DPI" in software
    assert "IBAN FR76 3000 4000 0100 0123 4567 830" in page.texts('//*[@id="demande-bank"]')[0]
    assert "Taux de TVA 20 %" in page.texts('//*[@id="demande-vat"]')[0]

    documents = rows(page, "documents")
    names = {row["Nom fichier"]: row["Type"] for row in documents}
    assert set(journey.uploaded.values()) < set(names)
    assert names["certificat-referencement.pdf"] == "Certificat de référencement"
    assert names["rib.pdf"] == "RIB"
    assert names["ENR0001_20260305153000.pdf"] == "PDF récapitulatif de la demande d'enrôlement"
    assert {row["Date de dépôt"] for row in documents} == {"05/03/2026"}
    assert {row["Consulter"] for row in documents} == {f"Télécharger {name}" for name in names}

    [mail] = rows(page, "mails")
    assert mail == {"Date d'envoi": "05/03/2026 à 15:30",
                    "Objet": f"Accusé de réception de votre demande d'enrôlement {number} - Ségur numérique",
                    "Destinataire": journey.supplier.holder_email}
    assert len(mailbox.to(journey.supplier.holder_email)) == 1


def test_detail_hides_the_sections_without_data(portal, client):
    """A complementary enrolment has no applicant nor bank details: those lines do not show."""
    number, _ = file_request(portal)
    with portal.app_context():
        enrolment = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.number == number))
        enrolment.data = {key: value for key, value in enrolment.data.items()
                          if key in ("ans_number", "referencing", "siret", "company_name", "vat_liable", "vat_rate")}
        enrolment.enrolment_type = "COMPLEMENTAIRE"
        db.session.commit()
    browser = logged_in(portal, client)
    page = browser.get(f"/espace/demandes/{public_id(portal, number)}")
    assert page.texts('//section[@id="demande"]//button[@class="fr-accordion__btn"]') == [
        "Logiciel", "Personne morale", "Régime TVA"]
    assert "Type d'enrôlement : COMPLEMENTAIRE" in page.texts('//section[@id="recapitulatif"]//p')


def test_a_request_without_documents_nor_mails_says_so(portal, client):
    [number] = add_requests(portal, 1, SIRET_A)
    page = logged_in(portal, client).get(f"/espace/demandes/{public_id(portal, number)}")
    assert page.texts('//table[@id="documents"]/tbody//td') == ["Aucune pièce justificative."]
    assert page.texts('//table[@id="mails"]/tbody//td') == ["Aucun courriel envoyé."]
    assert page.doc.xpath('//section[@id="demande"]//section') == []


def test_owner_downloads_documents_as_attachment_and_inline(portal, client):
    number, _ = file_request(portal)
    browser = logged_in(portal, client)
    page = browser.get(f"/espace/demandes/{public_id(portal, number)}")
    downloads = page.doc.xpath('//table[@id="documents"]//a[@download]')
    assert len(downloads) >= 5
    for link in downloads:
        name = link.xpath("ancestor::tr/td[1]")[0].text_content()
        attachment = client.get(link.get("href"))
        assert attachment.status_code == 200, name
        assert attachment.headers["Content-Disposition"].startswith("attachment"), name
        assert attachment.headers["X-Content-Type-Options"] == "nosniff"
        inline = client.get(link.get("href") + "?inline=1")
        assert inline.status_code == 200 and inline.data == attachment.data
        assert inline.headers["Content-Disposition"].startswith("inline"), name
        assert inline.mimetype in ("application/pdf", "image/png", "image/jpeg")
        assert inline.headers["X-Content-Type-Options"] == "nosniff"
        assert inline.headers["Content-Security-Policy"] == "frame-ancestors 'self'"
        assert inline.headers["Cache-Control"] == "private, no-store"


def test_documents_table_previews_pdfs_and_images(portal):
    number, _ = file_request(portal)
    with portal.test_request_context():
        enrolment = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.number == number))
        template = ('{% from "request/detail.html" import documents_table %}'
                    "{{ documents_table(enrolment, preview=preview) }}")
        plain = render_template_string(template, enrolment=enrolment, preview=False)
        previewed = render_template_string(template, enrolment=enrolment, preview=True)
        urls = [f"/demandes/{enrolment.public_id}/documents/{d.id}?inline=1" for d in enrolment.documents]
        pdfs = [d for d in enrolment.documents if d.content_type == "application/pdf"]
        images = [d for d in enrolment.documents if d.content_type.startswith("image/")]
    assert "<iframe" not in plain and "<img" not in plain
    assert previewed.count("<iframe") == len(pdfs) and previewed.count("<img") == len(images) > 0
    assert all(f'src="{url}"' in previewed for url in urls)


# --- access -----------------------------------------------------------------------------------------

def test_a_supplier_never_sees_another_siret(portal, client):
    mine, _ = file_request(portal)
    theirs, _ = file_request(portal, Supplier(siret=SIRET_B, hosts_health_data="non"))
    with portal.app_context():
        enrolment = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.number == theirs))
        their_id, their_documents = enrolment.public_id, [
            f"/demandes/{enrolment.public_id}/documents/{d.id}" for d in enrolment.documents]
    browser = logged_in(portal, client)

    assert [row["Numéro demande"] for row in rows(browser.get("/espace/demandes"))] == [mine[:-2]]
    assert rows(browser.get(f"/espace/demandes?number={theirs}")) == []
    assert rows(browser.get("/espace"), "status-counts")[0]["Nombre de demandes"] == "1"
    for url in [f"/espace/demandes/{their_id}", f"/demandes/{their_id}/etape",
                *their_documents, *(url + "?inline=1" for url in their_documents)]:
        assert client.get(url).status_code == 404, url

    # The other supplier sees its own, and an account opened for both SIRETs sees both.
    other = logged_in(portal, portal.test_client(), sirets=[SIRET_B])
    assert [row["Numéro demande"] for row in rows(other.get("/espace/demandes"))] == [theirs[:-2]]
    both = logged_in(portal, portal.test_client(), sirets=[SIRET_A, SIRET_B])
    assert {row["Numéro demande"] for row in rows(both.get("/espace/demandes"))} == {mine[:-2], theirs[:-2]}


def test_anonymous_people_are_sent_to_the_login_page(portal, client):
    [number] = add_requests(portal, 1, SIRET_A)
    for url in ["/espace", "/espace/demandes", f"/espace/demandes/{public_id(portal, number)}"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/connexion"), url


@pytest.mark.parametrize("role", ["agent", "analyst", "admin"])
def test_staff_have_no_supplier_space(portal, client, role):
    [number] = add_requests(portal, 1, SIRET_A)
    browser = logged_in(portal, client, role)
    for url in ["/espace", "/espace/demandes", f"/espace/demandes/{public_id(portal, number)}"]:
        assert browser.get(url).status == 404, url


# --- navigation ---------------------------------------------------------------------------------

def nav_links(page) -> dict[str, str]:
    return links(page, '//nav[@id="navigation-principale"]//a')


def test_supplier_menu(portal, client):
    browser = logged_in(portal, client)
    page = browser.get("/espace/demandes")
    menu = nav_links(page)
    assert menu["Accueil"] == "/espace"
    assert menu["Gérer mes demandes d'enrôlement"] == "/espace/demandes"
    assert page.texts('//nav[@id="navigation-principale"]//button') == ["Enrôlement"]
    assert menu["Faire une demande complémentaire"] == "/enrolement/complementaire"
    assert "Demandes à instruire" not in menu
    assert page.doc.xpath('//nav[@id="navigation-principale"]//a[@aria-current="page"]')[0].get("href") == "/espace/demandes"


def test_staff_menu_and_no_menu_for_anonymous_people(portal, client):
    assert Browser(portal.test_client()).get("/").doc.xpath('//nav[@id="navigation-principale"]') == []
    browser = logged_in(portal, client, "agent")
    menu = nav_links(browser.get("/"))
    assert "Accueil" not in menu and "Gérer mes demandes d'enrôlement" not in menu
    assert ("Demandes à instruire" in menu) == ("agent.queue" in portal.view_functions)


# --- the listing helpers ------------------------------------------------------------------------

@pytest.mark.parametrize("number, pages, expected", [
    (1, 1, [1]),
    (1, 2, [1, 2]),
    (1, 10, [1, 2, 3, None, 10]),
    (5, 10, [1, 2, 3, 4, 5, 6, 7, None, 10]),
    (6, 12, [1, None, 4, 5, 6, 7, 8, None, 12]),
    (10, 10, [1, None, 8, 9, 10]),
])
def test_page_numbers_around_the_current_page(number, pages, expected):
    page = listing.Page(items=[], number=number, per_page=20, total=pages * 20)
    assert page.numbers() == expected


@pytest.mark.parametrize("number, ahead, expected", [
    (1, 41, [1, 2, 3, None]),                    # AHEAD pages known to follow, then more
    (200, 41, [1, None, 198, 199, 200, 201, 202, None]),
    (200, 40, [1, None, 198, 199, 200, 201, 202]),
    (5, 5, [1, 2, 3, 4, 5, 6]),                  # one more page, the last
    (7, 0, [1, None, 5, 6, 7]),
])
def test_page_numbers_of_a_list_not_counted(number, ahead, expected):
    page = listing.Page(items=[], number=number, per_page=20, total=None, ahead=ahead)
    assert page.numbers() == expected
    assert page.has_next == (ahead > 0) and page.pages is None and page.total_label == "plus de 1\u00a0000"
