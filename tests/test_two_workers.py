"""Two worker processes (``flask --app wsgi worker --once``, as on two hosts) against one PostgreSQL
database: each due timer fires once, each asynchronous task runs once and each mail leaves once,
whichever worker takes it (rows are taken with ``FOR UPDATE SKIP LOCKED``). SQLite serialises every
writer instead: PostgreSQL only."""
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

import diagrams as d
from app import clock
from app.engine import Run
from app.extensions import db
from app.models import EnrolmentRequest, OutboxMail, RequestEvent, WorkflowInstance
from app.package import deploy
from app.services import enrolment

ROOT = Path(__file__).resolve().parent.parent
INSTANCES = 80
SUPPLIER = "Fournisseur"


def _worker(portal, instance: Path) -> subprocess.Popen:
    environment = {k: v for k, v in os.environ.items() if k not in ("MAIL_SERVER", "FLASK_RUN_FROM_CLI")}
    environment.update(INSTANCE_PATH=str(instance), DATABASE_URL=portal.config["SQLALCHEMY_DATABASE_URI"],
                       MAIL_CAPTURE="1", UPLOAD_FOLDER=portal.config["UPLOAD_FOLDER"], SECRET_KEY="workers")
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--once"], cwd=ROOT,
                            env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _done(output: str, what: str) -> int:
    found = re.search(rf"{what} : (\d+)", output)
    assert found, output
    return int(found.group(1))


#: An asynchronous service task whose handler writes a line in the request's history: run twice, two lines.
ASYNC_STATUS = ('<bpmn:serviceTask id="heavy"><bpmn:extensionElements><spiffworkflow:properties>'
                '<spiffworkflow:property name="async" value="true"/></spiffworkflow:properties>'
                '<spiffworkflow:serviceTaskOperator id="enrolment.set_status" resultVariable="status">'
                '<spiffworkflow:parameters><spiffworkflow:parameter id="status" type="str" value="\'in_progress\'"/>'
                '</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>')


def test_two_workers_fire_each_due_timer_run_each_async_task_and_send_each_mail_once(portal, tmp_path):
    if portal.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises the writers")
    with portal.app_context():
        deploy({"t.bpmn": d.process("with_timer", [d.user_task("before"), d.timer("wait", '"P1D"'),
                                                    d.user_task("after")], d.chain("before", "wait", "after")),
                "a.bpmn": d.process("with_async", [d.user_task("before"), ASYNC_STATUS, d.user_task("after")],
                                    d.chain("before", "heavy", "after"))},
               author="test")
        clock.freeze(clock.now() - timedelta(days=2))  # their timers fell due a day ago
        for index in range(INSTANCES):
            request = enrolment.start("with_timer")
            run = Run.load(request.instance, request)
            run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
            run.save()
            db.session.flush()
            db.session.add(OutboxMail(request=request, event="test", recipient=f"titulaire{index}@exemple.fr",
                                      subject=f"Courriel {index}", body_text="Bonjour.", body_html="",
                                      next_attempt_at=clock.now(), created_at=clock.now()))
            request = enrolment.start("with_async")
            run = Run.load(request.instance, request)
            run.complete(run.ready_task(SUPPLIER).id, SUPPLIER, {})
            run.save()
        db.session.commit()
        clock.freeze(None)

    workers = [_worker(portal, tmp_path / f"worker-{n}") for n in (1, 2)]
    outputs = [worker.communicate(timeout=300)[0] for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), outputs
    # Each timer fired by one worker, each mail sent by one worker: the counts add up, no more.
    assert sum(_done(output, "timers") for output in outputs) == INSTANCES, outputs
    assert sum(_done(output, "continuations") for output in outputs) == INSTANCES, outputs
    assert sum(_done(output, "mails") for output in outputs) == INSTANCES, outputs
    with portal.app_context():
        db.session.expire_all()
        for instance in db.session.scalars(db.select(WorkflowInstance)):
            request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.instance_id == instance.id))
            assert Run.load(instance, request).ready_task(SUPPLIER).bpmn_id == "after"
            assert instance.next_timer_at is None and instance.async_due_at is None
        ran = db.session.execute(db.select(RequestEvent.request_id, db.func.count())
                                 .where(RequestEvent.action.like("Statut :%")).group_by(RequestEvent.request_id)).all()
        assert len(ran) == INSTANCES and {count for _, count in ran} == {1}  # each ran once
        mails = db.session.scalars(db.select(OutboxMail)).all()
        assert len(mails) == INSTANCES and {(m.attempts, m.transport) for m in mails} == {(1, "capture")}
