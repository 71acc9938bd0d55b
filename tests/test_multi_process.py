"""The portal on several machines (issue 14): TWO web processes (gunicorn with the shipped
``gunicorn.conf.py``, each with its own ``instance/`` folder, as on two hosts) and TWO worker
processes (``flask worker``, looping), against one PostgreSQL database and one S3 server, drive a
whole enrolment and its instruction over real HTTP. The supplier files on app A (the uploads land in
the bucket); their pages and downloads are read on app B; an agent on app B takes the request and
asks for a document; the holder deposits it on app A with the mail's link; the agent validates on
app B; the holder opens their account from the mails on app A. Mails leave only from the workers, to
the suite's SMTP server, each once. Waits are on conditions with a deadline, never fixed sleeps.
SQLite serialises the writers of one host: PostgreSQL only."""
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.extensions import db
from app.models import Document, EnrolmentRequest, OutboxMail
from app.models.mail import SENT
from browser import Browser, LiveClient
from conftest import free_port
from files import pdf_bytes
from instruction_steps import Agent, Holder, link_in
from journey import Journey
from rows import stored

ROOT = Path(__file__).resolve().parent.parent
DEADLINE = 60  # seconds any one awaited condition may take


class Served:
    """An app process as the suite's helpers (``Agent``, ``Holder``) take an app: ``test_client()``
    speaks real HTTP to that process; ``app_context()`` is the test's own app on the same database,
    where accounts are set up."""

    def __init__(self, app, url: str):
        self.app, self.url = app, url

    def test_client(self) -> LiveClient:
        return LiveClient(self.url)

    def app_context(self):
        return self.app.app_context()


def same_browser(client: LiveClient, url: str) -> LiveClient:
    """The browser of ``client`` (its cookies) sent to another process, as a load balancer would."""
    other = LiveClient(url)
    other.http.cookies = client.http.cookies.jar
    return other


def wait_for(condition, what: str, processes):
    """Poll ``condition`` until it is true (returns its value), waiting on the processes meanwhile:
    fail at once if one of them exits, or after DEADLINE seconds, with their logs."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        for process in processes:
            try:
                process.wait(timeout=0.05 / len(processes))  # returns at once if it died
            except subprocess.TimeoutExpired:
                continue
            pytest.fail(f"{process.name} s'est arrêté pendant l'attente de : {what}\n{process.log.read_text()}")
    pytest.fail(f"délai dépassé en attendant : {what}\n" + "\n".join(p.log.read_text()[-3000:] for p in processes))


class Processes:
    """The processes of the test, started with the production environment of one host each."""

    def __init__(self, portal, s3, smtp_server, folder: Path):
        self.folder, self.started = folder, []
        environment = {k: v for k, v in os.environ.items() if k not in (
            "FLASK_RUN_FROM_CLI", "UPLOAD_FOLDER", "MAIL_CAPTURE", "DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")}
        environment.update(s3.environment(), DATABASE_URL=portal.config["SQLALCHEMY_DATABASE_URI"],
                           SECRET_KEY="plusieurs-machines", PORTAL_URL="http://portail.exemple.fr",
                           MAIL_SERVER="127.0.0.1",
                           MAIL_PORT=str(smtp_server.port), CAPTCHA_ENABLED="0", COMPANY_DIRECTORY="csv",
                           WEB_CONCURRENCY="1", GUNICORN_THREADS="4", GUNICORN_LOG_LEVEL="warning")
        self.environment = environment

    def start(self, name: str, command: list[str], **extra) -> subprocess.Popen:
        log = self.folder / f"{name}.log"
        environment = {**self.environment, "INSTANCE_PATH": str(self.folder / name), **extra}
        with log.open("wb") as output:
            process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT)
        process.name, process.log, process.instance = name, log, self.folder / name
        self.started.append(process)
        return process

    def web(self, name: str) -> str:
        """Start a gunicorn; its address (``_ready`` tells when it answers)."""
        port = free_port()
        self.start(name, [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                   GUNICORN_BIND=f"127.0.0.1:{port}")
        return f"http://127.0.0.1:{port}"

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--interval", "0.5"])

    def stop(self):
        for process in self.started:
            process.terminate()
        for process in self.started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/sante/pret", timeout=5).status_code == 200
    except httpx.TransportError:
        return False


def documents_of(portal, public_id) -> dict[str, Document]:
    """File name → document (the portal's recap under its kind)."""
    with portal.app_context():
        rows = db.session.scalars(db.select(Document).join(EnrolmentRequest)
                                  .where(EnrolmentRequest.public_id == public_id)).all()
        db.session.expunge_all()
        return {(d.kind if d.uploaded_by == "système" else d.original_name): d for d in rows}


def mails_settled(portal, smtp_server) -> list[OutboxMail] | None:
    """Every queued mail sent and received (none pending): the list, or None while not yet."""
    with portal.app_context():
        mails = db.session.scalars(db.select(OutboxMail).order_by(OutboxMail.id)).all()
        db.session.expunge_all()
    settled = mails and all(m.status == SENT for m in mails) and len(smtp_server.received) >= len(mails)
    return mails if settled else None


def subjects_to(smtp_server, email) -> list[str]:
    return [m["message"]["Subject"] for m in smtp_server.received if email in m["to"]]


@pytest.fixture
def postgresql(session_app):
    """Skips before anything is set up on SQLite."""
    if session_app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("several hosts share a PostgreSQL database; SQLite serialises the writers of one host")


def test_two_web_and_two_worker_processes_carry_an_enrolment_and_its_instruction(postgresql, portal, s3, smtp_server,
                                                                                  tmp_path):
    smtp_server.app = None   # mails leave from the worker processes only, never from this one
    processes = Processes(portal, s3, smtp_server, tmp_path)
    try:
        url_a, url_b = processes.web("web-a"), processes.web("web-b")
        workers = [processes.worker("worker-1"), processes.worker("worker-2")]
        for url in (url_a, url_b):  # all four start together; the web ones answer « prêt »
            wait_for(lambda: _ready(url), f"{url}/sante/pret", processes.started)
        _enrolment_and_instruction(portal, s3, smtp_server, url_a, url_b, workers)
        # Nothing was kept on a host's disk: no documents folder in any instance folder.
        assert [p for process in processes.started for p in process.instance.rglob("documents")] == []
    finally:
        processes.stop()
    for process in processes.started:  # no process logged an error
        assert "Traceback" not in process.log.read_text(), process.log.read_text()


def _enrolment_and_instruction(portal, s3, smtp_server, url_a, url_b, workers):
    # The supplier files on A: their uploads land in the bucket.
    journey = Journey(LiveClient(url_a))
    confirmation = journey.complete(worker=False)  # the worker processes make the recap PDF
    public_id = confirmation.url.split("/")[2]
    number = confirmation.texts("//*[@id='request-number']")[0]
    email = journey.supplier.holder_email
    # The recap PDF exists once a worker process has made it.
    wait_for(lambda: "recap_pdf" in documents_of(portal, public_id), "le récapitulatif (PDF)", workers)
    filed = documents_of(portal, public_id)
    assert set(filed) >= {"certificat-referencement.pdf", "cni-representant.jpg", "rib.pdf", "recap_pdf"}
    assert {d.storage_name for d in filed.values()} == s3.keys()

    # Their browser, sent to B: the confirmation page and the recap's download.
    on_b = Browser(same_browser(journey.browser.client, url_b))
    page = wait_for(lambda: _with_recap_link(on_b.get(f"/demandes/{public_id}/confirmation")),
                    "le lien du récapitulatif sur B", workers)
    assert number in page.content
    recap = on_b.client.http.get(page.doc.xpath("//a[contains(., 'Télécharger le récapitulatif (PDF)')]/@href")[0])
    assert recap.status_code == 200 and recap.content == s3.read(filed["recap_pdf"].storage_name)

    # An agent on B takes the request and asks for a KBIS; the workers mail the holder a deposit link.
    agent = Agent(Served(portal, url_b))
    page = agent.decide(public_id, "demander_pieces", requested_types=["kbis"],
                        message="Merci de fournir un KBIS de moins de trois mois.")
    assert page.status == 200 and stored(portal, public_id).status == "awaiting_documents", page.alerts()
    wait_for(lambda: any(s.startswith("Demande de pièces") for s in subjects_to(smtp_server, email)),
             "le courriel de demande de pièces", workers)
    [asked] = [m["message"] for m in smtp_server.received
               if email in m["to"] and m["message"]["Subject"].startswith("Demande de pièces")]
    link = link_in(smtp_server.text(asked), "/depot/")

    # The holder deposits on A with the mail's link.
    holder_a = Browser(LiveClient(url_a))
    kbis = pdf_bytes("KBIS")
    page = holder_a.get(link).form().fill(document_type="kbis").attach("document_file", "kbis.pdf", kbis).submit("Importer")
    assert "« kbis.pdf » a bien été importé" in " ".join(page.alerts()), (page.status, page.alerts(), page.errors())
    page = page.form().submit("Confirmer")
    assert page.h1 == "Dépôt terminé", (page.status, page.h1, page.alerts())
    deposited = documents_of(portal, public_id)["kbis.pdf"]
    assert s3.read(deposited.storage_name) == kbis

    # The agent, on B, sees the deposit, downloads it and validates.
    assert "kbis.pdf" in agent.review(public_id).content
    page = agent.decide(public_id, "valider")
    assert page.status == 200 and stored(portal, public_id).status == "validated", page.alerts()

    # The workers send every mail once: acknowledgment, request for documents, validation,
    # identifiant and password link.
    mails = wait_for(lambda: mails_settled(portal, smtp_server), "l'envoi de tous les courriels", workers)
    assert len(smtp_server.received) == len(mails) == 5, [m["message"]["Subject"] for m in smtp_server.received]
    assert all(m.attempts == 1 and m.transport == "smtp" for m in mails), [(m.attempts, m.transport) for m in mails]
    received = sorted((tuple(m["to"]), m["message"]["Subject"]) for m in smtp_server.received)
    assert received == sorted(((m.recipient,), m.subject) for m in mails)   # each once, none doubled

    # The holder opens their account from the mails on A and reads their request on B.
    holder = Holder(Served(portal, url_a), smtp_server, email)
    detail = Browser(same_browser(holder.browser.client, url_b)).get(f"/espace/demandes/{public_id}")
    assert detail.status == 200 and "Statut : Validée" in detail.content

    # Every document is served by both web processes, the bytes of the bucket.
    agent_on_a = same_browser(agent.browser.client, url_a)
    for name, document in documents_of(portal, public_id).items():
        expected = s3.read(document.storage_name)
        for client in (agent.browser.client, agent_on_a):
            response = client.http.get(f"/demandes/{public_id}/documents/{document.id}")
            assert response.status_code == 200 and response.content == expected, (name, client.http.base_url)
    assert s3.keys() == {d.storage_name for d in documents_of(portal, public_id).values()}


def _with_recap_link(page):
    return page if page.doc.xpath("//a[contains(., 'Télécharger le récapitulatif (PDF)')]") else None
