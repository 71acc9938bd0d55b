"""The package in « Processus », over HTTP as an analyst uses it: its versions and « Revenir à la
version N », the pending drafts, the sections' editors, « Comparer » per section and per diagram
(only what really changed, requests inside called processes counted), export and import of an
archive (and every bad archive refused in French)."""
import io
import json
import zipfile
from pathlib import Path

import pytest

from app import package
from app.extensions import db
from app.models import EnrolmentRequest, PackageDraft, ProcessDraft, ProcessPackage
from app.services import package_archive
from instruction_steps import file_request
from studio import Analyst

BPMN = Path(__file__).resolve().parent.parent / "bpmn"
INSTRUCTION = (BPMN / "instruction.bpmn").read_text(encoding="utf-8")
RENAMED = INSTRUCTION.replace('name="Instruire la demande"', 'name="Examiner la demande"', 1)


class Notes(package.Section):
    """A section for these tests only, with an editor: {code: {"text": ...}}."""

    name = "test_notes"
    label = "Notes de test"
    editor = "processes.catalogue"


@pytest.fixture
def notes(monkeypatch):
    monkeypatch.setitem(package.SECTIONS, Notes.name, Notes())
    return Notes.name


@pytest.fixture
def analyst(portal):
    return Analyst(portal)


def request_of(app, public_id):
    return db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))


def flashed(page) -> str:
    return " ".join(page.alerts())


def submit(analyst, form_id, button, **fields):
    """Fill and submit a form of the versions page, as the analyst does."""
    return analyst.browser.get("/processus").form(form_id).fill(**fields).submit(button)


def follow(analyst, path, **fields):
    """A POST no page offers a form for (a version that does not exist...)."""
    return analyst.browser.post(path, {"csrf_token": [analyst.token], **{k: [v] for k, v in fields.items()}})


# --- « Comparer »: only what really changed; requests inside called processes ------------------

def test_compare_counts_a_request_inside_a_called_process_and_ignores_layout(analyst):
    public_id, _ = file_request(analyst.app)  # an initial_enrolment request, waiting in instruction's review
    with analyst.app.app_context():
        assert request_of(analyst.app, public_id).instance.process_version.process_id == "initial_enrolment"

    layout_only = (INSTRUCTION
                   .replace('<dc:Bounds x="330" y="205" width="120" height="80" />',
                            '<dc:Bounds x="340" y="215" width="120" height="80" />', 1)  # the shape moved
                   .replace('<bpmn:userTask id="review" name="Instruire la demande">',
                            '<bpmn:userTask id="review" name="Instruire la demande">'
                            '<bpmn:documentation>Lire le dossier en entier.</bpmn:documentation>', 1)
                   .replace('<bpmn:incoming>flow_documents_received</bpmn:incoming>', '', 1)  # a flow's listing
                   .replace('<bpmn:sequenceFlow id="flow_unknown_decision" sourceRef="decision" targetRef="review" />',
                            '<bpmn:sequenceFlow id="flow_unknown_decision" name="Autre" sourceRef="decision" targetRef="review" />', 1))
    status, answer = analyst.action("instruction.bpmn", "comparer", xml=layout_only)
    assert status == 200
    assert [(c["element_id"], c["what"]) for c in answer["changes"]] == [("flow_unknown_decision", "modifié")]
    assert answer["impact"] == {"requests": 0, "elements": []}

    status, answer = analyst.action("instruction.bpmn", "comparer", xml=RENAMED)
    assert answer["impact"]["requests"] == 1
    assert answer["impact"]["elements"][0]["process_id"] == "instruction"
    assert not analyst.drafts()


def test_the_versions_page_counts_requests_inside_called_processes(analyst):
    file_request(analyst.app)
    page = analyst.browser.get("/processus")
    assert page.texts("//tr[@id='version-initial_enrolment-1']//td")[5] == "1"
    assert page.texts("//tr[@id='version-instruction-1']//td")[5] == "1"   # it waits in instruction's review
    assert page.texts("//tr[@id='version-supporting_documents-1']//td")[5] == "0"
    assert page.texts("//tr[@id='package-version-1']//td")[4] == "1"


def test_the_package_compare_lists_items_by_code_and_the_diagrams_changes(analyst, notes):
    with analyst.app.app_context():
        package.deploy({}, "analyste", "notes", data={**package.current().data,
                                                     notes: {"a": {"text": "A"}, "b": {"text": "B"}}})
        package.save_section_draft(notes, {"a": {"text": "A modifiée"}, "c": {"text": "C"}}, "analyste")
        db.session.commit()
    analyst.action("instruction.bpmn", "brouillon", xml=RENAMED)

    page = analyst.browser.get("/processus")
    assert analyst.drafts() == {"instruction.bpmn", notes}
    draft = page.texts("//tr[@id='draft-test_notes']//td")
    assert draft[:3] == ["Données", "Notes de test", "analyste"]
    assert page.doc.xpath("//table[@id='package-drafts']//a[.='Notes de test']/@href") == ["/processus/catalogue"]
    assert "Notes de test" in page.doc.xpath("//ul[@id='package-sections']//a/text()")

    page = analyst.browser.get("/processus/paquet/comparer")
    assert page.status == 200
    section = {li.get("data-code"): li.text_content() for li in page.doc.xpath("//section[@id='compare-section-test_notes']//li")}
    assert section == {"c": "« c » : ajouté", "b": "« b » : supprimé", "a": "« a » : modifié"}
    assert page.texts("//section[@id='compare-file-instruction.bpmn']//li") == [
        "Tâche utilisateur « Examiner la demande » (review) : modifié"]
    assert analyst.drafts() == {"instruction.bpmn", notes}  # comparing changed nothing


def test_the_package_check_reports_in_french_and_saves_nothing(analyst):
    broken = INSTRUCTION.replace('value="instruction_decision"', 'value="formulaire_perdu"', 1)
    analyst.action("instruction.bpmn", "brouillon", xml=broken)
    page = submit(analyst, "package-check", "Vérifier le paquet")
    assert "formulaire inconnu « formulaire_perdu »" in flashed(page)
    answer = submit(analyst, "package-deploy", "Déployer le paquet", comment="")
    assert "Indiquez un commentaire de version" in flashed(answer)
    answer = submit(analyst, "package-deploy", "Déployer le paquet", comment="essai")
    assert "formulaire inconnu" in flashed(answer)
    with analyst.app.app_context():
        assert package.current_row().version == 1


# --- « Revenir à la version N » of the whole package ------------------------------------------

def test_package_rollback_restores_data_and_diagrams_and_running_requests_keep_theirs(notes, analyst):
    # notes first: the portal's first deployment (version 1) has the section, empty
    app = analyst.app
    with app.app_context():
        first = package.current_row()
        first_sources = json.loads(first.sources_json)
        package.save_section_draft(notes, {"n": {"text": "Deuxième"}}, "analyste")
        db.session.commit()
    analyst.action("instruction.bpmn", "brouillon", xml=RENAMED)
    answer = submit(analyst, "package-deploy", "Déployer le paquet", comment="Libellé et note")
    assert "Paquet de processus version 2 déployé" in flashed(answer)
    public_id, _ = file_request(app)  # starts on version 2

    page = analyst.browser.get("/processus")
    assert page.texts("//tr[@id='package-version-2']//td")[4] == "1"
    form = page.form("package-rollback-1")
    page = form.fill(comment="Retour au guide").submit("Revenir à la version 1")
    assert "Paquet de processus version 3 déployé : les diagrammes et les données de la version 1" in " ".join(page.alerts())
    assert "Retour à la version 1 du paquet : Retour au guide" in page.texts("//tr[@id='package-version-3']")[0]

    with app.app_context():
        third = package.current_row()
        assert third.version == 3
        assert package.current()[notes] == {}
        assert json.loads(third.sources_json) == first_sources
        running = request_of(app, public_id).instance
        assert package.of(running).version == 2 and package.of(running)[notes] == {"n": {"text": "Deuxième"}}
        assert "Examiner la demande" in json.loads(running.process_version.sources_json)["instruction.bpmn"]

    page = follow(analyst, "/processus/paquet/versions/3/retour")
    assert "La version 3 du paquet est déjà celle en service" in flashed(page)
    page = follow(analyst, "/processus/paquet/versions/9/retour")
    assert "Le paquet de processus n'a pas de version 9." in flashed(page)


# --- export and import ----------------------------------------------------------------------

def export(analyst) -> bytes:
    link = analyst.browser.get("/processus").doc.xpath("//a[@id='package-export']/@href")[0]
    response = analyst.browser.client.get(link)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "paquet-processus-v" in response.headers["Content-Disposition"]
    return response.data


def upload(analyst, content: bytes, name="paquet.zip"):
    form = analyst.browser.get("/processus").form("package-import")
    return form.attach("archive", name, content).submit("Importer")


def rezip(content: bytes, changes: dict[str, bytes | None]) -> bytes:
    """The archive with some members replaced, added (bytes) or removed (None)."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for name in source.namelist():
            if name not in changes:
                target.writestr(name, source.read(name))
        for name, body in changes.items():
            if body is not None:
                target.writestr(name, body)
    return buffer.getvalue()


def test_export_then_import_round_trip_gives_drafts_equal_to_the_archive(analyst, notes):
    app = analyst.app
    with app.app_context():
        package.deploy({}, "analyste", "notes", data={**package.current().data, notes: {"é": {"text": "Été"}}})
        db.session.commit()
        deployed = json.loads(package.current_row().sources_json)
    archive = export(analyst)
    names = set(zipfile.ZipFile(io.BytesIO(archive)).namelist())
    assert set(deployed) <= names and f"package/{notes}.json" in names

    page = upload(analyst, archive)
    assert "Elle est identique au paquet déployé : aucun brouillon." in flashed(page)
    assert not analyst.drafts()

    edited = rezip(archive, {"instruction.bpmn": RENAMED.encode(),
                             f"package/{notes}.json": package.dumps({"é": {"text": "Été"}, "x": {"text": "Nouveau"}}).encode()})
    page = upload(analyst, edited)
    assert "Archive importée, rien n'est déployé. Brouillons : « instruction.bpmn », « Notes de test »." in flashed(page)
    with app.app_context():
        assert package.current_row().version == 2  # nothing deployed
        assert {**package.deployed_sources(), **package.bpmn_drafts()} == {**deployed, "instruction.bpmn": RENAMED}
        assert package.draft_data()[notes] == {"é": {"text": "Été"}, "x": {"text": "Nouveau"}}
        assert package.check_drafts() == []
    # the same archive again, but equal to the deployed package: the drafts go
    upload(analyst, archive)
    assert not analyst.drafts()


def test_the_cli_exports_an_archive_and_imports_it_as_drafts(analyst, tmp_path):
    runner = analyst.app.test_cli_runner()
    target = tmp_path / "paquet.zip"
    result = runner.invoke(args=["bpmn", "export", "--archive", str(target)])
    assert result.exit_code == 0 and "version 1 écrit dans" in result.output, result.output
    target.write_bytes(rezip(target.read_bytes(), {"instruction.bpmn": RENAMED.encode()}))
    result = runner.invoke(args=["bpmn", "import", str(target)])
    assert result.exit_code == 0 and "Brouillon : instruction.bpmn" in result.output, result.output
    assert analyst.drafts() == {"instruction.bpmn"}
    (tmp_path / "pas.zip").write_bytes(b"pas une archive")
    result = runner.invoke(args=["bpmn", "import", str(tmp_path / "pas.zip")])
    assert result.exit_code == 1 and "n'est pas une archive zip" in result.output


BAD = [
    ("not a zip", lambda a: b"PK pas vraiment", "Le fichier n'est pas une archive zip de paquet de processus."),
    ("path escaping", lambda a: rezip(a, {"../instruction.bpmn": RENAMED.encode()}),
     "L'archive contient un chemin interdit : « ../instruction.bpmn »."),
    ("absolute path", lambda a: rezip(a, {"/etc/instruction.bpmn": RENAMED.encode()}),
     "L'archive contient un chemin interdit : « /etc/instruction.bpmn »."),
    ("unknown section", lambda a: rezip(a, {"package/inconnue.json": b"{}"}),
     "L'archive contient une section inconnue : « inconnue »."),
    ("unknown file", lambda a: rezip(a, {"LISEZMOI.txt": b"bonjour"}),
     "L'archive contient des fichiers qui ne font pas partie d'un paquet de processus : « LISEZMOI.txt »."),
    ("malformed section", lambda a: rezip(a, {"package/test_notes.json": b"{pas du json"}),
     "La section « Notes de test » de l'archive est illisible (fichier mal formé)."),
    ("section not by code", lambda a: rezip(a, {"package/test_notes.json": b'{"a": 1}'}),
     "La section « Notes de test » de l'archive doit associer à chaque code ses champs"),
    ("malformed diagram", lambda a: rezip(a, {"instruction.bpmn": b"<pas du xml"}), "Le fichier n'est pas un XML valide"),
    ("new diagram", lambda a: rezip(a, {"nouveau.bpmn": RENAMED.encode()}), "« nouveau.bpmn » n'est pas un diagramme déployé"),
    ("empty", lambda a: rezip(a, {n: None for n in zipfile.ZipFile(io.BytesIO(a)).namelist()}),
     "L'archive ne contient ni diagramme ni donnée de paquet de processus."),
]


@pytest.mark.parametrize("case, make, message", BAD, ids=[b[0] for b in BAD])
def test_bad_archives_are_refused_in_french_and_change_nothing(analyst, notes, case, make, message):
    archive = rezip(export(analyst), {"instruction.bpmn": RENAMED.encode()})  # one real change with the bad part
    page = upload(analyst, make(archive))
    assert message in flashed(page), flashed(page)
    assert not analyst.drafts()


def test_a_file_too_big_is_refused(analyst, monkeypatch):
    monkeypatch.setattr(package_archive, "MAX_FILE", 1024 * 1024)
    big = rezip(export(analyst), {"instruction.bpmn": RENAMED.encode() + b"<!--" + b"x" * (1024 * 1024) + b"-->"})
    page = upload(analyst, big)
    assert "Le fichier « instruction.bpmn » est trop volumineux (au plus 1 Mo)." in flashed(page)
    page = analyst.browser.get("/processus").form("package-import").submit("Importer")
    assert "Choisissez l'archive zip du paquet de processus à importer." in flashed(page)
    with analyst.app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessDraft)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(PackageDraft)) == 0
        assert db.session.scalar(db.select(db.func.count()).select_from(ProcessPackage)) == 1


@pytest.mark.parametrize("section, editor", [("statuses", "/processus/statuts"), ("mails", "/processus/courriels"),
                                             ("document_types", "/processus/documents"), ("roles", "/processus/roles"),
                                             ("refusal_reasons", "/processus/motifs"),
                                             ("forms", "/processus/formulaires")])
def test_each_section_editor_abandons_its_draft_and_only_its_own(analyst, section, editor):
    with analyst.app.app_context():
        for name in (section, "statuses" if section == "forms" else "forms"):
            package.save_section_draft(name, package.current().data[name], "test")
        db.session.commit()
    page = analyst.browser.get(editor).form("discard-form").submit("Abandonner le brouillon")
    assert page.url.endswith(editor)
    assert f"Le brouillon « {package.SECTIONS[section].label} » a été abandonné" in flashed(page)
    assert not page.doc.xpath("//form[@id='discard-form']")
    with analyst.app.app_context():
        assert db.session.scalars(db.select(PackageDraft.section)).all() == ["statuses" if section == "forms" else "forms"]
    assert follow(analyst, "/processus/paquet/brouillons/inconnue/abandonner").status == 404
