"""The REST API for integrators (/api/v1): tokens created and revoked by an admin through the
« Jetons d'API » page, then used like an integrator's program would, over HTTP, on real filed
requests (three suppliers' journeys, one rejected by an agent)."""
import hashlib
from datetime import datetime, timedelta, timezone
from io import BytesIO

import pytest
from openapi_spec_validator import validate

from app import clock
from app.extensions import db
from app.models import ApiToken, Document, EnrolmentRequest
from app.services import documents
from browser import Browser
from instruction_steps import Agent
from people import log_in, make_user
import test_agent_queue
from test_agent_queue import file_requests

quick_recap_pdf = test_agent_queue.quick_recap_pdf  # its autouse fixture: a quick recap PDF

API = "/api/v1"
PAGE = "/gestion/jetons-api"
PROBLEM = "application/problem+json"


class Admin:
    """An admin on the « Jetons d'API » page."""

    def __init__(self, app):
        self.browser = Browser(app.test_client())
        log_in(self.browser, *make_user(app, "admin"))

    def page(self):
        page = self.browser.get("/").follow("Jetons d'API")
        assert page.url == PAGE and page.h1 == "Jetons d'API"
        return page

    def create(self, integrator: str, scope: str = "read", description: str = "") -> str:
        """Create a token; returns its secret, shown once."""
        page = self.page().form("creation-jeton").fill(integrator=integrator, scope=scope,
                                                       description=description).submit("Créer le jeton")
        assert page.status == 200, page.errors()
        [secret] = page.doc.xpath('//input[@id="jeton-secret"]/@value')
        assert "il ne sera plus jamais affiché" in page.content
        return secret

    def row(self, prefix: str) -> str:
        [row] = [text for text in self.page().texts("//table[@id='jetons']//tr") if prefix in text]
        return row

    def revoke(self, prefix: str):
        page = self.page()
        [token_id] = page.doc.xpath(f"//tr[contains(., '{prefix}')]/@id")
        return page.form(f"revocation-{token_id.removeprefix('jeton-')}").submit("Révoquer")


class Integrator:
    """An integrator's program: plain HTTP calls with the bearer token, no cookie."""

    def __init__(self, app, secret: str):
        self.client = app.test_client(use_cookies=False)
        self.headers = {"Authorization": f"Bearer {secret}"}

    def get(self, path: str, **params):
        return self.client.get(API + path, query_string=params, headers=self.headers)

    def post_csv(self, content: bytes, name: str = "annuaire.csv"):
        return self.client.post(API + "/referentiel", headers=self.headers,
                                data={"file": (BytesIO(content), name, "text/csv")}, content_type="multipart/form-data")


def assert_problem(response, status: int, detail_part: str = ""):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM
    body = response.get_json()
    assert body["status"] == status and body["type"].startswith("urn:segur:probleme:")
    assert body["title"] and body["instance"] == response.request.path
    assert detail_part in body["detail"], body["detail"]
    return body


@pytest.fixture
def filed(portal):
    """Three requests (ENR0001M0 oldest); the first rejected by an agent."""
    numbers = file_requests(portal, 3)
    first = next(iter(numbers))
    Agent(portal).decide(numbers[first], "rejeter", reason="Le RIB ne correspond pas au titulaire indiqué.")
    return list(numbers)


@pytest.fixture
def admin(portal):
    return Admin(portal)


@pytest.fixture
def reader(portal, admin):
    return Integrator(portal, admin.create("Éditeur Lecteur", description="Tableau de bord"))


def numbers_of(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["number"] for item in response.get_json()["items"]]


def test_tokens_are_created_shown_once_and_listed_with_their_last_use(portal, admin, filed):
    clock.freeze(datetime(2026, 3, 12, 8, 0, tzinfo=timezone.utc))
    empty = admin.page().form("creation-jeton").fill(integrator=" ", scope="read").submit("Créer le jeton")
    assert empty.status == 422 and "Veuillez saisir le nom de l'intégrateur." in " ".join(sum(empty.errors().values(), []))
    secret = admin.create("Éditeur X", scope="write", description="Synchronisation nocturne")
    assert secret.startswith("segur_") and len(secret) > 40
    prefix = secret[:14]
    row = admin.row(prefix)
    assert "Éditeur X" in row and "Lecture et écriture" in row and "jamais" in row and "Actif" in row
    assert secret not in admin.page().text                      # shown once, never again
    with portal.app_context():
        token = db.session.scalar(db.select(ApiToken))
        assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest() and token.prefix == prefix

    integrator = Integrator(portal, secret)
    assert integrator.get("/demandes").status_code == 200
    assert "12/03/2026 à 09:00" in admin.row(prefix)              # last use, Paris time
    clock.advance(timedelta(seconds=50))
    integrator.get("/demandes")
    assert "12/03/2026 à 09:00" in admin.row(prefix)              # at most one write a minute
    clock.advance(timedelta(minutes=2))
    integrator.get("/demandes")
    assert "12/03/2026 à 09:02" in admin.row(prefix)


def test_a_revoked_a_garbled_or_a_missing_token_and_a_session_cookie_get_401(portal, admin, filed):
    secret = admin.create("Éditeur Y")
    integrator = Integrator(portal, secret)
    assert integrator.get("/demandes").status_code == 200
    page = admin.revoke(secret[:14])
    assert f"Le jeton {secret[:14]}… de « Éditeur Y » est révoqué" in " ".join(page.alerts())
    assert "Révoqué le" in admin.row(secret[:14])
    assert_problem(integrator.get("/demandes"), 401, "Jeton d'API absent, inconnu ou révoqué")
    anonymous = portal.test_client(use_cookies=False)
    body = assert_problem(anonymous.get(f"{API}/demandes"), 401)
    assert body["title"] == "Authentification requise"
    for header in ("Bearer segur_inconnu", "Bearer ", "Basic dXNlcjpwYXNz", secret[:-1] + "x"):
        response = anonymous.get(f"{API}/demandes/{filed[0]}", headers={"Authorization": header})
        assert_problem(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    # The admin's own logged-in session (cookie) is no API credential, and the API leaves it alone.
    response = admin.browser.client.get(f"{API}/demandes")
    assert_problem(response, 401)
    assert "Set-Cookie" not in response.headers


def test_listing_filters(portal, reader, filed):
    first, second, third = filed
    assert numbers_of(reader.get("/demandes")) == [third, second, first]      # newest first
    item = reader.get("/demandes").get_json()["items"][2]
    assert item["status"] == "rejected" and item["status_label"] == "Rejetée" and item["siret"] == "34866299000038"
    assert numbers_of(reader.get("/demandes", status="rejected")) == [first]
    assert numbers_of(reader.get("/demandes", status="in_progress")) == [third, second]
    assert numbers_of(reader.get("/demandes", type="INITIAL ANTICIPE")) == [third]
    assert numbers_of(reader.get("/demandes", siret="81245367800029")) == [second]
    # Days in Paris time: the third was filed on 09/03 at 23:30 UTC, 10/03 in Paris.
    assert numbers_of(reader.get("/demandes", deposited_from="2026-03-05", deposited_to="2026-03-09")) == [second]
    assert numbers_of(reader.get("/demandes", deposited_from="2026-03-10")) == [third]
    assert numbers_of(reader.get("/demandes", deposited_to="2026-03-02")) == [first]

    body = assert_problem(reader.get("/demandes", status="inconnu", siret="123", deposited_from="2026-13-01",
                                     limit=101), 422)
    assert body["errors"]["status"][0].startswith("Statut inconnu")
    assert body["errors"]["siret"] == ["Le SIRET compte 14 chiffres."]
    assert body["errors"]["deposited_from"] == ["Date invalide : format AAAA-MM-JJ attendu (par exemple 2026-12-01)."]
    assert body["errors"]["limit"] == ["La limite est un entier de 1 à 100."]
    body = assert_problem(reader.get("/demandes", deposited_from="2026-03-10", deposited_to="2026-03-01"), 422)
    assert body["errors"] == {"deposited_to": ["La date de fin précède la date de début."]}


@pytest.mark.parametrize("limit", [1, 2])
def test_cursor_pages_cover_the_list_once_even_with_equal_dates(portal, reader, filed, limit):
    first, second, third = filed
    with portal.app_context():                                    # two requests filed at the same instant
        moment = db.session.scalar(db.select(EnrolmentRequest.submitted_at).where(EnrolmentRequest.number == second))
        db.session.execute(db.update(EnrolmentRequest).where(EnrolmentRequest.number == first)
                           .values(submitted_at=moment))
        db.session.commit()
    seen, cursor, pages = [], None, 0
    while True:
        body = reader.get("/demandes", limit=limit, **({"cursor": cursor} if cursor else {})).get_json()
        seen += [item["number"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == [third, second, first]                          # the id breaks the tie: no gap, no repeat
    assert pages == -(-3 // limit)
    body = assert_problem(reader.get("/demandes", cursor="pas-un-curseur"), 422)
    assert body["errors"]["cursor"][0].startswith("Curseur invalide")


def test_read_history_documents_and_download(portal, reader, filed):
    first = filed[0]
    detail = reader.get(f"/demandes/{first}")
    assert detail.status_code == 200
    body = detail.get_json()
    assert body["number"] == first and body["type"] == "INITIAL" and body["ans_number"] == "JGe2DPI009"
    assert body["submitted_at"] == "2026-03-02T09:00:00+00:00"

    history = reader.get(f"/demandes/{first}/historique").get_json()
    assert [line["at"] for line in history] == sorted(line["at"] for line in history)
    assert any("Le RIB ne correspond pas au titulaire indiqué." in line["detail"] for line in history)
    assert all(line["actor"] for line in history)

    listed = reader.get(f"/demandes/{first}/documents").get_json()
    with portal.app_context():
        request_id = db.session.scalar(db.select(EnrolmentRequest.id).where(EnrolmentRequest.number == first))
        stored = {d.id: d for d in db.session.scalars(db.select(Document).where(
            Document.request_id == request_id, Document.state == "filed"))}
        contents = {d.id: documents.read(d) for d in stored.values()}
        labels = {d.id: d.label for d in stored.values()}
    assert sorted(item["id"] for item in listed) == sorted(stored) and len(listed) >= 3
    for item in listed:
        document = stored[item["id"]]
        assert (item["name"], item["size"], item["sha256"], item["content_type"], item["kind"]) == \
               (document.original_name, document.size, document.sha256, document.content_type, document.kind)
        assert item["kind_label"] == labels[item["id"]] and item["downloadable"] is True
        download = reader.get(f"/demandes/{first}/documents/{item['id']}")
        assert download.status_code == 200 and download.data == contents[item["id"]]
        assert hashlib.sha256(download.data).hexdigest() == item["sha256"]
        assert download.mimetype == item["content_type"] and download.headers["X-Content-Type-Options"] == "nosniff"

    assert {(item["version"], item["current"]) for item in listed} == {(1, True)}

    # A newer file of a type (filed later): version 2 is current, version 1 stays listed.
    replaced = listed[1]
    clock.advance(timedelta(hours=1))
    with portal.app_context():
        request = db.session.get(EnrolmentRequest, request_id)
        newer = documents.store_generated(request, replaced["kind"], "nouvelle-version.pdf", contents[replaced["id"]]).id
        db.session.commit()
    versions = {item["id"]: (item["version"], item["current"]) for item in reader.get(f"/demandes/{first}/documents").get_json()}
    assert versions[replaced["id"]] == (1, False) and versions[newer] == (2, True)
    current = [item["id"] for item in reader.get(f"/demandes/{first}/documents", current="true").get_json()]
    assert newer in current and replaced["id"] not in current and len(current) == len(listed)
    refused = assert_problem(reader.get(f"/demandes/{first}/documents", current="peut-etre"), 422)
    assert refused["errors"] == {"current": ["« current » vaut true ou false."]}

    pending = listed[0]["id"]
    with portal.app_context():
        db.session.execute(db.update(Document).where(Document.id == pending).values(scan_status="pending"))
        db.session.commit()
    assert reader.get(f"/demandes/{first}/documents").get_json()[0]["downloadable"] is False
    assert_problem(reader.get(f"/demandes/{first}/documents/{pending}"), 403, "analyse")
    assert_problem(reader.get(f"/demandes/{filed[1]}/documents/{pending}"), 404)   # another request's
    assert_problem(reader.get("/demandes/ENR9999M0"), 404, "ENR9999M0")
    assert_problem(reader.get("/demandes/ENR9999M0/historique"), 404)


def test_drafts_are_not_visible(portal, reader, filed):
    from journey import Journey
    Journey(portal.test_client()).start()                          # a draft, never submitted
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(EnrolmentRequest)) == 4
    assert len(numbers_of(reader.get("/demandes", limit=100))) == 3


CSV = ("ans_number;software_name;software_version;dsr;profile;validated;sons_dpi;editor_siren\n"
       "APIx2NEW001;LOGICIEL API;Version 1;Hôpital;Général;oui;non;348662990\n"
       "JGe2DPI009;LOGICIEL HOP-DPI;Version DPI 24;Hôpital;Général, Stockage;oui;oui;348662990\n").encode()


def test_referencing_import_needs_the_write_scope(portal, admin, reader):
    assert_problem(reader.post_csv(CSV), 403, "lecture seule")
    writer = Integrator(portal, admin.create("Éditeur Z", scope="write"))
    response = writer.post_csv(CSV)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"created": 1, "updated": 1}
    from app.services import referencing
    with portal.app_context():
        assert referencing.lookup("APIx2NEW001")["software_name"] == "LOGICIEL API"
        assert referencing.lookup("JGe2DPI009")["software_version"] == "Version DPI 24"

    bad = CSV.replace(b"348662990\n", b"123\n", 1).replace(b"APIx2NEW001", b"APIx2NEW002")
    body = assert_problem(writer.post_csv(bad), 422, "rien n'a été importé")
    assert body["errors"]["file"] == ["Ligne 2 : SIREN de l'éditeur « 123 » invalide "
                                      "(9 chiffres avec une clé de contrôle correcte)."]
    with portal.app_context():
        assert referencing.lookup("APIx2NEW002")["found"] is False        # all or nothing
    body = assert_problem(writer.client.post(f"{API}/referentiel", headers=writer.headers, data={},
                                             content_type="multipart/form-data"), 422)
    assert body["errors"] == {"file": ["Joignez le fichier CSV (champ « file »)."]}
    portal.config["MAX_CONTENT_LENGTH"] = 1024
    assert_problem(writer.post_csv(CSV * 20), 413)


def test_other_errors_are_problems_and_pages_keep_theirs(portal, reader, filed, monkeypatch):
    assert_problem(reader.client.delete(f"{API}/demandes", headers=reader.headers), 405)
    assert_problem(reader.get("/nulle-part"), 404)
    page = portal.test_client().get("/nulle-part")
    assert page.status_code == 404 and page.mimetype == "text/html"

    portal.config["PROPAGATE_EXCEPTIONS"] = False
    monkeypatch.setattr("app.services.audit.for_request", lambda request: 1 / 0)
    body = assert_problem(reader.get(f"/demandes/{filed[0]}/historique"), 500)
    assert "Traceback" not in body["detail"] and "ZeroDivisionError" not in str(body)

    portal.config["API_RATE_LIMIT"] = "2 per minute"
    other = Integrator(portal, Admin(portal).create("Éditeur Pressé"))
    assert [reader.get("/demandes").status_code for _ in range(2)] == [200, 200]
    limited = reader.get("/demandes")
    assert_problem(limited, 429, "trop de requêtes")
    assert int(limited.headers["Retry-After"]) > 0
    assert other.get("/demandes").status_code == 200                  # counted per token


def test_the_openapi_document_is_valid_31_and_documents_every_operation(portal):
    response = portal.test_client(use_cookies=False).get(f"{API}/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    validate(document)
    operations = {(method, path) for path, item in document["paths"].items() for method in item
                  if method in ("get", "post")}
    assert operations == {("get", "/api/v1/demandes"), ("get", "/api/v1/demandes/{number}"),
                          ("get", "/api/v1/demandes/{number}/historique"),
                          ("get", "/api/v1/demandes/{number}/documents"),
                          ("get", "/api/v1/demandes/{number}/documents/{document_id}"),
                          ("post", "/api/v1/referentiel")}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post"):
                assert operation["summary"] and operation["description"]
                assert operation["responses"]["401"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert document["components"]["securitySchemes"]["jeton"]["scheme"] == "bearer"
