"""A diagram expression that grows past the fixed limits at run time (from what a supplier entered)
stops its task with an incident whose reason is in French: the request waits for a retry, the
process and the other requests go on. What can be seen without task data is refused before, by
« flask bpmn check/deploy » as by « Vérifier » (tests/test_process_studio.py); the limits one by
one: tests/test_script_security.py."""
import pytest

from app.package import deploy_files
from app.extensions import db
from app.models import EnrolmentRequest, Incident, ProcessVersion
from instruction_steps import Agent
from journey import Journey, Supplier
from test_process_studio import Analyst, source

HELD = "Un incident technique empêche pour le moment la suite du traitement de votre demande."
#: Known when the referencing is found; for the ANS numbers ending in 009 it repeats the number
#: 10⁷ times (100 Mo, past the limit; 10⁹ would have exhausted the worker before the fix): nothing
#: to see at « Vérifier », only the run can tell.
GROWING = (">referencing['found'] and ans_number * (10**7 if ans_number.endswith('009') else 1) != ''<")


@pytest.fixture
def deployed(portal):
    with portal.app_context():  # the diagrams of bpmn/, as on first start
        deploy_files(author="premier démarrage")
        db.session.commit()
    return portal


def test_a_condition_growing_from_entered_data_is_an_incident_and_the_portal_goes_on(deployed, client):
    portal = deployed
    analyst = Analyst(portal)
    xml = source("initial_enrolment.bpmn").replace(">referencing['found']<", GROWING, 1)
    assert GROWING in xml
    status, answer = analyst.action("initial_enrolment.bpmn", "deployer", xml=xml, comment="Condition qui grossit")
    assert status == 200 and answer["ok"], answer

    journey = Journey(client)  # JGe2DPI009
    journey.start()
    step_url = journey.page.url
    page = journey.next()
    assert page.status == 503 and HELD in page.content
    assert "Limite" not in page.text and "ScriptLimitExceeded" not in page.text
    assert journey.browser.get(step_url).status == 503  # the request waits for a retry
    with portal.app_context():
        [incident] = db.session.scalars(db.select(Incident).join(Incident.request).where(
            EnrolmentRequest.public_id == step_url.split("/")[2])).all()
        assert (incident.task_bpmn_id, incident.resolved_at) == ("referencing_known", None)
        reason = incident.error
    assert reason.startswith("ScriptLimitExceeded('Limite dépassée dans une expression du diagramme : "
                             "la répétition « * » produirait plus de 1 000 000 éléments ou caractères.")
    listing = Agent(portal, "admin").browser.get("/gestion/incidents")
    assert "la répétition « * » produirait plus de 1 000 000" in listing.texts(f'//tr[@id="incident-{incident.id}"]')[0]

    # The process survived: another supplier goes through the same gateway.
    other = Journey(portal.test_client(), Supplier(ans_number="MSv2VIL014"))
    other.start()
    page = other.next()
    assert page.status == 200 and other.form_key == "referencing_certificate"


def test_flask_bpmn_check_and_deploy_refuse_an_exhausting_expression(deployed, tmp_path):
    portal = deployed
    edited = tmp_path / "instruction.bpmn"
    edited.write_text(source("instruction.bpmn").replace(
        ">decision == 'valider'<", ">decision == 'valider' * 10**10<", 1), encoding="utf-8")
    runner = portal.test_cli_runner()
    for command in (["bpmn", "check", str(edited)], ["bpmn", "deploy", str(edited), "--comment", "essai"]):
        result = runner.invoke(args=command)
        assert result.exit_code != 0, result.output
        assert ("instruction.bpmn / decision : condition vers status_validated : Expression refusée : "
                "la répétition « * » produirait plus de 1 000 000 éléments ou caractères.") in result.output
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.max(ProcessVersion.version))) == 1
