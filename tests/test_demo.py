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
        db.session.commit()
        assert not demo.needed()
        requests = db.session.scalars(db.select(EnrolmentRequest)).all()
        statuses = sorted(r.status for r in requests)
        types = {r.enrolment_type for r in requests}
    assert types == {"INITIAL", "INITIAL ANTICIPE", "COMPLEMENTAIRE"}
    assert statuses == sorted([
        "in_progress", "in_progress", "in_progress", "validated", "awaiting_documents",
        "partially_validated", "certificates_to_validate", "rejected"])
    supplier = Browser(portal.test_client())
    log_in(supplier, "fournisseur.demo", demo.PASSWORD)
    listing = supplier.get("/espace/demandes")
    assert len(listing.doc.xpath("//table//tbody/tr")) == 8
    wave_1 = Browser(portal.test_client())
    log_in(wave_1, demo.WAVE_1[0], demo.PASSWORD)
    menu = wave_1.get("/enrolement/complementaire")
    assert menu.doc.xpath(f"//form[@id='start-{demo.WAVE_1_SIRET}']")
    agent = Browser(portal.test_client())
    assert log_in(agent, "agent.demo", demo.PASSWORD) == "/gestion/demandes"
    queue = agent.get("/gestion/demandes")
    assert queue.status == 200 and "ENR0001" in queue.content
    assert {role for _, role, _ in accounts} == {"supplier", "agent", "admin", "analyst"}
