"""Webhooks (issue 15): an admin registers endpoints on « Webhooks »; a real enrolment and its
instruction, driven through the portal, queue their events; the worker delivers them to a real HTTP
receiver on loopback, which checks each signature with the ``standardwebhooks`` package (an
implementation independent of the portal's) and fails the first attempts."""
import json
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest, WebhookDelivery, WebhookEndpoint
from app.services import enrolment, webhooks
from app.worker import deliver_webhooks, drain
from browser import Browser
from files import pdf_bytes
from instruction_steps import PENDING_NON_DPI, Agent, Holder, file_request
from journey import Supplier
from people import log_in, make_user

PAGE = "/gestion/webhooks"


class Receiver:
    """A webhook receiver on a loopback port (``http.server`` in a thread). Each request's signature
    is verified with ``standardwebhooks`` and the endpoint's secret (copied from the admin's page):
    400 when it does not match; otherwise 500 to the first ``failures`` requests, then 200."""

    def __init__(self, failures: int = 0):
        self.secret, self.failures = None, failures
        self.received = []  # {"headers", "body", "code"} of every request, in arrival order
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                self.send_response(receiver._answer(dict(self.headers), body))
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/webhooks"

    def _answer(self, headers, body: bytes) -> int:
        try:
            Webhook(self.secret).verify(body, headers)
        except WebhookVerificationError:
            code = 400
        else:
            with self._lock:
                code = 500 if self.failures > 0 else 200
                self.failures -= code == 500
        with self._lock:
            self.received.append({"headers": {k.lower(): v for k, v in headers.items()}, "body": body, "code": code})
        return code

    @property
    def accepted(self) -> list[tuple[str, dict]]:
        """(webhook-id, payload) of each request answered 200, in arrival order."""
        return [(r["headers"]["webhook-id"], json.loads(r["body"])) for r in self.received if r["code"] == 200]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    made = []

    def make(failures: int = 0) -> Receiver:
        made.append(Receiver(failures))
        return made[-1]

    yield make
    for receiver in made:
        receiver.close()


def admin(app) -> Browser:
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "admin"))
    return browser


def register(browser: Browser, receiver: Receiver, events: list[str], description: str = "") -> int:
    """« Ajouter un webhook » as an admin does it; the receiver gets the secret shown once. Returns its id."""
    page = browser.get(PAGE).follow("Ajouter un webhook")
    page = page.form("webhook-form").fill(url=receiver.url, description=description, events=events).submit("Enregistrer")
    assert page.status == 200 and "Copiez son secret maintenant" in " ".join(page.alerts()), (page.status, page.errors())
    [receiver.secret] = page.texts("//code[@id='secret']")
    assert receiver.secret.startswith("whsec_")
    return int(page.doc.xpath("//form[@id='activation']/@action")[0].split("/")[3])


def work(app) -> int:
    """The worker's webhook pass."""
    with app.app_context():
        return deliver_webhooks()


def work_until_done(app, limit: int = 20) -> None:
    """Worker passes, the clock moved to each next attempt (no sleep), until nothing is pending."""
    for _ in range(limit):
        work(app)
        with app.app_context():
            pending = db.session.scalars(db.select(WebhookDelivery).where(WebhookDelivery.status == "pending")).all()
            retried = [row.next_attempt_at for row in pending if row.attempts]  # the others wait for these
        if not pending:
            return
        clock.freeze(max(min(retried, default=clock.now()), clock.now()))
    raise AssertionError("deliveries still pending")


def deliveries(app, endpoint_id: int) -> list[WebhookDelivery]:
    with app.app_context():
        rows = db.session.scalars(db.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
                                  .order_by(WebhookDelivery.id)).all()
        db.session.expunge_all()
        return rows


def supplier_browser(app, siret: str) -> Browser:
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "supplier", sirets=[siret]))
    return browser


def deposit(browser: Browser, public_id: str, kind: str, name: str):
    """« Déposer des pièces jointes »: import one file, then « Terminer mon dépôt » confirmed."""
    page = browser.get(f"/demandes/{public_id}/etape")
    page = page.form().fill(document_type=kind).attach("document_file", name, pdf_bytes(kind)).submit("Importer")
    assert page.status == 200, page.errors()
    return page.form().submit("Confirmer")


EVERYTHING = list(webhooks.EVENTS)


def test_a_request_s_events_reach_the_receiver_signed_once_each_in_order_despite_failures(portal, mailbox, receivers):
    portal.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    receiver, validations = receivers(failures=2), receivers()
    browser = admin(portal)
    assert browser.get("/").follow("Webhooks").h1 == "Webhooks"
    everything = register(browser, receiver, EVERYTHING, "Système de suivi")
    validated_only = register(browser, validations, ["request.validated"])
    # The receiver checks timestamps against the real time (5 minutes' tolerance): the portal's
    # clock starts there and moves only by the retries' delays.
    clock.freeze(datetime.now(timezone.utc))

    public_id, supplier = file_request(portal)
    work(portal)                                           # the receiver is down: 500
    agent = Agent(portal)
    assert agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS récent.").status == 200
    deposit(supplier_browser(portal, supplier.siret), public_id, "kbis", "kbis-2026.pdf")
    assert agent.decide(public_id, "valider").status == 200
    work_until_done(portal)

    # Each event once, in the order it happened; the first one after two refused attempts.
    events = [payload["type"] for _, payload in receiver.accepted]
    assert events == ["request.filed", "request.status_changed", "request.documents_requested",
                      "request.status_changed", "request.documents_deposited", "request.status_changed",
                      "request.status_changed", "request.validated"]
    ids = [message_id for message_id, _ in receiver.accepted]
    assert len(set(ids)) == len(ids)
    assert [r["code"] for r in receiver.received] == [500, 500] + [200] * len(ids)
    assert {r["headers"]["webhook-id"] for r in receiver.received[:3]} == {ids[0]}  # retries: the same id
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        number = request.number
    changes = [(p["data"]["previous_status"], p["data"]["status"]) for _, p in receiver.accepted
               if p["type"] == "request.status_changed"]
    assert changes == [("draft", "in_progress"), ("in_progress", "awaiting_documents"),
                       ("awaiting_documents", "in_progress"), ("in_progress", "validated")]
    filed = receiver.accepted[0][1]["data"]
    assert filed["number"] == number and filed["siret"] == supplier.siret and filed["type"] == "INITIAL"
    # as committed: with the status the diagram gave it after « Terminer », not the draft's
    assert (filed["status"], filed["status_label"]) == ("in_progress", "En cours")
    assert filed["url"] == f"{portal.config['PORTAL_URL']}/gestion/demandes/{public_id}"
    requested = receiver.accepted[2][1]["data"]
    assert requested["requested_documents"] == [{"type": "kbis", "label": "KBIS"}]
    assert requested["message"] == "Un KBIS récent."
    assert receiver.accepted[4][1]["data"]["documents"] == [{"type": "kbis", "label": "KBIS", "name": "kbis-2026.pdf"}]
    assert receiver.accepted[-1][1]["data"]["status_label"] == "Validée"
    # The endpoint subscribed to validations alone got that one event.
    assert [p["type"] for _, p in validations.accepted] == ["request.validated"]
    assert [r["code"] for r in validations.received] == [200]

    # A tampered body, or a signature made with another secret, is refused by the receiver.
    first = receiver.received[2]
    tampered = first["body"].replace(number.encode(), b"ENR9999M0")
    assert httpx.post(receiver.url, content=tampered, headers=first["headers"]).status_code == 400
    forged = webhooks.signed_headers(webhooks.new_secret(), ids[0], clock.now(), first["body"].decode())
    assert httpx.post(receiver.url, content=first["body"], headers=forged).status_code == 400
    assert httpx.post(receiver.url, content=first["body"], headers=first["headers"]).status_code == 200

    # The delivery log: attempts, last code, duration; « Renvoyer » sends the same id and body again.
    log = browser.get(f"{PAGE}/{everything}")
    [delivery] = [d for d in deliveries(portal, everything) if d.message_id == ids[0]]
    event, request_number, state, attempts, code, duration, _, _ = log.texts(f"//tr[@id='envoi-{delivery.id}']/td")
    assert event.startswith("Demande déposée") and request_number == number and state == "Remis"
    assert attempts == "3" and code == "200" and duration.endswith(" ms")
    assert delivery.attempts == 3 and delivery.last_status_code == 200 and delivery.last_duration_ms is not None
    assert len(log.doc.xpath("//table[@id='envois']/tbody/tr")) == len(ids)
    before = len(receiver.received)
    page = log.form(f"renvoi-{delivery.id}").submit("Renvoyer")
    assert f"L'envoi {ids[0]} (Demande déposée) est remis dans la file" in " ".join(page.alerts())
    assert work(portal) == 1
    again = receiver.received[before]
    assert again["code"] == 200 and again["headers"]["webhook-id"] == ids[0] and again["body"] == first["body"]
    assert deliveries(portal, everything)[0].attempts == 4
    assert [d.event for d in deliveries(portal, validated_only)] == ["request.validated"]


def test_certificates_deposited_and_a_rejection_are_announced_and_a_partial_validation_is_no_validation(
        portal, mailbox, receivers):
    portal.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    receiver = receivers()
    register(admin(portal), receiver, ["request.documents_deposited", "request.validated", "request.rejected"])
    public_id, supplier = file_request(portal, Supplier(ans_number=PENDING_NON_DPI))
    agent = Agent(portal)
    agent.decide(public_id, "valider_partiellement")
    holder = Holder(portal, mailbox, supplier.holder_email)
    page = holder.task(public_id).form().attach("doc_final_referencing_certificate", "certificat.pdf",
                                                pdf_bytes("Certificat")).submit("Confirmer")
    assert page.status == 200, page.errors()
    agent.decide(public_id, "rejeter", reason="Le certificat ne correspond pas au numéro ANS.")
    work(portal)
    deposited, rejected = [payload for _, payload in receiver.accepted]
    assert deposited["type"] == "request.documents_deposited" and deposited["data"]["documents"] == [
        {"type": "referencing_certificate", "label": "Certificat de référencement", "name": "certificat.pdf"}]
    assert rejected["type"] == "request.rejected"
    assert (rejected["data"]["previous_status"], rejected["data"]["status"]) == ("certificates_to_validate", "rejected")


def test_a_delivery_waits_for_the_earlier_ones_of_its_request_and_fails_after_its_attempts(portal, receivers):
    portal.config.update(WEBHOOK_ALLOW_HTTP_LOOPBACK=True, WEBHOOK_MAX_ATTEMPTS=3)
    receiver = receivers(failures=100)
    endpoint = register(admin(portal), receiver, ["request.status_changed"])
    clock.freeze(datetime.now(timezone.utc))
    with portal.app_context():
        request = enrolment.start()
        request.number = "ENR0001M0"
        db.session.flush()
        request.status = "in_progress"
        request.status = "awaiting_documents"
        db.session.commit()
    work(portal)
    first, second = deliveries(portal, endpoint)
    assert (first.attempts, second.attempts) == (1, 0)     # the second waits for the first
    assert first.last_status_code == 500 and first.next_attempt_at == clock.now() + timedelta(seconds=30)
    clock.advance(timedelta(seconds=30))
    work(portal)
    assert deliveries(portal, endpoint)[0].next_attempt_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    work(portal)
    first, second = deliveries(portal, endpoint)
    assert (first.status, first.attempts, second.attempts) == ("failed", 3, 0)  # given up; the order holds
    row = admin(portal).get(f"{PAGE}/{endpoint}").texts(f"//tr[@id='envoi-{first.id}']")[0]
    assert "En échec" in row and "500" in row
    assert len(receiver.received) == 3


def test_rolled_back_changes_queue_nothing_and_unsubscribed_or_inactive_endpoints_get_nothing(portal, receivers):
    portal.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    browser = admin(portal)
    statuses_only = register(browser, receivers(), ["request.status_changed"])
    filed_only = register(browser, receivers(), ["request.filed"])
    with portal.app_context():
        request = enrolment.start()
        request.number = "ENR0002M0"
        db.session.commit()
        request.status = "in_progress"
        db.session.rollback()                              # the change is undone: so is its event
        savepoint = db.session.begin_nested()
        request.status = "rejected"
        db.session.flush()
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)) == 1
        savepoint.rollback()                               # a savepoint's rollback (a simulation's step)
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(WebhookDelivery)) == 0
    # Deactivated: no new event for it; its pending deliveries leave when it is active again.
    page = browser.get(f"{PAGE}/{statuses_only}").form("activation").submit("Désactiver")
    assert "Le webhook est désactivé" in " ".join(page.alerts()) and "Désactivé" in page.content
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest))
        request.status = "in_progress"
        db.session.commit()
    assert deliveries(portal, statuses_only) == [] and deliveries(portal, filed_only) == []
    browser.get(f"{PAGE}/{statuses_only}").form("activation").submit("Réactiver")
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest))
        request.status = "validated"
        db.session.commit()
    assert [d.event for d in deliveries(portal, statuses_only)] == ["request.status_changed"]
    assert deliveries(portal, filed_only) == []


def test_the_endpoint_form_refuses_bad_input_in_french_and_keeps_it(portal):
    browser = admin(portal)
    form = browser.get(f"{PAGE}/nouveau").form("webhook-form")
    page = form.fill(url="http://exemple.fr/hooks", description="Suivi", events=[]).submit("Enregistrer")
    assert page.status == 422
    assert page.errors()["url"] == ["L'adresse doit commencer par https:// : les envois contiennent des données "
                                    "des demandes et doivent être chiffrés."]
    assert page.errors()["events"] == ["Choisissez au moins un événement à envoyer."]
    assert page.doc.xpath("//input[@name='url']/@value") == ["http://exemple.fr/hooks"]
    assert page.doc.xpath("//input[@name='description']/@value") == ["Suivi"]
    for url in ("http://127.0.0.1:9/hooks", "exemple.fr/hooks", "https://utilisateur:motdepasse@exemple.fr/",
                "https://exemple.fr:port/", "https://exem ple.fr/"):
        page = page.form("webhook-form").fill(url=url, events=["request.filed"]).submit("Enregistrer")
        assert page.status == 422 and page.errors()["url"], url  # loopback over http: development only
    portal.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    page = page.form("webhook-form").fill(url="http://127.0.0.1:9/hooks").submit("Enregistrer")
    assert page.status == 200 and page.h1 == "Webhook http://127.0.0.1:9/hooks"
    # Edited, its secret shown again on demand, deleted with its log.
    page = page.follow("Modifier").form("webhook-form").fill(url="https://exemple.fr/hooks",
                                                               events=["request.rejected"]).submit("Enregistrer")
    assert page.h1 == "Webhook https://exemple.fr/hooks" and "Demande rejetée" in page.content
    assert not page.doc.xpath("//code[@id='secret']")
    secret = page.form("afficher-secret").submit("Afficher le secret").texts("//code[@id='secret']")
    assert secret[0].startswith("whsec_")
    page = browser.get(PAGE).follow("https://exemple.fr/hooks").form("suppression").submit("Supprimer")
    assert "Aucun webhook enregistré." in page.content


def test_webhooks_are_for_admins(portal):
    browser = Browser(portal.test_client())
    log_in(browser, *make_user(portal, "agent"))
    assert browser.get(PAGE).status == 404  # the page does not exist for them
    assert Browser(portal.test_client()).get(PAGE).url.startswith("/connexion")
    assert "Webhooks" not in browser.get("/gestion/demandes").texts("//nav[@id='navigation-principale']")[0]


def test_two_workers_deliver_each_event_once(portal, receivers):
    """Two workers at once on PostgreSQL (``FOR UPDATE SKIP LOCKED``): each delivery is attempted by
    one of them, once, and each request's events still arrive in order."""
    if portal.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("SKIP LOCKED is PostgreSQL's; SQLite serialises the writers")
    portal.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True
    browser = admin(portal)
    receiver = receivers()
    endpoints = [register(browser, receiver, ["request.status_changed"]) for _ in range(2)]
    receiver.secret = None  # two secrets: the receiver checks each one below instead
    with portal.app_context():
        secrets_by_id = {e: db.session.get(WebhookEndpoint, e).secret for e in endpoints}
        for index in range(15):
            request = enrolment.start()
            request.number = f"ENR{index:04d}M0"
            db.session.flush()
            for status in ("in_progress", "awaiting_documents", "in_progress", "validated"):
                request.status = status
        db.session.commit()
    barrier = threading.Barrier(2)
    counts = []

    def worker():
        with portal.app_context():
            barrier.wait()
            counts.append(deliver_webhooks())

    received = receiver.received
    receiver._answer = lambda headers, body: received.append(
        {"headers": {k.lower(): v for k, v in headers.items()}, "body": body, "code": 200}) or 200
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    total = 15 * 4 * 2
    assert sum(counts) == total and len(received) == total
    assert len({r["headers"]["webhook-id"] for r in received}) == total
    rows = {d.message_id: d for e in endpoints for d in deliveries(portal, e)}
    for r in received:  # signed with its endpoint's secret
        Webhook(secrets_by_id[rows[r["headers"]["webhook-id"]].endpoint_id]).verify(r["body"], r["headers"])
    by_request = {}
    for r in received:
        row = rows[r["headers"]["webhook-id"]]
        by_request.setdefault((row.endpoint_id, row.request_id), []).append(row.id)
    assert all(ids == sorted(ids) for ids in by_request.values())
    assert {d.attempts for d in rows.values()} == {1}
    with portal.app_context():
        assert drain(webhooks.deliver_next) == []
