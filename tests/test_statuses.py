"""Statuses as process data, driven as an analyst would through « Processus » › « Statuts » and the
diagram studio's routes: a new status set by a step shows on every page with its labels and badge,
the agents' queue offers it (and includes it in « À instruire » when the agency acts), a request
already running keeps its version, a relabelling changes every page, a status in use cannot be
deleted. None of this writes a file under app/, forms/ or mail_templates/."""
import hashlib
import json
from pathlib import Path

import pytest

import diagrams as d
from app.engine import Run
from app.extensions import db
from app.models import EnrolmentRequest
from app.package import deploy, save_section_draft, statuses
from app.services import enrolment
from browser import Browser
from instruction_steps import Agent, file_request
from journey import Journey, Supplier
from people import log_in, make_user
from studio import Analyst

ROOT = Path(__file__).resolve().parent.parent
SIRET = "34866299000038"  # the SIRET of Journey's default supplier
EXPERTISE = {"code": "en_expertise", "supplier_label": "En cours d'expertise", "agent_label": "Expertise technique",
             "badge": "new", "acts": "agency", "outcome": "none"}


def code_files() -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in ("app", "forms", "mail_templates") for path in sorted((ROOT / folder).rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture
def untouched(portal):
    before = code_files()
    yield
    assert code_files() == before, "a change of statuses wrote a file under app/, forms/ or mail_templates/"


@pytest.fixture
def analyst(portal, untouched):
    return Analyst(portal)


# --- helpers ----------------------------------------------------------------------------------------

def alerts(page) -> str:
    return " ".join(page.alerts())


def add_status(analyst, **fields):
    page = analyst.browser.get("/processus").follow("Statuts")
    assert page.h1 == "Statuts des demandes"
    return page.follow("Ajouter un statut").form("status-form").fill(**fields).submit("Enregistrer dans le brouillon")


def deploy_package(analyst, comment):
    return analyst.browser.get("/processus/statuts").form("package-deploy").fill(comment=comment).submit("Déployer")


def stored_status(app, public_id) -> str:
    with app.app_context():
        return db.session.scalar(db.select(EnrolmentRequest.status).where(EnrolmentRequest.public_id == public_id))


def supplier_browser(app) -> Browser:
    """The supplier's account for SIRET (made once the requests are filed: a SIRET with an account
    files complementary enrolments, not anonymous initial ones)."""
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "supplier", sirets=[SIRET]))
    return browser


def list_row(page, public_id) -> dict[str, str]:
    headers = page.texts('//table[@id="requests"]/thead//th')
    row = page.doc.xpath(f'//table[@id="requests"]//tr[.//a[contains(@href, "{public_id}")]]')[0]
    return dict(zip(headers, [" ".join(td.text_content().split()) for td in row.xpath("./td")]))


def queue_row(page, public_id) -> dict[str, str]:
    headers = [" ".join(th.text_content().split()) for th in page.doc.xpath("//table//thead//th")]
    row = page.doc.xpath(f'//table//tr[.//a[contains(@href, "{public_id}")]]')[0]
    return dict(zip(headers, [" ".join(td.text_content().split()) for td in row.xpath("./td")]))


def badge(page, public_id=None) -> tuple[str, str]:
    """(text, colour) of the status badge of the page's heading, or of ``public_id``'s row."""
    where = f'//tr[.//a[contains(@href, "{public_id}")]]' if public_id else "//h1"
    found = page.doc.xpath(f'{where}//*[contains(@class, "fr-badge") and @data-status]')[0]
    colour = next(c.removeprefix("fr-badge--") for c in found.get("class").split()
                  if c.startswith("fr-badge--") and c not in ("fr-badge--sm", "fr-badge--no-icon"))
    return found.text_content().strip(), colour


def queue_options(page) -> dict[str, str]:
    return {o.get("value"): o.text_content().strip() for o in page.doc.xpath('//select[@name="status"]/option')}


# --- an added status ------------------------------------------------------------------------------

def test_an_added_status_set_by_a_step_shows_everywhere_and_a_running_request_keeps_its_version(portal, analyst):
    running = Journey(portal.test_client(), Supplier(ans_number="MSv2VIL014"))
    running.start()
    running.until("confirmation")                               # started on package version 1

    page = add_status(analyst, **EXPERTISE)
    assert "Statut « En cours d'expertise » ajouté au brouillon" in alerts(page)
    assert page.texts("//tr[@id='status-en_expertise']/td")[:3] == ["en_expertise", "En cours d'expertise",
                                                                   "Expertise technique"]
    assert page.texts("//tr[@id='status-en_expertise']/td")[8] == "ajouté"
    xml = analyst.browser.client.get("/processus/fichiers/initial_enrolment.bpmn/xml").get_json()["xml"]
    assert "value=\"'in_progress'\"" in xml
    status, _ = analyst.action("initial_enrolment.bpmn", "brouillon",
                               xml=xml.replace("value=\"'in_progress'\"", "value=\"'en_expertise'\""))
    assert status == 200
    checked = analyst.browser.get("/processus/statuts").form("package-check").submit("Vérifier")
    assert checked.url.endswith("/processus/statuts") and "peut être déployé" in alerts(checked)
    deployed = deploy_package(analyst, "Une expertise technique avant l'instruction")
    assert "Paquet de processus version 2 déployé" in alerts(deployed)
    assert deployed.url.endswith("/processus/statuts") and not deployed.doc.xpath("//*[@id='statuses-draft']")

    running.next("Terminer")
    assert running.page.h1 == "Confirmation"
    running_id = running.page.url.split("/")[2]
    new_id, _ = file_request(portal)
    assert stored_status(portal, running_id) == "in_progress"   # its version names in_progress
    assert stored_status(portal, new_id) == "en_expertise"

    supplier = supplier_browser(portal)
    home = supplier.get("/espace")
    counts = {tr.get("data-status"): " ".join(tr.text_content().split()) for tr in home.doc.xpath("//tr[@data-status]")}
    assert counts["en_expertise"] == "En cours d'expertise 1" and counts["in_progress"] == "En cours 1"
    listing = supplier.get("/espace/demandes")
    assert list_row(listing, new_id)["Statut"] == "En cours d'expertise"
    assert badge(listing, new_id) == ("En cours d'expertise", "new")
    assert badge(listing, running_id) == ("En cours", "info")
    assert {"en_expertise": "En cours d'expertise"}.items() <= {
        o.get("value"): o.text_content().strip() for o in listing.doc.xpath('//select[@name="status"]/option')}.items()
    filtered = supplier.get("/espace/demandes?status=en_expertise")
    assert filtered.texts('//table[@id="requests"]/tbody/tr/td[3]') == ["En cours d'expertise"]
    detail = supplier.get(f"/espace/demandes/{new_id}")
    assert detail.h1.endswith("Statut : En cours d'expertise") and badge(detail) == ("En cours d'expertise", "new")

    agent = Agent(portal)
    queue = agent.browser.get("/gestion/demandes")
    options = queue_options(queue)
    assert options["en_expertise"] == "Expertise technique"
    assert options["a-instruire"] == "À instruire (En cours, Certificat(s) à valider, Expertise technique)"
    assert queue_row(queue, new_id)["Statut"] == "Expertise technique"     # « À instruire »: the agency acts
    assert queue_row(queue, running_id)["Statut"] == "En cours"
    only = agent.browser.get("/gestion/demandes?status=en_expertise")
    assert only.doc.xpath(f'//a[contains(@href, "{new_id}")]') and not only.doc.xpath(f'//a[contains(@href, "{running_id}")]')
    review = agent.review(new_id)
    assert review.h1.endswith("Statut : Expertise technique") and badge(review) == ("Expertise technique", "new")


def test_a_status_where_nobody_acts_is_not_in_the_queue_to_instruct(portal, analyst):
    add_status(analyst, **{**EXPERTISE, "acts": "supplier", "actions": ["deposit_documents"]})
    xml = analyst.browser.client.get("/processus/fichiers/initial_enrolment.bpmn/xml").get_json()["xml"]
    analyst.action("initial_enrolment.bpmn", "brouillon", xml=xml.replace("value=\"'in_progress'\"", "value=\"'en_expertise'\""))
    assert "version 2 déployé" in alerts(deploy_package(analyst, "Le fournisseur complète d'abord"))
    public_id, _ = file_request(portal)
    agent = Agent(portal)
    queue = agent.browser.get("/gestion/demandes")
    assert "Expertise technique" not in queue_options(queue)["a-instruire"]
    assert not queue.doc.xpath(f'//a[contains(@href, "{public_id}")]')
    supplier = supplier_browser(portal)
    listing = supplier.get("/espace/demandes")
    assert list_row(listing, public_id)["Actions"].startswith("Consulter la demande ENR0001 Déposer des pièces jointes")


# --- relabelling --------------------------------------------------------------------------------------

def test_relabelling_a_status_changes_what_every_page_shows_once_deployed(portal, analyst):
    public_id, _ = file_request(portal)
    page = analyst.browser.get("/processus/statuts").follow("Modifier le statut in_progress")
    assert page.h1 == "Modifier le statut « in_progress »"
    form = page.form("status-form")
    assert form.values["supplier_label"] == ["En cours"] and form.values["acts"] == ["agency"]
    assert form.values["description"][0].strip() == "votre demande est en attente d'instruction par les services de l'ASP."
    page = form.fill(supplier_label="En instruction", agent_label="À instruire", badge="warning",
                     description="un gestionnaire de l'ASP examine votre demande.").submit("Enregistrer")
    assert "modifié dans le brouillon" in alerts(page)
    assert page.texts("//tr[@id='status-in_progress']/td")[8] == "modifié"

    supplier = supplier_browser(portal)
    assert badge(supplier.get(f"/espace/demandes/{public_id}")) == ("En cours", "info")   # a draft is not in use
    assert "version 2 déployé" in alerts(deploy_package(analyst, "Le libellé du guide v2"))

    assert badge(supplier.get(f"/espace/demandes/{public_id}")) == ("En instruction", "warning")
    assert badge(supplier.get("/espace/demandes"), public_id) == ("En instruction", "warning")
    assert "En instruction" in supplier.get("/espace").texts("//tr[@data-status='in_progress']/td")
    agent = Agent(portal)
    queue = agent.browser.get("/gestion/demandes")
    assert queue_row(queue, public_id)["Statut"] == "À instruire"
    assert queue_options(queue)["a-instruire"] == "À instruire (À instruire, Certificat(s) à valider)"
    assert badge(agent.review(public_id)) == ("À instruire", "warning")
    # The FAQ explains the statuses, and names them in its answers, as the package says.
    faq = Browser(portal.test_client()).get("/aide/questions-frequentes")
    assert "En instruction : un gestionnaire de l'ASP examine votre demande." in faq.texts("//ul[@id='statuses']/li")
    assert "repasse au statut « En instruction »" in " ".join(faq.content.split())
    assert "« En cours »" not in faq.content


# --- deleting ------------------------------------------------------------------------------------------

def test_a_status_in_use_cannot_be_deleted_at_the_editor_nor_at_deployment(portal, analyst):
    public_id, _ = file_request(portal)

    def delete(code):
        return analyst.browser.get("/processus/statuts").form(f"delete-{code}").submit("Supprimer")

    assert ("Le statut « En cours » (in_progress) ne peut pas être supprimé : 1 demande(s) ont ce statut ; un "
            "diagramme déployé le donne (élément(s) status_in_progress).") in alerts(delete("in_progress"))
    assert ("Le statut « Validée » (validated) ne peut pas être supprimé : un diagramme déployé le donne "
            "(élément(s) status_validated).") in alerts(delete("validated"))
    assert "c'est le statut de toute demande avant son dépôt" in alerts(delete("draft"))
    page = analyst.browser.get("/processus/statuts")
    assert not page.doc.xpath("//*[@id='statuses-draft']")                   # nothing was changed

    add_status(analyst, **EXPERTISE)
    page = delete("en_expertise")                                              # used by nothing
    assert "Statut « en_expertise » supprimé du brouillon" in alerts(page)
    assert not page.doc.xpath("//tr[@id='status-en_expertise']")

    # A draft that drops a status in use (written as a file would be) is refused at deployment too.
    with portal.app_context():
        save_section_draft("statuses", {code: item for code, item in statuses.edited().items()
                                        if code != "in_progress"}, "analyste")
        db.session.commit()
    page = analyst.browser.get("/processus/statuts")
    assert "Supprimé(s) dans le brouillon : « En cours » (in_progress)." in page.texts("//*[@id='statuses-removed']")
    refused = deploy_package(analyst, "Sans « En cours »")
    assert "Statuts / in_progress : 1 demande(s) ont ce statut : il ne peut pas être supprimé." in alerts(refused)
    assert "statut « in_progress » inconnu" in alerts(refused)
    assert stored_status(portal, public_id) == "in_progress"
    page = analyst.browser.get("/processus/statuts").form_with("Abandonner le brouillon").submit("Abandonner")
    assert "Le brouillon « Statuts » a été abandonné" in alerts(page) and page.doc.xpath("//tr[@id='status-in_progress']")


# --- the form -----------------------------------------------------------------------------------------

def test_the_status_form_says_what_is_wrong_in_french_and_keeps_what_was_typed(portal, analyst):
    page = add_status(analyst, code="En Expertise", supplier_label=" ", agent_label="Expertise",
                      badge="info", acts="agency", outcome="none", validation=True)
    errors = page.errors()
    assert errors["code"] == ["Le code ne doit contenir que des lettres minuscules sans accent, des chiffres et des "
                              "tirets bas (_), et commencer par une lettre, par exemple en_expertise."]
    assert errors["supplier_label"] == ["Indiquez le libellé que lisent les fournisseurs."]
    assert errors["validation"][0].startswith("Un statut qui enregistre une validation a pour issue")
    assert page.form("status-form").values["code"] == ["En Expertise"]
    assert page.form("status-form").values["agent_label"] == ["Expertise"]
    page = add_status(analyst, **{**EXPERTISE, "code": "in_progress"})
    assert page.errors()["code"] == ["Un statut a déjà le code « in_progress » : choisissez-en un autre."]
    with portal.app_context():
        assert not statuses.has_draft()


def test_the_editor_is_for_analysts_and_admins(portal, untouched):
    assert portal.test_client().get("/processus/statuts").status_code == 302
    agent = Agent(portal)
    assert agent.browser.get("/processus/statuts").status == 404
    assert Analyst(portal, role="admin").browser.get("/processus/statuts").status == 200


# --- what the diagrams give ---------------------------------------------------------------------------

def test_a_value_given_by_an_expression_is_checked_when_it_runs_and_old_labels_map_to_codes(portal, untouched):
    with portal.app_context():
        deploy({"s.bpmn": d.process("label_status", [d.user_task("ask"), d.service_task(
            "set_status", "enrolment.set_status", status="'Valid' + 'ée'")], d.chain("ask", "set_status"))},
            author="test")
        request = enrolment.start("label_status")
        run = Run.load(request.instance, request)
        run.complete(run.ready_task("Fournisseur").id, "Fournisseur", {})
        run.save()
        assert request.status == "validated" and request.validated_at is not None  # a label of before codes
        assert statuses.current().code_of("Rejetée") == "rejected" and statuses.current().code_of("inconnu") is None


# --- the migration -------------------------------------------------------------------------------------

def test_the_migration_turns_stored_labels_into_codes_and_back(portal):
    from flask_migrate import downgrade, upgrade
    from app.models import ProcessPackage
    with portal.app_context():
        request = enrolment.start("initial_enrolment")
        request.status = "awaiting_documents"
        db.session.commit()
        request_id, package_id = request.id, request.instance.package_id
        db.session.close()

        def stored():
            db.session.close()
            data = json.loads(db.session.get(ProcessPackage, package_id).data_json)
            return db.session.get(EnrolmentRequest, request_id).status, data.get("statuses")

        try:
            downgrade(revision="f1a2b3c4d5e6")
            status, _ = stored()
            assert status == "En attente de pièce(s) jointe(s) complémentaire(s)"
            # A package version deployed before statuses were package data.
            row = db.session.get(ProcessPackage, package_id)
            row.data_json = json.dumps({key: value for key, value in json.loads(row.data_json).items() if key != "statuses"})
            db.session.commit()
            db.session.close()
            upgrade()
            status, seeded = stored()
            assert status == "awaiting_documents"
            assert list(seeded) == ["draft", "in_progress", "partially_validated", "awaiting_documents",
                                    "certificates_to_validate", "rejected", "validated"]
            files = json.loads((ROOT / "bpmn" / "package" / "statuses.json").read_text(encoding="utf-8"))
            # The seven of the guide, as the files held them then (descriptions came later, as data).
            assert seeded == {code: {k: v for k, v in item.items() if k != "description"} for code, item in files.items()}
        finally:
            db.session.close()
            upgrade()
