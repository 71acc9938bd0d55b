"""Test fixtures: the real app on SQLite and on PostgreSQL, a real SMTP server on loopback.

Every test that uses ``app`` (or anything built on it) runs once per database. PostgreSQL tests
are skipped, with the reason printed, only when no server answers on 127.0.0.1:5432.
"""
import asyncio
import contextlib
import os
import shutil
import socket
import tempfile
import threading
from email import message_from_bytes, policy
from pathlib import Path

import psycopg
import pytest
from aiosmtpd.controller import Controller

from app import clock, create_app
from app.extensions import db, limiter

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
DEMO_REFERENCING = Path(__file__).resolve().parent.parent / "app" / "data" / "referencing_demo.csv"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- SMTP -----------------------------------------------------------------------------------

#: The loopback SMTP server refuses recipients of this domain with a 550 (permanent refusal).
REFUSED_DOMAIN = "@adresse-inconnue.fr"


class Mailbox:
    """Collects what the loopback SMTP server receives. Mails leave only from the worker: reading
    ``messages`` (or ``to``, or clearing) first runs the worker's mail pass on the current test's app,
    as the worker would right after the commit; ``received`` is what arrived without running it."""

    def __init__(self):
        self.received = []
        self.app = None        # the current test's app (set by the ``app`` fixture)
        self.controller = None
        self._lock = threading.Lock()

    def handle_DATA(self, envelope):
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.received.append({"to": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"

    def deliver(self) -> int:
        """The worker's mail pass (forgotten requests, then due mails); how many mails were sent."""
        if self.app is None:
            return 0
        from app.worker import deliver_mails
        with self.app.app_context():
            return deliver_mails()

    @property
    def messages(self):
        self.deliver()
        return self.received

    def clear(self):
        self.deliver()
        with self._lock:
            self.received.clear()

    def to(self, address):
        return [m["message"] for m in self.messages if address in m["to"]]

    @contextlib.contextmanager
    def stopped(self):
        """The SMTP server down (connections refused) for the block, then up again on the same port."""
        self.controller.stop()
        try:
            yield
        finally:
            self.controller.loop = asyncio.new_event_loop()  # stop() closed the old one
            self.controller.start()

    @staticmethod
    def text(message):
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html(message):
        return message.get_body(preferencelist=("html",)).get_content()


class _SMTPHandler:
    """aiosmtpd's handler (kept apart from Mailbox: aiosmtpd reads every attribute of its handler,
    and reading ``Mailbox.messages`` runs a delivery)."""

    def __init__(self, mailbox):
        self.mailbox = mailbox

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith(REFUSED_DOMAIN):  # a mailbox that does not exist: refused for good
            return "550 5.1.1 Adresse inconnue"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.mailbox.handle_DATA(envelope)


@pytest.fixture(scope="session")
def smtp_server():
    mailbox = Mailbox()
    mailbox.port = free_port()
    mailbox.controller = Controller(_SMTPHandler(mailbox), hostname="127.0.0.1", port=mailbox.port)
    mailbox.controller.start()
    yield mailbox
    mailbox.controller.stop()


# --- databases --------------------------------------------------------------------------------

def _postgres_url():
    # One database per pytest process, so that parallel runs do not disturb each other.
    name = f"segur_test_{WORKER}_{os.getpid()}"
    try:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL injoignable ({PG_ADMIN_URL}) : tests PostgreSQL ignorés — {exc}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def session_app(request, smtp_server):
    workdir = Path(tempfile.mkdtemp(prefix=f"segur-{request.param}-{WORKER}-"))
    url = f"sqlite:///{workdir / 'test.sqlite3'}" if request.param == "sqlite" else _postgres_url()
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "UPLOAD_FOLDER": str(workdir / "documents"),
        "MAIL_CAPTURE": False,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "ALTCHA_COST": 200,
    })
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        db.session.commit()
    yield app
    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    if request.param == "postgresql":
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _empty_database():
    """Every table emptied, children first. DELETE rather than PostgreSQL's TRUNCATE: a test leaves
    a few rows, and TRUNCATE's new files for every table cost 0.2 s per test there."""
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app(session_app, smtp_server):
    """The app with an empty database, a fresh upload folder and a released clock."""
    saved_config = dict(session_app.config)
    clock.freeze(None)
    smtp_server.app = None
    smtp_server.clear()
    with session_app.app_context():
        _empty_database()
    limiter.reset()  # in-memory rate limits (« J'ai oublié » forms) start afresh
    shutil.rmtree(session_app.config["UPLOAD_FOLDER"], ignore_errors=True)
    smtp_server.app = session_app
    yield session_app
    smtp_server.app = None
    clock.freeze(None)
    session_app.config.clear()
    session_app.config.update(saved_config)


@pytest.fixture
def portal(app):
    """The app with the diagrams of bpmn/ deployed, the demo ANS referencing directory, captcha off
    (tested on its own)."""
    from app.package import deploy_files
    from app.services import referencing
    app.config["CAPTCHA_ENABLED"] = False
    with app.app_context():
        deploy_files(author="premier démarrage")  # as the portal command does
        assert referencing.import_csv(DEMO_REFERENCING).ok
        db.session.commit()
    return app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def mailbox(smtp_server):
    return smtp_server


# --- real browser ---------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


@pytest.fixture
def live_url(portal):
    """The portal served over HTTP on loopback, for a real browser (SQLite only: the server thread
    and the test share the database file)."""
    if not portal.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("browser tests run on SQLite")
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, portal, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def chromium(live_url):
    """A page of Debian's Chromium driven by Playwright (installed by the README test command)."""
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(base_url=live_url, locale="fr-FR")
        page.set_default_timeout(15000)
        yield page
        browser.close()


# --- S3 (a real S3 server on loopback) ------------------------------------------------------------

S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "segur-test", "AWS_SECRET_ACCESS_KEY": "segur-test-secret"}
S3_REGION = "eu-west-3"


class S3Bucket:
    """A bucket of the loopback S3 server, read with boto3 directly (not through the portal)."""

    def __init__(self, endpoint_url: str, name: str):
        import boto3
        self.endpoint_url, self.name = endpoint_url, name
        self.client = boto3.client("s3", endpoint_url=endpoint_url, region_name=S3_REGION,
                                   aws_access_key_id=S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                                   aws_secret_access_key=S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])

    def keys(self) -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def config(self) -> dict:
        """The portal's settings for this bucket (app.config)."""
        return {"S3_BUCKET": self.name, "S3_ENDPOINT_URL": self.endpoint_url, "S3_REGION": S3_REGION,
                "S3_ACCESS_KEY_ID": S3_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                "S3_SECRET_ACCESS_KEY": S3_CREDENTIALS["AWS_SECRET_ACCESS_KEY"]}

    def environment(self) -> dict:
        """The same settings as the environment of another process (README « Production settings »)."""
        return {"S3_BUCKET": self.name, "S3_ENDPOINT_URL": self.endpoint_url, "S3_REGION": S3_REGION,
                **S3_CREDENTIALS}


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto in server mode (a real S3 API over HTTP) on a free loopback port; its endpoint URL."""
    import subprocess
    import sys
    import time
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with open(log, "wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                                   stdout=output, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            pass
        try:
            process.wait(timeout=0.05)  # returns at once if moto died
        except subprocess.TimeoutExpired:
            if time.monotonic() < deadline:
                continue
            process.kill()
        pytest.fail(f"le serveur S3 (moto) n'a pas démarré : {log.read_text(errors='replace')}")
    yield f"http://127.0.0.1:{port}"
    process.terminate()
    process.wait(timeout=30)


_buckets = iter(range(1, 1_000_000))


@pytest.fixture
def s3(app, s3_server):
    """A new, empty bucket on the S3 server, where the app stores its documents for this test."""
    bucket = S3Bucket(s3_server, f"segur-{WORKER.replace('_', '-')}-{os.getpid()}-{next(_buckets)}")
    bucket.client.create_bucket(Bucket=bucket.name,
                                CreateBucketConfiguration={"LocationConstraint": S3_REGION})
    app.config.update(bucket.config())  # the app fixture puts the configuration back afterwards
    yield bucket
    for key in bucket.keys():
        bucket.client.delete_object(Bucket=bucket.name, Key=key)
    bucket.client.delete_bucket(Bucket=bucket.name)
