"""The operator's commands, and the Alembic history matching the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import diagrams as d
from app.extensions import db
from app.models import Referencing


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_the_schema_built_by_the_migrations_matches_the_models(app):
    with app.app_context():
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, db.metadata) == []


def test_bpmn_check_deploy_and_versions(app, tmp_path):
    result = run(app, "bpmn", "check")
    assert result.exit_code == 0 and "✓ Paquet de processus valide." in result.output
    result = run(app, "bpmn", "deploy", "--comment", "mise en service")
    assert result.exit_code == 0, result.output
    assert "initial_enrolment version 1 déployée" in result.output and "instruction version 1 déployée" in result.output
    assert "Paquet de processus version 1 déployé." in result.output
    assert "Aucun changement" in run(app, "bpmn", "deploy").output
    listing = run(app, "bpmn", "versions").output
    assert "* initial_enrolment v1" in listing and "mise en service" in listing

    broken = tmp_path / "broken.bpmn"
    broken.write_text(d.process("broken", [d.service_task("s", "nobody.knows")], d.chain("s")))
    for command in ("check", "deploy"):
        result = run(app, "bpmn", command, str(broken))
        assert result.exit_code == 1
        assert "service inconnu « nobody.knows »" in result.output


def test_referencing_import_command(app, tmp_path):
    good = tmp_path / "ans.csv"
    good.write_text("ans_number;software_name;software_version;dsr;profile;validated;sons_dpi;editor_siren\n"
                    "ABc2DEF001;LOGICIEL;V1;Hôpital;Général;oui;non;348662990\n", encoding="utf-8")
    result = run(app, "referencing", "import", str(good))
    assert result.exit_code == 0 and "1 référencement(s) créé(s), 0 mis à jour." in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text().replace("348662990", "123"), encoding="utf-8")
    result = run(app, "referencing", "import", str(bad))
    assert result.exit_code == 1 and "Ligne 2" in result.output
    with app.app_context():
        assert db.session.get(Referencing, "ABc2DEF001").editor_siren == "348662990"
