"""Every absolute link the portal writes (mails, password links) starts with its public address,
``PORTAL_URL``, never with the address a request happened to reach."""
import re

from app import create_app
from browser import Browser
from instruction_steps import Agent, Holder, file_request, link_in
from people import make_user

PUBLIC = "https://enrolement.segur.example.fr"


def links(mailbox, message) -> list[str]:
    return re.findall(r"https?://[^\s\"'<>()«»]+", mailbox.text(message) + mailbox.html(message))


def test_every_link_in_the_mails_starts_with_the_public_address(portal, mailbox):
    portal.config["PORTAL_URL"] = PUBLIC
    public_id, supplier = file_request(portal)
    Agent(portal).decide(public_id, "valider")
    make_user(portal, "supplier", email="titulaire@fournisseur-sante.fr")
    page = Browser(portal.test_client()).get("/identifiant-oublie")  # the test client calls itself localhost
    page.form().fill(email="titulaire@fournisseur-sante.fr").submit("Valider")

    mails = mailbox.to(supplier.holder_email) + mailbox.to("titulaire@fournisseur-sante.fr")
    assert len({m["Subject"] for m in mails}) >= 5  # accusé de réception, validation, identifiant, mot de passe, rappel
    found = [link for m in mails for link in links(mailbox, m)]
    portal_links = [link for link in found if not link.startswith(portal.config["ASSISTANCE_URL"])]
    assert portal_links and all(f"{link.rstrip('.')}/".startswith(PUBLIC + "/") for link in portal_links), found
    assert not [link for link in portal_links if "//" in link.removeprefix("https://")], found
    holder = Holder(portal, mailbox, supplier.holder_email)  # the password link, opened, works
    assert holder.detail(public_id).status == 200


def test_a_trailing_slash_in_the_public_address_is_dropped(monkeypatch, tmp_path):
    monkeypatch.setenv("PORTAL_URL", PUBLIC + "/")
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'url.sqlite3'}"})
    assert app.config["PORTAL_URL"] == PUBLIC
