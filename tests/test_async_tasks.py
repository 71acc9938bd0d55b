"""Asynchronous tasks (``async`` property, Camunda's asyncBefore): the engine stops in front of them,
the instance is saved as due, and the worker runs them in its own transaction; inside called
processes, with a boundary timer, one after the other; « Vérifier » refuses the property where it
makes no sense (SpiffWorkflow does not even read the extensions of a gateway)."""
from datetime import timedelta
from xml.sax.saxutils import quoteattr

import pytest

import diagrams as d
from app import clock
from app.engine import Run
from app.extensions import db
from app.metrics import exposition
from app.package import deploy
from app.services import continuations, enrolment, outbox, timers
from app.worker import drain
from studio import Analyst
from test_process_studio import source

SUPPLIER = "Fournisseur"
ASYNC = '<bpmn:extensionElements><spiffworkflow:properties><spiffworkflow:property name="async" value="true"/>' \
        '</spiffworkflow:properties></bpmn:extensionElements>'


def async_script(id, script):
    return f'<bpmn:scriptTask id="{id}">{ASYNC}<bpmn:script>{script}</bpmn:script></bpmn:scriptTask>'


def boundary_timer(id, attached_to, duration):
    return (f'<bpmn:boundaryEvent id="{id}" attachedToRef="{attached_to}"><bpmn:timerEventDefinition>'
            f'<bpmn:timeDuration>{quoteattr(duration)[1:-1]}</bpmn:timeDuration></bpmn:timerEventDefinition>'
            f'</bpmn:boundaryEvent>')


@pytest.fixture
def ctx(portal):
    with portal.app_context():
        yield portal


def started(process_id):
    """A new instance of ``process_id`` whose first user task is done; (request, run)."""
    request = enrolment.start(process_id)
    run = Run.load(request.instance, request)
    run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
    run.save()
    db.session.commit()
    return request, run


def ready(request) -> str | None:
    db.session.refresh(request.instance)
    task = Run.load(request.instance, request).ready_task(SUPPLIER)
    return task.bpmn_id if task else None


def test_an_asynchronous_task_in_a_called_process_waits_for_the_worker(ctx):
    deploy({"parent.bpmn": d.process("parent", [d.user_task("ask"), d.call_activity("call", "child")],
                                     d.chain("ask", "call")),
            "child.bpmn": d.process("child", [async_script("heavy", "done = 1"), d.user_task("after")],
                                    d.chain("heavy", "after"))}, author="test")
    outbox.wakeup.clear()
    request, run = started("parent")
    assert outbox.wakeup.is_set()  # the commit woke the worker (the portal command's embedded one)
    outbox.wakeup.clear()
    assert request.instance.async_due_at is not None and run.ready_task(SUPPLIER) is None
    assert [t.task_spec.bpmn_id for t in run.due_async_tasks()] == ["heavy"]
    assert b"segur_continuations_due 1.0" in exposition()
    assert drain(continuations.run_next) == [True]
    assert ready(request) == "after" and request.instance.async_due_at is None
    assert not outbox.wakeup.is_set()  # nothing more is due
    assert Run.load(request.instance, request).ready_task(SUPPLIER).data["done"] == 1
    assert b"segur_continuations_due 0.0" in exposition()


def test_each_asynchronous_task_is_a_unit_of_its_own(ctx):
    """Two asynchronous tasks in a row: the first unit runs the first and leaves the second due (its
    own transaction: what the first did is committed, and shown, before the second starts)."""
    deploy({"two.bpmn": d.process("two_async", [d.user_task("ask"), async_script("first", "a = 1"),
                                                async_script("second", "b = a + 1"), d.user_task("after")],
                                  d.chain("ask", "first", "second", "after"))}, author="test")
    request, _ = started("two_async")
    assert continuations.run_next() is True
    db.session.commit()
    assert [t.task_spec.bpmn_id for t in Run.load(request.instance, request).due_async_tasks()] == ["second"]
    assert request.instance.async_due_at is not None
    assert drain(continuations.run_next) == [True]
    assert ready(request) == "after"
    assert Run.load(request.instance, request).ready_task(SUPPLIER).data["b"] == 2


def test_a_boundary_timer_still_interrupts_an_asynchronous_task_left_waiting(ctx):
    deploy({"timed.bpmn": d.process("timed", [
        d.user_task("ask"), async_script("slow", "done = 1"), boundary_timer("too_late", "slow", '"P1D"'),
        d.user_task("after"), d.user_task("late")], [
        d.flow("f1", "start", "ask"), d.flow("f2", "ask", "slow"), d.flow("f3", "slow", "after"),
        d.flow("f4", "after", "end"), d.flow("f5", "too_late", "late"), d.flow("f6", "late", "end")])},
        author="test")
    clock.freeze(clock.now())
    request, run = started("timed")
    assert request.instance.async_due_at is not None and request.instance.next_timer_at is not None
    # The worker did not come in time (it was stopped): the timer wins, the task is cancelled.
    clock.advance(timedelta(days=1, seconds=1))
    assert sum(drain(timers.fire_next)) == 1
    assert ready(request) == "late" and request.instance.async_due_at is None
    assert drain(continuations.run_next) == []
    # Otherwise the worker runs it and the timer goes with it.
    request, run = started("timed")
    assert drain(continuations.run_next) == [True]
    assert ready(request) == "after" and request.instance.next_timer_at is None


def test_check_refuses_async_where_it_makes_no_sense(portal):
    with portal.app_context():
        from app.package import deploy_files
        deploy_files(author="premier démarrage")
        db.session.commit()
    analyst = Analyst(portal)
    xml = source("initial_enrolment.bpmn")
    user_task = '<spiffworkflow:property name="formKey" value="siret_search" />'
    assert user_task in xml and 'name="async" value="true"' in xml
    broken = xml.replace(user_task, user_task + '<spiffworkflow:property name="async" value="true" />', 1) \
                .replace('name="async" value="true" />\n        </spiffworkflow:properties>\n        '
                         '<spiffworkflow:serviceTaskOperator id="enrolment.recap_pdf"',
                         'name="async" value="oui" />\n        </spiffworkflow:properties>\n        '
                         '<spiffworkflow:serviceTaskOperator id="enrolment.recap_pdf"', 1)
    assert broken.count('value="oui"') == 1
    status, answer = analyst.action("initial_enrolment.bpmn", "verifier", xml=broken)
    assert status == 200 and answer["ok"] is False
    problems = {p["element"]: p["message"] for p in answer["problems"]}
    assert "une tâche utilisateur ne peut pas s'exécuter en arrière-plan" in problems["siret_search"]
    assert "propriété async « oui » invalide : attendu true ou false" in problems["recap_pdf"]
    # The shipped diagrams use it rightly.
    status, answer = analyst.action("initial_enrolment.bpmn", "verifier", xml=xml)
    assert status == 200 and answer["ok"] is True, answer


def test_check_refuses_async_on_a_call_activity_or_an_event(ctx):
    from app.engine import check, parse
    call = '<bpmn:callActivity id="call" calledElement="child">' + ASYNC + '</bpmn:callActivity>'
    event = ('<bpmn:intermediateCatchEvent id="wait">' + ASYNC + '<bpmn:timerEventDefinition><bpmn:timeDuration>'
             '"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>')
    problems = check(parse({
        "g.bpmn": d.process("odd_async", [call, event, async_script("fine", "x = 1")], d.chain("fine", "wait", "call")),
        "child.bpmn": d.process("child", [d.user_task("ask")], d.chain("ask"))}))
    refused = {p.element: p.message for p in problems}
    assert set(refused) == {"call", "wait"}, problems
    assert all("seules les tâches de service et les tâches script" in m for m in refused.values())
