"""The antivirus: every uploaded file scanned by a real ClamAV daemon before anyone can open it.

The session fixture starts its own ``clamd`` (Debian's ``clamav-daemon``, installed by the README
test command) on a free loopback port, with a signature database written here: a body signature
(``.ndb``) for the EICAR test string, so that a valid PDF carrying it passes the portal's own
checks and is caught by clamd. « clamd down » is an address where nothing listens; « clamd
fails on a file » is a file above its stream limit (``StreamMaxLength 1M``).
"""
import shutil
import subprocess
import time

import pytest
from clamav_client.clamd import ClamdError, ClamdNetworkSocket

import files
from app.cli import work_once
from app.extensions import db
from app.models import Document, EnrolmentRequest
from app.services import documents
from browser import Browser
from conftest import free_port
from instruction_steps import Agent, file_request
from journey import Journey, Supplier
from people import log_in, make_user

THREAT = "Eicar-Test-Signature.UNOFFICIAL"
INFECTED_AT_UPLOAD = f"rib.pdf : Le fichier contient un virus ({THREAT}) : il n'est pas accepté."
NOT_SCANNED = "Les fichiers déposés n'ont pas été analysés par un antivirus."
PENDING_PAGE = "Ce fichier est en cours d'analyse par l'antivirus"
INFECTED_PAGE = "L'antivirus a détecté un virus dans ce fichier"
INFECTED_EVENT = "Fichier infecté écarté par l'antivirus"


# --- the daemon -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def clamd(tmp_path_factory):
    """A real clamd on 127.0.0.1:<free port> knowing only the EICAR signature; its address."""
    binary = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin:/sbin")
    if binary is None:
        pytest.fail("clamd est introuvable : installez le paquet Debian clamav-daemon "
                    "(la commande de test du README l'installe).")
    folder = tmp_path_factory.mktemp("clamd")
    (folder / "db").mkdir()
    (folder / "db" / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{files.EICAR.hex()}\n")
    port = free_port()
    (folder / "clamd.conf").write_text(
        f"DatabaseDirectory {folder / 'db'}\nTCPSocket {port}\nTCPAddr 127.0.0.1\n"
        f"Foreground yes\nLogFile {folder / 'clamd.log'}\nTemporaryDirectory {folder}\n"
        "StreamMaxLength 1M\n")
    with open(folder / "output.txt", "wb") as output:
        process = subprocess.Popen([binary, "-c", str(folder / "clamd.conf")],
                                   stdout=output, stderr=subprocess.STDOUT)
    try:
        _wait_until_ready(process, port, folder)
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_until_ready(process, port: int, folder, timeout: float = 60) -> None:
    """PING until PONG; fail with clamd's output if it exits or the deadline passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if ClamdNetworkSocket("127.0.0.1", port, timeout=2).ping() == "PONG":
                return
        except ClamdError:
            pass
        try:
            process.wait(timeout=0.05)  # returns at once if clamd died
        except subprocess.TimeoutExpired:
            continue
        break
    process.kill()
    pytest.fail(f"clamd n'a pas démarré : {(folder / 'output.txt').read_text(errors='replace')}")


@pytest.fixture
def scanning(portal, clamd):
    """The portal with the antivirus on."""
    portal.config.update(ANTIVIRUS="clamd", CLAMD_ADDRESS=clamd)
    return portal


def clamd_down(app):
    app.config["CLAMD_ADDRESS"] = f"127.0.0.1:{free_port()}"  # nothing listens there


# --- helpers ----------------------------------------------------------------------------------------

def file_request_with_rib(app, rib: bytes) -> tuple[str, Supplier]:
    """An initial enrolment completed through the steps, with ``rib`` as its RIB."""
    journey = Journey(app.test_client())
    journey.start()
    journey.until("bank_details")
    journey.page = journey.fill().attach("doc_rib", "rib.pdf", rib).submit("Etape suivante")
    assert journey.form_key == "vat_regime", (journey.page.errors(), journey.page.alerts())
    journey.complete()
    return journey.page.url.split("/")[2], journey.supplier


def document_rows(page) -> dict[str, list[str]]:
    """File name → the cells of its row in « Pièces justificatives »."""
    rows = page.doc.xpath('//table[@id="documents"]/tbody/tr[@data-document]')
    cells = ([" ".join(td.text_content().split()) for td in row.xpath("td")] for row in rows)
    return {row[0]: row for row in cells}


def download_url(public_id, page, name: str) -> str:
    [row] = page.doc.xpath(f'//table[@id="documents"]//tr[@data-document][td[1]="{name}"]')
    return f"/demandes/{public_id}/documents/{row.get('data-document')}"


def scans(app, public_id) -> dict[str, tuple]:
    """Uploaded file name → (scan status, threat); the portal's own documents apart, under
    their kind (e.g. « recap_pdf »)."""
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        return {(d.kind if d.uploaded_by == "système" else d.original_name): (d.scan_status, d.scan_threat)
                for d in request.documents}


def supplier_browser(app, siret: str = "34866299000038") -> Browser:
    login, password = make_user(app, "supplier", sirets=[siret])
    browser = Browser(app.test_client())
    log_in(browser, login, password)
    return browser


# --- tests ----------------------------------------------------------------------------------------

def test_clean_files_are_shown_sain_and_the_agent_downloads_them(scanning):
    public_id, _ = file_request(scanning)
    statuses = scans(scanning, public_id)
    assert statuses.pop("recap_pdf") == (None, None)  # generated by the portal: trusted, not scanned
    assert "rib.pdf" in statuses and set(statuses.values()) == {("clean", None)}

    agent = Agent(scanning)
    page = agent.review(public_id)
    rows = document_rows(page)
    assert rows["rib.pdf"][3:] == ["sain", "Télécharger rib.pdf"]
    assert [row[3] for row in rows.values()].count("") == 1   # the recap PDF: no verdict
    assert NOT_SCANNED not in page.content
    response = agent.browser.client.get(download_url(public_id, page, "rib.pdf"))
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")


def test_an_infected_file_is_refused_at_upload_with_the_threat(scanning):
    journey = Journey(scanning.test_client())
    journey.start()
    journey.until("bank_details")
    page = journey.fill().attach("doc_rib", "rib.pdf", files.pdf_with_eicar_bytes()).submit("Etape suivante")
    assert page.status == 422
    assert page.errors()["doc_rib"] == [INFECTED_AT_UPLOAD]
    with scanning.app_context():
        assert db.session.scalar(db.select(Document).where(Document.kind == "rib")) is None
    journey.page = page.form().attach("doc_rib", "rib.pdf", files.pdf_bytes()).submit("Etape suivante")
    assert journey.form_key == "vat_regime"


def test_the_bare_eicar_file_is_refused_before_any_scan(scanning):
    """Not a PDF, PNG or JPEG: the portal's own type check refuses it first."""
    journey = Journey(scanning.test_client())
    journey.start()
    journey.until("bank_details")
    page = journey.fill().attach("doc_rib", "rib.pdf", files.EICAR).submit("Etape suivante")
    assert page.errors()["doc_rib"] == [
        "rib.pdf : Le contenu du fichier ne correspond pas à un document PDF, PNG ou JPEG."]


def test_files_uploaded_while_clamd_is_down_wait_for_the_worker(scanning, clamd):
    clamd_down(scanning)
    public_id, _ = file_request(scanning)   # never refused because our daemon is down
    uploaded = scans(scanning, public_id)
    del uploaded["recap_pdf"]
    assert set(uploaded.values()) == {("pending", None)}

    agent = Agent(scanning)
    page = agent.review(public_id)
    rows = document_rows(page)
    assert rows["rib.pdf"][3:] == ["analyse en cours", "Analyse antivirus en cours"]
    assert not page.doc.xpath('//iframe[contains(@title, "rib.pdf")]')
    url = download_url(public_id, page, "rib.pdf")
    refused = agent.browser.get(url)
    assert refused.status == 403 and refused.h1 == "Fichier indisponible" and PENDING_PAGE in refused.content
    supplier = supplier_browser(scanning)
    assert supplier.client.get(url).status_code == 403

    with scanning.app_context():      # still down: the worker leaves them pending
        assert work_once()["documents"] == 0
    assert scans(scanning, public_id)["rib.pdf"] == ("pending", None)

    scanning.config["CLAMD_ADDRESS"] = clamd
    with scanning.app_context():
        assert work_once()["documents"] == len(uploaded)
    page = agent.review(public_id)
    assert document_rows(page)["rib.pdf"][3:] == ["sain", "Télécharger rib.pdf"]
    assert agent.browser.client.get(url).status_code == 200


def test_a_deposited_file_waiting_for_the_antivirus_is_not_a_link_in_its_step(scanning):
    clamd_down(scanning)
    journey = Journey(scanning.test_client())
    journey.start()
    journey.until("siret_search")
    page = journey.back()
    existing = page.doc.xpath('//*[@id="doc_referencing_certificate-existing"]')[0]
    assert "Fichier déposé : certificat-referencement.pdf" in " ".join(existing.text_content().split())
    assert not existing.xpath(".//a")


def test_a_file_that_clamd_fails_on_does_not_hold_the_others_back(scanning, clamd):
    journey = Journey(scanning.test_client())
    journey.start()
    journey.until("referencing_dpi")
    too_long = files.pdf_bytes("Certificat de référencement ANS", size=2 * 1024 * 1024)
    form = journey.fill().attach("doc_referencing_certificate", "certificat-referencement.pdf", too_long)
    journey.page = form.submit("Etape suivante")
    assert journey.form_key == "siret_search", journey.page.errors()   # accepted, to scan again
    clamd_down(scanning)
    journey.complete()
    public_id = journey.page.url.split("/")[2]
    assert scans(scanning, public_id)["certificat-referencement.pdf"] == ("pending", None)
    assert scans(scanning, public_id)["certificat-hds.pdf"] == ("clean", None)
    assert scans(scanning, public_id)["rib.pdf"] == ("pending", None)

    scanning.config["CLAMD_ADDRESS"] = clamd
    with scanning.app_context():
        assert work_once()["documents"] == 0       # the certificate, uploaded first: clamd fails
        assert work_once()["documents"] == 2       # the others first, then the certificate again
    statuses = scans(scanning, public_id)
    assert statuses["certificat-referencement.pdf"] == ("pending", None)
    assert statuses["cni-representant.jpg"] == statuses["rib.pdf"] == ("clean", None)


def test_an_infected_file_found_by_the_worker_is_removed_and_the_supplier_told(scanning, clamd, mailbox):
    clamd_down(scanning)
    public_id, supplier = file_request_with_rib(scanning, files.pdf_with_eicar_bytes())
    with scanning.app_context():
        rib = db.session.scalar(db.select(Document).where(Document.kind == "rib"))
        path = documents.path_of(rib)
    assert path.exists()
    mailbox.clear()

    scanning.config["CLAMD_ADDRESS"] = clamd
    with scanning.app_context():
        work_once()
    assert scans(scanning, public_id)["rib.pdf"] == ("infected", THREAT)
    assert not path.exists()          # the bytes are gone; the row stays for the history

    [mail] = [m for m in mailbox.to(supplier.holder_email) if "antivirus" in m["Subject"]]
    assert mail["Subject"].startswith("Fichier écarté par l'antivirus - demande d'enrôlement ")
    text = mailbox.text(mail)
    assert f"Le fichier « rib.pdf » (RIB)" in text and f"contient un virus ({THREAT})" in text

    agent = Agent(scanning)
    page = agent.review(public_id)
    assert document_rows(page)["rib.pdf"][3:] == ["infecté", "Fichier écarté (virus)"]
    assert INFECTED_EVENT in " ".join(page.texts('//*[@id="historique"]//td'))
    url = download_url(public_id, page, "rib.pdf")
    refused = agent.browser.get(url)
    assert refused.status == 403 and INFECTED_PAGE in refused.content

    supplier_page = supplier_browser(scanning).get(f"/espace/demandes/{public_id}")
    alert = " ".join(supplier_page.texts('//*[@id="infected-files"]'))
    assert f"Le fichier « rib.pdf » (RIB)" in alert and f"contient un virus ({THREAT})" in alert
    assert document_rows(supplier_page)["rib.pdf"][3] == "Fichier écarté (virus)"
    assert supplier_page.browser.client.get(url).status_code == 403


def test_antivirus_off_staff_are_told_files_were_not_scanned(portal):
    assert portal.config["ANTIVIRUS"] != "clamd"   # the embedded default
    # The EICAR PDF passes the portal's own checks: only an antivirus catches it.
    public_id, _ = file_request_with_rib(portal, files.pdf_with_eicar_bytes())
    assert scans(portal, public_id)["rib.pdf"] == (None, None)
    page = Agent(portal).review(public_id)
    assert page.content.count(NOT_SCANNED) == 1
    assert document_rows(page)["rib.pdf"][3:] == ["", "Télécharger rib.pdf"]  # no verdict
    supplier_page = supplier_browser(portal).get(f"/espace/demandes/{public_id}")
    assert NOT_SCANNED not in supplier_page.content
