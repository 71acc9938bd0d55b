"""« Courriels en attente / en échec » (admins): mails that the SMTP server did not take, with their
error, and « Renvoyer » once it is back (the real SMTP server stopped, then started again)."""
from datetime import timedelta

from app import clock
from app.worker import deliver_mails
from app.extensions import db
from app.models import EnrolmentRequest, OutboxMail
from browser import Browser
from conftest import REFUSED_DOMAIN
from journey import Journey, Supplier
from people import log_in, make_user

PAGE = "/gestion/courriels"


def work(app) -> int:
    with app.app_context():
        return deliver_mails()


def mail_of(app, recipient) -> OutboxMail:
    with app.app_context():
        row = db.session.scalar(db.select(OutboxMail).where(OutboxMail.recipient == recipient))
        db.session.expunge(row)
        return row


def admin_browser(app) -> Browser:
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "admin"))
    return browser


def test_admins_see_mails_in_difficulty_and_resend_them_once_smtp_is_back(portal, mailbox):
    portal.config["OUTBOX_GIVE_UP_HOURS"] = 2
    supplier = Supplier()
    with mailbox.stopped():
        Journey(portal.test_client(), supplier).complete()        # queues the acknowledgement
        with portal.app_context():
            number, public_id = db.session.execute(db.select(EnrolmentRequest.number, EnrolmentRequest.public_id)).one()
        for _ in range(3):                                        # 3 attempts: « en difficulté »
            work(portal)
            clock.freeze(mail_of(portal, supplier.holder_email).next_attempt_at)
        admin = admin_browser(portal)
        page = admin.get("/").follow("Courriels en attente / en échec")
        assert page.url == PAGE and page.h1 == "Courriels en attente / en échec"
        pending = mail_of(portal, supplier.holder_email)
        row = page.texts(f'//tr[@id="courriel-{pending.id}"]')[0]
        assert supplier.holder_email in row and "Accusé de réception" in row and number in row
        assert "En attente" in row and "ConnectionRefusedError" in row
        assert page.doc.xpath(f'//tr[@id="courriel-{pending.id}"]//a/@href') == [f"/gestion/demandes/{public_id}"]
        clock.advance(timedelta(hours=2))                         # past the give-up period
        work(portal)
        page = admin.get(PAGE)
        assert "En échec" in page.texts(f'//tr[@id="courriel-{pending.id}"]')[0]
        assert "aucune (abandonné)" in page.texts(f'//tr[@id="courriel-{pending.id}"]')[0]

    assert mailbox.to(supplier.holder_email) == []                # back up, but a failed mail stays failed
    page = admin.get(PAGE).form(f"renvoi-{pending.id}").submit("Renvoyer")
    assert page.url == PAGE
    assert (f"Le courriel « {pending.subject} » à {supplier.holder_email} est remis dans la file d'envoi"
            in " ".join(page.alerts()))
    [received] = mailbox.to(supplier.holder_email)               # the worker delivers it
    assert received["Subject"] == pending.subject and received["Message-ID"] == pending.message_id
    assert mail_of(portal, supplier.holder_email).status == "sent"
    assert "Aucun courriel en attente ou en échec" in admin.get(PAGE).content


def test_a_refused_recipient_is_listed_as_failed_at_once(portal, mailbox):
    supplier = Supplier(representative={"last_name": "LEGAL", "first_name": "Représentant",
                                         "email": "personne" + REFUSED_DOMAIN, "phone": "01 23 45 67 89"})
    Journey(portal.test_client(), supplier).complete()
    work(portal)
    row = admin_browser(portal).get(PAGE).texts("//tbody/tr")[0]
    assert "personne" + REFUSED_DOMAIN in row and "En échec" in row and "550" in row


def test_resending_a_mail_sent_meanwhile_changes_nothing(portal, mailbox):
    supplier = Supplier()
    with mailbox.stopped():
        Journey(portal.test_client(), supplier).complete()
        for _ in range(3):
            work(portal)
            clock.freeze(mail_of(portal, supplier.holder_email).next_attempt_at)
        admin = admin_browser(portal)
        page = admin.get(PAGE)
    work(portal)                                                  # the worker's next attempt succeeds
    mail = mail_of(portal, supplier.holder_email)
    page = page.form(f"renvoi-{mail.id}").submit("Renvoyer")
    assert f"Le courriel « {mail.subject} » à {supplier.holder_email} a déjà été envoyé." in page.alerts()
    assert len(mailbox.to(supplier.holder_email)) == 1
