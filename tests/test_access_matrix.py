"""Who may reach what: every route that names a request (pages, task, deposit, documents, agent
actions) for anonymous people, the filer's own browser, supplier A (the request's SIRET), supplier B,
an agent and an admin; and CSRF on every POST route of the app."""
import json

import pytest

from app.extensions import db
from app.models import Document, EnrolmentRequest
from browser import Browser
from instruction_steps import Agent
from journey import Journey, Supplier
from people import log_in, make_user

OTHER_SIRET = "81245367800011"


@pytest.fixture
def world(portal, mailbox):
    """A request of SIRET A waiting for the supplier's documents, and one browser per person."""
    filer = Journey(portal.test_client(), Supplier())
    public_id = filer.complete().url.split("/")[2]
    agent = Agent(portal)
    agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="KBIS récent")
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        document_id = db.session.scalar(db.select(Document.id).where(Document.request_id == request.id,
                                                                     Document.kind == "rib"))
        request.claimed_by_id = None  # nobody holds it: the agent and the admin are plain viewers
        db.session.commit()
    people = {"anonyme": Browser(portal.test_client()), "déposant": filer.browser, "agent": agent.browser}
    for name, role, sirets in (("fournisseur A", "supplier", [Supplier().siret]),
                               ("fournisseur B", "supplier", [OTHER_SIRET]), ("admin", "admin", [])):
        people[name] = Browser(portal.test_client())
        log_in(people[name], *make_user(portal, role, sirets=sirets))
    return public_id, document_id, people


LOGIN = "login"  # a redirect to /connexion

#: path → expected answer for: anonyme, déposant (the filer's anonymous browser), fournisseur A,
#: fournisseur B, agent, admin.
MATRIX = {
    "/espace/demandes/{id}":           (LOGIN, LOGIN, 200, 404, 404, 404),
    "/demandes/{id}/etape":            (404, 403, 200, 404, 303, 303),
    "/demandes/{id}/confirmation":     (404, 200, 200, 404, 200, 200),
    "/demandes/{id}/quitter":          (404, 302, 302, 404, 302, 302),
    "/demandes/{id}/documents/{doc}":  (404, 200, 200, 404, 200, 200),
    "/demandes/{id}/documents/999999": (404, 404, 404, 404, 404, 404),
    "/dev/courriels":                  (404, 404, 404, 404, 404, 404),  # real SMTP: no capture page
}
#: path → the capability of the permissions table that opens it: the login page for anonymous
#: people, 200 for a role that has it, 404 for the others (the page does not exist for them).
GATED = {
    "/espace": "supplier_space",
    "/espace/demandes": "supplier_space",
    "/gestion/demandes": "see_requests",
    "/gestion/demandes/{id}": "see_requests",
    "/gestion/courriels": "mails",
    "/gestion/incidents": "incidents",
    "/gestion/comptes": "accounts",
    "/gestion/webhooks": "integrations",
    "/gestion/jetons-api": "integrations",
    "/gestion/pilotage": "steering",
    "/processus": "studio",
    "/processus/roles": "studio",
    "/processus/motifs": "studio",
    "/processus/simulations": "studio",
}
PEOPLE = ("anonyme", "déposant", "fournisseur A", "fournisseur B", "agent", "admin")
ROLE_OF = {"anonyme": None, "déposant": None, "fournisseur A": "supplier", "fournisseur B": "supplier",
           "agent": "agent", "admin": "admin"}


def expected(portal) -> dict:
    """{(path, person): answer}: MATRIX, and GATED read through the deployed permissions table."""
    from app import package
    with portal.app_context():
        table = package.current()["roles"].table
    found = {(path, person): answer for path, answers in MATRIX.items() for person, answer in zip(PEOPLE, answers)}
    for path, capability in GATED.items():
        for person, role in ROLE_OF.items():
            found[(path, person)] = LOGIN if role is None else 200 if role in table[capability] else 404
    return found


def answers(people, public_id, document_id, paths) -> dict:
    found = {}
    for path in paths:
        url = path.format(id=public_id, doc=document_id)
        for person in PEOPLE:
            response = people[person].client.get(url)  # raw: some answers are PDF files
            got = response.status_code
            if got in (302, 303) and "/connexion" in response.headers.get("Location", ""):
                got = LOGIN
            found[(path, person)] = got
    return found


def test_every_person_reaches_only_what_they_may_see(world, portal):
    public_id, document_id, people = world
    wanted = expected(portal)
    assert wanted[("/gestion/courriels", "agent")] == 404 and wanted[("/gestion/courriels", "admin")] == 200
    found = answers(people, public_id, document_id, [*MATRIX, *GATED])
    wrong = {k: (v, wanted[k]) for k, v in found.items() if v != wanted[k]}
    assert not wrong, wrong


def test_the_matrix_follows_the_permissions_table(world, portal):
    """Give agents « mails » and take « see_requests » from admins (data, deployed): what each person
    reaches changes with the table, and the expectations read the same table."""
    from app import package
    public_id, document_id, people = world
    with portal.app_context():
        data = package.current().data
        roles = json.loads(json.dumps(data["roles"]))
        roles["agent"]["capabilities"].append("mails")
        roles["admin"]["capabilities"].remove("see_requests")
        package.deploy({}, "analyste", "droits", data={**data, "roles": roles})
        db.session.commit()
    wanted = expected(portal)
    assert wanted[("/gestion/courriels", "agent")] == 200 and wanted[("/gestion/demandes", "admin")] == 404
    found = answers(people, public_id, document_id, GATED)
    wrong = {k: (v, wanted[k]) for k, v in found.items() if v != wanted[k]}
    assert not wrong, wrong


def csrf_token(browser) -> str:
    """The browser's own CSRF token (every page has one: the home page's form or « Se déconnecter »)."""
    return browser.get("/").doc.xpath("//input[@name='csrf_token']/@value")[0]


def test_posts_on_a_request_are_refused_to_those_who_may_not_act(world, portal):
    public_id, _, people = world
    deposit = people["fournisseur A"].get(f"/demandes/{public_id}/etape").form()
    token, task = deposit.values["csrf_token"], deposit.values["_task"]
    for person in ("anonyme", "fournisseur B"):  # their own CSRF token, someone else's request
        browser = people[person]
        own_token = csrf_token(browser)
        page = browser.post(f"/demandes/{public_id}/etape", {"csrf_token": [own_token], "_task": [task],
                                                              "_action": ["none"]}, follow=False)
        assert page.status == 404, (person, page.content[:300])
    for person, expected in (("fournisseur A", 404), ("fournisseur B", 404), ("anonyme", LOGIN)):
        browser = people[person]
        own_token = csrf_token(browser)
        page = browser.post(f"/gestion/demandes/{public_id}/prise-en-charge", {"csrf_token": [own_token]},
                            follow=False)
        got = LOGIN if "/connexion" in page.response.headers.get("Location", "") else page.status
        assert got == expected, person
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        assert request.claimed_by_id is None
        assert request.status == "awaiting_documents"
    assert token  # supplier A's own form still works afterwards
    assert people["fournisseur A"].get(f"/demandes/{public_id}/etape").status == 200


def test_every_post_route_requires_the_csrf_token(world, portal):
    public_id, _, people = world
    portal.config["WTF_CSRF_ENABLED"] = True
    rules = {rule.rule for rule in portal.url_map.iter_rules() if "POST" in rule.methods}
    # The REST API authenticates by token, never by the session cookie: no CSRF token there, and a
    # call without its token is refused (tests/test_api.py).
    posts = sorted(rule for rule in rules if not rule.startswith("/api/"))
    assert len(posts) >= 10, posts
    for rule in sorted(rules - set(posts)):
        for person in ("anonyme", "fournisseur A", "agent"):
            assert people[person].post(rule, {"_action": ["none"]}, follow=False).status == 401, (rule, person)
    for rule in posts:
        url = (rule.replace("<public_id>", public_id).replace("<token>", "x" * 43).replace("<process_id>", "instruction")
               .replace("<int:number>", "1").replace("<file_name>", "instruction.bpmn")
               .replace("<int:user_id>", "1").replace("<int:simulation_id>", "1").replace("<int:endpoint_id>", "1")
               .replace("<int:document_id>", "1"))
        for person in ("anonyme", "fournisseur A", "agent"):
            page = people[person].post(url, {"_action": ["none"]}, follow=False)
            assert page.status == 400, (rule, person, page.status)
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        assert request.claimed_by_id is None
        assert request.status == "awaiting_documents"


def test_an_analyst_follows_requests_read_only(world, portal):
    public_id, _, _ = world
    analyst = Browser(portal.test_client())
    assert log_in(analyst, *make_user(portal, "analyst")) == "/gestion/demandes"
    assert analyst.get("/gestion/demandes?status=toutes").status == 200
    review = analyst.get(f"/gestion/demandes/{public_id}")
    assert review.status == 200 and "Prendre en charge" not in review.content
    assert analyst.client.post(f"/gestion/demandes/{public_id}/prise-en-charge",
                               data={"csrf_token": csrf_token(analyst)}).status_code == 404
    assert analyst.client.get(f"/demandes/{public_id}/etape").status_code == 303  # no task of theirs
    assert analyst.client.get("/gestion/courriels").status_code == 404             # admins only
    assert analyst.client.post("/gestion/courriels/renvoi", data={"csrf_token": csrf_token(analyst),
                                                                  "mail": "1"}).status_code == 404
