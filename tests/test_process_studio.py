"""« Processus »: an analyst checks, compares, deploys and rolls back the diagrams over HTTP (the
studio page's buttons call these actions; tests/test_studio_browser.py drives the page itself)."""
from pathlib import Path

import pytest

from app.extensions import db
from app.models import EnrolmentRequest, ProcessVersion
from app.services import processes
from browser import Browser
from instruction_steps import Agent, file_request
from journey import Supplier
from people import log_in, make_user
from studio import Analyst

BPMN = Path(__file__).resolve().parent.parent / "bpmn"


def source(name: str) -> str:
    return (BPMN / name).read_text(encoding="utf-8")


@pytest.fixture
def analyst(portal):
    with portal.app_context():  # the diagrams of bpmn/, as on first start
        from app.package import deploy_files
        deploy_files(author="premier démarrage")
        db.session.commit()
    return Analyst(portal)


# --- « Vérifier »: one broken diagram per rule, the French message, the element to highlight ----

BROKEN = [
    ("schema", "initial_enrolment.bpmn",
     '<bpmn:sequenceFlow id="flow_vat_done" sourceRef="vat_regime" targetRef="confirmation" />',
     '<bpmn:sequenceFlow id="flow_vat_done" sourceRef="vat_regime" targetRef="confirmation" mauvais="1" />',
     None, "Schéma BPMN 2.0 non respecté"),
    ("parse", "initial_enrolment.bpmn",
     'targetRef="confirmation" />', 'targetRef="confirmation_perdue" />', None, "Diagramme invalide"),
    ("form", "initial_enrolment.bpmn", 'value="siret_search"', 'value="formulaire_perdu"',
     "siret_search", "formulaire inconnu « formulaire_perdu »"),
    ("lane", "initial_enrolment.bpmn", 'name="Fournisseur"', 'name="Prestataire"',
     "ans_search", "la tâche utilisateur doit être dans un couloir connu"),
    ("handler", "initial_enrolment.bpmn", 'id="bank.lookup"', 'id="bank.verifier"',
     "lookup_bank", "service inconnu « bank.verifier »"),
    ("parameter", "initial_enrolment.bpmn", '<spiffworkflow:parameter id="bic" type="str" value="bic" />', "",
     "lookup_bank", "paramètre obligatoire « bic » absent"),
    ("status", "initial_enrolment.bpmn", "value=\"'in_progress'\"", "value=\"'Presque finie'\"",
     "status_in_progress", "statut « Presque finie » inconnu"),
    ("expression", "initial_enrolment.bpmn", ">bank['valid']<", ">bank['valid'].__class__<",
     "bank_valid", "Expression refusée"),
    ("gateway", "initial_enrolment.bpmn",
     (' default="flow_bank_invalid"', 'targetRef="bank_details" name="Incohérents" />'),
     ("", 'targetRef="bank_details" name="Incohérents"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" '
          'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">bank.get(\'error\') == \'iban\'</bpmn:conditionExpression>'
          '</bpmn:sequenceFlow>'),
     "bank_valid", "ni flux par défaut ni conditions couvrant tous les cas"),
    ("call activity", "anticipated_finalisation.bpmn", 'calledElement="supporting_documents"',
     'calledElement="pieces_introuvables"', None, "pieces_introuvables"),
    ("timer", "supporting_documents.bpmn", '"P15D"', '"P15X"',
     "reminder_due", "durée « P15X » invalide"),
    ("flow without condition", "initial_enrolment.bpmn", ' default="flow_bank_invalid"', "",
     "flow_bank_invalid", "ce flux sort d'une passerelle exclusive sans condition et n'est pas son flux par défaut"),
    ("generator frame", "initial_enrolment.bpmn", ">bank['valid']<", ">(x for x in []).gi_frame.f_back<",
     "bank_valid", "l'attribut « gi_frame » est interdit"),
    ("power tower", "initial_enrolment.bpmn", ">bank['valid']<", ">bank['valid'] and 9**9**9**9<",
     "bank_valid", "la puissance « ** » produirait un entier de plus de 4 096 bits"),
    ("string repetition", "instruction.bpmn", "value=\"'rejet'\"", "value=\"'rejet' + 'a' * 10**10\"",
     "mail_rejected", "la répétition « * » produirait plus de 1 000 000 éléments ou caractères"),
    ("huge range", "instruction.bpmn", ">decision == 'valider'<", ">decision in range(10**12)<",
     "decision", "« range » produirait plus de 1 000 000 éléments"),
]
#: What RestrictedPython and SpiffWorkflow say in English (the analyst reads French only).
ENGLISH = ("without condition", "restricted name", "not allowed", "is an invalid", "forbidden")


@pytest.mark.parametrize("rule, file_name, before, after, element, message", BROKEN, ids=[b[0] for b in BROKEN])
def test_check_names_each_broken_rule_in_french(analyst, rule, file_name, before, after, element, message):
    xml = source(file_name)
    for old, new in zip(*((before, after) if isinstance(before, tuple) else ((before,), (after,)))):
        assert old in xml
        xml = xml.replace(old, new, 1)
    status, answer = analyst.action(file_name, "verifier", xml=xml)
    assert status == 200 and answer["ok"] is False, answer
    found = [p for p in answer["problems"] if message in p["message"]]
    assert found, answer["problems"]
    assert not [p for p in answer["problems"] if any(english in p["message"] for english in ENGLISH)]
    if element:
        assert element in {p["element"] for p in found}
    assert not analyst.drafts()  # « Vérifier » reads the posted XML, it saves nothing
    status, answer = analyst.action(file_name, "deployer", xml=xml, comment="essai")
    assert status == 422 and not answer["ok"]  # never deployable
    assert analyst.drafts() == {file_name}  # « Déployer » kept the work as a draft


def test_a_diagram_escaping_the_script_restrictions_cannot_be_deployed(analyst):
    xml = source("initial_enrolment.bpmn").replace(
        ">bank['valid']<", ">[c for c in ().__class__.__base__.__subclasses__()]<", 1)
    status, answer = analyst.action("initial_enrolment.bpmn", "deployer", xml=xml, comment="évasion")
    assert status == 422 and any("Expression refusée" in p["message"] for p in answer["problems"])
    with analyst.app.app_context():
        assert db.session.scalar(db.select(db.func.max(ProcessVersion.version))) == 1


def test_the_bpmn_folder_passes_the_check(analyst):
    status, answer = analyst.action("initial_enrolment.bpmn", "verifier", xml=source("initial_enrolment.bpmn"))
    assert (status, answer) == (200, {"ok": True, "problems": []})


# --- « Comparer », « Déployer », « Revenir à la version N » ----------------------------------------

RENAMED = source("instruction.bpmn").replace('name="Instruire la demande"', 'name="Examiner la demande"', 1)


def decision_heading(agent, public_id) -> str:
    return agent.decision_form(public_id).texts("//form[@data-form-key='instruction_decision']//h2")[0]


def test_deploy_keeps_running_requests_on_their_version_and_rollback_restores(analyst):
    app = analyst.app
    old_id, _ = file_request(app)  # started on version 1, waits in « review »

    status, answer = analyst.action("instruction.bpmn", "comparer", xml=RENAMED)
    assert status == 200
    assert answer["changes"] == [{"element_id": "review", "kind": "Tâche utilisateur", "process_id": "instruction",
                                  "name": "Examiner la demande", "what": "modifié"}]
    # the request is an initial_enrolment one: it waits in instruction's review, inside the call
    assert answer["impact"] == {"requests": 1, "elements": [
        {"process_id": "instruction", "element_id": "review", "name": "Examiner la demande", "what": "modifié",
         "requests": 1}]}
    assert not analyst.drafts()  # « Comparer » saves nothing

    status, answer = analyst.action("instruction.bpmn", "deployer", xml=RENAMED, comment="")
    assert status == 422 and "commentaire" in answer["error"]
    status, answer = analyst.action("instruction.bpmn", "deployer", comment="Libellé de l'étape d'instruction")
    assert status == 200 and answer["ok"] and answer["package"] == 2, answer
    deployed = {(v["process_id"], v["version"]) for v in answer["versions"]}
    assert {("instruction", 2), ("initial_enrolment", 2), ("complementary_enrolment", 2)} <= deployed

    new_id, _ = file_request(app, Supplier(ans_number="MSv2VIL014"))
    agent = Agent(app)
    assert decision_heading(agent, old_id) == "Instruire la demande"   # finishes on version 1
    assert decision_heading(agent, new_id) == "Examiner la demande"    # follows version 2
    agent.decide(old_id, "valider")
    with app.app_context():
        old = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == old_id))
        assert old.status == "validated" and old.instance.process_version.version == 1

    page = analyst.browser.get("/processus")
    row = page.texts("//tr[@id='version-instruction-2']")[0]
    assert "Libellé de l'étape d'instruction" in row and "En service" in row
    assert "brouillon" not in page.texts("//section[@id='process-instruction']")[0]
    assert page.texts("//tr[@id='version-initial_enrolment-2']//td")[5] == "1"  # the new request runs on it

    form = page.form("rollback-instruction-1")
    page = form.fill(comment="Retour au libellé du guide").submit("Revenir à la version 1")
    assert "instruction v3" in " ".join(page.alerts())
    assert "Retour à la version 1 : Retour au libellé du guide" in page.texts("//tr[@id='version-instruction-3']")[0]
    # its own editor: the SIRET of the others has an account now (complementary enrolments only)
    newest, _ = file_request(app, Supplier(ans_number="OFf2PHA003", siret="79031846300011"))
    assert decision_heading(agent, newest) == "Instruire la demande"


def test_a_draft_is_kept_until_deployed_or_discarded(analyst):
    status, _ = analyst.action("instruction.bpmn", "brouillon", xml=RENAMED)
    assert status == 200
    page = analyst.browser.get("/processus")
    assert "brouillon en cours" in page.texts("//section[@id='process-instruction']")[0]
    answer = analyst.browser.client.get("/processus/fichiers/instruction.bpmn/xml").get_json()
    assert answer["draft"] and "Examiner la demande" in answer["xml"]
    status, answer = analyst.action("instruction.bpmn", "brouillon", xml="<pas du xml")
    assert status == 422 and "XML valide" in answer["error"]
    page = Browser(analyst.browser.client).get("/processus")
    analyst.post("/processus/fichiers/instruction.bpmn/abandonner")
    answer = analyst.browser.client.get("/processus/fichiers/instruction.bpmn/xml").get_json()
    assert not answer["draft"] and "Examiner la demande" not in answer["xml"]


def test_the_studio_is_for_analysts_and_admins(portal, analyst):
    assert portal.test_client().get("/processus").status_code == 302
    agent = Agent(portal)
    assert agent.browser.get("/processus").status == 404
    assert agent.browser.get("/processus/fichiers/instruction.bpmn").status == 404
    Analyst(portal, role="admin")
    page = analyst.browser.get("/processus/fichiers/instruction.bpmn")
    assert page.status == 200 and page.doc.xpath("//*[@id='studio-canvas']")
    catalogue = analyst.browser.client.get("/processus/catalogue").get_json()
    assert "vat_regime" in catalogue["forms"] and "validated" in catalogue["statuses"]
    status = next(h for h in catalogue["handlers"] if h["name"] == "enrolment.set_status")
    assert status["params"][0]["name"] == "status" and "in_progress" in status["params"][0]["choices"]
    assert status["params"][0]["labels"]["in_progress"] == "En cours (in_progress)"
    mail = next(h for h in catalogue["handlers"] if h["name"] == "mail.send")["params"][0]
    assert "accuse_reception" in mail["choices"] and "identifiant" not in mail["choices"]  # the « demande » mails only


def test_cli_deploys_one_file_with_the_rest_of_the_deployed_set(analyst, tmp_path):
    edited = tmp_path / "instruction.bpmn"
    edited.write_text(RENAMED, encoding="utf-8")
    runner = analyst.app.test_cli_runner()
    result = runner.invoke(args=["bpmn", "check", str(edited)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["bpmn", "deploy", str(edited), "--comment", "depuis git"])
    assert result.exit_code == 0 and "instruction version 2 déployée" in result.output
    with analyst.app.app_context():
        assert "Examiner la demande" in processes.deployed_sources()["instruction.bpmn"]
