"""« Terminer » is safe: a double click, two concurrent submits or a failing recap PDF (made by the
worker after « Terminer ») never give two numbers, two PDFs or two mails; a failing task keeps what
ran before it (an incident) until it is retried."""
import threading
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.handlers import enrolment as enrolment_handlers
from app.models import Counter, Document, EnrolmentRequest, OutboxMail
from background import run_continuations
from instruction_steps import Agent
from journey import Journey


def state(app):
    with app.app_context():
        requests = db.session.scalars(db.select(EnrolmentRequest)).all()
        counter = db.session.get(Counter, "enrolment")
        return {
            "numbers": [r.number for r in requests],
            "statuses": [r.status for r in requests],
            "counter": counter.value if counter else 0,
            "mails": db.session.scalar(db.select(db.func.count()).select_from(OutboxMail)),
            "recaps": db.session.scalar(db.select(db.func.count()).select_from(Document)
                                        .where(Document.kind == "recap_pdf")),
            "documents": db.session.scalar(db.select(db.func.count()).select_from(Document)),
        }


def files_on_disk(app) -> int:
    return sum(1 for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file())


@pytest.fixture
def ready_to_finish(portal, client):
    journey = Journey(client)
    journey.start()
    journey.until("confirmation")
    return journey


def test_double_terminer_gives_one_request(portal, ready_to_finish, mailbox):
    form = ready_to_finish.fill()
    first = form.submit("Terminer")
    second = form.submit("Terminer")
    assert first.h1 == second.h1 == "Confirmation"
    assert second.status == 409 and "Cette étape a déjà été enregistrée" in second.content
    assert "ENR0001M0" in second.content
    assert state(portal)["recaps"] == 0  # the worker's, after « Terminer »
    assert run_continuations(portal) == 1 and run_continuations(portal) == 0
    assert state(portal) | {"documents": None} == {
        "numbers": ["ENR0001M0"], "statuses": ["in_progress"], "counter": 1, "mails": 1, "recaps": 1,
        "documents": None}
    assert len(mailbox.messages) == 1


def test_two_concurrent_submits_of_the_same_step(portal, ready_to_finish, mailbox):
    form = ready_to_finish.fill()
    data = {k: v for k, v in form.values.items() if v}
    data["_action"] = ["next"]
    cookie = ready_to_finish.browser.client.get_cookie("session")
    clients = [portal.test_client(), portal.test_client()]
    for c in clients:
        c.set_cookie("session", cookie.value)
    barrier = threading.Barrier(2)
    statuses = []

    def submit(c):
        barrier.wait()
        flat = [(name, value) for name, values in data.items() for value in values]
        statuses.append(c.post(form.page.url, data=MultiDict(flat), content_type="multipart/form-data").status_code)

    threads = [threading.Thread(target=submit, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(statuses) == [303, 409]
    assert run_continuations(portal) == 1
    result = state(portal)
    assert result["numbers"] == ["ENR0001M0"] and result["counter"] == 1
    assert result["mails"] == 1 and result["recaps"] == 1
    assert len(mailbox.messages) == 1
    assert files_on_disk(portal) == result["documents"]   # the loser's PDF did not stay on disk


def test_a_failing_recap_keeps_the_request_until_it_is_retried(portal, ready_to_finish, mailbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("WeasyPrint en panne")

    monkeypatch.setattr(enrolment_handlers.pdf, "render_pdf", broken)
    before = state(portal)
    form = ready_to_finish.fill()
    page = form.submit("Terminer")
    assert page.h1 == "Confirmation" and "ENR0001M0" in page.content  # the PDF is the worker's
    assert run_continuations(portal) == 0  # it failed there: an incident
    # What ran before the failed task is kept (the number, the status); the PDF and the mail wait.
    assert state(portal) == before | {"numbers": ["ENR0001M0"], "statuses": ["in_progress"], "counter": 1}
    assert before["counter"] == 0 and before["mails"] == 0 and before["recaps"] == 0
    assert mailbox.messages == []
    assert files_on_disk(portal) == before["documents"]
    # A second « Terminer » changes nothing, nor does the worker's next pass.
    again = form.submit("Terminer")
    assert again.status == 503 and state(portal)["counter"] == 1  # the request is held by the incident
    assert run_continuations(portal) == 0 and state(portal)["recaps"] == 0

    # Once the cause is gone, an admin's « Relancer » generates the PDF and sends the mail.
    monkeypatch.undo()
    admin = Agent(portal, "admin")
    page = admin.browser.get("/gestion/incidents").form_with("Relancer").submit("Relancer")
    assert "Le traitement de la demande (ENR0001M0) a repris" in " ".join(page.alerts())
    assert state(portal) | {"documents": None} == {
        "numbers": ["ENR0001M0"], "statuses": ["in_progress"], "counter": 1, "mails": 1, "recaps": 1,
        "documents": None}
    assert len(mailbox.messages) == 1
    assert files_on_disk(portal) == state(portal)["documents"]
    # The supplier's page now shows the confirmation of their request, with its PDF.
    page = ready_to_finish.browser.get(form.page.url)
    assert page.h1 == "Confirmation" and "ENR0001M0" in page.content
    assert "Télécharger le récapitulatif (PDF)" in page.content


@pytest.fixture
def overtake(monkeypatch):
    """From its call on, another submission commits each step between the step's load and its save:
    the instance's version moves under it (as when two browsers race, made deterministic)."""
    from app.engine import Run
    complete = Run.complete

    def overtaken_complete(run, *args, **kwargs):
        db.session.connection().exec_driver_sql(
            "UPDATE workflow_instance SET lock_version = lock_version + 1 WHERE id = %d" % run.instance.id)
        return complete(run, *args, **kwargs)

    return lambda: monkeypatch.setattr(Run, "complete", overtaken_complete)


def test_an_overtaken_step_is_undone_and_shown_again(portal, client, overtake):
    journey = Journey(client)
    journey.start()
    journey.until("vat_regime")
    overtake()
    page = journey.fill().submit(journey._submit_label())
    assert page.status == 409 and "Cette étape a déjà été enregistrée" in page.content
    assert journey.browser.get(page.url).doc.xpath("//form[@data-form-key='vat_regime']")


def test_an_overtaken_step_keeps_the_file_posted_with_it(portal, client, overtake):
    journey = Journey(client)
    journey.start()
    journey.until("bank_details")
    overtake()
    before = state(portal)["documents"]
    page = journey.fill().submit(journey._submit_label())  # a new RIB, and the step lost the race
    assert page.status == 409 and "Cette étape a déjà été enregistrée" in page.content
    with portal.app_context():
        kept = db.session.scalars(db.select(Document).where(Document.field == "doc_rib")).all()
    assert state(portal)["documents"] == before + 1 and len(kept) == 1
    assert files_on_disk(portal) == state(portal)["documents"]
    assert "rib.pdf" in journey.browser.get(page.url).content  # the step shows the file just sent
