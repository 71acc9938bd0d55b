"""Fields added to a step without Python (issue 12 §4): an analyst defines them in the studio
(« Processus » › « Formulaires ») or in the diagram (a user task's ``fields`` property), deploys the
package, and the step asks them, validates them in French, keeps them in the request and shows them
on the recap, the PDF, the request detail and the agent's review. Nothing here writes a file under
app/, forms/ or mail_templates/."""
import io
import json
from html import escape

import pytest
from pypdf import PdfReader

from app.extensions import db
from app.models import EnrolmentRequest
from files import pdf_bytes
from instruction_steps import Agent
from journey import Journey, Supplier
from studio import Analyst
from test_recap_download import download_recap

FINESS = {"label": "Numéro FINESS", "name": "finess", "type": "text", "required": True,
          "help": "Le numéro FINESS de l'établissement."}


# --- the analyst, through the studio's pages ---------------------------------------------------

def define(analyst: Analyst, key: str, title: str, *fields: dict):
    """Add the definition ``key`` (unless there is one) and each field, through the editor's forms."""
    page = analyst.browser.get("/processus/formulaires")
    if not page.doc.xpath(f"//tr[@id='definition-{key}']"):
        page = page.form("add-definition").fill(key=key, label=title).submit("Ajouter le formulaire")
        assert page.status == 200 and page.h1 == f"Formulaire « {key} »", (page.status, page.alerts(), page.errors())
    for field in fields:
        page = add_field(analyst, key, field)
        assert page.status == 200 and not page.errors(), (page.errors(), page.alerts())
    return page


def add_field(analyst: Analyst, key: str, field: dict):
    page = analyst.browser.get(f"/processus/formulaires/{key}")
    return page.form("add-field").fill(**field).submit("Ajouter le champ")


def deploy(analyst: Analyst, comment: str, next_page: str = "/processus/formulaires"):
    page = analyst.browser.get(next_page)
    checked = page.form("package-check").submit("Vérifier")
    assert "peut être déployé" in " ".join(checked.alerts()), checked.alerts()
    deployed = checked.form("package-deploy").fill(comment=comment).submit("Déployer")
    assert any("déployé" in a for a in deployed.alerts()), deployed.alerts()
    return deployed


def pdf_text(response) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages).split())


# --- a required field on the applicant step ------------------------------------------------------

def test_a_required_field_added_to_the_applicant_step_is_asked_kept_and_shown(portal, mailbox):
    before = Journey(portal.test_client(), Supplier(ans_number="MSv2VIL014"))
    before.start()  # a request started before the deployment keeps its version: no new field
    analyst = Analyst(portal)
    define(analyst, "applicant", "Compléments du demandeur", FINESS)
    deploy(analyst, "Numéro FINESS demandé au demandeur")

    journey = Journey(portal.test_client())
    journey.start()
    page = journey.until("applicant")
    assert "Numéro FINESS *" in page.content and "Le numéro FINESS de l'établissement." in page.content
    refused = journey.fill().submit("Etape suivante")
    assert refused.status == 422 and refused.errors() == {"finess": ["Ce champ est obligatoire."]}
    assert refused.form().values["trade_name"] == ["BIS SANTE"]  # nothing typed is lost
    journey.page = refused.form().fill(finess="690000123").submit("Etape suivante")
    assert journey.page.status == 200 and journey.form_key == "bank_details", journey.page.errors()
    confirmation_step = journey.until("confirmation")
    assert "Numéro FINESS 690000123" in confirmation_step.content  # the recap before « Terminer »
    confirmation = journey.complete()
    public_id = confirmation.url.split("/")[2]

    # The PDF made by the worker after « Terminer » (journey.complete ran it): on the page reloaded.
    assert "Numéro FINESS 690000123" in pdf_text(download_recap(journey.browser.get(confirmation.url)))
    review = Agent(portal).review(public_id)
    assert "Informations complémentaires" in review.content and "Numéro FINESS 690000123" in review.content
    with portal.app_context():
        assert db.session.scalar(db.select(EnrolmentRequest).filter_by(public_id=public_id)).data["finess"] == "690000123"

    page = before.until("applicant")
    assert "finess" not in page.form().fields() and "Numéro FINESS" not in page.content
    assert before.complete().status == 200


def test_a_field_with_a_condition_is_asked_only_when_it_holds(portal):
    analyst = Analyst(portal)
    define(analyst, "applicant", "Compléments", {
        "label": "Numéro de certificat HDS", "name": "hds_number", "type": "text", "required": True,
        "show_if": "hosts_health_data == 'oui'"})
    deploy(analyst, "Numéro HDS pour les hébergeurs")

    hosting = Journey(portal.test_client(), Supplier(hosts_health_data="oui"))
    hosting.start()
    assert "hds_number" in hosting.until("applicant").form().fields()
    assert hosting.next().status == 422 and hosting.page.errors() == {"hds_number": ["Ce champ est obligatoire."]}
    not_hosting = Journey(portal.test_client(), Supplier(hosts_health_data="non"))
    not_hosting.start()
    assert "hds_number" not in not_hosting.until("applicant").form().fields()
    assert not_hosting.complete().status == 200


# --- every type validates, in French --------------------------------------------------------------

TYPED = [
    ({"label": "SIRET de l'établissement", "name": "site_siret", "type": "siret"}, "1234", "73282932000074"),
    ({"label": "IBAN secondaire", "name": "other_iban", "type": "iban"}, "FR76 1234", "FR76 3000 4000 0100 0123 4567 830"),
    ({"label": "Courriel du DPO", "name": "dpo_email", "type": "email"}, "dpo@", "dpo@fournisseur-sante.fr"),
    ({"label": "Téléphone du DPO", "name": "dpo_phone", "type": "phone"}, "12", "01 23 45 67 89"),
    ({"label": "Nombre de clients", "name": "clients", "type": "number"}, "douze", "1 250"),
    ({"label": "Date de création", "name": "founded", "type": "date"}, "31/02/2020", "2020-03-15"),
    ({"label": "Taille", "name": "size", "type": "choice", "choices": "pme | PME\neti | ETI"}, None, "eti"),
    ({"label": "Certifié ISO 27001", "name": "iso", "type": "yes_no"}, None, "oui"),
    ({"label": "Commentaire", "name": "remarks", "type": "long_text"}, None, "Ligne 1\nLigne 2"),
]
MESSAGES = {
    "site_siret": "Le numéro SIRET doit comporter 14 chiffres.", "other_iban": "IBAN",
    "dpo_email": "L'adresse électronique saisie n'est pas valide.",
    "dpo_phone": "Le numéro de téléphone saisi n'est pas un numéro français valide.",
    "clients": "Saisissez un nombre, par exemple 12 ou 12,5.",
    "founded": "Saisissez une date valide au format JJ/MM/AAAA, par exemple 31/12/2026.",
}


def test_each_field_type_validates_with_a_french_message(portal):
    analyst = Analyst(portal)
    define(analyst, "vat_regime", "Compléments", *[{**field, "required": True} for field, _, _ in TYPED])
    deploy(analyst, "Un champ de chaque type")
    journey = Journey(portal.test_client())
    journey.start()
    journey.until("vat_regime")
    form = journey.fill()
    assert "size" in form.fields() and journey.page.doc.xpath("//select[@name='size']/option[@value='eti'][.='ETI']")
    refused = form.fill(**{f["name"]: bad for f, bad, _ in TYPED if bad}).submit("Etape suivante")
    assert refused.status == 422
    errors = refused.errors()
    for field, bad, _ in TYPED:
        assert errors.get(field["name"]), (field["name"], errors)
        if field["name"] in MESSAGES:
            assert MESSAGES[field["name"]] in " ".join(errors[field["name"]]), errors[field["name"]]
        if not bad:
            assert errors[field["name"]] == ["Ce champ est obligatoire."]
    journey.page = refused.form().fill(**{f["name"]: good for f, _, good in TYPED}).submit("Etape suivante")
    assert journey.form_key == "confirmation", journey.page.errors()
    recap = journey.page.content
    for expected in ("SIRET de l'établissement 73282932000074", "IBAN secondaire FR7630004000010001234567830",
                     "Courriel du DPO dpo@fournisseur-sante.fr", "Nombre de clients 1250",
                     "Date de création 15/03/2020", "Taille ETI", "Certifié ISO 27001 Oui"):
        assert expected in recap, expected


# --- a new step made only of package fields, and fields declared in the diagram ----------------------

NEW_TASK = """<bpmn:userTask id="site_details" name="Établissement principal">
      <bpmn:extensionElements>
        <spiffworkflow:properties>
          <spiffworkflow:property name="formKey" value="site_details" />
          <spiffworkflow:property name="fields" value="{fields}" />
        </spiffworkflow:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>flow_vat_done</bpmn:incoming>
      <bpmn:outgoing>flow_site_done</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_site_done" sourceRef="site_details" targetRef="confirmation" />
    """
DIAGRAM_FIELDS = [{"name": "site_visit", "label": "Visite sur site souhaitée", "type": "yes_no", "required": True}]


def with_site_step(xml: str, fields=DIAGRAM_FIELDS) -> str:
    """initial_enrolment.bpmn with the step « Établissement principal » between VAT and confirmation."""
    xml = xml.replace('<bpmn:sequenceFlow id="flow_vat_done" sourceRef="vat_regime" targetRef="confirmation" />',
                      '<bpmn:sequenceFlow id="flow_vat_done" sourceRef="vat_regime" targetRef="site_details" />'
                      + NEW_TASK.format(fields=escape(json.dumps(fields, ensure_ascii=False))))
    xml = xml.replace("<bpmn:incoming>flow_vat_done</bpmn:incoming>", "<bpmn:incoming>flow_site_done</bpmn:incoming>", 1)
    xml = xml.replace("<bpmn:flowNodeRef>confirmation</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>site_details</bpmn:flowNodeRef><bpmn:flowNodeRef>confirmation</bpmn:flowNodeRef>")
    return xml


def diagram(analyst, file_name="initial_enrolment.bpmn") -> str:
    return analyst.browser.client.get(f"/processus/fichiers/{file_name}/xml").get_json()["xml"]


def test_a_new_step_made_only_of_package_fields_needs_no_form_class(portal):
    analyst = Analyst(portal)
    define(analyst, "site_details", "Établissement principal",
           {"label": "Nom de l'établissement", "name": "site_name", "type": "text", "required": True},
           {"label": "Statut de l'établissement", "name": "doc_site_status", "type": "document",
            "kind": "kbis", "required": True})
    xml = with_site_step(diagram(analyst))
    assert xml.count("flow_site_done") == 3  # the new task's outgoing flow, its definition, confirmation's incoming
    status, saved = analyst.action("initial_enrolment.bpmn", "brouillon", xml=xml)
    assert status == 200 and saved == {"saved": True}
    deploy(analyst, "Étape « Établissement principal »")

    journey = Journey(portal.test_client())
    journey.start()
    journey.until("vat_regime")
    page = journey.next()
    assert journey.form_key == "site_details" and page.doc.xpath("//h2[.='Établissement principal']")
    assert {"site_name", "doc_site_status", "site_visit"} <= page.form().fields()
    refused = page.form().submit("Etape suivante")
    assert refused.status == 422 and set(refused.errors()) == {"site_name", "doc_site_status", "site_visit"}
    assert refused.errors()["doc_site_status"] == ["Veuillez joindre le document « Statut de l'établissement »."]
    journey.page = (refused.form().fill(site_name="Clinique du Parc", site_visit="non")
                    .attach("doc_site_status", "statuts.pdf", pdf_bytes("Statuts")).submit("Etape suivante"))
    assert journey.form_key == "confirmation", journey.page.errors()
    assert "Nom de l'établissement Clinique du Parc" in journey.page.content
    assert "Visite sur site souhaitée Non" in journey.page.content
    assert "KBIS statuts.pdf" in journey.page.content  # listed with the request's documents
    confirmation = journey.complete()
    public_id = confirmation.url.split("/")[2]
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).filter_by(public_id=public_id))
        filed = {d.original_name: d.state for d in request.documents}
        assert request.data["site_name"] == "Clinique du Parc" and filed["statuts.pdf"] == "filed"


def test_a_field_on_the_agents_decision_reaches_the_request_after_submission(portal):
    analyst = Analyst(portal)
    define(analyst, "instruction_decision", "Compléments de l'instruction",
           {"label": "Référence du dossier interne", "name": "internal_ref", "type": "text"})
    deploy(analyst, "Référence interne à l'instruction")
    journey = Journey(portal.test_client())
    public_id = journey.complete().url.split("/")[2]
    agent = Agent(portal)
    page = agent.decide(public_id, "valider", internal_ref="DOS-2026-042")
    assert page.status == 200, page.errors()
    review = agent.review(public_id)
    assert "Référence du dossier interne DOS-2026-042" in review.content


# --- what « Vérifier » and the editor refuse, in French -----------------------------------------------

def test_the_editor_refuses_bad_fields_in_french_and_keeps_what_was_typed(portal):
    analyst = Analyst(portal)
    define(analyst, "site_details", "Établissement principal",
           {"label": "Nom de l'établissement", "name": "site_name", "type": "text"})
    cases = [
        ({"label": "Taille", "name": "size", "type": "choice", "choices": ""},
         {"choices": "Une liste de choix doit proposer au moins un choix."}),
        ({"label": "Âge", "name": "Âge", "type": "number"}, {"name": "Nom invalide"}),
        ({"label": "Bis", "name": "site_name", "type": "text"}, {"name": "Le formulaire a déjà un champ « site_name »."}),
        ({"label": "SIRET", "name": "siret", "type": "siret"}, {"name": "formulaire « siret_search »"}),
        ({"label": "Pièce", "name": "piece", "type": "document", "kind": "kbis"}, {"name": "commence par « doc_ »"}),
        ({"label": "Cond", "name": "cond", "type": "text", "show_if": "__import__('os')"},
         {"show_if": "Condition d'affichage refusée"}),
    ]
    for field, expected in cases:
        page = add_field(analyst, "site_details", field)
        assert page.status == 422, field
        for name, message in expected.items():
            assert message in " ".join(page.errors().get(name, [])), (field, page.errors())
        assert page.form("add-field").values["label"] == [field["label"]]  # what was typed stays
    fields = analyst.browser.get("/processus/formulaires/site_details").texts("//table[@id='fields']//tbody//td[2]")
    assert fields == ["site_name"]


def test_check_refuses_a_used_definition_removed_and_a_bad_fields_property(portal):
    analyst = Analyst(portal)
    define(analyst, "site_details", "Établissement principal",
           {"label": "Nom de l'établissement", "name": "site_name", "type": "text"})
    xml = with_site_step(diagram(analyst))
    analyst.action("initial_enrolment.bpmn", "brouillon", xml=xml)
    deploy(analyst, "Étape « Établissement principal »")

    page = analyst.browser.get("/processus/formulaires/site_details")
    page = page.form("remove-definition").submit()
    assert "site_details" not in page.texts("//table[@id='definitions']//code")
    checked = page.form("package-check").submit("Vérifier")
    assert any("site_details : le formulaire « site_details » est utilisé par cette tâche : sa définition ne peut "
               "pas être supprimée." in alert for alert in checked.alerts()), checked.alerts()

    deployed = diagram(analyst)
    declared = escape(json.dumps(DIAGRAM_FIELDS, ensure_ascii=False))
    assert declared in deployed
    bad_type = escape(json.dumps([{"name": "x", "label": "X", "type": "couleur"}]))
    status, result = analyst.action("initial_enrolment.bpmn", "verifier", xml=deployed.replace(declared, bad_type))
    messages = [(p["element"], p["message"]) for p in result["problems"]]
    assert ("site_details", "propriété « fields », champ « x » : type inconnu « couleur » (types possibles : text, "
            "long_text, number, date, choice, yes_no, email, phone, siret, iban, document).") in messages, messages
    status, result = analyst.action("initial_enrolment.bpmn", "verifier", xml=deployed.replace(declared, "{pas du json"))
    messages = [p["message"] for p in result["problems"]]
    assert any("la propriété « fields » n'est pas un JSON valide" in m for m in messages), messages


@pytest.mark.parametrize("definition, message", [
    ({"label": "T", "fields": {"a": {"type": "couleur", "label": "A"}}}, "type inconnu « couleur »"),
    ({"label": "T", "fields": {"a": {"type": "text", "label": "A", "show_if": "a ==="}}}, "condition d'affichage refusée"),
    ({"label": "T", "fields": {"a": {"type": "choice", "label": "A"}}}, "au moins un choix"),
    ({"label": "T", "fields": {"A-b": {"type": "text", "label": "A"}}}, "nom invalide"),
    ({"label": "T", "fields": [{"name": "a", "type": "text", "label": "A"}, {"name": "a", "type": "text", "label": "B"}]},
     "nom en double"),
    ({"label": "T", "fields": {"iban": {"type": "iban", "label": "A"}}}, "formulaire « bank_details »"),
    ({"label": "T", "fields": {}}, "au moins un champ"),
])
def test_the_section_check_names_each_bad_definition_in_french(portal, definition, message):
    from app import package
    with portal.app_context():
        data = {**package.current().data, "forms": {"extra_step": definition}}
        with pytest.raises(package.DeployError) as refused:
            package.deploy({}, "analyste", data=data)
        assert any(p.element == "extra_step" and message in p.message for p in refused.value.problems), refused.value.problems
