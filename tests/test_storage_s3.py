"""Documents in an S3-compatible bucket (``S3_BUCKET``), against a real S3 server on loopback (moto
in server mode, ``s3_server``): uploads land as objects, downloads stream them back with the same
headers as from the local folder, purged drafts and rolled-back uploads leave no object, the
antivirus pass reads from the bucket, and a second app with its own ``instance/`` folder serves what
the first stored. Nothing is written to either app's folder."""
import hashlib
from datetime import timedelta
from pathlib import Path

import pytest

import files
from app import clock, create_app
from app.extensions import db
from app.models import Document, EnrolmentRequest
from app.services import documents
from app.worker import work_once
from conftest import free_port
from instruction_steps import Agent, file_request
from journey import Journey
import test_antivirus
from test_antivirus import THREAT, clamd_down, file_request_with_rib, scans

clamd = test_antivirus.clamd  # its ClamAV daemon (a session fixture)

CERTIFICATE = files.pdf_bytes("Certificat de référencement ANS")  # what Journey uploads


def stored(app) -> dict[str, Document]:
    """Storage key → document row, every request's."""
    with app.app_context():
        return {d.storage_name: d for d in db.session.scalars(db.select(Document))}


def local_files(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_FOLDER"]).rglob("*") if p.is_file()]


def draft_with_certificates(app) -> Journey:
    """A supplier's draft, the referencing certificate and the HDS certificate uploaded; back on
    their step, where « Fichier déposé » links to the file."""
    journey = Journey(app.test_client())
    journey.start()
    journey.until("siret_search")
    journey.back()
    return journey


def certificate_link(journey) -> str:
    [link] = journey.page.doc.xpath('//*[@id="doc_referencing_certificate-existing"]//a/@href')
    return link


HEADERS = ("Content-Type", "Content-Disposition", "Content-Length", "Cache-Control", "X-Content-Type-Options",
           "Accept-Ranges", "ETag")


def test_an_uploaded_document_lands_in_the_bucket_and_is_downloaded_as_from_the_folder(portal, s3):
    journey = draft_with_certificates(portal)
    rows = stored(portal)
    assert s3.keys() == set(rows) and len(rows) == 2   # the two certificates, under their generated names
    for key, document in rows.items():
        assert hashlib.sha256(s3.read(key)).hexdigest() == document.sha256
    certificate = next(d for d in rows.values() if d.original_name == "certificat-referencement.pdf")
    assert s3.read(certificate.storage_name) == CERTIFICATE
    assert local_files(portal) == []

    downloaded = journey.browser.client.get(certificate_link(journey))
    assert downloaded.status_code == 200 and downloaded.data == CERTIFICATE
    from_bucket = {name: downloaded.headers.get(name) for name in HEADERS}
    assert from_bucket == {
        "Content-Type": "application/pdf",
        "Content-Disposition": "attachment; filename=certificat-referencement.pdf",
        "Content-Length": str(len(CERTIFICATE)), "Cache-Control": "private, no-store",
        "X-Content-Type-Options": "nosniff", "Accept-Ranges": "bytes", "ETag": f'"{certificate.sha256}"'}
    assert downloaded.headers["Last-Modified"]
    # A range and a revalidation, as a browser's PDF viewer asks.
    part = journey.browser.client.get(certificate_link(journey), headers={"Range": "bytes=0-4"})
    assert part.status_code == 206 and part.data == b"%PDF-"
    assert part.headers["Content-Range"] == f"bytes 0-4/{len(CERTIFICATE)}"
    again = journey.browser.client.get(certificate_link(journey), headers={"If-None-Match": f'"{certificate.sha256}"'})
    assert again.status_code == 304 and again.data == b""
    beyond = journey.browser.client.get(certificate_link(journey), headers={"Range": f"bytes={len(CERTIFICATE)}-"})
    assert beyond.status_code == 416

    # The same file of the local folder (the embedded default) comes with the same headers.
    portal.config["S3_BUCKET"] = ""
    local = draft_with_certificates(portal)
    from_folder = local.browser.client.get(certificate_link(local))
    assert from_folder.data == CERTIFICATE and len(local_files(portal)) == 2
    assert {name: from_folder.headers.get(name) for name in HEADERS} == from_bucket


def test_purging_an_expired_draft_removes_its_objects(portal, s3):
    draft_with_certificates(portal)
    expiring = s3.keys()
    assert len(expiring) == 2
    clock.freeze(clock.now() + timedelta(hours=portal.config["DRAFT_MAX_AGE_HOURS"] - 1))
    draft_with_certificates(portal)       # another draft, with activity later: not purged yet
    kept = s3.keys() - expiring
    assert len(kept) == 2
    clock.freeze(clock.now() + timedelta(hours=2))
    with portal.app_context():
        assert work_once()["drafts"] == 1   # the worker's pass
    assert s3.keys() == kept == set(stored(portal))


def test_an_upload_rolled_back_leaves_no_object_and_a_deletion_waits_for_the_commit(portal, s3):
    with portal.app_context():
        journey = Journey(portal.test_client())
        journey.start()
        request = db.session.scalar(db.select(EnrolmentRequest))
        checked = documents.check_upload("rib.pdf", files.pdf_bytes("RIB"))

        documents.store(request, "rib", checked)
        assert len(s3.keys()) == 1
        db.session.rollback()                             # the transaction fails: no object stays
        assert s3.keys() == set()

        kept = documents.store(request, "rib", checked).storage_name
        with pytest.raises(RuntimeError):
            with db.session.begin_nested():               # a step's savepoint that fails
                documents.store(request, "rib", checked)
                raise RuntimeError("step failed")
        assert s3.keys() == {kept}
        db.session.commit()
        assert s3.keys() == {kept}

        document = db.session.scalar(db.select(Document))
        documents.delete(document)
        db.session.flush()
        assert s3.keys() == {kept}                        # deleted only once committed
        db.session.rollback()
        assert s3.keys() == {kept}
        documents.delete(db.session.scalar(db.select(Document)))
        db.session.commit()
        assert s3.keys() == set()


def test_the_antivirus_pass_reads_the_bucket_and_removes_an_infected_object(portal, s3, clamd, mailbox):
    portal.config.update(ANTIVIRUS="clamd")
    clamd_down(portal)      # every file waits for the worker's pass
    public_id, _ = file_request_with_rib(portal, files.pdf_with_eicar_bytes())
    rib = next(d for d in stored(portal).values() if d.kind == "rib")
    assert rib.storage_name in s3.keys() and scans(portal, public_id)["rib.pdf"] == ("pending", None)

    portal.config["CLAMD_ADDRESS"] = clamd
    with portal.app_context():
        work_once()
    assert scans(portal, public_id)["rib.pdf"] == ("infected", THREAT)
    assert scans(portal, public_id)["certificat-hds.pdf"] == ("clean", None)
    assert rib.storage_name not in s3.keys()           # the infected bytes are gone, the others stay
    assert s3.keys() == set(stored(portal)) - {rib.storage_name}
    assert local_files(portal) == []


@pytest.fixture
def other_app(portal, s3, tmp_path, monkeypatch):
    """A second app, as on another host: its own ``instance/`` folder (so its own UPLOAD_FOLDER),
    the same SECRET_KEY, database and bucket."""
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "autre-hote"))
    other = create_app({key: portal.config[key] for key in (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MAIL_CAPTURE", "MAIL_SERVER", "MAIL_PORT",
        "CAPTCHA_ENABLED", *s3.config())})
    assert other.instance_path != portal.instance_path
    assert other.config["UPLOAD_FOLDER"] != portal.config["UPLOAD_FOLDER"]
    yield other
    with other.app_context():
        db.engine.dispose()


def test_a_document_stored_through_one_app_is_served_by_another(portal, s3, other_app):
    public_id, _ = file_request(portal)                    # filed through the first app
    with portal.app_context():
        work_once()                                        # a worker's pass (the recap, if it makes it)
    agent = Agent(other_app)                               # instructed through the second
    page = agent.review(public_id)
    rows = page.doc.xpath('//table[@id="documents"]/tbody/tr[@data-document]')
    by_id = {d.id: d for d in stored(portal).values()}
    assert len(rows) == len(by_id) >= 5 and "recap_pdf" in {d.kind for d in by_id.values()}  # uploads, recap
    for row in rows:
        document = by_id[int(row.get("data-document"))]
        response = agent.browser.client.get(f"/demandes/{public_id}/documents/{document.id}")
        assert response.status_code == 200 and response.data == s3.read(document.storage_name)
        assert hashlib.sha256(response.data).hexdigest() == document.sha256
    assert local_files(portal) == local_files(other_app) == []


def test_readiness_says_when_the_bucket_is_missing(app, s3, client):
    assert client.get("/sante/pret").get_json()["checks"]["storage"] == "ok"
    app.config["S3_BUCKET"] = "compartiment-absent"
    ready = client.get("/sante/pret")
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {
        "database": "ok", "storage": "stockage des documents inutilisable (compartiment S3 « compartiment-absent » introuvable)"}
    app.config["S3_ENDPOINT_URL"] = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    assert client.get("/sante/pret").get_json()["checks"]["storage"] == (
        "stockage des documents inutilisable (S3 injoignable : EndpointConnectionError)")
