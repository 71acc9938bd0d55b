"""The README's run command, as a person runs it: ``flask --app wsgi portal`` in a subprocess,
stopped, then started again on the same ``instance/`` folder. Each time a person logs in and files
a step, and the development mailbox answers on loopback only under this command."""
import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path


from browser import Browser, LiveClient
from conftest import free_port
from journey import Journey, Supplier
from people import log_in

ROOT = Path(__file__).resolve().parent.parent
DEMO_PASSWORD = "Demo-Segur-2026!"


class Portal:
    """``flask --app wsgi portal`` running in a subprocess until ``stop``."""

    def __init__(self, instance: Path):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("DATABASE_URL", "MAIL_SERVER", "MAIL_CAPTURE", "FLASK_RUN_FROM_CLI")}
        env.update(INSTANCE_PATH=str(instance), CAPTCHA_ENABLED="0", PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "portal", "--port", str(self.port)],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True)
        self.output: list[str] = []
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._read, args=(lines,), daemon=True).start()
        while True:  # the server is listening once Werkzeug says where
            line = lines.get(timeout=180)
            assert line is not None, "the portal stopped:\n" + "".join(self.output)
            if "Running on" in line:
                break
        self.url = f"http://127.0.0.1:{self.port}"

    def _read(self, lines):
        for line in self.process.stdout:
            self.output.append(line)
            lines.put(line)
        lines.put(None)

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _use(portal: Portal, first_start: bool) -> None:
    """A supplier logs in and sees their space; an anonymous supplier files the first step."""
    supplier = Browser(LiveClient(portal.url))
    landing = log_in(supplier, "fournisseur.demo", DEMO_PASSWORD)
    page = supplier.get(landing)
    assert page.status == 200 and "Gérer mes demandes" in page.content, page.text[:500]

    journey = Journey(LiveClient(portal.url), Supplier(ans_number="RAd2RIS021"))  # rejected: may file again
    journey.start()
    assert journey.form_key == "referencing_search"
    journey.next()
    assert journey.page.status == 200 and journey.form_key not in (None, "referencing_search"), \
        (journey.page.status, journey.page.alerts(), journey.page.errors())

    mailbox = Browser(LiveClient(portal.url)).get("/dev/courriels")
    assert mailbox.status == 200 and "Outil de développement" in mailbox.content
    if not first_start:  # the demo's mails were written by the first start, on its port
        return
    links = {link for subject in mailbox.texts("//tbody//a")
             for link in re.findall(r"http://[^\s()«»]+", mailbox.follow(subject).content)}
    assert links and all(link.rstrip(".") == portal.url or link.startswith(portal.url + "/") for link in links), links


def test_the_portal_starts_again_on_the_same_folder(tmp_path):
    for start in (1, 2):
        portal = Portal(tmp_path / "instance")
        try:
            _use(portal, first_start=start == 1)
        finally:
            portal.stop()
        assert "database is locked" not in "".join(portal.output), f"start {start}:\n" + "".join(portal.output)
        assert ("Création des données de démonstration" in "".join(portal.output)) is (start == 1)
        accounts = "".join(portal.output).split("Comptes de démonstration")[1]  # as the README lists them
        for login in ("fournisseur.demo", "fournisseur.vague1", "agent.demo", "admin.demo", "analyste.demo"):
            assert f"  {login} " in accounts, accounts
