"""Roles and lanes as package data, and the separation of duties, driven as analysts, admins and
agents do it: an analyst adds a « Superviseur » role and lane and a timer that escalates a review
left waiting to it; an admin gives the role; the supervisor's queue shows the escalated request, an
agent's does not. A rejection must be confirmed by a second agent: the first is refused (claim and
step), another one confirms. Nothing here writes a file of the application."""
import re
from datetime import timedelta

import pytest

from app import clock, package
from app.engine import DutySeparated, Run
from app.extensions import db
from app.models import EnrolmentRequest, User
from app.services import timers
from app.worker import drain
from browser import Browser
from instruction_steps import Agent, file_request
from people import log_in, make_user
from studio import Analyst
from rows import stored

QUEUE = "/gestion/demandes"

SUPERVISOR_LANE = '''<bpmn:lane id="Lane_Superviseur" name="Superviseur">
        <bpmn:flowNodeRef>supervise</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>'''

ESCALATION = '''<bpmn:boundaryEvent id="review_late" name="Instruction en attente depuis 5 jours" attachedToRef="review" cancelActivity="true">
      <bpmn:outgoing>flow_escalate</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"P5D"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="supervise" name="Décider de la demande en souffrance">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="instruction_decision" /><spiffworkflow:property name="decisions" value="valider,rejeter,demander_pieces" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>flow_escalate</bpmn:incoming>
      <bpmn:outgoing>flow_supervised</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="flow_escalate" sourceRef="review_late" targetRef="supervise" />
    <bpmn:sequenceFlow id="flow_supervised" sourceRef="supervise" targetRef="decision" />
  </bpmn:process>'''

CONFIRMATION = '''<bpmn:userTask id="confirm_rejection" name="Confirmer le rejet">
      <bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="formKey" value="instruction_decision" /><spiffworkflow:property name="decisions" value="rejeter,valider" /><spiffworkflow:property name="notSameActorAs" value="{other}" /></spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>flow_reject</bpmn:incoming>
      <bpmn:outgoing>flow_confirm_decided</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="confirmed" name="Rejet confirmé ?" default="flow_not_confirmed">
      <bpmn:incoming>flow_confirm_decided</bpmn:incoming>
      <bpmn:outgoing>flow_confirmed</bpmn:outgoing>
      <bpmn:outgoing>flow_not_confirmed</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="flow_confirm_decided" sourceRef="confirm_rejection" targetRef="confirmed" />
    <bpmn:sequenceFlow id="flow_confirmed" sourceRef="confirmed" targetRef="status_rejected"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">decision == 'rejeter'</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="flow_not_confirmed" sourceRef="confirmed" targetRef="review" />
  </bpmn:process>'''


def instruction_xml(analyst) -> str:
    return analyst.browser.client.get("/processus/fichiers/instruction.bpmn/xml").get_json()["xml"]


def with_escalation(xml: str) -> str:
    assert xml.count("</bpmn:laneSet>") == 1 and xml.count("</bpmn:process>") == 1
    xml = xml.replace("    </bpmn:laneSet>", "      " + SUPERVISOR_LANE, 1)
    xml = xml.replace('<bpmn:flowNodeRef>review</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>review</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>review_late</bpmn:flowNodeRef>', 1)
    return xml.replace("  </bpmn:process>", "    " + ESCALATION, 1)


def with_confirmation(xml: str, other: str = "review") -> str:
    xml = xml.replace('<bpmn:sequenceFlow id="flow_reject" name="Rejeter" sourceRef="decision" targetRef="status_rejected">',
                      '<bpmn:sequenceFlow id="flow_reject" name="Rejeter" sourceRef="decision" targetRef="confirm_rejection">', 1)
    xml = xml.replace('<bpmn:flowNodeRef>review</bpmn:flowNodeRef>',
                      '<bpmn:flowNodeRef>review</bpmn:flowNodeRef>\n        <bpmn:flowNodeRef>confirm_rejection</bpmn:flowNodeRef>'
                      '\n        <bpmn:flowNodeRef>confirmed</bpmn:flowNodeRef>', 1)
    return xml.replace("  </bpmn:process>", "    " + CONFIRMATION.format(other=other), 1)


def flashed(page) -> str:
    return " ".join(" ".join(page.alerts()).split())


def numbers(page) -> list[str]:
    return page.doc.xpath('//*[@id="queue"]//tbody/tr/@data-number')


def user_id(portal, login) -> int:
    with portal.app_context():
        return db.session.scalar(db.select(User.id).where(User.login == login))


def add_supervisor_role(analyst) -> None:
    """« Rôles et couloirs »: a new role with its lane, as the analyst types it (a bad code first)."""
    page = analyst.browser.get("/processus/roles")
    assert page.status == 200 and page.h1 == "Rôles et couloirs"
    form = page.form("roles-form")
    new = int(form.values["count"][0]) - 1  # the empty row that adds a role
    refused = form.fill(**{f"role-{new}-code": "Superviseur !", f"role-{new}-label": "Superviseur",
                           f"role-{new}-lanes": "Superviseur"}).submit("Enregistrer le brouillon")
    assert refused.status == 422 and "Code « Superviseur ! » invalide" in refused.content
    assert "n'est pas enregistré" in flashed(refused)
    form = refused.form("roles-form")
    page = form.fill(**{f"role-{new}-code": "supervisor", f"role-{new}-label": "Superviseur",
                        f"role-{new}-lanes": "Superviseur", f"role-{new}-staff": True,
                        f"role-{new}-cap": ["see_requests", "instruct"]}).submit("Enregistrer le brouillon")
    assert page.status == 200 and "Brouillon des rôles enregistré" in flashed(page), page.alerts()


def test_an_analyst_adds_a_supervisor_lane_that_a_timer_escalates_a_waiting_review_to(portal, mailbox):
    analyst = Analyst(portal)
    xml = with_escalation(instruction_xml(analyst))
    # The diagram alone is refused: no role works in the « Superviseur » lane yet.
    status, answer = analyst.action("instruction.bpmn", "verifier", xml=xml)
    assert status == 200 and answer["ok"] is False
    assert any(p["element"] == "supervise" and "« Superviseur » n'est le couloir d'aucun rôle" in p["message"]
               for p in answer["problems"]), answer
    add_supervisor_role(analyst)
    status, answer = analyst.action("instruction.bpmn", "verifier", xml=xml)
    assert answer == {"ok": True, "problems": []}, answer
    analyst.action("instruction.bpmn", "brouillon", xml=xml)  # « Vérifier » saves nothing
    page = analyst.browser.get("/processus/roles").form("package-check").submit("Vérifier")
    assert page.url.startswith("/processus/roles") and "peut être déployé" in flashed(page)
    page = analyst.browser.get("/processus/roles").form("package-deploy").fill(comment="Escalade au superviseur") \
        .submit("Déployer")
    assert "Paquet de processus version 2 déployé" in flashed(page), page.alerts()
    with portal.app_context():
        assert package.current()["roles"].lanes_of(["supervisor"]) == ("Superviseur",)

    # An admin gives the role on « Comptes »; `flask users` takes the account's agent role back.
    sup_login, sup_password = make_user(portal, "agent", first_name="Sophie", last_name="Superviseure")
    admin = Browser(portal.test_client())
    log_in(admin, *make_user(portal, "admin"))
    accounts_page = admin.get("/gestion/comptes")
    assert accounts_page.status == 200 and accounts_page.h1 == "Comptes"
    sup_id = user_id(portal, sup_login)
    page = accounts_page.form(f"donner-{sup_id}").fill(role="supervisor").submit("Donner le rôle")
    assert f"Rôle « Superviseur » donné au compte {sup_login}." in flashed(page)
    assert re.search(r"Gestionnaire ASP.*Superviseur", " ".join(page.texts(f'//tr[@id="compte-{sup_id}"]/td[4]')))
    runner = portal.test_cli_runner()
    result = runner.invoke(args=["users", "remove-role", sup_login, "agent"])
    assert result.exit_code == 0 and f"Rôles de {sup_login} : Superviseur." in result.output, result.output
    result = runner.invoke(args=["users", "remove-role", sup_login, "supervisor"])
    assert result.exit_code != 0 and "doit garder au moins un rôle" in result.output
    result = runner.invoke(args=["users", "add-role", sup_login, "chef"])
    assert result.exit_code != 0 and "Rôle inconnu « chef »" in result.output
    # A role that accounts hold cannot be dropped from the package.
    with portal.app_context():
        data = package.current().data
        roles = {code: item for code, item in data["roles"].items() if code != "supervisor"}
        assert any("ce rôle est encore donné à des comptes" in str(p)
                   for p in package.check(package.deployed_sources(), {**data, "roles": roles}))

    start = clock.now()
    clock.freeze(start)
    public_id, _ = file_request(portal)
    number = stored(portal, public_id).number
    agent = Agent(portal)
    supervisor = Agent(portal, credentials=(sup_login, sup_password))
    assert number in numbers(agent.browser.get(QUEUE))
    assert number not in numbers(supervisor.browser.get(QUEUE))
    agent.claim(public_id)  # and then does nothing for five days

    clock.freeze(start + timedelta(days=4, hours=23))
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 0
    clock.freeze(start + timedelta(days=5, minutes=1))
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1
    assert number not in numbers(agent.browser.get(QUEUE))
    assert number in numbers(supervisor.browser.get(QUEUE))
    assert agent.browser.client.get(f"/demandes/{public_id}/etape").status_code == 303  # nothing of theirs
    # The agent still holds it but cannot do the supervisor's task: the supervisor takes it over.
    page = supervisor.decide(public_id, "valider")
    assert page.status == 200, page.alerts()
    request = stored(portal, public_id)
    assert request.status == "validated" and request.claimed_by_id == user_id(portal, sup_login)
    assert number not in numbers(supervisor.browser.get(QUEUE))


def deploy_confirmation(portal, analyst) -> None:
    deployed = instruction_xml(analyst)
    status, answer = analyst.action("instruction.bpmn", "verifier", xml=with_confirmation(deployed, "nowhere"))
    assert answer["ok"] is False and any(
        p["element"] == "confirm_rejection" and "aucune tâche utilisateur « nowhere »" in p["message"]
        for p in answer["problems"]), answer
    status, answer = analyst.action("instruction.bpmn", "verifier", xml=with_confirmation(deployed))
    assert answer == {"ok": True, "problems": []}, answer
    analyst.action("instruction.bpmn", "brouillon", xml=with_confirmation(deployed))  # « Vérifier » saves nothing
    response = analyst.post("/processus/paquet/deployer", comment="Rejet confirmé par un second agent",
                            next="/processus/fichiers/instruction.bpmn")
    assert response.status_code == 303


def test_a_rejection_confirmed_by_a_second_agent_refuses_the_first(portal, mailbox):
    analyst = Analyst(portal)
    deploy_confirmation(portal, analyst)
    public_id, supplier = file_request(portal)
    first, second = Agent(portal, first_name="Paul"), Agent(portal, first_name="Jeanne")
    refusal = ("Vous avez effectué l'étape « Instruire la demande » de cette demande : l'étape « Confirmer le "
               "rejet » doit être faite par une autre personne.")
    # Their rejection is recorded; the step that follows is the confirmation, which they may not do:
    # they are back on the request's page, which says why.
    step = first.decide(public_id, "rejeter", reason="Le logiciel n'est pas référencé.")
    assert step.status == 200 and step.url.endswith(f"/gestion/demandes/{public_id}"), step.url
    assert refusal in flashed(step)
    assert stored(portal, public_id).status == "in_progress"
    step = first.browser.get(f"/demandes/{public_id}/etape")
    assert step.url.endswith(f"/gestion/demandes/{public_id}") and refusal in flashed(step)
    # Posting the confirmation anyway is refused.
    token = step.doc.xpath("//input[@name='csrf_token']/@value")[0]
    response = first.browser.client.post(f"/demandes/{public_id}/etape", data={"csrf_token": token, "decision": "rejeter"})
    assert response.status_code == 403 and "doit être faite par une autre personne" in response.get_data(as_text=True)
    review = first.review(public_id)
    assert "Instruire la demande" not in [" ".join(a.text_content().split()) for a in review.doc.xpath("//a")]
    # The engine refuses it too, whatever the page.
    first_id = user_id(portal, first.login)
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        run = Run.load(request.instance, request)
        task = run.ready_task("Gestionnaire ASP")
        assert task.bpmn_id == "confirm_rejection"
        with pytest.raises(DutySeparated) as refused:
            run.complete(task.id, task.lane, {"decision": "rejeter", "reason": "Moi-même."}, actor_id=first_id)
        assert refused.value.message == refusal
        db.session.rollback()
    # Released, they cannot take it back while it waits on the confirmation.
    page = review.form_with("Libérer").submit("Libérer")
    assert "est libérée" in flashed(page)
    page = first.review(public_id).form_with("Prendre en charge").submit("Prendre en charge")
    assert refusal in flashed(page) and stored(portal, public_id).claimed_by_id is None
    # Another agent confirms.
    page = second.decide(public_id, "rejeter", reason="Le logiciel n'est pas référencé.")
    assert page.status == 200, page.alerts()
    request = stored(portal, public_id)
    assert request.status == "rejected"
    assert any("rejet" in m["Subject"].lower() for m in mailbox.to(supplier.holder_email))


def test_a_holder_who_may_not_confirm_is_taken_over_by_another_agent(portal, mailbox):
    analyst = Analyst(portal)
    deploy_confirmation(portal, analyst)
    public_id, _ = file_request(portal)
    first, second = Agent(portal, first_name="Paul", last_name="Durand"), Agent(portal)
    first.decide(public_id, "rejeter", reason="Pièces illisibles.")
    page = second.claim(public_id)
    assert "Vous avez pris en charge la demande" in flashed(page)
    assert stored(portal, public_id).claimed_by_id == user_id(portal, second.login)
    # Nor may an admin give it back to the first agent.
    admin = Agent(portal, role="admin")
    page = admin.review(public_id).form("reassign").fill(agent=user_id(portal, first.login)).submit("Réattribuer")
    assert ("Paul Durand a effectué l'étape « Instruire la demande » de cette demande : l'étape « Confirmer le "
            "rejet » doit être faite par une autre personne.") in flashed(page)
    assert stored(portal, public_id).claimed_by_id == user_id(portal, second.login)
    assert first.browser.client.get(f"/demandes/{public_id}/etape").status_code == 303


def test_the_check_refuses_a_table_that_locks_admins_or_analysts_out(portal):
    analyst = Analyst(portal)
    page = analyst.browser.get("/processus/roles")
    form = page.form("roles-form")
    rows = {form.values[f"role-{i}-code"][0]: i for i in range(int(form.values["count"][0]) - 1)}
    admin, analyst_row = rows["admin"], rows["analyst"]
    caps = [c for c in form.values[f"role-{admin}-cap"] if c != "accounts"]
    page = form.fill(**{f"role-{admin}-cap": caps, f"role-{analyst_row}-cap": ["see_requests"]}) \
        .submit("Enregistrer le brouillon")
    assert "Brouillon des rôles enregistré" in flashed(page)
    page = page.form("package-check").submit("Vérifier")
    messages = flashed(page)
    assert "le rôle « Administrateur » doit garder le droit « Gérer les comptes et leurs rôles »" in messages
    assert "le rôle « Analyste processus » doit garder le droit « Modifier les processus (studio « Processus ») »" in messages
    page = page.form("package-deploy").fill(comment="essai").submit("Déployer")
    assert "doit garder le droit" in flashed(page)
    with portal.app_context():
        assert package.current_row().version == 1


def test_the_migration_gives_accounts_their_role_and_running_requests_their_lanes(portal, mailbox):
    from flask_migrate import downgrade, upgrade
    from app.models import UserRole, WaitingLane
    public_id, _ = file_request(portal)
    login, _ = make_user(portal, "analyst")
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        instance_id = request.instance_id
        assert db.session.scalars(db.select(WaitingLane.lane).where(
            WaitingLane.instance_id == instance_id)).all() == ["Gestionnaire ASP"]
        db.session.remove()
        downgrade(revision="f1a2b3c4d5e6")
        upgrade()
        user = db.session.scalar(db.select(User).where(User.login == login))
        assert user.roles == ("analyst",) and [h.role for h in user.held_roles] == ["analyst"]
        assert db.session.scalar(db.select(db.func.count()).select_from(UserRole)) == \
            db.session.scalar(db.select(db.func.count()).select_from(User))
        assert db.session.scalars(db.select(WaitingLane.lane).where(WaitingLane.instance_id == instance_id)).all() \
            == ["Gestionnaire ASP"]
