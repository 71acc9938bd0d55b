"""The agents' queue (« Demandes à instruire »), the review page, claims and the audit trail,
through HTTP with real accounts logged in through /connexion, on real filed requests."""
import threading
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from app import clock
from app.extensions import db
from app.models import AuditEntry, EnrolmentRequest, User
from app.services import claims
from browser import Browser
from files import pdf_bytes
from journey import Journey, Supplier
from people import log_in, make_user

# Three real requests, filed on three days (ENR0001M0 first).
FILINGS = [
    (Supplier(), datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)),                       # INITIAL
    (Supplier(ans_number="MSv2VIL014", siret="81245367800029", legal_representative="non",
              quality="employe", vat_rate="5.5"), datetime(2026, 3, 5, 14, 30, tzinfo=timezone.utc)),
    (Supplier(ans_number="JGe2DPI015", siret="35600000049008", vat_liable="non"),   # INITIAL ANTICIPE
     datetime(2026, 3, 9, 23, 30, tzinfo=timezone.utc)),                              # 10/03 in Paris
]
QUEUE = "/gestion/demandes"


@pytest.fixture(autouse=True)
def quick_recap_pdf(monkeypatch):
    """The recap PDF is tested elsewhere; rendering it (font subsetting) takes most of a filing."""
    monkeypatch.setattr("app.services.pdf.html_to_pdf", lambda html: pdf_bytes("Récapitulatif"))


def file_requests(portal, count: int) -> dict[str, str]:
    """File ``count`` requests like suppliers do; returns {number: public id}."""
    for supplier, day in FILINGS[:count]:
        clock.freeze(day)
        Journey(portal.test_client(), supplier).complete()
    clock.freeze(FILINGS[count - 1][1] + timedelta(hours=1))
    with portal.app_context():
        return dict(db.session.execute(db.select(EnrolmentRequest.number, EnrolmentRequest.public_id)
                                       .order_by(EnrolmentRequest.sequence)).all())


@pytest.fixture
def three(portal):
    return file_requests(portal, 3)


@pytest.fixture
def one(portal):
    return file_requests(portal, 1)


def set_columns(app, number: str, **values):
    with app.app_context():
        db.session.execute(db.update(EnrolmentRequest).where(EnrolmentRequest.number == number).values(**values))
        db.session.commit()


def person(portal, role, first_name, last_name, **kwargs) -> Browser:
    """A browser logged in as a new user of ``role``."""
    login, password = make_user(portal, role, first_name=first_name, last_name=last_name, **kwargs)
    browser = Browser(portal.test_client())
    log_in(browser, login, password)
    browser.login = login
    return browser


@pytest.fixture
def alice(portal):
    return person(portal, "agent", "Alice", "Durand")


@pytest.fixture
def bob(portal):
    return person(portal, "agent", "Bob", "Leroy")


@pytest.fixture
def admin(portal):
    return person(portal, "admin", "Ada", "Admin")


def queue(browser, **args):
    page = browser.get(QUEUE + ("?" + urlencode(args) if args else ""))
    assert page.status == 200, page.text
    return page


def numbers(page) -> list[str]:
    return page.doc.xpath('//*[@id="queue"]//tbody/tr/@data-number')


def row(page, number) -> dict[str, str]:
    headers = page.texts('//*[@id="queue"]//thead//th')
    cells = page.texts(f'//*[@id="queue"]//tbody/tr[@data-number="{number}"]/td')
    return dict(zip(headers, cells))


def review(browser, public_id):
    page = browser.get(f"{QUEUE}/{public_id}")
    assert page.status == 200, page.text
    return page


def csrf_token(page) -> str:
    return page.doc.xpath('string(//input[@name="csrf_token"]/@value)')


def audit_entries(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(e.actor, e.action, e.reason) for e in db.session.scalars(db.select(AuditEntry).order_by(AuditEntry.id))]


def holder_id(app, public_id):
    with app.app_context():
        return db.session.scalar(db.select(EnrolmentRequest.claimed_by_id).where(EnrolmentRequest.public_id == public_id))


# --- the queue ------------------------------------------------------------------------------------

def test_queue_lists_what_waits_on_the_agency_by_default_and_each_filter_narrows_it(portal, three, alice):
    set_columns(portal, "ENR0002M0", status="certificates_to_validate")
    set_columns(portal, "ENR0003M0", status="validated")

    page = queue(alice)
    assert page.h1 == "Demandes à instruire"
    assert numbers(page) == ["ENR0002M0", "ENR0001M0"]           # newest first, Validée left out
    assert page.doc.xpath('string(//select[@name="status"]/option[@selected]/@value)') == "a-instruire"
    every = [value for value in page.doc.xpath('//select[@name="status"]/option/@value')]
    assert every[2:] == ["in_progress", "partially_validated", "awaiting_documents", "certificates_to_validate",
                         "rejected", "validated"]
    assert page.doc.xpath('//select[@name="status"]/option/text()')[:3] == [
        "À instruire (En cours, Certificat(s) à valider)", "Tous les statuts", "En cours"]
    assert row(page, "ENR0001M0") == {
        "Numéro": "ENR0001M0", "Date de dépôt": "02/03/2026", "Statut": "En cours", "Type": "INITIAL",
        "SIRET": "34866299000038", "Dénomination": row(page, "ENR0001M0")["Dénomination"],
        "N° ANS": "JGe2DPI009", "DSR": row(page, "ENR0001M0")["DSR"], "Pris en charge par": "—"}

    everything = page.follow("Voir toutes les demandes")
    assert numbers(everything) == ["ENR0003M0", "ENR0002M0", "ENR0001M0"]

    def listed(**args):
        return numbers(queue(alice, **({"status": "toutes"} | args)))

    assert listed(status="validated") == ["ENR0003M0"]
    assert listed(status="certificates_to_validate") == ["ENR0002M0"]
    assert listed(type="INITIAL ANTICIPE") == ["ENR0003M0"]
    assert listed(type="INITIAL") == ["ENR0002M0", "ENR0001M0"]
    assert listed(siret="812 453 678 00029") == ["ENR0002M0"]          # spaces ignored
    assert listed(siret="81245367800") == []                             # a SIRET is exact
    assert listed(ans_number="jge2dpi01") == ["ENR0003M0"]               # its beginning, any case
    assert listed(ans_number="dpi015") == []                             # not any part of it (an index serves it)
    assert listed(number="0001") == ["ENR0001M0"]
    assert listed(number="enr000") == ["ENR0003M0", "ENR0002M0", "ENR0001M0"]
    assert listed(number="2") == ["ENR0002M0"]                           # digits only: that number
    assert listed(number="ENR%") == [] and listed(number="_") == []      # LIKE wildcards are plain text
    assert listed(deposited_from="2026-03-05") == ["ENR0003M0", "ENR0002M0"]
    assert listed(deposited_to="2026-03-05") == ["ENR0002M0", "ENR0001M0"]   # the whole day
    assert listed(deposited_from="2026-03-10", deposited_to="2026-03-10") == ["ENR0003M0"]  # Paris days
    assert listed(deposited_from="2026-03-09", deposited_to="2026-03-09") == []
    assert listed(deposited_from="2026-03-03", deposited_to="2026-03-04") == []
    assert row(queue(alice), "ENR0002M0")["DSR"] == "Médecine de ville"     # from the ANS directory
    # The DSR: one of the directory's (an exact value, which an index serves in the list's order).
    assert page.doc.xpath('//select[@name="dsr"]/option/text()') == [
        "Tous les DSR", "Biologie médicale", "Hôpital", "Médecine de ville", "Médico-social", "Officine", "Radiologie"]
    assert listed(dsr="Médecine de ville") == ["ENR0002M0"]
    assert listed(dsr="Hôpital") == ["ENR0003M0", "ENR0001M0"]
    assert listed(dsr="Hôp") == []
    set_columns(portal, "ENR0001M0", dsr="Couloir retiré de l'annuaire")  # a link kept from before still works
    kept = queue(alice, status="toutes", dsr="Couloir retiré de l'annuaire")
    assert numbers(kept) == ["ENR0001M0"]
    assert kept.doc.xpath('string(//select[@name="dsr"]/option[@selected])') == "Couloir retiré de l'annuaire"
    assert listed(status="rejected", siret="34866299000038") == []

    # The filters stay in the URL and in the form.
    page = queue(alice, status="toutes", type="INITIAL", siret="81245367800029", deposited_from="2026-03-01")
    assert page.doc.xpath('string(//select[@name="type"]/option[@selected]/@value)') == "INITIAL"
    assert page.doc.xpath('string(//input[@name="siret"]/@value)') == "81245367800029"
    assert page.doc.xpath('string(//input[@name="deposited_from"]/@value)') == "2026-03-01"
    assert page.doc.xpath('string(//form[@id="queue-filters"]/@method)') == "get"

    # A wrong date is said, and ignored.
    page = queue(alice, status="toutes", deposited_from="05/03/2026")
    assert numbers(page) == ["ENR0003M0", "ENR0002M0", "ENR0001M0"] and "deposited_from" in page.errors()


def test_sorting_by_column_header(portal, three, alice):
    set_columns(portal, "ENR0001M0", status="validated")
    set_columns(portal, "ENR0003M0", status="rejected")
    page = queue(alice, status="toutes")
    assert numbers(page) == ["ENR0003M0", "ENR0002M0", "ENR0001M0"]       # by date de dépôt, newest first
    assert page.doc.xpath('string(//th[@aria-sort])').strip() == "Date de dépôt"

    page = page.follow("Numéro")
    assert numbers(page) == ["ENR0003M0", "ENR0002M0", "ENR0001M0"]
    page = page.follow("Numéro")                                          # again: the other way round
    assert numbers(page) == ["ENR0001M0", "ENR0002M0", "ENR0003M0"]
    assert page.doc.xpath('string(//th[@aria-sort]/@aria-sort)') == "ascending"
    assert "status=toutes" in page.url                                     # the filters are kept

    page = page.follow("Statut")
    assert numbers(page) == ["ENR0001M0", "ENR0003M0", "ENR0002M0"]       # Validée, Rejetée, En cours
    page = page.follow("Statut")
    assert numbers(page) == ["ENR0002M0", "ENR0003M0", "ENR0001M0"]
    page = page.follow("Date de dépôt").follow("Date de dépôt")
    assert numbers(page) == ["ENR0001M0", "ENR0002M0", "ENR0003M0"]
    assert numbers(queue(alice, status="toutes", sort="nonsense", order="nonsense")) == \
        ["ENR0003M0", "ENR0002M0", "ENR0001M0"]


def test_pagination_keeps_filters_and_sort(portal, three, alice, monkeypatch):
    monkeypatch.setattr("app.web.agent.PER_PAGE", 2)
    page = queue(alice, status="toutes", sort="number", order="asc")
    assert numbers(page) == ["ENR0001M0", "ENR0002M0"]
    assert "Demandes d'enrôlement (3)" in page.content
    second = page.follow("Suivant")
    assert numbers(second) == ["ENR0003M0"]
    assert "status=toutes" in second.url and "sort=number" in second.url and "page=2" in second.url
    assert numbers(second.follow("Précédent")) == ["ENR0001M0", "ENR0002M0"]
    assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="99")) == ["ENR0003M0"]
    assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="x")) == ["ENR0001M0", "ENR0002M0"]
    # Filtering again starts from page 1.
    assert not queue(alice, status="toutes").doc.xpath('//form[@id="queue-filters"]//input[@name="page"]')


def test_overdue_badge(portal, three, alice):
    set_columns(portal, "ENR0002M0", overdue_since=datetime(2026, 3, 8, 8, 0, tzinfo=timezone.utc))
    page = queue(alice)
    badges = page.doc.xpath('//*[@id="queue"]//tbody/tr[.//*[contains(@class, "fr-badge--warning")]]/@data-number')
    assert badges == ["ENR0002M0"]
    assert row(page, "ENR0002M0")["Statut"] == "En cours En retard"
    assert "En retard" not in row(page, "ENR0001M0")["Statut"]
    detail = review(alice, three["ENR0002M0"])
    assert detail.texts('//*[@id="claim"]//*[contains(@class, "fr-badge--warning")]') == ["En retard"]
    assert not review(alice, three["ENR0001M0"]).doc.xpath('//*[contains(@class, "fr-badge--warning")]')


# --- the review page --------------------------------------------------------------------------------

def test_review_page_shows_the_request_its_documents_mails_and_history(portal, one, alice):
    public_id = one["ENR0001M0"]
    page = queue(alice).follow("ENR0001M0")
    assert page.url.endswith(f"{QUEUE}/{public_id}")
    assert page.h1 == "Détails de la demande d'enrôlement ENR0001 - Statut : En cours"
    assert "Cette demande n'est prise en charge par aucun gestionnaire." in page.content
    assert "JGe2DPI009" in page.content and "34866299000038" in page.content
    # Documents: listed with a download link that works for the agent.
    links = page.doc.xpath('//a[contains(@href, "/documents/")]/@href')
    assert links and "rib.pdf" in page.content
    assert alice.client.get(links[0]).status_code == 200
    # The acknowledgment mail, and the history of the request.
    assert page.doc.xpath('//*[@id="history-table"]//tbody/tr')
    history = page.texts('//*[@id="history-table"]//tbody/tr/td[3]')
    assert history[0] == "Demande commencée" and "Demande déposée" in history
    # No decision button before the request is held.
    assert not page.doc.xpath('//a[contains(@href, "/etape")]')


# --- claims -----------------------------------------------------------------------------------------

def test_claim_is_seen_by_others_and_a_second_claim_is_refused(portal, one, alice, bob):
    public_id = one["ENR0001M0"]
    stale = review(bob, public_id)                       # Bob opens the page while the request is free

    page = review(alice, public_id).form("claim-form").submit("Prendre en charge")
    assert page.url.endswith(f"{QUEUE}/{public_id}")
    assert "Vous avez pris en charge la demande ENR0001M0." in page.alerts()
    assert "Prise en charge par Alice Durand depuis le 02/03/2026 à 11:00." in page.content
    assert page.texts('//a[contains(@href, "/etape")]') == ["Instruire la demande"]
    assert page.doc.xpath(f'//a[contains(@href, "/demandes/{public_id}/etape")]')

    assert row(queue(bob), "ENR0001M0")["Pris en charge par"] == "Alice Durand"
    seen = review(bob, public_id)
    assert "Prise en charge par Alice Durand" in seen.content
    assert not seen.doc.xpath('//form[@id="claim-form" or @id="release-form"]')
    assert not seen.doc.xpath('//a[contains(@href, "/etape")]')

    refused = stale.form("claim-form").submit("Prendre en charge")
    assert refused.alerts()[0] == ("Cette demande est déjà prise en charge par Alice Durand : "
                                   "vous ne pouvez pas la prendre en charge.")
    with portal.app_context():
        assert db.session.get(User, holder_id(portal, public_id)).first_name == "Alice"
    assert [action for _, action, _ in audit_entries(portal)] == ["Prise en charge"]


def test_release_by_the_holder_only(portal, one, alice, bob):
    public_id = one["ENR0001M0"]
    review(alice, public_id).form("claim-form").submit("Prendre en charge")
    token = csrf_token(review(bob, public_id))
    refused = bob.post(f"{QUEUE}/{public_id}/liberation", {"csrf_token": [token]})
    assert refused.alerts()[0] == ("Seul Alice Durand, qui a pris en charge cette demande, ou un administrateur "
                                   "peut la libérer.")
    assert holder_id(portal, public_id) is not None

    page = review(alice, public_id).form("release-form").submit("Libérer")
    assert "La demande ENR0001M0 est libérée : un autre gestionnaire peut la prendre en charge." in page.alerts()
    assert "Cette demande n'est prise en charge par aucun gestionnaire." in page.content
    assert row(queue(bob), "ENR0001M0")["Pris en charge par"] == "—"
    again = alice.post(f"{QUEUE}/{public_id}/liberation", {"csrf_token": [csrf_token(page)]})
    assert again.alerts()[0] == "Cette demande n'est prise en charge par personne."

    page = review(bob, public_id).form("claim-form").submit("Prendre en charge")            # now Bob may take it
    assert "Prise en charge par Bob Leroy" in page.content
    assert [(actor.split(" (")[0], action) for actor, action, _ in audit_entries(portal)] == [
        ("Alice Durand", "Prise en charge"), ("Alice Durand", "Libération"), ("Bob Leroy", "Prise en charge")]


def test_admin_reassigns_and_everything_is_in_the_history(portal, one, alice, bob, admin):
    public_id = one["ENR0001M0"]
    review(alice, public_id).form("claim-form").submit("Prendre en charge")
    assert not review(alice, public_id).doc.xpath('//form[@id="reassign"]')      # agents cannot reassign
    token = csrf_token(review(alice, public_id))
    with portal.app_context():
        bob_id = db.session.scalar(db.select(User.id).where(User.login == bob.login))
    assert alice.post(f"{QUEUE}/{public_id}/reattribution", {"csrf_token": [token], "agent": [str(bob_id)]}).status == 404

    clock.advance(timedelta(minutes=30))
    page = review(admin, public_id)
    options = page.texts('//form[@id="reassign"]//option')
    assert [o.split(" (")[0] for o in options] == ["Ada Admin", "Alice Durand", "Bob Leroy"]
    page = page.form("reassign").fill(agent=bob_id).submit("Réattribuer")
    assert "La demande ENR0001M0 est réattribuée à Bob Leroy." in page.alerts()
    assert "Prise en charge par Bob Leroy depuis le 02/03/2026 à 11:30." in page.content
    assert holder_id(portal, public_id) == bob_id
    assert row(queue(alice), "ENR0001M0")["Pris en charge par"] == "Bob Leroy"

    # Only to an active agent: not to a supplier, not to a deactivated agent, not to nobody.
    supplier_login, _ = make_user(portal, "supplier", sirets=["34866299000038"])
    with portal.app_context():
        supplier_id = db.session.scalar(db.select(User.id).where(User.login == supplier_login))
        db.session.get(User, db.session.scalar(db.select(User.id).where(User.login == alice.login))).active = False
        db.session.commit()
    token = csrf_token(page)
    for agent in (str(supplier_id), "", "999999"):
        refused = admin.post(f"{QUEUE}/{public_id}/reattribution", {"csrf_token": [token], "agent": [agent]})
        assert refused.alerts()[0] == "Choisissez un gestionnaire actif à qui réattribuer la demande."
    assert [o.split(" (")[0] for o in review(admin, public_id).texts('//form[@id="reassign"]//option')] == \
        ["Ada Admin", "Bob Leroy"]

    # An admin may also release someone else's claim.
    page = review(admin, public_id).form("release-form").submit("Libérer")
    assert "La demande ENR0001M0 est libérée : un autre gestionnaire peut la prendre en charge." in page.alerts()
    assert holder_id(portal, public_id) is None

    entries = audit_entries(portal)
    assert [(actor.split(" (")[0], action, reason) for actor, action, reason in entries] == [
        ("Alice Durand", "Prise en charge", ""),
        ("Ada Admin", "Réattribution à Bob Leroy", "prise en charge auparavant par Alice Durand"),
        ("Ada Admin", "Libération (prise en charge par Bob Leroy)", ""),
    ]
    assert entries[0][0] == f"Alice Durand ({alice.login})"
    with portal.app_context():
        assert {e.request_id for e in db.session.scalars(db.select(AuditEntry))} == {
            db.session.scalar(db.select(EnrolmentRequest.id))}

    history = review(admin, public_id)
    lines = [line for line in history.texts('//*[@id="history-table"]//tbody/tr')]
    assert lines[-3:] == [
        f"02/03/2026 à 11:00 Alice Durand ({alice.login}) Prise en charge",
        f"02/03/2026 à 11:30 Ada Admin ({admin.login}) Réattribution à Bob Leroy prise en charge auparavant par Alice Durand",
        f"02/03/2026 à 11:30 Ada Admin ({admin.login}) Libération (prise en charge par Bob Leroy)",
    ]
    assert any("Demande déposée" in line for line in lines[:-3])


# --- races --------------------------------------------------------------------------------------------

def test_a_claim_after_another_agents_claim_is_refused_by_the_service(portal, one, alice, bob):
    public_id = one["ENR0001M0"]
    with portal.app_context():   # Bob's view of the request, loaded while it was free
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        bob_user = db.session.scalar(db.select(User).where(User.login == bob.login))
        assert request.claimed_by_id is None
        review(alice, public_id).form("claim-form").submit("Prendre en charge")   # Alice claims meanwhile, over HTTP
        with pytest.raises(claims.ClaimError, match="déjà prise en charge par Alice Durand"):
            claims.claim(request, bob_user)
        db.session.rollback()
    assert [action for _, action, _ in audit_entries(portal)] == ["Prise en charge"]


def test_two_agents_claiming_at_once_exactly_one_wins(portal, one, alice, bob):
    public_id = one["ENR0001M0"]
    logins = [alice.login, bob.login]
    with portal.app_context():
        postgres = db.engine.dialect.name == "postgresql"
    start, loaded = threading.Barrier(2), threading.Barrier(2)
    outcomes, errors = [], []

    def attempt(login):
        try:
            with portal.app_context():
                start.wait(10)
                request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
                agent = db.session.scalar(db.select(User).where(User.login == login))
                if postgres:   # both have seen the request free before either writes
                    assert request.claimed_by_id is None
                    loaded.wait(10)
                try:
                    claims.claim(request, agent)
                    db.session.commit()
                    outcomes.append(("won", login))
                except claims.ClaimError as refused:
                    db.session.rollback()
                    outcomes.append(("refused", refused.message))
                finally:
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))

    threads = [threading.Thread(target=attempt, args=(login,)) for login in logins]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(kind for kind, _ in outcomes) == ["refused", "won"]
    winner = next(login for kind, login in outcomes if kind == "won")
    loser_message = next(message for kind, message in outcomes if kind == "refused")
    winner_name = "Alice Durand" if winner == alice.login else "Bob Leroy"
    assert loser_message.startswith(f"Cette demande est déjà prise en charge par {winner_name}")
    assert [action for _, action, _ in audit_entries(portal)] == ["Prise en charge"]
    with portal.app_context():
        assert db.session.get(User, holder_id(portal, public_id)).login == winner


# --- access -------------------------------------------------------------------------------------------

def test_anonymous_people_are_sent_to_the_login_page(portal, one, client):
    public_id = one["ENR0001M0"]
    for url in (QUEUE, f"{QUEUE}?status=toutes", f"{QUEUE}/{public_id}"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/connexion"), url


def test_suppliers_get_404_on_every_agent_page_and_analysts_only_read(portal, one, alice):
    public_id = one["ENR0001M0"]
    review(alice, public_id).form("claim-form").submit("Prendre en charge")
    supplier = person(portal, "supplier", "Sam", "Fournisseur", sirets=["34866299000038"])
    analyst = person(portal, "analyst", "Ana", "Lyste")
    for browser in (supplier, analyst):
        token = csrf_token(browser.get("/connexion"))  # a valid token of their session
        assert token
        readable = 200 if browser is analyst else 404  # analysts follow the requests read-only
        for url in (QUEUE, f"{QUEUE}/{public_id}"):
            assert browser.client.get(url).status_code == readable, url
        assert browser.client.get(f"{QUEUE}/inconnue").status_code == 404
        for action in ("prise-en-charge", "liberation", "reattribution"):
            response = browser.client.post(f"{QUEUE}/{public_id}/{action}", data={"csrf_token": token, "agent": "1"})
            assert response.status_code == 404, action
    assert alice.client.get(f"{QUEUE}/inconnue").status_code == 404
    assert [action for _, action, _ in audit_entries(portal)] == ["Prise en charge"]


def test_csrf_is_enforced_on_every_post(portal, one, alice, admin):
    public_id = one["ENR0001M0"]
    with portal.app_context():
        alice_id = db.session.scalar(db.select(User.id).where(User.login == alice.login))
    for browser in (alice, admin):
        for action in ("prise-en-charge", "liberation", "reattribution"):
            for data in ({}, {"csrf_token": "forged"}):
                response = browser.client.post(f"{QUEUE}/{public_id}/{action}", data=dict(data, agent=str(alice_id)))
                assert response.status_code == 400, (action, data)
                assert "Session expirée" in response.get_data(as_text=True)
    assert holder_id(portal, public_id) is None
    assert audit_entries(portal) == []


def test_a_long_list_is_counted_up_to_a_limit_and_still_paged(portal, three, alice, monkeypatch):
    # Past listing.COUNT_LIMIT rows the list is not counted (« plus de … »): the pages around the
    # current one are offered, « Suivant » while rows follow, and no last page until it is reached.
    monkeypatch.setattr("app.web.agent.PER_PAGE", 1)
    monkeypatch.setattr("app.services.listing.COUNT_LIMIT", 2)
    page = queue(alice, status="toutes", sort="number", order="asc")
    assert numbers(page) == ["ENR0001M0"]
    assert "Demandes d'enrôlement (plus de 2)" in page.content
    assert page.texts('//nav[contains(@class, "fr-pagination")]//a') == ["Précédent", "1", "2", "3", "Suivant"]
    second = page.follow("Suivant")
    assert numbers(second) == ["ENR0002M0"] and "sort=number" in second.url
    last = second.follow("Suivant")
    assert numbers(last) == ["ENR0003M0"]
    assert last.doc.xpath('//a[contains(@class, "fr-pagination__link--next")]/@aria-disabled') == ["true"]
    assert numbers(last.follow("Précédent")) == ["ENR0002M0"]
    assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="99")) == ["ENR0003M0"]  # the last
    # A long list is read in the order of its sort (on SQLite, its conditions marked likely()),
    # with the same rows: the default queue (statuses and lanes), a search by a short prefix.
    assert [numbers(queue(alice, page=str(n))) for n in (1, 2, 3)] == [["ENR0003M0"], ["ENR0002M0"], ["ENR0001M0"]]
    assert "(plus de 2)" in queue(alice).content
    assert [numbers(queue(alice, status="toutes", number="enr", page=str(n))) for n in (1, 3)] == \
        [["ENR0003M0"], ["ENR0001M0"]]
    monkeypatch.setattr("app.services.listing.COUNT_LIMIT", 1)
    recent = dict(status="toutes", number="enr", deposited_from="2026-03-05")   # ranges: marked likely()
    assert [numbers(queue(alice, **recent, page=str(n))) for n in (1, 2, 3)] == \
        [["ENR0003M0"], ["ENR0002M0"], ["ENR0002M0"]]                           # past the end: the last
    # Once the filters leave few enough rows, the total is counted again.
    assert "Demandes d'enrôlement (1)" in queue(alice, status="toutes", type="INITIAL ANTICIPE").content


def test_the_next_page_of_a_long_list_starts_after_the_last_row_shown(portal, three, alice, monkeypatch):
    # « Suivant » in a long list carries the key of the page's last row (keyset): the next page is
    # read from that row on, whatever its number, so page 200 costs what page 1 costs.
    monkeypatch.setattr("app.web.agent.PER_PAGE", 1)
    monkeypatch.setattr("app.services.listing.COUNT_LIMIT", 2)
    first = queue(alice, status="toutes", sort="number", order="asc")
    [link] = first.doc.xpath('//a[contains(@class, "fr-pagination__link--next")]/@href')
    after = parse_qs(urlsplit(link).query)["after"][0]
    [page_two] = first.doc.xpath('//nav[contains(@class, "fr-pagination")]//a[@title="Page 2"]/@href')
    assert f"after={after}" in page_two and "after" not in " ".join(
        first.doc.xpath('//nav[contains(@class, "fr-pagination")]//a[@title="Page 3"]/@href'))
    second = first.follow("Suivant")
    assert numbers(second) == ["ENR0002M0"]
    # « Précédent » carries the key of the page's first row: the page before it is read backwards
    # from there.
    [back] = second.doc.xpath('//a[contains(@class, "fr-pagination__link--prev")]/@href')
    before = parse_qs(urlsplit(back).query)["before"][0]
    assert numbers(second.follow("Précédent")) == ["ENR0001M0"]
    assert numbers(second.follow("Suivant").follow("Précédent")) == ["ENR0002M0"]
    assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="7", before=before)) == ["ENR0001M0"]
    assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="2", before=after)) == \
        ["ENR0002M0"]  # no page before ENR0001M0: the number says which
    # The cursor, not the number, says where the page starts (here: after ENR0001M0, « page 5 »),
    # and the links of the page it leads to do not carry it on to other pages.
    fifth = queue(alice, status="toutes", sort="number", order="asc", page="5", after=after)
    assert numbers(fifth) == ["ENR0002M0"]
    assert all("after=" + after not in href for href in fifth.doc.xpath('//nav[contains(@class, "fr-pagination")]//a/@href'))
    # Newest first (the default order) too, with the default queue's lanes and statuses.
    newest = queue(alice)
    assert numbers(newest) == ["ENR0003M0"] and numbers(newest.follow("Suivant")) == ["ENR0002M0"]
    # A cursor that is no row of this list (another filter, a typed value) leaves the page number.
    for typed in ("999999", "abc", ""):
        assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="3", after=typed)) == ["ENR0003M0"]
        assert numbers(queue(alice, status="toutes", sort="number", order="asc", page="2", before=typed)) == ["ENR0002M0"]
    monkeypatch.setattr("app.services.listing.COUNT_LIMIT", 1)
    recent = dict(status="toutes", deposited_from="2026-03-05")  # ENR0003M0, ENR0002M0: not ENR0001M0
    assert numbers(queue(alice, **recent, page="1", after=after)) == ["ENR0003M0"]


def test_sort_by_status_reads_the_statuses_in_turn_across_pages(portal, three, alice, monkeypatch):
    # The package's order of statuses, then the date: read status by status (no index serves the
    # package's order), whether the list is counted or long.
    set_columns(portal, "ENR0001M0", status="validated")
    set_columns(portal, "ENR0003M0", status="validated")
    monkeypatch.setattr("app.web.agent.PER_PAGE", 1)

    def pages(order, numbers_=("1", "2", "3", "9")):
        return [numbers(queue(alice, status="toutes", sort="status", order=order, page=n)) for n in numbers_]

    for limit in (1000, 2):
        monkeypatch.setattr("app.services.listing.COUNT_LIMIT", limit)
        assert pages("desc") == [["ENR0003M0"], ["ENR0001M0"], ["ENR0002M0"], ["ENR0002M0"]]  # 9: the last
        assert pages("asc") == [["ENR0002M0"], ["ENR0001M0"], ["ENR0003M0"], ["ENR0003M0"]]
