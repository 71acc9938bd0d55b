"""« Demandes en cours sur une version antérieure »: an analyst moves running requests to the version
deployed after them, over HTTP (the versions page's link, the checkboxes, « Déplacer vers la
version N », « Annuler le changement de version »), and `flask bpmn migrate` does it in a terminal.
The moved requests then go on to their end on the new version."""
from datetime import timedelta
from pathlib import Path

import pytest
from lxml import etree

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest, InstanceMove
from app.services import timers
from app.worker import drain
from instruction_steps import Agent, file_request
from journey import Journey, Supplier
from studio import Analyst

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
MODEL = "http://www.omg.org/spec/BPMN/20100524/MODEL"


def source(name: str) -> str:
    return (BPMN / name).read_text(encoding="utf-8")


def without(xml: str, *ids: str) -> str:
    """The diagram without the elements ``ids``, their flows and their drawing."""
    tree = etree.fromstring(xml.encode("utf-8"))
    flows = {f.get("id") for f in tree.iter(f"{{{MODEL}}}sequenceFlow")
             if f.get("sourceRef") in ids or f.get("targetRef") in ids}
    gone = set(ids) | flows
    for element in list(tree.iter()):
        if not isinstance(element.tag, str):
            continue
        local = etree.QName(element).localname
        if element.get("id") in gone or element.get("bpmnElement") in gone \
                or (local in ("incoming", "outgoing") and (element.text or "").strip() in gone):
            element.getparent().remove(element)
    return etree.tostring(tree, encoding="unicode")


#: A later task changed: the validation mail becomes another template (what the supplier reads).
NEW_MAIL = source("instruction.bpmn").replace("value=\"'validation'\"", "value=\"'certificats_valides'\"", 1)
#: The reminder of the supporting-documents loop, 10 days instead of 15.
TEN_DAYS = source("supporting_documents.bpmn").replace('"P15D"', '"P10D"', 1)
#: The agent can no longer ask for documents: the call of the supporting-documents loop is removed.
NO_DOCUMENTS = without(source("instruction.bpmn"), "supporting_documents")


#: A reminder timer attached to the agent's review (nothing was attached before).
REVIEW_TIMER = source("instruction.bpmn").replace('    <bpmn:sequenceFlow id="flow_start"', (
    '    <bpmn:boundaryEvent id="review_late" name="Instruction en retard" attachedToRef="review" cancelActivity="false">'
    '<bpmn:outgoing>flow_review_late</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDuration>"P30D"'
    '</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>\n'
    '    <bpmn:endEvent id="end_review_late" name="Retard signalé"><bpmn:incoming>flow_review_late</bpmn:incoming>'
    '</bpmn:endEvent>\n'
    '    <bpmn:sequenceFlow id="flow_review_late" sourceRef="review_late" targetRef="end_review_late" />\n'
    '    <bpmn:sequenceFlow id="flow_start"'), 1)
#: The VAT step removed from the supplier's form: the bank details lead straight to the confirmation.
NO_VAT = without(source("initial_enrolment.bpmn").replace('targetRef="vat_regime"', 'targetRef="confirmation"'),
                 "vat_regime")


@pytest.fixture
def analyst(portal):
    return Analyst(portal)


def deploy(analyst, comment: str, **files):
    """Drafts of ``files`` ({file name with « _ » for « . »: XML}), then « Déployer le paquet »."""
    for name, xml in files.items():
        status, answer = analyst.action(name.replace("_bpmn", ".bpmn"), "brouillon", xml=xml)
        assert status == 200, answer
    page = analyst.browser.get("/processus").form("package-deploy").fill(comment=comment).submit("Déployer le paquet")
    assert any("déployé" in alert for alert in page.alerts()), page.alerts()


def moving_page(analyst, process_id="initial_enrolment"):
    """The versions page's link of the process."""
    page = analyst.browser.get("/processus")
    link = page.doc.xpath(f"//a[@id='migration-{process_id}']/@href")[0]
    page = analyst.browser.get(link)
    assert page.status == 200, page.status
    return page


def row(page, public_id_or_number) -> str:
    return next(text for text in page.texts("//table[@id='migration-candidates']//tbody/tr")
                if public_id_or_number in text)


def instance_of(app, public_id):
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        instance = request.instance
        return dict(number=request.number, version=instance.process_version.version, package=instance.package.version,
                    state=instance.state_json, timer=instance.next_timer_at, status=request.status,
                    completed=instance.completed, instance_id=instance.id, lock=instance.lock_version)


def ask_documents(agent, public_id):
    page = agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS récent.")
    assert page.status == 200


def test_requests_waiting_in_unchanged_tasks_move_and_go_on_to_the_end_on_the_new_version(analyst, mailbox):
    app = analyst.app
    reviewed, supplier = file_request(app)  # waits in instruction's « Instruire la demande »
    late, _ = file_request(app, Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    agent = Agent(app)
    start = clock.now()
    clock.freeze(start)
    ask_documents(agent, late)  # waits in « Déposer des pièces jointes », with its P15D reminder
    before = instance_of(app, late)
    assert before["timer"] is not None

    clock.freeze(start + timedelta(days=3))  # moved 3 days after the documents were asked for
    deploy(analyst, "Courriel de validation", instruction_bpmn=NEW_MAIL)
    page = moving_page(analyst)
    assert "version 2" in page.h1 + page.content
    first = instance_of(app, reviewed)
    assert "Instruire la demande" in row(page, first["number"]) and "Oui" in row(page, first["number"])
    assert "Déposer des pièces jointes" in row(page, before["number"])
    page = page.form("migration-move").fill(instance=[first["instance_id"], before["instance_id"]]) \
        .submit("Déplacer vers la version 2")
    assert f"{first['number']} : déplacée vers la version 2." in page.alerts()
    assert f"{before['number']} : déplacée vers la version 2." in page.alerts()
    moved, moved_late = instance_of(app, reviewed), instance_of(app, late)
    assert (moved["version"], moved["package"]) == (2, 2) and moved_late["version"] == 2
    assert moved_late["timer"] == before["timer"]  # the reminder keeps its deadline
    assert not page.texts("//table[@id='migration-candidates']//input[@type='checkbox']")

    # history: from which version to which, by whom
    history = agent.review(reviewed).texts("//*[@id='history-table']//tr")
    line = next(text for text in history if "Changement de version du processus" in text)
    assert "version 1 → version 2" in line and analyst_login(analyst) in line

    # it goes on to its end on version 2: the validation mail is the new one
    agent.decide(reviewed, "valider")
    done = instance_of(app, reviewed)
    assert done["completed"] and done["status"] == "validated"
    subjects = [m["Subject"] for m in mailbox.to(supplier.holder_email)]
    assert any(s.startswith("Validation de vos certificats") for s in subjects), subjects
    assert not any(s.startswith("Acceptation de votre demande") for s in subjects), subjects

    # the moved timer fires when it was due, not 15 days after the move
    clock.freeze(start + timedelta(days=14, hours=23))
    with app.app_context():
        assert sum(drain(timers.fire_next)) == 0
    clock.freeze(start + timedelta(days=15, minutes=1))
    with app.app_context():
        assert sum(drain(timers.fire_next)) == 1
    assert instance_of(app, late)["version"] == 2


def analyst_login(analyst) -> str:
    with analyst.app.app_context():
        from app.models import User
        return db.session.scalars(db.select(User.login).where(User.role == "analyst")).first()


def test_a_request_waiting_in_a_removed_task_is_refused_with_its_reason(analyst):
    app = analyst.app
    waiting, _ = file_request(app)
    asked, _ = file_request(app, Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    ask_documents(Agent(app), asked)
    deploy(analyst, "Plus de demande de pièces", instruction_bpmn=NO_DOCUMENTS)
    page = moving_page(analyst)
    refused = instance_of(app, asked)
    assert ("Non : l'étape « Demande de pièces justificatives » où elle attend n'existe plus dans la version 2."
            in row(page, refused["number"]))
    assert not page.doc.xpath(f"//input[@name='instance' and @value='{refused['instance_id']}']")
    assert "Oui" in row(page, instance_of(app, waiting)["number"])
    page = page.form("migration-move").fill(instance=[instance_of(app, waiting)["instance_id"]]).submit()
    assert instance_of(app, waiting)["version"] == 2
    # posted anyway (e.g. a page from before the deploy): refused with the reason, nothing changes
    response = analyst.post("/processus/initial_enrolment/demandes-en-cours/deplacer",
                            instance=str(refused["instance_id"]))
    page = analyst.browser.get(response.headers["Location"])
    assert any("refusée, l'étape « Demande de pièces justificatives » où elle attend n'existe plus" in a
               for a in page.alerts()), page.alerts()
    assert instance_of(app, asked)["state"] == refused["state"] and instance_of(app, asked)["version"] == 1


def test_drafts_move_unless_they_wait_in_the_removed_step_and_requests_that_went_through_it_stay(analyst):
    app = analyst.app
    filed, _ = file_request(app)
    at_vat = Journey(app.test_client(), Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    at_vat.start()
    at_vat.until("vat_regime")
    early = Journey(app.test_client(), Supplier(ans_number="OFf2PHA003", siret="81245367800011"))
    early.start()
    early.until("bank_details")
    deploy(analyst, "Plus d'étape TVA", initial_enrolment_bpmn=NO_VAT)

    page = moving_page(analyst)
    rows = page.texts("//table[@id='migration-candidates']//tbody/tr")
    assert any(instance_of(app, filed)["number"] in r and "elle est passée par l'élément « Indiquer le régime de TVA », "
               "qui n'existe plus dans la version 2" in r for r in rows), rows
    assert any("Indiquer le régime de TVA" in r and "où elle attend n'existe plus dans la version 2" in r for r in rows)
    movable = page.doc.xpath("//table[@id='migration-candidates']//input[@name='instance']/@value")
    assert len(movable) == 1 and "Brouillon" in row(page, "Saisir les coordonnées bancaires")
    page = page.form("migration-move").fill(instance=movable).submit("Déplacer vers la version 2")
    assert "Brouillon : déplacée vers la version 2." in page.alerts()

    # the draft goes on, on version 2: no VAT step any more, then « Terminer »
    early.next()
    assert early.form_key == "confirmation", early.form_key
    early.next("Terminer")
    assert early.page.h1 == "Confirmation"
    submitted = instance_of(app, early.page.url.split("/")[2])
    assert submitted["version"] == 2 and submitted["number"] and submitted["status"] == "in_progress"


def test_a_request_waiting_in_a_changed_timer_is_refused_and_a_moved_one_follows_the_new_delay(analyst):
    app = analyst.app
    reviewed, _ = file_request(app)
    asked, _ = file_request(app, Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    agent = Agent(app)
    ask_documents(agent, asked)
    deploy(analyst, "Relance à 10 jours", supporting_documents_bpmn=TEN_DAYS)
    page = moving_page(analyst)
    assert ("l'étape « Délai de dépôt dépassé » où elle attend a changé dans la version 2."
            in row(page, instance_of(app, asked)["number"]))
    page.form("migration-move").fill(instance=[instance_of(app, reviewed)["instance_id"]]).submit()
    assert instance_of(app, reviewed)["version"] == 2

    start = clock.now()
    clock.freeze(start)
    ask_documents(agent, reviewed)
    clock.freeze(start + timedelta(days=9, hours=23))
    with app.app_context():
        assert sum(drain(timers.fire_next)) == 0
    clock.freeze(start + timedelta(days=10, minutes=1))
    with app.app_context():
        assert sum(drain(timers.fire_next)) == 1  # the reviewed request's reminder, after 10 days
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == reviewed))
        assert request.overdue_since is not None


def test_a_request_waiting_in_a_task_that_gets_a_timer_is_refused(analyst):
    app = analyst.app
    public_id, _ = file_request(app)
    deploy(analyst, "Relance de l'instruction", instruction_bpmn=REVIEW_TIMER)
    page = moving_page(analyst)
    assert "Non : l'étape « Instruire la demande » où elle attend a changé dans la version 2." in \
        row(page, instance_of(app, public_id)["number"])


def test_a_move_is_undone_while_nothing_else_happened(analyst):
    app = analyst.app
    public_id, _ = file_request(app)
    before = instance_of(app, public_id)
    deploy(analyst, "Courriel de validation", instruction_bpmn=NEW_MAIL)
    page = moving_page(analyst).form("migration-move").fill(instance=[before["instance_id"]]).submit()
    assert instance_of(app, public_id)["version"] == 2

    page = page.form_with("Annuler le changement de version").submit("Annuler le changement de version")
    assert f"{before['number']} : de retour sur la version 1." in page.alerts()
    back = instance_of(app, public_id)
    assert (back["version"], back["package"], back["state"], back["timer"]) == \
        (1, 1, before["state"], before["timer"])
    assert "Annulé le" in page.texts("//table[@id='migration-moves']//tbody/tr")[0]
    agent = Agent(app)
    history = " ".join(agent.review(public_id).texts("//*[@id='history-table']//tr"))
    assert "Changement de version annulé" in history

    # moved again; then the agent takes the request: the undo button of a stale page is refused
    page = moving_page(analyst).form("migration-move").fill(instance=[before["instance_id"]]).submit()
    stale = page.form_with("Annuler le changement de version")
    agent.claim(public_id)
    page = stale.submit("Annuler le changement de version")
    assert any("changement de version non annulé, il s'est passé autre chose sur la demande" in a
               for a in page.alerts()), page.alerts()
    assert instance_of(app, public_id)["version"] == 2
    agent.decide(public_id, "valider")
    row_text = moving_page(analyst).texts("//table[@id='migration-moves']//tbody/tr")[0]
    assert "la demande a avancé depuis ce changement de version" in row_text
    assert instance_of(app, public_id)["completed"]


def test_the_cli_dry_run_changes_nothing_and_the_real_run_moves(analyst):
    app = analyst.app
    public_id, _ = file_request(app)
    asked, _ = file_request(app, Supplier(ans_number="MSv2VIL014", siret="79031846300011"))
    ask_documents(Agent(app), asked)
    deploy(analyst, "Plus de demande de pièces", instruction_bpmn=NO_DOCUMENTS)
    before, other = instance_of(app, public_id), instance_of(app, asked)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["bpmn", "migrate", "initial_enrolment", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert f"{before['number']} : déplaçable vers la version 2" in result.output
    assert f"{other['number']} : refusée, l'étape « Demande de pièces justificatives »" in result.output
    assert instance_of(app, public_id) == before and instance_of(app, asked) == other
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(InstanceMove)) == 0

    result = runner.invoke(args=["bpmn", "migrate", "initial_enrolment", "--request", public_id])
    assert result.exit_code == 0, result.output
    assert f"{before['number']} : déplacée vers la version 2" in result.output
    assert other["number"] not in result.output
    assert instance_of(app, public_id)["version"] == 2 and instance_of(app, asked)["version"] == 1

    result = runner.invoke(args=["bpmn", "migrate", "initial_enrolment", "--to", "7"])
    assert result.exit_code != 0 and "n'a pas de version 7" in result.output
    result = runner.invoke(args=["bpmn", "migrate", "initial_enrolment", "--request", "ENR9999M0"])
    assert result.exit_code != 0 and "« ENR9999M0 » n'est pas une demande en cours" in result.output


def test_moving_requests_is_for_analysts_and_admins(portal, analyst):
    paths = ["/processus/demandes-en-cours", "/processus/initial_enrolment/demandes-en-cours"]
    agent = Agent(portal)
    for path in paths:
        assert agent.browser.get(path).status == 404
        assert portal.test_client().get(path).status_code == 302
    assert agent.browser.client.post("/processus/initial_enrolment/demandes-en-cours/deplacer").status_code in (400, 404)
    admin = Analyst(portal, role="admin")
    assert admin.browser.get(paths[1]).status == 200
    # reached from « Comparer »
    page = analyst.browser.get("/processus/paquet/comparer")
    page = page.follow("Demandes en cours sur une version antérieure")
    assert page.status == 200 and page.doc.xpath("//tr[@id='migration-process-initial_enrolment']")
    link = page.doc.xpath("//tr[@id='migration-process-initial_enrolment']//a/@href")[0]
    assert analyst.browser.get(link).doc.xpath("//table[@id='migration-candidates']")
    # a called process: its requests move with the process that calls them
    page = analyst.browser.get(page.doc.xpath("//tr[@id='migration-process-instruction']//a/@href")[0])
    callers = page.texts("//p[@id='migration-callers']")[0]
    assert "se déplace avec la demande qui l'appelle" in callers
    assert page.doc.xpath("//p[@id='migration-callers']/a[@href='/processus/initial_enrolment/demandes-en-cours']")


def test_a_request_with_an_open_incident_is_refused(analyst, monkeypatch):
    from test_incidents import break_handler
    app = analyst.app
    public_id, _ = file_request(app)
    break_handler(monkeypatch, "mail.send")  # the validation mail fails: an incident, the request waits
    Agent(app).decide(public_id, "valider")
    monkeypatch.undo()
    deploy(analyst, "Courriel de validation", instruction_bpmn=NEW_MAIL)
    page = moving_page(analyst)
    assert "un incident est ouvert sur cette demande : relancez-le ou résolvez-le d'abord." in \
        row(page, instance_of(app, public_id)["number"])
    assert not page.doc.xpath("//input[@name='instance']")
