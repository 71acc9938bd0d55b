"""Document types as process data, through the studio's routes: an analyst adds « Attestation
spécifique DSR », makes the applicant step of the initial enrolment ask it for one DSR only (the
task's ``documentTypes`` property, an expression on the referencing found at step 1) and deploys;
the type's formats and size are enforced, the document is shown to the supplier and the agent, an
agent may ask for it, a request started before keeps its version, a used type cannot be deleted."""
import re
from pathlib import Path

from pypdf import PdfReader

from app.extensions import db
from app.models import Document
from app.services import documents
from browser import Browser
from files import pdf_bytes, png_bytes
from instruction_steps import Agent, link_in
from journey import Journey, Supplier
from studio import Analyst

LABEL = "Attestation spécifique DSR"
ASKS_FOR_HOSPITALS = "['attestation_dsr'] if referencing['dsr'] == 'Hôpital' else []"
RADIOLOGY = dict(ans_number="RAd2RIS021", siret="52398714700015")  # DSR « Radiologie »


def add_type(analyst, **fields):
    page = analyst.browser.get("/processus/documents").follow("Ajouter un type de document")
    values = dict(code="attestation_dsr", label=LABEL, formats=["pdf"], max_size_mb="1",
                  help="Attestation signée par l'éditeur du logiciel.", requestable=True) | fields
    return page.form("document-type-form").fill(**values).submit("Enregistrer dans le brouillon")


def ask_on_applicant(analyst, expression):
    """A BPMN draft of initial_enrolment.bpmn whose applicant task has ``documentTypes``."""
    xml = analyst.browser.client.get("/processus/fichiers/initial_enrolment.bpmn/xml").get_json()["xml"]
    xml = re.sub(r'<spiffworkflow:property name="documentTypes" value="[^"]*" />', "", xml)  # an earlier draft's
    anchor = '<spiffworkflow:property name="formKey" value="applicant" />'
    assert anchor in xml
    prop = f'<spiffworkflow:property name="documentTypes" value="{expression}" />'
    status, answer = analyst.action("initial_enrolment.bpmn", "brouillon", xml=xml.replace(anchor, anchor + prop))
    assert status == 200 and answer == {"saved": True}


def package_action(analyst, action, **fields):
    response = analyst.post(f"/processus/paquet/{action}", next="/processus/documents", **fields)
    assert response.status_code == 303
    return analyst.browser.get(response.headers["Location"])


def at_applicant(portal, supplier=None):
    journey = Journey(portal.test_client(), supplier or Supplier())
    journey.start()
    journey.until("applicant")
    return journey


def code_files() -> dict:
    """{path: (size, mtime)} of what a procedure change must not need: app/, forms/, mail_templates/."""
    root = Path(__file__).parent.parent
    return {p: (p.stat().st_size, p.stat().st_mtime_ns) for folder in ("app", "forms", "mail_templates")
            for p in (root / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts}


def test_an_analyst_asks_one_more_document_for_one_dsr_only(portal, mailbox):
    untouched = code_files()
    analyst = Analyst(portal)
    before = at_applicant(portal)  # started on the package deployed from the files

    page = add_type(analyst)
    assert f"Type « {LABEL} » enregistré dans le brouillon" in " ".join(page.alerts())
    assert LABEL in page.texts("//table[@id='document-types']//td")
    ask_on_applicant(analyst, "['attestation_inconnue']")
    page = package_action(analyst, "verifier")
    assert "initial_enrolment.bpmn / applicant : propriété documentTypes : type de document inconnu " \
           "« attestation_inconnue »." in page.alerts()
    ask_on_applicant(analyst, ASKS_FOR_HOSPITALS)
    page = package_action(analyst, "verifier")
    assert "Le paquet de processus, avec vos brouillons, peut être déployé." in page.alerts()
    page = package_action(analyst, "deployer", comment="Attestation DSR pour les logiciels hospitaliers")
    assert any("Paquet de processus version 2 déployé" in alert for alert in page.alerts())

    # A hospital software (DSR « Hôpital ») must deposit it, within its formats and size.
    journey = at_applicant(portal)
    field = journey.page.doc.xpath("//input[@type='file'][@name='doc_attestation_dsr']")[0]
    assert field.get("accept") == ".pdf"
    hint = journey.page.doc.xpath(f"string(//*[@id='{field.get('id')}-hint'])")
    assert hint.startswith("Attestation signée par l'éditeur du logiciel. Taille maximale : 1 Mo. Formats supportés : pdf.")
    page = journey.fill().submit("Etape suivante")
    assert page.status == 422
    assert page.errors()["doc_attestation_dsr"] == [f"Veuillez joindre le document « {LABEL} »."]
    page = journey.fill().attach("doc_attestation_dsr", "attestation.png", png_bytes()).submit("Etape suivante")
    assert page.errors()["doc_attestation_dsr"] == [
        f"attestation.png : L'extension .png n'est pas acceptée pour « {LABEL} » : formats acceptés : pdf."]
    page = journey.fill().attach("doc_attestation_dsr", "attestation.pdf",
                                 pdf_bytes(size=1024 * 1024 + 1)).submit("Etape suivante")
    assert page.errors()["doc_attestation_dsr"] == [
        f"attestation.pdf : Le fichier dépasse la taille maximale de 1 Mo acceptée pour « {LABEL} »."]
    assert page.form().values["trade_name"] == ["BIS SANTE"]  # nothing typed is lost
    journey.page = journey.fill().attach("doc_attestation_dsr", "attestation-dsr.pdf",
                                         pdf_bytes("Attestation DSR")).submit("Etape suivante")
    assert journey.form_key == "bank_details", journey.page.errors()
    journey.until("confirmation")
    recap = journey.page.content
    assert LABEL in recap and "attestation-dsr.pdf" in recap
    public_id = journey.complete().url.split("/")[2]
    with portal.app_context():
        filed = db.session.scalar(db.select(Document).where(Document.kind == "attestation_dsr"))
        assert filed.state == "filed" and filed.label == LABEL
        recap = db.session.scalar(db.select(Document).where(Document.kind == "recap_pdf"))
        text = " ".join(page.extract_text() for page in PdfReader(documents.path_of(recap)).pages)
        assert LABEL in " ".join(text.split()) and "attestation-dsr.pdf" in text

    # The agent sees it, and may ask for it in « Demander des pièces ».
    agent = Agent(portal)
    review = agent.claim(public_id).content
    assert LABEL in review and "attestation-dsr.pdf" in review
    form = agent.decision_form(public_id).form_with("Enregistrer la décision")
    offered = form.element.xpath(".//input[@name='requested_types']/@value")
    assert "attestation_dsr" in offered and "recap_pdf" not in offered
    page = form.fill(decision="demander_pieces", requested_types=["attestation_dsr"],
                     message="Merci de fournir l'attestation à jour.").submit("Enregistrer la décision")
    assert page.status == 200, page.errors()
    mail = next(m for m in mailbox.to(Supplier().holder_email) if "pièces" in m["Subject"].lower())
    assert LABEL in mailbox.text(mail)
    page = Browser(portal.test_client()).get(link_in(mailbox.text(mail), "/depot/"))
    assert f"{LABEL} (formats : pdf ; 1 Mo au plus) : Attestation signée" in page.content
    page = page.form().fill(document_type="attestation_dsr").attach("document_file", "a.png", png_bytes()).submit("Importer")
    assert page.errors()["document_file"] == [
        f"a.png : L'extension .png n'est pas acceptée pour « {LABEL} » : formats acceptés : pdf."]
    page = page.form().fill(document_type="attestation_dsr").attach(
        "document_file", "attestation-2026.pdf", pdf_bytes()).submit("Importer")
    assert f"Le fichier « attestation-2026.pdf » a bien été importé ({LABEL})." in page.alerts()
    assert page.form().submit("Confirmer").status == 200
    assert "attestation-2026.pdf" in agent.review(public_id).content
    page = analyst.browser.get("/processus/documents").form_with(f"Supprimer « {LABEL} »").submit("Supprimer")
    assert f"Le type « {LABEL} » ne peut pas être supprimé : le diagramme initial_enrolment.bpmn le demande " \
           "(tâche applicant) ; 2 documents déposés sont de ce type." in page.alerts()
    assert code_files() == untouched

    # Another DSR is not asked; the request started before keeps its version.
    other = at_applicant(portal, Supplier(**RADIOLOGY))
    assert "doc_attestation_dsr" not in other.page.form().fields()
    before.page = before.browser.get(before.page.url)
    assert before.form_key == "applicant" and "doc_attestation_dsr" not in before.page.form().fields()


def test_the_editor_refuses_bad_types_and_deleting_a_used_one(portal):
    analyst = Analyst(portal)
    agent = Agent(portal)
    assert agent.browser.get("/processus/documents").status == 404  # analysts' and admins' page
    assert agent.browser.get("/processus/documents/kbis").status == 404
    page = add_type(analyst, code="Attestation DSR", label=" ", formats=[], max_size_mb="0")
    assert page.status == 422
    assert page.errors()["code"][0].startswith("Le code doit commencer par une lettre minuscule")
    page = add_type(analyst, label=" ", formats=[], max_size_mb="11")
    assert page.errors() == {"label": ["Le libellé est obligatoire."],
                             "formats": ["Choisissez au moins un format accepté."],
                             "max_size_mb": ["La taille maximale doit être un nombre de Mo supérieur à 0 et d'au plus 10 Mo."]}
    assert page.form("document-type-form").values["help"][0].strip() == "Attestation signée par l'éditeur du logiciel."
    page = add_type(analyst, code="kbis")
    assert page.errors()["code"] == ["Le code « kbis » est déjà celui d'un type de document."]

    page = analyst.browser.get("/processus/documents").form_with("Supprimer « KBIS »").submit("Supprimer")
    assert "Le type « KBIS » ne peut pas être supprimé : un formulaire du portail le demande." in page.alerts()
    add_type(analyst)
    ask_on_applicant(analyst, ASKS_FOR_HOSPITALS)
    page = analyst.browser.get("/processus/documents").form_with(f"Supprimer « {LABEL} »").submit("Supprimer")
    assert f"Le type « {LABEL} » ne peut pas être supprimé : le diagramme initial_enrolment.bpmn le demande " \
           "(tâche applicant)." in page.alerts()
    page = add_type(analyst, code="inutile", label="Pièce inutile")
    page = page.form_with("Supprimer « Pièce inutile »").submit("Supprimer")
    assert "Type « Pièce inutile » supprimé du brouillon." in page.alerts()
    assert "inutile" not in " ".join(page.texts("//table[@id='document-types']//td"))

    # Changing a type: its label is what every page reads once deployed.
    page = analyst.browser.get("/processus/documents/rib").form("document-type-form")
    page = page.fill(label="Relevé d'identité bancaire (RIB)").submit("Enregistrer dans le brouillon")
    page = package_action(analyst, "deployer", comment="Libellé du RIB")
    journey = Journey(portal.test_client(), Supplier(**RADIOLOGY))
    journey.start()
    journey.until("bank_details")
    assert "Relevé d'identité bancaire (RIB) *" in journey.page.texts("//label")


def test_a_type_an_earlier_version_asks_for_stays_while_requests_follow_that_version(portal):
    analyst = Analyst(portal)
    add_type(analyst)
    ask_on_applicant(analyst, "['attestation_dsr']")
    package_action(analyst, "deployer", comment="Attestation pour tous")
    running = at_applicant(portal)  # a request on that version, at the step that asks for the type
    ask_on_applicant(analyst, "[]")
    package_action(analyst, "deployer", comment="Plus d'attestation")
    page = analyst.browser.get("/processus/documents").form_with(f"Supprimer « {LABEL} »").submit("Supprimer")
    refusal = " ".join(page.alerts())
    assert f"Le type « {LABEL} » ne peut pas être supprimé : la version" in refusal
    assert "que suivent des demandes en cours, le demande (tâche applicant)" in refusal
    # The request still gets its step as its version says.
    assert LABEL + " *" in running.page.texts("//label")
    assert LABEL + " *" in running.browser.get(running.page.url).texts("//label")


def test_a_failing_expression_shows_a_french_message_not_an_error(portal):
    analyst = Analyst(portal)
    ask_on_applicant(analyst, "['kbis'] + _secret")
    page = package_action(analyst, "verifier")
    assert "initial_enrolment.bpmn / applicant : propriété documentTypes : Expression refusée : ligne 1 : le nom " \
           "« _secret » est interdit (il commence par « _ »)." in page.alerts()
    ask_on_applicant(analyst, "referencing['inconnu']")
    page = package_action(analyst, "deployer", comment="Expression fautive")
    assert any("déployé" in alert for alert in page.alerts())
    journey = Journey(portal.test_client())
    journey.start()
    for _ in range(3):
        journey.page = journey.fill().submit(journey._submit_label())
        if journey.page.status != 200:
            break
    assert journey.page.status == 503
    assert "La liste des pièces à déposer à cette étape n'a pas pu être établie" in journey.page.content
    assert re.search(r"Vos informations sont conservées", journey.page.content)


DEPOSIT_TASK = ('<bpmn:userTask id="dsr_documents" name="Déposer les pièces de votre DSR"><bpmn:extensionElements>'
                '<spiffworkflow:properties><spiffworkflow:property name="formKey" value="depot_pieces" />'
                '<spiffworkflow:property name="documentTypes" value="[\'attestation_dsr\']" />'
                '</spiffworkflow:properties></bpmn:extensionElements>'
                '<bpmn:incoming>flow_vat_done</bpmn:incoming><bpmn:outgoing>flow_dsr_done</bpmn:outgoing></bpmn:userTask>'
                '<bpmn:sequenceFlow id="flow_dsr_done" sourceRef="dsr_documents" targetRef="confirmation" />')


def test_a_task_that_only_asks_documents_needs_no_form_class(portal):
    analyst = Analyst(portal)
    add_type(analyst)
    xml = analyst.browser.client.get("/processus/fichiers/initial_enrolment.bpmn/xml").get_json()["xml"]
    for old, new in (("<bpmn:flowNodeRef>vat_regime</bpmn:flowNodeRef>",
                      "<bpmn:flowNodeRef>vat_regime</bpmn:flowNodeRef><bpmn:flowNodeRef>dsr_documents</bpmn:flowNodeRef>"),
                     ('targetRef="confirmation" />', 'targetRef="dsr_documents" />'),
                     ("<bpmn:incoming>flow_vat_done</bpmn:incoming>", "<bpmn:incoming>flow_dsr_done</bpmn:incoming>"),
                     ("</bpmn:process>", DEPOSIT_TASK + "</bpmn:process>")):
        assert xml.count(old) == 1, old
        xml = xml.replace(old, new)
    status, answer = analyst.action("initial_enrolment.bpmn", "brouillon", xml=xml)
    assert status == 200
    page = package_action(analyst, "deployer", comment="Une étape de dépôt des pièces DSR")
    assert any("déployé" in alert for alert in page.alerts()), page.alerts()

    journey = Journey(portal.test_client())
    journey.start()
    journey.until("depot_pieces")
    assert journey.page.texts("//h2")[0] == "Déposer les pièces de votre DSR"
    page = journey.page.form().submit("Etape suivante")
    assert page.errors() == {"doc_attestation_dsr": [f"Veuillez joindre le document « {LABEL} »."]}
    journey.page = page.form().attach("doc_attestation_dsr", "attestation-dsr.pdf", pdf_bytes()).submit("Etape suivante")
    assert journey.form_key == "confirmation", journey.page.errors()
    assert LABEL in journey.page.content and "attestation-dsr.pdf" in journey.page.content
    journey.complete()
    with portal.app_context():
        assert db.session.scalar(db.select(Document.state).where(Document.kind == "attestation_dsr")) == "filed"
