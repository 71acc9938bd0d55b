"""« Où en est la demande ? »: the request's diagrams with the path done and the current position
(JSON for the bpmn-js viewer) on the agent's review page, and the plain-French line saying whose
turn it is (also on the supplier's detail page, above its timeline); seen only by those who may see
the request."""
import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from app.extensions import db
from app.models import EnrolmentRequest
from browser import Browser
from instruction_steps import Agent, file_request
from people import log_in, make_user

OTHER_SIRET = "81245367800011"


def diagram_url(public_id):
    return f"/demandes/{public_id}/diagramme"


def deployed_sources(app, public_id) -> dict[str, str]:
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        return json.loads(request.instance.process_version.sources_json)


def processes(browser, public_id) -> dict:
    response = browser.client.get(diagram_url(public_id))
    assert response.status_code == 200, response.status_code
    data = response.get_json()
    return data["active"], {p["id"]: p for p in data["processes"]}


def supplier_of(app, supplier) -> Browser:
    """A logged-in account of the request's SIRET (opened by the agency before any validation)."""
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "supplier", sirets=[supplier.siret]))
    return browser


@pytest.fixture
def filed(portal, mailbox):
    public_id, supplier = file_request(portal)
    return public_id, supplier, Agent(portal)


def test_a_filed_request_stands_in_the_agents_review(portal, filed):
    public_id, supplier, agent = filed
    active, found = processes(agent.browser, public_id)
    assert list(found) == ["initial_enrolment", "instruction"] and active == "instruction"
    top, instruction = found["initial_enrolment"], found["instruction"]
    assert top["current"] == ["instruction"]
    assert {"start", "ans_search", "confirmation", "submit", "acknowledgment"} <= set(top["done"])
    assert "instruction" not in top["done"] and "end" not in top["done"]
    assert instruction["current"] == ["review"]
    assert {"start", "flow_start"} <= set(instruction["done"]) and "review" not in instruction["done"]
    sources = deployed_sources(portal, public_id)
    assert top["xml"] == sources["initial_enrolment.bpmn"] and instruction["xml"] == sources["instruction.bpmn"]
    assert instruction["name"] == "Instruction d'une demande d'enrôlement"
    # The supplier is told that the agency has it, since when.
    page = supplier_of(portal, supplier).get(f"/espace/demandes/{public_id}")
    line = " ".join(page.texts("//*[@id='request-turn']"))
    assert re.fullmatch(r"Votre demande est entre les mains d'un gestionnaire de l'ASP depuis le "
                        r"\d\d/\d\d/\d{4} à \d\d:\d\d\.", line), line


def test_after_a_request_for_documents_it_is_the_suppliers_turn(portal, filed):
    public_id, supplier, agent = filed
    page = agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")
    assert page.status == 200, page.errors()
    active, found = processes(agent.browser, public_id)
    assert list(found) == ["initial_enrolment", "instruction", "supporting_documents"]
    assert active == "supporting_documents"
    assert found["initial_enrolment"]["current"] == ["instruction"]
    instruction = found["instruction"]
    assert instruction["current"] == ["supporting_documents"]
    assert {"review", "decision", "flow_decided", "flow_request_documents"} <= set(instruction["done"])
    assert "flow_validate" not in instruction["done"]
    documents = found["supporting_documents"]
    assert set(documents["current"]) == {"deposit", "reminder_due"}  # the task and its reminder timer
    assert {"status_awaiting", "mail_request", "flow_requested"} <= set(documents["done"])
    detail = supplier_of(portal, supplier).get(f"/espace/demandes/{public_id}")
    line = " ".join(detail.texts("//*[@id='request-turn']"))
    assert re.fullmatch(r"C'est à vous d'agir depuis le \d\d/\d\d/\d{4} à \d\d:\d\d : "
                        r"Déposer des pièces jointes\.", line), line
    # The agent reads the same position, worded for the agency.
    review = " ".join(agent.review(public_id).texts("//*[@id='request-turn']"))
    assert review.startswith("Au tour du fournisseur depuis le ") and review.endswith(": Déposer des pièces jointes.")


def test_a_decided_request_is_instruite(portal, filed):
    public_id, supplier, agent = filed
    agent.decide(public_id, "rejeter", reason="Le RIB ne correspond pas au titulaire indiqué.")
    active, found = processes(agent.browser, public_id)
    assert active == "initial_enrolment" and all(not p["current"] for p in found.values())
    assert {"instruction", "end"} <= set(found["initial_enrolment"]["done"])
    assert {"status_rejected", "end_rejected", "flow_reject"} <= set(found["instruction"]["done"])
    line = " ".join(supplier_of(portal, supplier).get(f"/espace/demandes/{public_id}").texts("//*[@id='request-turn']"))
    assert re.fullmatch(r"Votre demande est instruite : rejetée le \d\d/\d\d/\d{4} à \d\d:\d\d\.", line), line


def test_only_those_who_may_see_the_request_see_its_diagram(portal, filed):
    public_id, supplier, agent = filed
    assert Browser(portal.test_client()).client.get(diagram_url(public_id)).status_code == 404
    other = Browser(portal.test_client())
    log_in(other, *make_user(portal, "supplier", sirets=[OTHER_SIRET]))
    assert other.client.get(diagram_url(public_id)).status_code == 404
    assert supplier_of(portal, supplier).client.get(diagram_url(public_id)).status_code == 200
    for role in ("agent", "analyst", "admin"):
        assert Agent(portal, role=role).browser.client.get(diagram_url(public_id)).status_code == 200, role
    assert agent.browser.client.get(diagram_url("inconnue")).status_code == 404


def test_the_review_page_holds_the_viewer_and_its_assets(portal, filed):
    """Staff's page; the supplier reads a timeline instead (tests/test_timeline.py)."""
    public_id, supplier, agent = filed
    page = agent.review(public_id)
    assert page.status == 200
    assert page.doc.xpath("//*[@id='request-diagram']/@data-diagram-url") == [diagram_url(public_id)]
    assert "Où en est la demande ?" in page.content
    assert page.doc.xpath("//select[@id='request-diagram-process']/option[@selected]/@value") == ["instruction"]
    assets = page.doc.xpath("//script/@src[contains(., 'bpmn-js') or contains(., 'diagram.js')]"
                            " | //link/@href[contains(., 'bpmn-js')]")
    assert len(assets) == 5, assets  # the viewer, its three style sheets, js/diagram.js
    for src in assets:
        assert agent.browser.client.get(src).status_code == 200, src
    assert agent.browser.client.get(
        "/assets/bpmn-js/dist/bpmn-navigated-viewer.production.min.js").status_code == 200


def test_the_turn_line_reads_the_portals_clock(portal, filed):
    public_id, supplier, agent = filed
    clock.freeze(datetime(2031, 3, 2, 9, 15, tzinfo=timezone.utc))  # far from the real time
    agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")
    clock.advance(timedelta(days=3))
    line = " ".join(supplier_of(portal, supplier).get(f"/espace/demandes/{public_id}").texts("//*[@id='request-turn']"))
    assert line == "C'est à vous d'agir depuis le 02/03/2031 à 10:15 : Déposer des pièces jointes.", line
