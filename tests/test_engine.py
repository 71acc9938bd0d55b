"""The engine layer without HTTP: the diagrams run headless, versions are stored once, instances
keep their version, timers fire when the (injected) clock says so."""
import json
from datetime import timedelta

import pytest

import diagrams as d
from app import clock
from app.engine import DeployError, EngineFailure, Run, TaskNotReady, read_folder
from app.package import deploy
from app.engine.registry import Param, handler, HANDLERS
from app.extensions import db
from app.models import OutboxMail, ProcessVersion
from app.services import continuations, documents, enrolment, timers
from app.worker import drain
from files import pdf_bytes

SUPPLIER, AGENT = "Fournisseur", "Gestionnaire ASP"


@pytest.fixture
def ctx(portal):
    with portal.app_context():
        yield portal


def doc(request, kind, field):
    return documents.store(request, kind, documents.check_upload(f"{kind}.pdf", pdf_bytes()), field=field).id


def do(run, form_key, **data):
    task = run.ready_task(SUPPLIER)
    assert task is not None and task.form_key == form_key, (task, form_key)
    run.complete(task.id, SUPPLIER, data)


def applicant_data(request):
    return dict(company_name="BEAUJOLAIS INFORMATIQUE SANTE", trade_name="BIS", street_type="Ancien chemin",
                street_name="LIEU DIT CHANTEMERLE", postal_code="69220", city="LANCIE",
                is_legal_representative="oui", rep_last_name="LEGAL", rep_first_name="Rep",
                rep_email="rep@fournisseur-sante.fr", rep_phone="+33123456789",
                doc_representative_id=doc(request, "representative_id", "doc_representative_id"))


@pytest.mark.parametrize("ans_number, expected_type", [
    ("JGe2DPI015", "INITIAL ANTICIPE"),   # pending referencing: the anticipated path
    ("MSv2VIL014", "INITIAL"),            # validated, not a SONS DPI
])
def test_initial_enrolment_runs_headless(ctx, ans_number, expected_type):
    request = enrolment.start()
    db.session.commit()
    run = Run.load(request.instance, request)
    do(run, "referencing_search", ans_number=ans_number)
    if expected_type == "INITIAL":
        do(run, "referencing_certificate",
           doc_referencing_certificate=doc(request, "referencing_certificate", "doc_referencing_certificate"))
    else:
        do(run, "referencing_anticipated")
    do(run, "siret_search", siret="34866299000038")
    do(run, "applicant", **applicant_data(request))
    do(run, "bank_details", iban="FR7630004000010001234567830", bic="BNPAFRPP", account_holder="BIS",
       bank_domiciliation="BNP PARIBAS", doc_rib=doc(request, "rib", "doc_rib"))
    do(run, "vat_regime", vat_liable="oui", vat_rate="20")
    do(run, "confirmation", accept_cgu=True, accept_penal_code=True, accept_sincerity=True)
    run.save()
    db.session.commit()

    assert (request.number, request.status, request.enrolment_type) == ("ENR0001M0", "in_progress", expected_type)
    assert request.ans_number == ans_number and request.siret == "34866299000038"
    # The recap PDF is asynchronous: the engine stopped in front of it, the instance due for the worker.
    assert request.instance.async_due_at is not None
    recaps = lambda: [d for d in request.documents if d.kind == "recap_pdf"]  # noqa: E731
    assert db.session.scalar(db.select(OutboxMail)) is None and not recaps()
    assert drain(continuations.run_next) == [True]
    db.session.refresh(request)
    assert request.instance.async_due_at is None and len(recaps()) == 1
    mail = db.session.scalar(db.select(OutboxMail))
    assert (mail.event, mail.recipient, mail.status) == ("accuse_reception", "rep@fournisseur-sante.fr", "pending")
    # The request now waits on the agent, in the instruction process the diagram calls.
    reloaded = Run.load(request.instance, request)
    assert reloaded.ready_task(SUPPLIER) is None
    review = reloaded.ready_task(AGENT)
    assert (review.bpmn_id, review.form_key) == ("review", "instruction_decision")
    # Task data holds scalars and ids only; the state does not carry the specs.
    assert all(isinstance(v, (str, int, float, bool, type(None), dict)) for v in reloaded.data.values())
    assert "task_specs" not in request.instance.state_json


def test_instruction_runs_headless(ctx):
    """instruction → supporting_documents (called) → back to the review → rejection."""
    request = enrolment.start("instruction")
    request.number, request.holder_email, request.submitted_at = "ENR0042M0", "rep@exemple.fr", clock.now()
    request.status = "in_progress"
    run = Run.load(request.instance, request)
    task = run.ready_task(AGENT)
    assert (task.label, task.properties["decisions"]) == (
        "Instruire la demande", "valider,valider_partiellement,rejeter,demander_pieces")
    with pytest.raises(TaskNotReady):     # a supplier cannot complete an agent's task
        run.complete(task.id, SUPPLIER, {})
    run.complete(task.id, AGENT, {"decision": "demander_pieces", "requested_types": ["kbis"], "message": "KBIS"})
    assert request.status == "awaiting_documents"
    deposit = run.ready_task(SUPPLIER)
    assert deposit.form_key == "supporting_documents" and run.ready_task(AGENT) is None
    run.complete(deposit.id, SUPPLIER, {"deposit": "aucune piece", "deposited": []})
    assert request.status == "in_progress"  # back to the status before the request for documents
    review = run.ready_task(AGENT)
    assert review.bpmn_id == "review"
    run.complete(review.id, AGENT, {"decision": "rejeter", "reason": "Incomplet"})
    assert run.save().completed and request.status == "rejected"
    events = [m.event for m in db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id))]
    assert events == ["demande_pieces", "rejet"]


def test_a_task_is_completed_once(ctx):
    request = enrolment.start()
    run = Run.load(request.instance, request)
    task = run.ready_task(SUPPLIER)
    run.complete(task.id, SUPPLIER, {"ans_number": "JGe2DPI009"})
    with pytest.raises(TaskNotReady):
        run.complete(task.id, SUPPLIER, {"ans_number": "JGe2DPI009"})
    with pytest.raises(TaskNotReady):
        run.complete("not-a-uuid", SUPPLIER, {})


def test_specs_are_stored_once_per_version_and_instances_keep_theirs(ctx):
    def documents_with(label):
        return {"parent.bpmn": d.process("parent", [d.call_activity("call", "child")], d.chain("call")),
                "child.bpmn": d.process("child", [d.user_task("ask", name=label)], d.chain("ask"))}

    first = deploy(documents_with("Version 1"), author="test")
    assert {(v.process_id, v.version) for v in first} == {("parent", 1), ("child", 1)}
    assert deploy(documents_with("Version 1"), author="test") == []          # nothing changed
    old = enrolment.start("parent")
    db.session.commit()

    second = deploy(documents_with("Version 2"), author="test", comment="libellé")
    # The parent embeds the child it calls: both get a new version.
    assert {(v.process_id, v.version) for v in second} == {("parent", 2), ("child", 2)}
    db.session.commit()
    new = enrolment.start("parent")
    assert Run.load(old.instance, old).ready_task(SUPPLIER).label == "Version 1"
    assert Run.load(new.instance, new).ready_task(SUPPLIER).label == "Version 2"
    stored = json.loads(db.session.scalar(db.select(ProcessVersion.spec_json).where(
        ProcessVersion.process_id == "parent", ProcessVersion.version == 2)))
    assert set(stored["subprocess_specs"]) == {"child"}


def test_bpmn_folder_deploys_and_is_current(app):
    with app.app_context():
        created = deploy(read_folder(app.config["BPMN_FOLDER"]), author="test")
        assert {v.process_id for v in created} == {"initial_enrolment", "complementary_enrolment", "instruction",
                                                   "supporting_documents", "anticipated_finalisation"}
        assert deploy(read_folder(app.config["BPMN_FOLDER"]), author="test") == []


def test_nothing_starts_on_diagrams_that_were_never_deployed(app):
    with app.app_context(), pytest.raises(LookupError, match="not deployed"):
        enrolment.start()


def test_timers_fire_when_the_clock_says_so(ctx):
    deploy({"t.bpmn": d.process("with_timer", [d.user_task("before"), d.timer("wait", '"P15D"'),
                                                d.user_task("after")], d.chain("before", "wait", "after"))},
           author="test")
    clock.freeze(clock.now())
    request = enrolment.start("with_timer")
    run = Run.load(request.instance, request)
    run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
    run.save()
    db.session.commit()
    assert request.instance.next_timer_at == clock.now() + timedelta(days=15)
    assert sum(drain(timers.fire_next)) == 0
    clock.advance(timedelta(days=15, seconds=1))
    assert sum(drain(timers.fire_next)) == 1
    db.session.refresh(request.instance)
    assert Run.load(request.instance, request).ready_task(SUPPLIER).bpmn_id == "after"
    assert request.instance.next_timer_at is None


def test_a_failing_handler_is_reported_with_its_task(ctx):
    if "test.explode" not in HANDLERS:
        @handler("test.explode", "Échec volontaire", Param("why", "Raison"))
        def explode(ctx, why):
            raise RuntimeError(why)
    deploy({"x.bpmn": d.process("exploding", [d.user_task("ask"), d.service_task("boom", "test.explode", why="'panne'")],
                                d.chain("ask", "boom"))}, author="test")
    request = enrolment.start("exploding")
    run = Run.load(request.instance, request)
    with pytest.raises(EngineFailure) as failure:
        run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
    assert failure.value.task_name == "boom"
    assert isinstance(failure.value.original, RuntimeError) and str(failure.value.original) == "panne"


def test_a_status_outside_the_known_ones_is_refused_when_it_runs(ctx):
    deploy({"s.bpmn": d.process("odd_status", [d.user_task("ask"), d.service_task(
        "set_status", "enrolment.set_status", status="'Valid' + 'ée !'")], d.chain("ask", "set_status"))},
           author="test")
    request = enrolment.start("odd_status")
    run = Run.load(request.instance, request)
    with pytest.raises(EngineFailure) as failure:
        run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
    assert "statut « Validée ! » inconnu" in str(failure.value.original)


#: Diagrams SpiffWorkflow's parser refuses, and what the analyst reads (in French).
PARSER_REFUSALS = {
    "two ways out of a task": (
        {"two.bpmn": d.process("two", [d.user_task("ask"), d.user_task("other")], [
            d.flow("f_start", "start", "ask"), d.flow("f_end", "ask", "end"), d.flow("f_other", "ask", "other"),
            d.flow("f_other_end", "other", "end")])},
        "ask", "plusieurs flux sortent de cet élément : placez une passerelle"),
    "a flow to nowhere": (
        {"lost.bpmn": d.process("lost", [d.user_task("ask")], [
            d.flow("f_start", "start", "ask"), d.flow("f_lost", "ask", "nowhere")])},
        "ask", "le flux mène à « nowhere », élément introuvable"),
    "a gateway flow without condition": (
        {"choice.bpmn": d.process("choice", [d.gateway("choose", default="f_end"), d.user_task("ask")], [
            d.flow("f_start", "start", "choose"), d.flow("f_end", "choose", "end"), d.flow("f_ask", "choose", "ask"),
            d.flow("f_ask_end", "ask", "end")])},
        "f_ask", "ce flux sort d'une passerelle exclusive sans condition et n'est pas son flux par défaut"),
    "the same process twice": (
        {"a.bpmn": d.process("twice", [], d.chain()), "b.bpmn": d.process("twice", [], d.chain())},
        "twice", "deux processus portent l'identifiant « twice »"),
}


@pytest.mark.parametrize("name", PARSER_REFUSALS)
def test_the_parser_refusals_are_in_french(ctx, name):
    sources, element, message = PARSER_REFUSALS[name]
    with pytest.raises(DeployError) as refused:
        deploy(sources, author="test")
    [problem] = refused.value.problems
    assert problem.element == element and message in problem.message, problem
    assert problem.message.startswith("Diagramme invalide : ")
