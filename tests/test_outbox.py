"""Mails leave only after commit, over SMTP, with retries; each delivered mail is recorded."""
import threading
from datetime import timedelta

from app import clock
from app.extensions import db
from app.models import OutboxMail
from app.services import enrolment, outbox
from conftest import free_port

CONTEXT = {"number": "ENR0042M0", "siret": "34866299000038", "submitted_at": None,
           "assistance_url": "https://segurnum.asp-public.fr/segurnum/contacter-assistance"}


def queue(app, recipient="titulaire@fournisseur-sante.fr"):
    with app.app_context():
        request = enrolment.start()
        outbox.enqueue("accuse_reception", recipient, CONTEXT | {"submitted_at": clock.now()}, request=request)
        db.session.commit()
        return request.id


def rows(app):
    with app.app_context():
        return [(m.status, m.attempts, m.transport, m.last_error is not None)
                for m in db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id))]


def test_nothing_leaves_when_the_transaction_rolls_back(portal, mailbox):
    with portal.app_context():
        request = enrolment.start()
        outbox.enqueue("accuse_reception", "x@fournisseur-sante.fr", CONTEXT | {"submitted_at": clock.now()},
                       request=request)
        db.session.rollback()
        assert outbox.deliver_pending() == 0
    assert rows(portal) == [] and mailbox.messages == []


def test_delivery_retries_until_the_smtp_server_answers(portal, mailbox, monkeypatch):
    queue(portal)
    monkeypatch.setattr(portal.extensions["mail"], "port", free_port())   # nobody listens there
    with portal.app_context():
        assert outbox.deliver_pending() == 0
    assert rows(portal) == [("pending", 1, None, True)]
    monkeypatch.undo()
    with portal.app_context():
        assert outbox.deliver_pending() == 0              # not due yet: backoff
        clock.advance(timedelta(minutes=3))
        assert outbox.deliver_pending() == 1
        mail = db.session.scalar(db.select(OutboxMail))
        assert mail.sent_at == clock.now() and mail.request.mails == [mail]
    assert rows(portal) == [("sent", 2, "smtp", False)]
    [received] = mailbox.to("titulaire@fournisseur-sante.fr")
    assert received["Subject"].startswith("Accusé de réception de votre demande d'enrôlement ENR0042M0")
    assert "34866299000038" in mailbox.text(received) and "34866299000038" in mailbox.html(received)


def test_a_mail_fails_for_good_after_the_maximum_attempts(portal, mailbox, monkeypatch):
    queue(portal)
    portal.config["OUTBOX_MAX_ATTEMPTS"] = 2
    monkeypatch.setattr(portal.extensions["mail"], "port", free_port())
    with portal.app_context():
        outbox.deliver_pending()
        clock.advance(timedelta(hours=1))
        outbox.deliver_pending()
        clock.advance(timedelta(hours=1))
        assert outbox.deliver_pending() == 0
    assert rows(portal) == [("failed", 2, None, True)]


def test_workers_running_side_by_side_send_each_mail_once(portal, mailbox):
    for i in range(6):
        queue(portal, f"titulaire{i}@fournisseur-sante.fr")

    def work():
        with portal.app_context():
            outbox.deliver_pending()

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(m["to"][0] for m in mailbox.messages) == sorted(f"titulaire{i}@fournisseur-sante.fr" for i in range(6))
    assert {r[0] for r in rows(portal)} == {"sent"}


def test_captured_mails_are_kept_and_shown_to_the_developer(portal, client, mailbox):
    portal.config.update(MAIL_CAPTURE=True, DEV_MAILBOX=True)  # the portal command, on loopback
    queue(portal)
    result = portal.test_cli_runner().invoke(args=["outbox", "deliver"])
    assert result.exit_code == 0 and "1 courriel(s) envoyé(s)" in result.output
    assert mailbox.messages == [] and rows(portal) == [("sent", 1, "capture", False)]
    page = client.get("/dev/courriels").get_data(as_text=True)
    assert "titulaire@fournisseur-sante.fr" in page and "ENR0042M0" in page
    portal.config["MAIL_CAPTURE"] = False
    assert client.get("/dev/courriels").status_code == 404
