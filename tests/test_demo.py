"""The demo data the run command creates: a request in every status, run through the real
diagrams, and accounts that log in."""
from app import demo
from app.extensions import db
from app.models import EnrolmentRequest
from browser import Browser
from people import log_in


def test_demo_requests_cover_every_status_and_the_demo_accounts_log_in(portal):
    with portal.app_context():
        assert demo.needed()
        accounts = demo.create()
        assert not demo.needed()
        statuses = sorted(r.status for r in db.session.scalars(db.select(EnrolmentRequest)))
    assert statuses == sorted([
        "En cours", "En cours", "Validée", "En attente de pièce(s) jointe(s) complémentaire(s)",
        "Validation partielle - En attente de certificat(s)", "Certificat(s) à valider", "Rejetée"])
    supplier = Browser(portal.test_client())
    log_in(supplier, "fournisseur.demo", demo.PASSWORD)
    listing = supplier.get("/espace/demandes")
    assert len(listing.doc.xpath("//table//tbody/tr")) == 7
    agent = Browser(portal.test_client())
    assert log_in(agent, "agent.demo", demo.PASSWORD) == "/gestion/demandes"
    queue = agent.get("/gestion/demandes")
    assert queue.status == 200 and "ENR0001" in queue.content
    assert {role for _, role, _ in accounts} == {"supplier", "agent", "admin", "analyst"}
