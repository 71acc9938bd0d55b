"""Mails leave only after commit, from the worker (never in a web request), over SMTP, with retries
that outlast a long outage; each delivered mail is recorded and keeps one Message-ID."""
import logging
import threading
from datetime import timedelta

from app import clock
from app.worker import deliver_mails
from app.extensions import db
from app.models import OutboxMail
from app.services import enrolment, outbox
from conftest import REFUSED_DOMAIN
from journey import Journey, Supplier

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


def the_mail(app) -> OutboxMail:
    with app.app_context():
        row = db.session.scalar(db.select(OutboxMail))
        db.session.expunge(row)
        return row


def work(app) -> int:
    """One pass of the worker's mail delivery (as ``flask worker`` does)."""
    with app.app_context():
        return deliver_mails()


def test_nothing_leaves_when_the_transaction_rolls_back(portal, mailbox):
    with portal.app_context():
        request = enrolment.start()
        outbox.enqueue("accuse_reception", "x@fournisseur-sante.fr", CONTEXT | {"submitted_at": clock.now()},
                       request=request)
        db.session.rollback()
    assert work(portal) == 0
    assert rows(portal) == [] and mailbox.messages == []


def test_a_request_that_queues_mails_makes_no_smtp_conversation(portal, mailbox):
    supplier = Supplier()
    Journey(portal.test_client(), supplier).complete()     # « Terminer » queues the acknowledgement
    assert mailbox.received == []                          # the server heard nothing during the request
    assert rows(portal) == [("pending", 0, None, False)]   # not even attempted
    assert work(portal) == 1                               # the worker delivers it
    [received] = mailbox.to(supplier.holder_email)
    assert received["Subject"].startswith("Accusé de réception")


def test_a_commit_that_queued_mails_wakes_the_worker(portal):
    outbox.wakeup.clear()
    with portal.app_context():
        request = enrolment.start()
        db.session.commit()
        assert not outbox.wakeup.is_set()                  # nothing queued: the worker sleeps on
        outbox.enqueue("accuse_reception", "x@fournisseur-sante.fr", CONTEXT | {"submitted_at": clock.now()},
                       request=request)
        db.session.rollback()
        db.session.commit()
        assert not outbox.wakeup.is_set()                  # queued then rolled back: nothing to do
    queue(portal)
    assert outbox.wakeup.is_set()


def test_delivery_retries_until_the_smtp_server_answers(portal, mailbox, caplog):
    queue(portal)
    with mailbox.stopped():
        assert work(portal) == 0
        assert rows(portal) == [("pending", 1, None, True)]
    assert "attempt 1 failed" in caplog.text and caplog.records[-1].levelno == logging.WARNING
    assert work(portal) == 0                               # not due yet: backoff
    clock.advance(timedelta(minutes=3))
    assert work(portal) == 1
    with portal.app_context():
        mail = db.session.scalar(db.select(OutboxMail))
        assert mail.sent_at == clock.now() and mail.request.mails == [mail]
    assert rows(portal) == [("sent", 2, "smtp", False)]
    [received] = mailbox.to("titulaire@fournisseur-sante.fr")
    assert received["Subject"].startswith("Accusé de réception de votre demande d'enrôlement ENR0042M0")
    assert "34866299000038" in mailbox.text(received) and "34866299000038" in mailbox.html(received)


def test_a_long_outage_loses_no_mail(portal, mailbox):
    """Four hours and more of outage used to fail a mail for good after 8 attempts."""
    queue(portal)
    with mailbox.stopped():
        for _ in range(12):                                # 12 attempts, 2 h 29 of outage
            work(portal)
            wait = the_mail(portal).next_attempt_at - clock.now()
            assert timedelta(0) < wait <= timedelta(minutes=15)
            clock.freeze(the_mail(portal).next_attempt_at)
        clock.advance(timedelta(days=3))                   # still retried days later
        work(portal)
        mail = the_mail(portal)
        assert (mail.status, mail.attempts) == ("pending", 13)
        assert mail.next_attempt_at - clock.now() == timedelta(minutes=15)
    clock.advance(timedelta(minutes=15))
    assert work(portal) == 1
    assert rows(portal) == [("sent", 14, "smtp", False)]
    assert len(mailbox.to("titulaire@fournisseur-sante.fr")) == 1


def test_a_mail_fails_for_good_after_the_give_up_period(portal, mailbox, caplog):
    portal.config["OUTBOX_GIVE_UP_HOURS"] = 1
    queue(portal)
    with mailbox.stopped():
        work(portal)
        clock.advance(timedelta(minutes=59))
        work(portal)
        assert the_mail(portal).status == "pending"
        clock.advance(timedelta(minutes=15))
        work(portal)
        assert rows(portal) == [("failed", 3, None, True)]
        clock.advance(timedelta(hours=1))
        assert work(portal) == 0                           # never tried again by itself
    assert rows(portal) == [("failed", 3, None, True)]
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("FAILED for good after 3 attempt(s)" in e for e in errors)
    assert any("1 mail(s) failed for good" in e and "/gestion/courriels" in e for e in errors)


def test_a_recipient_refused_for_good_fails_at_once(portal, mailbox, caplog):
    queue(portal, "personne" + REFUSED_DOMAIN)
    assert work(portal) == 0
    assert rows(portal) == [("failed", 1, None, True)]
    assert "550" in the_mail(portal).last_error
    assert "FAILED for good after 1 attempt(s)" in caplog.text


def test_a_redelivery_carries_the_same_message_id(portal, mailbox):
    """A crash between the server's acceptance and our commit delivers the mail again: the
    recipient's software can tell it is the same message."""
    queue(portal)
    with portal.app_context():
        assert outbox.deliver_next() == "sent"
        db.session.rollback()                              # the worker died before committing
    assert work(portal) == 1
    first, second = mailbox.to("titulaire@fournisseur-sante.fr")
    message_id = the_mail(portal).message_id
    assert message_id.startswith("<outbox-") and message_id.endswith("@segurnum.asp-public.fr>")
    assert first["Message-ID"] == second["Message-ID"] == message_id


def test_workers_running_side_by_side_send_each_mail_once(portal, mailbox):
    for i in range(6):
        queue(portal, f"titulaire{i}@fournisseur-sante.fr")

    threads = [threading.Thread(target=work, args=(portal,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(m["to"][0] for m in mailbox.received) == sorted(f"titulaire{i}@fournisseur-sante.fr" for i in range(6))
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
