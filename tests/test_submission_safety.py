"""« Terminer » is safe: a double click, two concurrent submits or a failing service task never
give two numbers, two mails or a half-saved request."""
import threading
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from app.extensions import db
from app.handlers import enrolment as enrolment_handlers
from app.models import Counter, Document, EnrolmentRequest, OutboxMail
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
    assert state(portal) | {"documents": None} == {
        "numbers": ["ENR0001M0"], "statuses": ["En cours"], "counter": 1, "mails": 1, "recaps": 1,
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
    result = state(portal)
    assert result["numbers"] == ["ENR0001M0"] and result["counter"] == 1
    assert result["mails"] == 1 and result["recaps"] == 1
    assert len(mailbox.messages) == 1
    assert files_on_disk(portal) == result["documents"]   # the loser's PDF did not stay on disk


def test_a_failing_service_task_leaves_no_trace(portal, ready_to_finish, mailbox, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("WeasyPrint en panne")

    monkeypatch.setattr(enrolment_handlers.pdf, "render_pdf", broken)
    before = state(portal)
    page = ready_to_finish.fill().submit("Terminer")
    assert page.status == 500
    assert "Une erreur technique est survenue : cette étape n'a pas été enregistrée." in page.content
    assert "WeasyPrint" not in page.text and "Traceback" not in page.text
    # The user's input is still on the page, and the step is still the confirmation.
    assert page.doc.xpath('//input[@name="accept_cgu"]/@checked')
    ready_to_finish.page = page
    assert ready_to_finish.form_key == "confirmation"
    # Nothing was saved: no number, no status change, no mail, no PDF.
    assert state(portal) == before | {"numbers": [None], "statuses": ["Brouillon"]}
    assert before["counter"] == 0 and before["mails"] == 0 and before["recaps"] == 0
    assert mailbox.messages == []
    assert files_on_disk(portal) == before["documents"]

    # Once the cause is gone, the same step goes through and gets the first number.
    monkeypatch.undo()
    ready_to_finish.next("Terminer")
    assert ready_to_finish.page.h1 == "Confirmation"
    assert state(portal)["numbers"] == ["ENR0001M0"]
    assert len(mailbox.messages) == 1
