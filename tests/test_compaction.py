"""A request's stored state stays bounded whatever its history (issue 14, P2): at each save the
finished called processes and the finished part of the task tree are dropped (app/engine/compaction.py),
and what they showed is read from the database. Small diagrams loop many rounds through the engine
(each round reloaded from the stored state, as a web request does); the enrolment journeys run the
real supporting-documents loop over HTTP."""
import json
from datetime import timedelta

import pytest

import diagrams as d
from app import clock
from app.engine import EngineFailure, Run
from app.engine.position import DONE, milestones, position
from app.extensions import db
from app.models import EnrolmentRequest
from app.package import deploy
from app.services import enrolment, migration, timers
from app.worker import drain
from files import pdf_bytes
from instruction_steps import Agent, file_request
from test_diagram_view import processes
from test_incidents import break_handler
from test_timeline import supplier_of, timeline

SUPPLIER, AGENT = "Fournisseur", "Gestionnaire ASP"


@pytest.fixture
def ctx(portal):
    with portal.app_context():
        yield portal


def labelled_task(id, label):
    return (f'<bpmn:userTask id="{id}" name="{id}"><bpmn:extensionElements><spiffworkflow:properties>'
            f'<spiffworkflow:property name="formKey" value="vat_regime"/>'
            f'<spiffworkflow:property name="timelineLabel" value="{label}"/>'
            f'</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>')


def boundary_timer(id, attached_to, duration):
    return (f'<bpmn:boundaryEvent id="{id}" attachedToRef="{attached_to}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{duration}</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:boundaryEvent>')


def loop_documents(answer_name="answer", welcome=True):
    """« rounds »: a welcome script, then rounds of « ask » (a boundary timer of 2 days on it) and a
    called process « rounds_child » (« answer »), looping back to « ask » while ``again``."""
    first = ["welcome"] if welcome else []
    elements = [d.script_task("welcome", "count = 0")] if welcome else []
    elements += [labelled_task("ask", "Question"), boundary_timer("late", "ask", '"P2D"'),
                 d.call_activity("call", "rounds_child"), d.gateway("gw", "f_done")]
    names = ["start", *first, "ask", "call", "gw"]
    flows = [d.flow(f"f_{a}_{b}", a, b) for a, b in zip(names, names[1:])]
    flows += [d.flow("f_done", "gw", "end"), d.flow("f_again", "gw", "ask", "again"), d.flow("f_late", "late", "end")]
    child = d.process("rounds_child", [labelled_task("answer", "Réponse").replace('name="answer"', f'name="{answer_name}"')],
                      d.chain("answer"))
    return {"rounds.bpmn": d.process("rounds", elements, flows), "rounds_child.bpmn": child}


def complete(request, bpmn_id, lane=SUPPLIER, actor_id=None, **data) -> Run:
    """A minute later, load the request's run from its stored state, complete its ready task
    ``bpmn_id``, save."""
    clock.advance(timedelta(minutes=1))
    run = Run.load(request.instance, request)
    task = run.ready_task(lane)
    assert task is not None and task.bpmn_id == bpmn_id, (task and task.bpmn_id, bpmn_id)
    run.complete(task.id, lane, data, actor_id=actor_id)
    run.save()
    db.session.commit()
    return run


def one_round(request, again=True) -> Run:
    complete(request, "ask", actor_id=7)
    return complete(request, "answer", again=again)


def size(request) -> int:
    return len(request.instance.state_json.encode())


def test_a_loop_of_called_processes_keeps_its_state_bounded_and_loses_nothing(ctx):
    deploy(loop_documents(), author="test")
    request = enrolment.start("rounds")
    db.session.commit()
    for _ in range(3):
        one_round(request)
    after_three = size(request)
    for _ in range(27):
        run = one_round(request)
    assert size(request) <= after_three * 1.05, (after_three, size(request))
    assert len(run.workflow.subprocesses) == 0  # each round's called process went when it finished
    assert len(run.workflow.tasks) < 20

    # What the dropped tasks showed is still there: every round on the timeline, the path on the diagram.
    run = Run.load(request.instance, request)
    assert [m.label for m in milestones(run) if m.state == DONE] == ["Question", "Réponse"] * 30
    where = {p.id: p for p in position(run).processes}
    assert set(where) == {"rounds", "rounds_child"}
    assert {"welcome", "call", "gw", "f_start_welcome", "f_welcome_ask", "f_ask_call", "f_call_gw",
            "f_again"} <= set(where["rounds"].done)
    assert where["rounds"].current == ["ask", "late"]
    assert {"answer", "f_start_answer", "f_answer_end"} <= set(where["rounds_child"].done)

    # Going back from the called process's task reaches « ask » of the same round, with what was entered.
    complete(request, "ask", actor_id=7, note="trentième")
    run = Run.load(request.instance, request)
    answer = run.ready_task(SUPPLIER)
    assert answer.bpmn_id == "answer" and answer.can_go_back
    assert run.go_back(answer.id, SUPPLIER, draft={"again": False})
    run.save()
    db.session.commit()
    run = Run.load(request.instance, request)
    ask = run.ready_task(SUPPLIER)
    assert ask.bpmn_id == "ask" and ask.data["note"] == "trentième" and ask.data["_actors"] == {"ask": 7}

    # The boundary timer of the current « ask » still fires, and ends the process.
    clock.advance(timedelta(days=2, seconds=1))
    assert sum(drain(timers.fire_next)) == 1
    db.session.refresh(request.instance)
    assert request.instance.completed
    run = Run.load(request.instance, request)
    assert "late" in {p.id: p for p in position(run).processes}["rounds"].done
    assert size(request) <= after_three


@pytest.mark.parametrize("review_first", [True, False], ids=["review-then-loop", "loop-then-review"])
def test_a_parallel_join_after_a_loop_fires_once_both_branches_are_done(ctx, review_first):
    """« ask » loops in one branch while an agent's « review » runs in the other: nothing is pruned
    across the split until the join fires, then the state shrinks again."""
    elements = ['<bpmn:parallelGateway id="split"/>', d.user_task("ask"), d.gateway("gw", "f_gw_join"),
                d.user_task("review"), '<bpmn:parallelGateway id="join"/>', d.user_task("final")]
    flows = [d.flow("f_start_split", "start", "split"), d.flow("f_split_ask", "split", "ask"),
             d.flow("f_ask_gw", "ask", "gw"), d.flow("f_again", "gw", "ask", "again"),
             d.flow("f_gw_join", "gw", "join"), d.flow("f_split_review", "split", "review"),
             d.flow("f_review_join", "review", "join"), d.flow("f_join_final", "join", "final"),
             d.flow("f_final_end", "final", "end")]
    lanes = {SUPPLIER: ["start", "end", "split", "ask", "gw", "join", "final"], AGENT: ["review"]}
    deploy({"joined.bpmn": d.process("joined", elements, flows, lanes)}, author="test")
    request = enrolment.start("joined")
    db.session.commit()
    if review_first:
        complete(request, "review", lane=AGENT)
    for number in range(1, 13):
        run = complete(request, "ask", again=number < 12)
        assert run.ready_task(SUPPLIER) is not None or not review_first
    if not review_first:
        assert Run.load(request.instance, request).ready_task(SUPPLIER) is None  # the join waits for the review
        complete(request, "review", lane=AGENT)
    complete(request, "final")
    db.session.refresh(request.instance)
    assert request.instance.completed
    run = Run.load(request.instance, request)
    assert {"split", "ask", "review", "join", "final", "f_start_split", "f_again", "f_join_final"} \
        <= set(position(run).processes[0].done)
    assert len(run.workflow.tasks) < 10


def test_a_compacted_request_still_moves_to_a_new_version_unless_an_element_it_passed_is_gone(ctx):
    deploy(loop_documents(), author="test")
    request = enrolment.start("rounds")
    db.session.commit()
    for _ in range(5):
        one_round(request)
    run = Run.load(request.instance, request)
    assert "welcome" not in {t.task_spec.bpmn_id for t in run.workflow.tasks.values()}  # compacted away

    deploy(loop_documents(answer_name="Votre réponse"), author="test", comment="libellé")
    db.session.commit()
    target = migration.target_version("rounds")
    (candidate,) = migration.candidates("rounds", target)
    assert candidate.movable, candidate.reasons
    migration.move(candidate, target, "test")
    db.session.commit()
    for _ in range(3):
        one_round(request)
    run = one_round(request, again=False)
    assert run.workflow.is_completed()

    request = enrolment.start("rounds")
    db.session.commit()
    for _ in range(3):
        one_round(request)
    deploy(loop_documents(welcome=False), author="test", comment="sans accueil")
    db.session.commit()
    target = migration.target_version("rounds")
    (candidate,) = [c for c in migration.candidates("rounds", target) if c.instance.id == request.instance_id]
    assert "elle est passée par l'élément « welcome », qui n'existe plus dans la version 3 : son historique " \
           "ne pourrait pas être relu." in candidate.reasons


def test_the_documents_loop_over_http_keeps_the_request_bounded_and_its_history_visible(portal, mailbox):
    public_id, filer = file_request(portal)
    agent, supplier = Agent(portal), supplier_of(portal, filer)

    def one_documents_round(number):
        agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message=f"Tour {number}")
        page = supplier.get(f"/demandes/{public_id}/etape")
        page = page.form().fill(document_type="kbis").attach("document_file", f"kbis-{number}.pdf",
                                                             pdf_bytes("KBIS")).submit("Importer")
        assert page.status == 200, page.errors()
        assert page.form().submit("Confirmer", follow=False).status == 303

    def stored_size():
        with portal.app_context():
            request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
            return len(request.instance.state_json.encode()), json.loads(request.instance.state_json)

    for number in (1, 2):
        one_documents_round(number)
    second, _ = stored_size()
    for number in (3, 4, 5):
        one_documents_round(number)
    fifth, state = stored_size()
    assert fifth <= second * 1.05, (second, fifth)
    assert state["subprocesses"].keys() == {state["subprocesses"][key]["parent_task_id"]
                                            for key in state["subprocesses"]}  # instruction alone: none finished
    assert len(state["subprocesses"]) == 1

    steps = [label for label, _, _ in timeline(supplier.get(f"/espace/demandes/{public_id}"))]
    assert steps.count("Pièces demandées par l'ASP") == 5 and steps.count("Dépôt des pièces demandées") == 5
    # The documents' called processes of the past rounds are gone from the state, not from the diagram.
    _, found = processes(agent.browser, public_id)
    assert {"start", "status_awaiting", "mail_request", "deposit", "clear_overdue", "status_back", "end",
            "flow_start", "flow_deposited", "flow_back"} <= set(found["supporting_documents"]["done"])
    agent.decide(public_id, "valider")
    steps = [label for label, _, _ in timeline(supplier.get(f"/espace/demandes/{public_id}"))]
    assert set(steps[-3:]) == {"Instruction par l'ASP", "Validation de votre demande", "Ouverture de votre compte"}


def test_a_task_that_fails_after_many_rounds_is_retried_on_the_compacted_state(ctx, monkeypatch):
    elements = [d.user_task("ask"), d.service_task("clear", "enrolment.clear_overdue"), d.gateway("gw", "f_done")]
    flows = [d.flow("f_start_ask", "start", "ask"), d.flow("f_ask_clear", "ask", "clear"),
             d.flow("f_clear_gw", "clear", "gw"), d.flow("f_done", "gw", "end"), d.flow("f_again", "gw", "ask", "again")]
    deploy({"flaky.bpmn": d.process("flaky", elements, flows)}, author="test")
    request = enrolment.start("flaky")
    db.session.commit()
    for _ in range(3):
        complete(request, "ask", again=True)
    after_three = size(request)
    for _ in range(12):
        complete(request, "ask", again=True)
    break_handler(monkeypatch, "enrolment.clear_overdue")
    run = Run.load(request.instance, request)
    with pytest.raises(EngineFailure) as failure:
        run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {"again": False})
    assert failure.value.task_name == "clear"
    run.save()  # as a step does: the failed task kept for its retry
    db.session.commit()
    assert size(request) <= after_three * 1.1

    monkeypatch.undo()
    run = Run.load(request.instance, request)
    run.retry()
    run.save()
    db.session.commit()
    assert request.instance.completed
    assert {"ask", "clear", "gw", "f_again", "f_done"} <= set(position(Run.load(request.instance, request)).processes[0].done)
