"""The captured mailbox (/dev/courriels) is a development tool: only the ``portal`` command serves
it, only to this machine. Anywhere else, reading someone's password link there would be an account
takeover. A server that would capture mails without being told to refuses to start."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.extensions import db
from app.models import OutboxMail
from browser import Browser
from people import log_in, make_user

ROOT = Path(__file__).resolve().parent.parent
PATHS = ("/dev/courriels", "/dev/courriels/{id}")


def _captured_reset_link(portal, login: str) -> OutboxMail:
    """Anyone asks « Mot de passe oublié » for ``login``; the worker captures the mail."""
    page = Browser(portal.test_client()).get("/mot-de-passe-oublie").form().fill(login=login).submit("Valider")
    assert page.status == 200, page.text
    assert portal.test_cli_runner().invoke(args=["worker", "--once"]).exit_code == 0
    with portal.app_context():
        mail = db.session.scalars(db.select(OutboxMail).where(OutboxMail.event == "mot_de_passe_reinitialisation")).one()
        assert mail.status == "sent" and mail.transport == "capture" and "/mot-de-passe/" in mail.body_text
        db.session.expunge(mail)
        return mail


@pytest.mark.parametrize("role", [None, "supplier", "agent", "analyst", "admin"])
def test_outside_development_nobody_reads_the_captured_mails(portal, role):
    portal.config.update(MAIL_CAPTURE=True)  # captured, but not under the portal command
    admin_login, _ = make_user(portal, "admin")
    mail = _captured_reset_link(portal, admin_login)  # the takeover attempt: the link is in there…
    visitor = Browser(portal.test_client())
    if role:
        log_in(visitor, *make_user(portal, role, sirets=["34866299000038"] if role == "supplier" else ()))
    for path in PATHS:  # … and nobody can read it
        assert visitor.get(path.format(id=mail.id)).status == 404


def test_in_development_the_mailbox_answers_this_machine_only(portal):
    portal.config.update(MAIL_CAPTURE=True, DEV_MAILBOX=True)  # what the portal command sets
    mail = _captured_reset_link(portal, make_user(portal, "admin")[0])
    local = Browser(portal.test_client())
    page = local.get("/dev/courriels")
    assert page.status == 200 and "Outil de développement" in page.content and mail.subject in page.content
    assert local.get(f"/dev/courriels/{mail.id}").status == 200
    remote = portal.test_client()
    remote.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for path in PATHS:
        assert remote.get(path.format(id=mail.id)).status_code == 404
    portal.config.update(MAIL_CAPTURE=False)  # a real SMTP server: nothing is captured
    assert local.get("/dev/courriels").status == 404


def _run(tmp_path, code_or_args, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("MAIL_SERVER", "MAIL_CAPTURE", "FLASK_RUN_FROM_CLI", "DATABASE_URL")}
    environment.update(INSTANCE_PATH=str(tmp_path), **env)
    args = ["-c", code_or_args] if isinstance(code_or_args, str) else ["-m", "flask", "--app", "wsgi", *code_or_args]
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True,
                          timeout=120)


def test_a_server_without_smtp_refuses_to_start_unless_told(tmp_path):
    served = _run(tmp_path, "import wsgi")  # what gunicorn does with wsgi:app
    assert served.returncode != 0 and "Aucun serveur SMTP n'est configuré (MAIL_SERVER)" in served.stderr
    assert _run(tmp_path, "import wsgi", MAIL_CAPTURE="1").returncode == 0
    assert _run(tmp_path, "import wsgi", MAIL_SERVER="smtp.exemple.fr").returncode == 0
    worker = _run(tmp_path, ["worker", "--once"])
    assert worker.returncode != 0 and "Aucun serveur SMTP n'est configuré" in worker.stderr
