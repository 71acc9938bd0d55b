"""The rules between a supplier's wave-2 enrolments, and « Mon compte » that shows them."""
from app.extensions import db
from app.models import EnrolmentRequest
from app.services import eligibility
from instruction_steps import PENDING_DPI, Agent, Holder, file_request
from journey import Journey, Supplier
from people import make_user

SIRET = "34866299000038"


def test_a_validated_supplier_may_request_advances_and_file_complementary_enrolments(portal, mailbox):
    with portal.app_context():
        assert eligibility.may_file_complementary(SIRET).allowed  # no wave-2 request yet: the first
    public_id, supplier = file_request(portal)
    with portal.app_context():
        assert not eligibility.may_file_complementary(SIRET).allowed
        assert "première demande d'enrôlement" in eligibility.may_file_complementary(SIRET).reason
    Agent(portal).decide(public_id, "valider")
    holder = Holder(portal, mailbox, supplier.holder_email)
    page = holder.browser.get("/espace/compte")
    assert page.status == 200 and f"SIRET {SIRET}" in page.content
    card = " ".join(page.texts(f"//*[@id='siret-{SIRET}']"))
    assert "Demandes d'avance (vague 2) : autorisées" in card
    assert "Demandes d'enrôlement complémentaires : possibles" in card
    assert "Mon compte" in page.texts("//nav[@id='navigation-principale']")[0]


def test_an_anticipated_supplier_may_not_request_advances_until_finalised(portal, mailbox):
    public_id, supplier = file_request(portal, Supplier(ans_number=PENDING_DPI))
    Agent(portal).decide(public_id, "valider_partiellement")
    holder = Holder(portal, mailbox, supplier.holder_email)
    card = " ".join(holder.browser.get("/espace/compte").texts(f"//*[@id='siret-{SIRET}']"))
    assert "Demandes d'avance (vague 2) : non autorisées" in card and "n'est pas encore finalisé" in card
    assert "Demandes d'enrôlement complémentaires : possibles" in card  # the guide allows them


def test_one_ans_number_is_enrolled_once_unless_rejected(portal, mailbox):
    public_id, supplier = file_request(portal)
    with portal.app_context():
        verdict = eligibility.may_file_ans_number(SIRET, supplier.ans_number.lower())
        assert not verdict.allowed and "ENR0001M0" in verdict.reason
        assert eligibility.may_file_ans_number("81245367800011", supplier.ans_number).allowed
    Agent(portal).decide(public_id, "rejeter", reason="Pièces illisibles.")
    with portal.app_context():
        assert eligibility.may_file_ans_number(SIRET, supplier.ans_number).allowed
        assert db.session.scalar(db.select(EnrolmentRequest.status)) == "rejected"


def test_my_account_is_for_suppliers_only(portal, client):
    assert client.get("/espace/compte").status_code == 302  # to /connexion


def test_a_number_already_enrolled_is_told_at_step_1_and_refused_at_the_siret_search(portal, mailbox):
    file_request(portal)
    journey = Journey(portal.test_client())
    journey.start()
    page = journey.next()  # the ANS search
    assert journey.form_key == "referencing_dpi"  # before any document is given
    warning = " ".join(page.alerts())
    assert "Numéro de référencement déjà enrôlé" in warning and "refusée à la recherche du SIRET" in warning
    assert "ENR0001" not in warning  # the SIRET is not known yet: nothing of another company's request

    journey.until("siret_search")
    page = journey.next()  # same SIRET: refused at once, before the company form
    assert journey.form_key == "siret_search"
    assert "fait déjà l'objet de la demande d'enrôlement ENR0001M0" in " ".join(page.alerts())
    journey.supplier.siret = "88412097300018"  # another SIRET (a distributor) may enrol the number
    assert journey.until("applicant").status == 200


def test_a_number_without_enrolment_is_not_warned_about(portal, mailbox):
    journey = Journey(portal.test_client())
    journey.start()
    page = journey.next()
    assert journey.form_key == "referencing_dpi" and not page.alerts()


def test_a_malformed_number_gets_a_format_message_not_unknown(portal, client):
    journey = Journey(client)
    page = journey.start().form().fill(ans_number="12-!ab").submit("Rechercher")
    assert page.status == 422
    message = " ".join(page.errors()["ans_number"])
    assert "3 lettres, 1 chiffre, 3 lettres puis 3 chiffres" in message and "JGe2DPI009" in message
    assert not any("inconnu" in alert for alert in page.alerts())
    page = page.form().fill(ans_number=" jge2 dpi009 ").submit("Rechercher")  # spaces and case ignored
    assert page.status == 200 and page.doc.xpath("//form[@data-form-key='referencing_dpi']")


def test_a_siret_with_a_portal_account_is_sent_to_the_complementary_enrolment(portal, mailbox):
    login, password = make_user(portal, "supplier", sirets=[SIRET])
    journey = Journey(portal.test_client())
    journey.start()
    journey.until("siret_search")
    page = journey.next()
    assert journey.form_key == "siret_search"  # the initial enrolment does not go on for this SIRET
    alert = " ".join(page.alerts())
    assert f"Le numéro SIRET {SIRET} dispose déjà d'un compte" in alert
    assert "« Faire une demande complémentaire »" in alert
    link = page.doc.xpath("//a[normalize-space()='Se connecter pour faire une demande complémentaire']/@href")
    assert link == ["/connexion?next=/enrolement/complementaire"]
    page = journey.next()  # searching again changes nothing
    assert journey.form_key == "siret_search" and "dispose déjà d'un compte" in " ".join(page.alerts())

    page = journey.browser.get(link[0]).form().fill(login=login, password=password).submit("Valider")
    assert page.h1 == "Faire une demande complémentaire"
    assert page.form(f"start-{SIRET}").submit().doc.xpath("//form[@data-form-key='complementary_search']")
