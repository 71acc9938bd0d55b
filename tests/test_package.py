"""The process package: diagrams and data deployed as one version; a request keeps the version it
started with; drafts of the data deploy with the diagrams' drafts; the CLI writes the deployed
package back to the files."""
import json

import pytest

from app import package
from app.extensions import db
from app.models import PackageDraft, ProcessPackage, ProcessVersion
from app.services import enrolment
from studio import Analyst


class Notes(package.Section):
    """A section for these tests only: {code: {"text": ...}}."""

    name = "test_notes"
    label = "Notes de test"

    def check(self, pkg, processes):
        return [self.problem(code, "texte vide.") for code, item in pkg.data[self.name].items() if not item["text"]]


@pytest.fixture
def notes(monkeypatch):
    monkeypatch.setitem(package.SECTIONS, Notes.name, Notes())
    yield Notes.name


def _versions():
    return db.session.scalars(db.select(ProcessPackage).order_by(ProcessPackage.version)).all()


def test_a_data_change_alone_makes_a_package_version_and_requests_keep_theirs(portal, notes):
    with portal.app_context():
        first = package.current_row()
        assert first is not None and first.version == 1
        before = enrolment.start("initial_enrolment")
        data = {**package.current().data, notes: {"hello": {"text": "Bonjour"}}}
        row, created = package.deploy_package({}, "analyste", "une note", data=data)
        db.session.commit()
        assert created == [] and row.version == 2 and row.is_current and not db.session.get(ProcessPackage, first.id).is_current
        assert package.deploy_package({}, "analyste", "rien", data=data) == (None, [])  # nothing changed
        after = enrolment.start("initial_enrolment")
        db.session.commit()
        assert before.instance.package_id == first.id and after.instance.package_id == row.id
        assert package.of(before.instance).data[notes] == {} and package.of(after.instance)[notes] == {"hello": {"text": "Bonjour"}}


def test_a_section_refuses_its_bad_data_with_its_french_reason(portal, notes):
    with portal.app_context():
        data = {**package.current().data, notes: {"empty": {"text": ""}}}
        with pytest.raises(package.DeployError) as refused:
            package.deploy({}, "analyste", data=data)
        assert [str(p) for p in refused.value.problems] == ["Notes de test / empty : texte vide."]
        assert [v.version for v in _versions()] == [1]


def test_drafts_of_data_and_diagrams_deploy_together(portal, notes):
    from app.services import processes
    with portal.app_context():
        package.save_section_draft(notes, {"n": {"text": "Brouillon"}}, "analyste")
        xml, _ = processes.source("instruction.bpmn")
        processes.save_draft("instruction.bpmn", xml.replace("Instruire la demande", "Instruire la demande reçue"), "analyste")
        assert package.check_drafts() == []
        assert package.current().data[notes] == {}  # a draft is not deployed
        row, created = package.deploy_drafts("analyste", "deux brouillons")
        db.session.commit()
        # instruction and the processes that call it (they embed its spec)
        assert {"instruction", "initial_enrolment"} <= {v.process_id for v in created}
        assert all(v.package_id == row.id for v in created)
        assert package.current()[notes] == {"n": {"text": "Brouillon"}}
        assert db.session.scalar(db.select(db.func.count()).select_from(PackageDraft)) == 0
        assert package.bpmn_drafts() == {}


def test_the_studio_deploys_the_drafts_and_refuses_in_french(portal, notes):
    analyst = Analyst(portal)
    with portal.app_context():
        package.save_section_draft(notes, {"bad": {"text": ""}}, "analyste")
        db.session.commit()
    answer = analyst.browser.client.post("/processus/paquet/deployer", data={"comment": "essai", "csrf_token": analyst.token}, follow_redirects=True)
    assert "Notes de test / bad : texte vide." in answer.get_data(as_text=True)
    answer = analyst.browser.client.post("/processus/paquet/deployer", data={"comment": "", "csrf_token": analyst.token}, follow_redirects=True)
    assert "Indiquez un commentaire de version" in answer.get_data(as_text=True)
    with portal.app_context():
        package.save_section_draft(notes, {"ok": {"text": "Correct"}}, "analyste")
        db.session.commit()
    answer = analyst.browser.client.post("/processus/paquet/deployer", data={"comment": "essai", "csrf_token": analyst.token}, follow_redirects=True)
    assert "Paquet de processus version 2 déployé" in answer.get_data(as_text=True)
    with portal.app_context():
        assert package.current()[notes] == {"ok": {"text": "Correct"}}


def test_export_writes_the_deployed_package_back_to_files_that_deploy_to_the_same(portal, notes, tmp_path):
    runner = portal.test_cli_runner()
    with portal.app_context():
        package.deploy({}, "analyste", data={**package.current().data, notes: {"é": {"text": "Libellé accentué"}}})
        db.session.commit()
        deployed = json.loads(package.current_row().sources_json)
    result = runner.invoke(args=["bpmn", "export", "--bpmn", str(tmp_path / "bpmn"), "--mails", str(tmp_path / "mails")])
    assert result.exit_code == 0, result.output
    written = json.loads((tmp_path / "bpmn" / "package" / f"{notes}.json").read_text(encoding="utf-8"))
    assert written == {"é": {"text": "Libellé accentué"}}
    assert "Libellé accentué" in (tmp_path / "bpmn" / "package" / f"{notes}.json").read_text(encoding="utf-8")
    with portal.app_context():
        sources, data = package.read_files(package.Folders(tmp_path / "bpmn", tmp_path / "mails"))
        assert sources == deployed
        assert package.deploy_package(sources, "relecture", data=data) == (None, [])


def test_the_cli_deploys_the_files_and_says_when_nothing_changed(portal):
    runner = portal.test_cli_runner()
    result = runner.invoke(args=["bpmn", "deploy"])
    assert result.exit_code == 0 and "Aucun changement" in result.output
    result = runner.invoke(args=["bpmn", "check"])
    assert result.exit_code == 0 and "Paquet de processus valide" in result.output
    with portal.app_context():
        assert all(v.package_id == package.current_row().id
                   for v in db.session.scalars(db.select(ProcessVersion)))
