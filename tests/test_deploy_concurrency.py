"""Two deployments at once (an analyst's « Déployer » while ``flask bpmn deploy`` runs): each gets
its own version number and exactly one version is current."""
import threading

import psycopg
import pytest

from app.package import deploy
from app.extensions import db
from app.models import ProcessVersion
from app.services import processes
from conftest import PG_ADMIN_URL
from test_process_studio import Analyst, analyst, source  # noqa: F401  (the fixture)


def _someone_waits_for_a_lock(database: str) -> bool:
    with psycopg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}", autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
                            (database,)).fetchone()[0] > 0


def test_two_deployments_at_once_get_two_versions(analyst):
    app = analyst.app
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("postgresql"):
        pytest.skip("SQLite runs one write transaction at a time (BEGIN IMMEDIATE): deployments cannot overlap")
    terminal = source("instruction.bpmn").replace('name="Instruire la demande"', 'name="Examiner la demande"', 1)
    studio = source("instruction.bpmn").replace('name="Instruire la demande"', 'name="Étudier la demande"', 1)
    answers = []
    with app.app_context():
        # ``flask bpmn deploy`` has stored its versions and not committed yet…
        deploy({**processes.deployed_sources(), "instruction.bpmn": terminal}, author="terminal", comment="A")
        # … when the analyst clicks « Déployer ».
        click = threading.Thread(target=lambda: answers.append(
            analyst.action("instruction.bpmn", "deployer", xml=studio, comment="B")))
        click.start()
        for _ in range(10_000):  # until the analyst's transaction waits on ours (bounded, no sleep)
            if _someone_waits_for_a_lock(url.rsplit("/", 1)[1]):
                break
        else:
            pytest.fail("the analyst's deployment never waited for the terminal's")
        db.session.commit()
    click.join(60)
    status, answer = answers[0]
    assert status == 200 and answer["ok"], answer
    with app.app_context():
        versions = db.session.execute(db.select(ProcessVersion.version, ProcessVersion.is_current, ProcessVersion.comment)
                                      .where(ProcessVersion.process_id == "instruction")
                                      .order_by(ProcessVersion.version)).all()
    assert versions == [(1, False, ""), (2, False, "A"), (3, True, "B")]
