"""The production server as an operator runs it (README « Production »): gunicorn with the shipped
``gunicorn.conf.py``, and the health endpoints a load balancer asks. The readiness says why a
process cannot serve (a database not migrated yet, a document storage that refuses files) and turns
ready without a restart once the operator fixed it."""
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_liveness_and_readiness_through_the_app(client):
    alive = client.get("/sante/vivant")
    assert alive.status_code == 200 and alive.get_json() == {"status": "ok"}
    ready = client.get("/sante/pret")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert "Set-Cookie" not in ready.headers  # a probe opens no session


def test_a_storage_that_refuses_files_makes_the_process_not_ready(app, client, tmp_path):
    blocker = tmp_path / "un-fichier"
    blocker.write_text("pas un dossier")
    app.config["UPLOAD_FOLDER"] = str(blocker / "documents")
    ready = client.get("/sante/pret")
    assert ready.status_code == 503
    answer = ready.get_json()
    assert answer["status"] == "ko" and answer["checks"]["database"] == "ok"
    assert answer["checks"]["storage"].startswith("stockage des documents inutilisable")
    assert client.get("/sante/vivant").status_code == 200  # alive: a restart would not help


def test_every_response_carries_a_request_id(client):
    given = client.get("/", headers={"X-Request-Id": "proxy-7f3a.1"})
    assert given.headers["X-Request-Id"] == "proxy-7f3a.1"
    made = client.get("/").headers["X-Request-Id"]
    assert len(made) == 32 and made != client.get("/").headers["X-Request-Id"]
    refused = client.get("/", headers={"X-Request-Id": "x" * 65}).headers["X-Request-Id"]  # too long: replaced
    assert refused != "x" * 65 and len(refused) == 32


def _environment(instance: Path, database: str) -> dict:
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("MAIL_SERVER", "FLASK_RUN_FROM_CLI", "DATABASE_URL", "UPLOAD_FOLDER")}
    environment.update(INSTANCE_PATH=str(instance), DATABASE_URL=database, MAIL_CAPTURE="1", SECRET_KEY="prod-test",
                       WEB_CONCURRENCY="2", GUNICORN_THREADS="2", LOG_FORMAT="json")
    return environment


def test_gunicorn_serves_the_portal_with_the_shipped_configuration(tmp_path):
    port = free_port()
    environment = _environment(tmp_path, f"sqlite:///{tmp_path / 'portal.sqlite3'}")
    environment["GUNICORN_BIND"] = f"127.0.0.1:{port}"
    (tmp_path / "prometheus").mkdir()
    environment.update(METRICS_TOKEN="jeton-prod", PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus"))
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                              env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    for line in server.stdout:  # gunicorn listens (connections then wait for a worker) before it boots them
        output.append(line)
        if "Booting worker" in line:
            break
    assert server.poll() is None, "".join(output)
    drain = threading.Thread(target=lambda: output.extend(server.stdout), daemon=True)
    drain.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            assert http.get("/sante/vivant").json() == {"status": "ok"}
            # Started on an empty database: alive, not ready, and it says what to do (and logs it, as
            # JSON, with the request id the proxy gave).
            ready = http.get("/sante/pret", headers={"X-Request-Id": "sonde-42"})
            assert ready.status_code == 503 and ready.headers["X-Request-Id"] == "sonde-42"
            assert "base de données à migrer" in ready.json()["checks"]["database"]
            assert "flask db upgrade" in ready.json()["checks"]["database"]
            migrated = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                                      env=environment, capture_output=True, text=True, timeout=120)
            assert migrated.returncode == 0, migrated.stderr
            # Ready without a restart (whichever process answers), and serving the portal.
            for _ in range(4):
                ready = http.get("/sante/pret")
                assert ready.status_code == 200 and ready.json()["status"] == "ok", ready.text
            home = http.get("/")
            assert home.status_code == 200 and "Effectuer ma demande d'enrôlement" in home.text
            # The processes' metrics, added up through the shared folder (multiprocess mode).
            scraped = http.get("/sante/metriques", headers={"Authorization": "Bearer jeton-prod"})
            assert scraped.status_code == 200 and metric(scraped.text, "segur_outbox_pending") == 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        drain.join(timeout=30)
    assert "Using worker: gthread" in "".join(output), "".join(output)
    assert any('"GET /sante/pret HTTP/1.1" 503' in line and "request_id=sonde-42" in line for line in output), output
    logged = [json.loads(line) for line in output if line.startswith("{")]
    assert any(entry["request_id"] == "sonde-42" and entry["level"] == "WARNING"
               and entry["message"].startswith("pas prêt : base de données à migrer") for entry in logged), output


def metric(text: str, name: str) -> float:
    """The value of the sample ``name`` (with its labels, as written) in Prometheus' text format."""
    found = [line.rsplit(" ", 1)[1] for line in text.splitlines() if line.startswith(name + " ")]
    assert found, f"no {name} in:\n{text}"
    return float(found[0])


def test_metrics_are_for_the_scraper_with_the_token_and_count_what_waits(portal, client):
    from journey import Journey
    assert client.get("/sante/metriques").status_code == 404  # no token configured: no metrics
    portal.config["METRICS_TOKEN"] = "jeton-de-test"
    assert client.get("/sante/metriques").status_code == 404
    assert client.get("/sante/metriques", headers={"Authorization": "Bearer autre"}).status_code == 404
    scrape = lambda: client.get("/sante/metriques", headers={"Authorization": "Bearer jeton-de-test"})  # noqa: E731
    before = scrape()
    assert before.status_code == 200 and before.mimetype == "text/plain"
    steps = 'segur_step_seconds_count{form_key="referencing_search"}'
    counted = metric(before.text, steps) if steps + " " in before.text else 0
    assert metric(before.text, "segur_outbox_pending") == 0
    # A supplier files a request: each step is timed, and the acknowledgement waits in the outbox
    # until the worker sends it.
    Journey(portal.test_client()).complete()
    after = scrape().text
    assert metric(after, steps) == counted + 1
    assert metric(after, "segur_outbox_pending") == 1
    for name in ("segur_outbox_failed", "segur_incidents_open", "segur_timers_due", "segur_documents_waiting_scan"):
        assert metric(after, name) == 0
