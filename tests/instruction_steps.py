"""The people who act after « Terminer », driven through the portal: an agent instructing a
request, and the supplier's account holder who opens their account from the mails and answers.

    agent = Agent(app)                      # a new agent account, logged in its own browser
    agent.decide(public_id, "valider")      # claim, open the decision, record it
    holder = Holder(app, mailbox, email)    # sets the password from the mail, logs in
    holder.deposit(public_id, {"kbis": ("kbis.pdf", pdf_bytes("KBIS"))})
"""
import re
from urllib.parse import urlsplit

from browser import Browser
from journey import Journey, Supplier
from people import PASSWORD, log_in, make_user

PENDING_DPI = "JGe2DPI015"     # anticipated SONS DPI (app/data/referencing_demo.csv)
PENDING_NON_DPI = "BIo2LBM007" # anticipated, not DPI


def file_request(app, supplier: Supplier | None = None) -> tuple[str, Supplier]:
    supplier = supplier or Supplier()
    journey = Journey(app.test_client(), supplier)
    page = journey.complete()
    public_id = page.url.split("/")[2]
    return public_id, supplier


class Agent:
    def __init__(self, app, role: str = "agent", credentials: tuple[str, str] | None = None, **person):
        """A new account of ``role``, or another session of the account ``credentials``."""
        self.app = app
        self.login, self.password = credentials or make_user(app, role, **person)
        self.browser = Browser(app.test_client())
        log_in(self.browser, self.login, self.password)

    def review(self, public_id):
        return self.browser.get(f"/gestion/demandes/{public_id}")

    def claim(self, public_id):
        page = self.review(public_id).form_with("Prendre en charge").submit("Prendre en charge")
        assert page.status == 200, page.text
        return page

    def decision_form(self, public_id):
        page = self.review(public_id)
        if not any("Instruire la demande" in " ".join(a.text_content().split()) for a in page.doc.xpath("//a")):
            page = self.claim(public_id)
        page = page.follow("Instruire la demande")
        assert page.status == 200 and page.doc.xpath("//form[@data-form-key='instruction_decision']"), \
            (page.status, page.alerts(), page.h1)
        return page

    def decide(self, public_id, decision: str, **fields):
        """Claim if needed, then record ``decision`` (valider, valider_partiellement, rejeter,
        demander_pieces) with ``fields`` (reason, requested_types, message)."""
        form = self.decision_form(public_id).form_with("Enregistrer la décision").fill(decision=decision, **fields)
        return form.submit("Enregistrer la décision")


def link_in(text: str, path: str) -> str:
    match = re.search(r"https?://\S+" + re.escape(path) + r"\S+", text)
    assert match, f"no {path} link in:\n{text}"
    parts = urlsplit(match.group(0))
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Holder:
    """The account holder: reads their mails, sets their password, logs in to their space."""

    def __init__(self, app, mailbox, email: str):
        self.app, self.mailbox, self.email = app, mailbox, email
        self.browser = Browser(app.test_client())
        mails = {m["Subject"]: mailbox.text(m) for m in mailbox.to(email)}
        login_mail = next(text for subject, text in mails.items() if "identifiant" in subject.lower())
        self.login = re.search(r"Votre identifiant de connexion est : (\S+)", login_mail).group(1)
        link_mail = next(text for text in mails.values() if "/mot-de-passe/" in text)
        page = self.browser.get(link_in(link_mail, "/mot-de-passe/"))
        page = page.form().fill(password=PASSWORD, confirmation=PASSWORD).submit("Valider")
        assert page.status == 200, page.text
        log_in(self.browser, self.login, PASSWORD)

    def detail(self, public_id):
        return self.browser.get(f"/espace/demandes/{public_id}")

    def task(self, public_id):
        return self.browser.get(f"/demandes/{public_id}/etape")

    def deposit(self, public_id, files: dict, finish: bool = True):
        """« Déposer des pièces jointes »: import each file (type → (name, bytes)), then
        « Terminer mon dépôt » confirmed in the pop-in."""
        page = self.task(public_id)
        for kind, (name, content) in files.items():
            page = page.form().fill(document_type=kind).attach("document_file", name, content).submit("Importer")
            assert page.status == 200 and f"« {name} » a bien été importé" in " ".join(page.alerts()), \
                (page.status, page.alerts(), page.errors())
        if finish:
            page = page.form().submit("Confirmer")
        return page
