"""The rules between a supplier's wave-2 enrolments, and « Mon compte » that shows them."""
from app.extensions import db
from app.models import EnrolmentRequest
from app.services import eligibility
from instruction_steps import PENDING_DPI, Agent, Holder, file_request
from journey import Journey, Supplier

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
        assert db.session.scalar(db.select(EnrolmentRequest.status)) == "Rejetée"


def test_my_account_is_for_suppliers_only(portal, client):
    assert client.get("/espace/compte").status_code == 302  # to /connexion


def test_an_initial_enrolment_of_a_number_the_siret_already_filed_goes_back_to_the_search(portal, mailbox):
    file_request(portal)
    journey = Journey(portal.test_client())
    journey.start()
    journey.until("siret_search")
    page = journey.next()
    assert journey.form_key == "referencing_search"
    assert "fait déjà l'objet de la demande d'enrôlement ENR0001M0" in " ".join(page.alerts())
    assert page.form().values["ans_number"] == ["JGe2DPI009"]
    journey.supplier.ans_number = "MSv2VIL014"  # another number of the same SIRET goes on
    assert journey.until("applicant").status == 200
