"""« Simuler » in the studio: an analyst runs a process of the draft package in a sandbox, through
the studio's pages (tests/studio.py: an analyst over HTTP), on SQLite and PostgreSQL."""
import json
from pathlib import Path
from urllib.parse import urljoin

from studio import Analyst

from app.extensions import db

#: What a review's request looks like when the instruction starts (a submitted request).
SUBMITTED = {"request": {"status": "in_progress", "number": "ENR9042M0", "siret": "34866299000038",
                         "holder_email": "titulaire@fournisseur-sante.fr", "enrolment_type": "INITIAL",
                         "submitted_at": "2026-03-02T10:00:00+00:00",
                         "company_name": "BEAUJOLAIS INFORMATIQUE SANTE"},
             "data": {}}


def counts(app) -> dict[str, int]:
    """Rows of every table but the simulations' own."""
    with app.app_context():
        return {table.name: db.session.scalar(db.select(db.func.count()).select_from(table))
                for table in db.metadata.sorted_tables if table.name != "simulation"}


def click(page, link_id):
    links = page.doc.xpath(f"//a[@id='{link_id}']")
    assert links, f"no link #{link_id} on {page.url}"
    return page.browser.get(urljoin(page.url, links[0].get("href")))


def start(analyst, process_id, sample=None):
    """From the versions page: « Simuler » for ``process_id``, then « Commencer la simulation »."""
    page = click(analyst.browser.get("/processus"), f"simulate-{process_id}")
    assert page.status == 200, page.text
    form = page.form("simulation-start")
    assert form.values["process"] == [process_id]
    if sample is not None:
        form.fill(sample=json.dumps(sample))
    page = form.submit("Commencer la simulation")
    assert page.status == 200 and page.h1 == f"Simulation de « {process_id} »", (page.status, page.alerts())
    return page


def task_key(page):
    forms = page.doc.xpath("//form[@id='simulation-form']")
    return forms[0].get("data-form-key") if forms else None


def mails(page) -> list[str]:
    return page.texts("//*[contains(@class, 'simulation-mail__subject')]")


def test_initial_enrolment_simulated_until_submission_writes_nothing_real(portal, mailbox):
    analyst = Analyst(portal)
    before = counts(portal)
    page = start(analyst, "initial_enrolment")
    seen = []
    while task_key(page) != "instruction_decision":
        key = task_key(page)
        assert key is not None and len(seen) < 12, (seen, page.alerts(), page.errors())
        seen.append(key)
        form = page.form("simulation-form")
        if key == "confirmation":
            form.fill(accept_cgu=True, accept_penal_code=True, accept_sincerity=True)
        page = form.submit()
        assert page.status == 200, (key, page.status, page.alerts(), page.errors())
    assert seen == ["referencing_search", "referencing_dpi", "siret_search", "applicant", "bank_details",
                    "vat_regime", "confirmation"]
    # The acknowledgement, rendered as the supplier reads it, with the number the submission took.
    subjects = mails(page)
    assert len(subjects) == 1 and subjects[0].startswith("Accusé de réception de votre demande d'enrôlement ENR0001M0")
    assert "ENR0001M0" in page.texts("//pre[contains(@class, 'simulation-mail__body')]")[0]
    html = page.doc.xpath("//iframe[contains(@class, 'simulation-mail__html')]")[0]  # and its HTML version
    assert html.get("sandbox") == "" and "a bien été réceptionnée par l'Agence" in html.get("srcdoc")
    assert "En cours" in " ".join(page.texts("//*[contains(@class, 'simulation-status')]"))
    # The path and the current element, for the diagram.
    diagram = analyst.browser.client.get(page.doc.xpath("//*[@id='request-diagram']/@data-diagram-url")[0]).get_json()
    assert diagram["active"] == "instruction"
    top = next(p for p in diagram["processes"] if p["id"] == "initial_enrolment")
    assert {"ans_search", "confirmation", "acknowledgment"} <= set(top["done"]) and "<bpmn" in top["xml"]
    assert next(p for p in diagram["processes"] if p["id"] == "instruction")["current"] == ["review"]
    # Nothing real was written: no request, no number, no mail, no document, no version, no file
    # (the sample documents and the recap PDF were stored for their step only).
    assert counts(portal) == before
    uploads = Path(portal.config["UPLOAD_FOLDER"])
    assert uploads.exists() and not [p for p in uploads.rglob("*") if p.is_file()]
    assert mailbox.received == []


def test_reminder_fires_after_fifteen_days_not_before(portal):
    analyst = Analyst(portal)
    page = start(analyst, "instruction", SUBMITTED)
    assert task_key(page) == "instruction_decision"
    form = page.form("simulation-form")
    requested = form.element.xpath(".//input[@name='requested_types']/@value")[0]
    page = form.fill(decision="demander_pieces", requested_types=[requested],
                     message="Merci de joindre le document.").submit()
    assert page.status == 200, (page.alerts(), page.errors())
    assert task_key(page) == "supporting_documents"
    assert [s for s in mails(page) if "Relance" in s] == [] and len(mails(page)) == 1  # the request for documents

    page = page.form("simulation-advance").fill(days=14).submit()
    assert page.status == 200, page.alerts()
    assert not [s for s in mails(page) if s.startswith("Relance")]
    assert "Délai de dépôt dépassé" not in page.content

    page = page.form("simulation-advance").fill(days=1).submit()
    reminders = [s for s in mails(page) if s.startswith("Relance")]
    assert reminders == ["Relance : pièces justificatives attendues - demande d'enrôlement ENR9042M0"]
    assert "Délai de dépôt dépassé" in page.content
    assert task_key(page) == "supporting_documents"  # the deposit still waits (the timer does not cancel it)
    # « Terminer mon dépôt »: a sample of each requested type is imported for the supplier, and the
    # request goes back to the agent.
    page = page.form("simulation-form").submit("Terminer mon dépôt")
    assert page.status == 200, (page.alerts(), page.errors())
    assert task_key(page) == "instruction_decision"
    assert "En cours" in page.texts("//*[contains(@class, 'simulation-status')]")[-1]


def test_a_refused_form_shows_its_errors_and_records_nothing(portal):
    analyst = Analyst(portal)
    page = start(analyst, "instruction", SUBMITTED)
    steps = len(page.doc.xpath("//article[contains(@class, 'simulation-entry')]"))
    page = page.form("simulation-form").submit()  # no decision chosen
    assert page.status == 422
    assert "Veuillez choisir une décision." in " ".join(sum(page.errors().values(), []))
    assert len(page.doc.xpath("//article[contains(@class, 'simulation-entry')]")) == steps


def test_invalid_sample_is_refused_in_french(portal):
    analyst = Analyst(portal)
    page = click(analyst.browser.get("/processus"), "simulate-instruction")
    page = page.form("simulation-start").fill(sample="{pas du json").submit("Commencer la simulation")
    assert page.status == 422
    assert any("ne sont pas du JSON valide" in alert for alert in page.alerts())
    assert page.form("simulation-start").values["sample"] == ["{pas du json"]  # kept as typed
    late = {"request": {**SUBMITTED["request"], "submitted_at": "lundi"}, "data": {}}
    page = page.form("simulation-start").fill(sample=json.dumps(late)).submit("Commencer la simulation")
    assert page.status == 422
    assert any("colonne « submitted_at » : une date ISO 8601 est attendue" in alert for alert in page.alerts())
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["simulation"])) == 0


def test_the_studio_page_of_a_diagram_offers_to_simulate_it(portal):
    analyst = Analyst(portal)
    page = click(analyst.browser.get("/processus/fichiers/supporting_documents.bpmn"), "studio-simulate")
    assert page.form("simulation-start").values["process"] == ["supporting_documents"]
    listing = click(analyst.browser.get("/processus"), "package-simulate")
    assert listing.status == 200 and "Simuler « supporting_documents »" in listing.content


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_flask_bpmn_simulate_runs_files_as_the_draft(portal, tmp_path):
    """The command runs the given file over the deployed set: a reminder shortened to 10 days fires
    after 10 days, not after 9; nothing is stored."""
    source = (portal.root_path.rpartition("/")[0] + "/bpmn/supporting_documents.bpmn")
    draft = tmp_path / "supporting_documents.bpmn"
    draft.write_text(open(source, encoding="utf-8").read().replace('"P15D"', '"P10D"'), encoding="utf-8")
    before = counts(portal)
    result = run(portal, "bpmn", "simulate", str(draft), "--data", json.dumps(SUBMITTED),
                 "--advance", "9", "--advance", "1")
    assert result.exit_code == 0, result.output
    steps = result.output.split("== ")
    assert steps[1].startswith("Début du processus")
    assert "statut : En attente de pièce(s) jointe(s) complémentaire(s) (awaiting_documents)" in steps[1]
    assert steps[2].startswith("Avancer de 9 jours") and "Relance" not in steps[2]
    assert steps[3].startswith("Avancer de 1 jour") and \
        "courriel à titulaire@fournisseur-sante.fr : Relance : pièces justificatives attendues" in steps[3]
    assert "En attente : Déposer des pièces jointes." in result.output
    assert counts(portal) == before


def test_flask_bpmn_simulate_answers_the_forms(portal):
    before = counts(portal)
    result = run(portal, "bpmn", "simulate", "--process", "initial_enrolment", "--answers", json.dumps({
        key: {} for key in ("referencing_search", "referencing_dpi", "siret_search", "applicant", "bank_details",
                            "vat_regime")} | {"confirmation": {"accept_cgu": True, "accept_penal_code": True,
                                                                "accept_sincerity": True}}))
    assert result.exit_code == 0, result.output
    assert "courriel à representant.legal@fournisseur-sante.fr : Accusé de réception de votre demande " \
           "d'enrôlement ENR0001M0" in result.output
    assert "En attente : Instruire la demande." in result.output
    refused = run(portal, "bpmn", "simulate", "--process", "instruction", "--data", json.dumps(SUBMITTED),
                  "--answers", json.dumps({"review": {"decision": "rejeter"}}))
    assert refused.exit_code == 1
    assert "Formulaire « Instruire la demande » refusé" in refused.output and "motif du rejet" in refused.output
    assert counts(portal) == before


def reminder_scenario(analyst, name="Relance à 15 jours"):
    """A simulation of the instruction up to the reminder, saved as a scenario; returns its page."""
    page = start(analyst, "instruction", SUBMITTED)
    form = page.form("simulation-form")
    requested = form.element.xpath(".//input[@name='requested_types']/@value")[0]
    page = form.fill(decision="demander_pieces", requested_types=[requested], message="Merci.").submit()
    page = page.form("simulation-advance").fill(days=15).submit()
    page = page.form("simulation-save").fill(name=name).submit()
    assert any(f"Scénario « {name} » enregistré" in alert for alert in page.alerts()), page.alerts()
    return page


def edit_mail_subject(analyst, code, subject):
    page = analyst.browser.get(f"/processus/courriels/{code}")
    page = page.form("mail-form").fill(subject=subject).submit("Enregistrer le brouillon")
    assert page.status == 200, page.status


def verify(analyst) -> list[str]:
    return analyst.browser.get("/processus").form("package-check").submit("Vérifier le paquet").alerts()


def test_a_saved_scenario_flags_a_draft_that_rewords_its_mail(portal):
    analyst = Analyst(portal)
    page = reminder_scenario(analyst)
    listing = click(analyst.browser.get("/processus"), "package-simulate")
    assert listing.texts("//ul[@id='scenarios']/li")[0].startswith("Relance à 15 jours (instruction")

    # A draft that changes a mail the scenario never sends: the scenario still holds.
    edit_mail_subject(analyst, "rejet", "Votre demande {{ number }} est rejetée")
    alerts = verify(analyst)
    assert "Le paquet de processus, avec vos brouillons, peut être déployé." in " ".join(alerts)
    assert "Scénarios inchangés : « Relance à 15 jours »." in alerts
    assert not [a for a in alerts if "» changé :" in a]

    # A draft that rewords the reminder: flagged, with the step and the mail.
    edit_mail_subject(analyst, "relance_pieces", "Dernier rappel : pièces attendues pour la demande {{ number }}")
    alerts = verify(analyst)
    changed = [a for a in alerts if a.startswith("Scénario « Relance à 15 jours » changé")]
    assert len(changed) == 1, alerts
    assert "étape 3 « Avancer de 15 jours » : l'objet du courriel « relance_pieces » est « Dernier rappel : " \
           "pièces attendues pour la demande {numéro} » au lieu de « Relance : pièces justificatives attendues - " \
           "demande d'enrôlement {numéro} »." in changed[0]
    # The scenario itself still says what it did with the deployed package.
    assert "Relance : pièces justificatives attendues" in analyst.browser.get(page.url).content


def test_a_scenario_flags_a_draft_whose_timer_changes_the_path(portal):
    analyst = Analyst(portal)
    reminder_scenario(analyst, "Relance")
    xml = analyst.browser.client.get("/processus/fichiers/supporting_documents.bpmn/xml").get_json()["xml"]
    # The studio's « Vérifier » replays the scenarios that go through the diagram, with its unsaved XML.
    status, answer = analyst.action("supporting_documents.bpmn", "verifier", xml=xml)
    assert status == 200 and answer["ok"] and "scenarios" not in answer
    status, answer = analyst.action("supporting_documents.bpmn", "verifier", xml=xml.replace('"P15D"', '"P20D"'))
    assert status == 200 and answer["ok"] and [s["name"] for s in answer["scenarios"]] == ["Relance"]
    assert "le courriel « relance_pieces » n'est plus envoyé" in " ".join(answer["scenarios"][0]["changes"])
    status, answer = analyst.action("initial_enrolment.bpmn", "verifier")  # a diagram the scenario never ran
    assert status == 200 and "scenarios" not in answer

    status, answer = analyst.action("supporting_documents.bpmn", "brouillon", xml=xml.replace('"P15D"', '"P20D"'))
    assert status == 200, answer
    changed = [a for a in verify(analyst) if a.startswith("Scénario « Relance » changé")]
    assert changed and "étape 3 « Avancer de 15 jours » : chemin « aucun » au lieu de « Délai de dépôt dépassé → " \
        "Signaler la demande en retard → Envoyer le courriel de relance → Fournisseur relancé »." in changed[0]
    assert "le courriel « relance_pieces » n'est plus envoyé" in changed[0]


def start_at_confirmation(analyst, data=None):
    page = click(analyst.browser.get("/processus"), "simulate-initial_enrolment")
    options = page.doc.xpath("//select[@id='element']/option/@value")
    assert "confirmation" in options and "ans_search" in options
    # What the process reads, and whether the sample holds it: the look-up's result is set by the
    # process, so a simulation that starts after the look-up needs it in its sample.
    row = page.texts("//tr[@id='expected-referencing']/td")
    assert row[0] == "referencing" and "Référencement validé ?" in row[1] and row[2] == "oui" and row[3] == "non"
    form = page.form("simulation-start").fill(element="confirmation")
    if data is not None:
        sample = json.loads(form.values["sample"][0])
        form.fill(sample=json.dumps({**sample, "data": {**sample["data"], **data}}))
    page = form.submit("Commencer la simulation")
    assert page.status == 200, page.alerts()
    assert task_key(page) == "confirmation"
    assert page.texts("//article[contains(@class, 'simulation-entry')]//h3")[0].startswith(
        "1. Début à « Vérifier et confirmer la demande »")
    assert mails(page) == [] and not page.doc.xpath("//*[contains(@class, 'simulation-status')]")
    return page.form("simulation-form").fill(accept_cgu=True, accept_penal_code=True, accept_sincerity=True).submit()


def test_a_simulation_starts_at_a_chosen_element(portal):
    """Started at the confirmation step, nothing on the way runs: « Terminer » takes a number and
    sends the acknowledgement; without the data the way there gives, the incident says why; an
    element of another process is refused."""
    analyst = Analyst(portal)
    page = start_at_confirmation(analyst)  # the sample lacks the referencing look-up's result
    assert task_key(page) is None
    assert "Incident : « Référencement validé ? » a échoué name 'referencing' is not defined" in \
        " ".join(page.texts("//*[@id='simulation-incident']"))

    referencing = {"found": True, "validated": True, "sons_dpi": True, "ans_number": "JGe2DPI009",
                   "editor_siren": "348662990"}
    page = start_at_confirmation(analyst, {"referencing": referencing, "company": {"found": True, "siret": "34866299000038"}})
    assert task_key(page) == "instruction_decision", (page.alerts(), page.errors())
    assert mails(page)[0].startswith("Accusé de réception de votre demande d'enrôlement ENR0001M0")
    assert not page.doc.xpath("//*[@id='simulation-incident']")

    page = click(analyst.browser.get("/processus"), "simulate-initial_enrolment")
    form = page.form("simulation-start")
    form.values["element"] = ["review"]  # an element of the instruction, not of this diagram
    page = form.submit("Commencer la simulation")
    assert page.status == 422
    assert any("L'élément « review » ne peut pas servir de départ" in alert for alert in page.alerts())


def test_flask_bpmn_simulate_starts_at_an_element_with_its_timer(portal):
    """Started at the deposit, the request for documents is not sent again, and the deposit's
    reminder counts from the start."""
    result = run(portal, "bpmn", "simulate", "--process", "supporting_documents", "--element", "deposit",
                 "--data", json.dumps(SUBMITTED), "--advance", "14", "--advance", "1")
    assert result.exit_code == 0, result.output
    steps = result.output.split("== ")
    assert steps[1].startswith("Début à « Déposer des pièces jointes »") and "courriel" not in steps[1]
    assert steps[2].startswith("Avancer de 14 jours") and "courriel" not in steps[2]
    assert steps[3].startswith("Avancer de 1 jour") and "Relance : pièces justificatives attendues" in steps[3]


def test_a_form_posted_twice_is_refused_and_a_simulation_can_be_deleted(portal):
    analyst = Analyst(portal)
    page = start(analyst, "instruction", SUBMITTED)
    form = page.form("simulation-form").fill(decision="rejeter", reason="RIB illisible.")
    first = form.submit()
    assert first.status == 200 and first.doc.xpath("//*[@id='simulation-done']")  # rejected: the process ends
    assert "Rejetée" in " ".join(first.texts("//*[contains(@class, 'simulation-status')]"))
    assert not first.doc.xpath("//form[@id='simulation-advance']")
    again = form.submit()  # the same page, from another tab
    assert any("Cette étape n'attend plus de saisie" in alert for alert in again.alerts())
    assert len(again.doc.xpath("//article[contains(@class, 'simulation-entry')]")) == 2  # not recorded twice

    page = again.form("simulation-delete").submit("Supprimer la simulation")
    assert page.h1 == "Simuler le paquet de processus"
    assert any("supprimée" in alert for alert in page.alerts())
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(db.metadata.tables["simulation"])) == 0


def test_the_form_of_a_step_has_the_fields_the_draft_adds(portal):
    """A field added in « Formulaires » (a draft, not deployed) is asked and validated in the
    simulation, and reaches the task data."""
    from test_form_fields import FINESS, define
    analyst = Analyst(portal)
    define(analyst, "instruction_decision", "Compléments de la décision", FINESS)
    page = start(analyst, "instruction", SUBMITTED)
    form = page.form("simulation-form")
    assert "finess" in form.fields()
    refused = form.fill(decision="valider").submit()
    assert refused.status == 422 and refused.errors().get("finess") == ["Ce champ est obligatoire."]
    page = refused.form("simulation-form").fill(finess="690000123").submit()
    assert page.status == 200, page.errors()
    assert '"finess": "690000123"' in page.texts("//pre[contains(@class, 'simulation-data')]")[-1]
    assert "Validée" in " ".join(page.texts("//*[contains(@class, 'simulation-status')]"))


def test_the_company_look_up_reads_the_demo_directory_even_when_the_portal_uses_the_api(portal):
    """COMPANY_DIRECTORY=api (pointing nowhere): a simulation still finds the demo company."""
    portal.config.update(COMPANY_DIRECTORY="api", COMPANY_API_URL="http://127.0.0.1:9", COMPANY_API_TIMEOUT=0.5)
    result = run(portal, "bpmn", "simulate", "--process", "initial_enrolment", "--answers", json.dumps(
        {"referencing_search": {}, "referencing_dpi": {}, "siret_search": {}}))
    assert result.exit_code == 0, result.output
    assert "lookup_company → company_found" in result.output
    assert "En attente : Compléter les informations du demandeur." in result.output
    with portal.test_request_context():  # outside a simulation, the portal asks the API (unreachable here)
        from app.services import companies
        assert companies.lookup("34866299000038") == companies.UNAVAILABLE


def test_flask_bpmn_simulate_refuses_a_broken_file_with_its_reasons(portal, tmp_path):
    import diagrams as d
    broken = tmp_path / "broken.bpmn"
    broken.write_text(d.process("broken", [d.service_task("s", "nobody.knows")], d.chain("s")))
    result = run(portal, "bpmn", "simulate", str(broken))
    assert result.exit_code == 1
    assert "service inconnu « nobody.knows »" in result.output
    assert "Le paquet de processus avec vos brouillons ne peut pas être simulé" in result.output
