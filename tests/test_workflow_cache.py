"""A step's page gives its workflow to the form's POST, and the POST to the next page, instead of
each restoring it from the stored JSON (app/engine/cache.py); a workflow is reused only for the very
state the database holds."""
import pytest

from app.engine import Run
from app.engine.cache import WORKFLOWS
from app.extensions import db
from app.models import EnrolmentRequest
from app.roles import SUPPLIER, lane_of
from journey import Journey


@pytest.fixture
def counts():
    """Hits and misses of the process's workflow cache since the test started."""
    start = (WORKFLOWS.hits, WORKFLOWS.misses)
    return lambda: (WORKFLOWS.hits - start[0], WORKFLOWS.misses - start[1])


def _state(app, journey) -> str:
    public_id = journey.page.url.split("/")[2]
    with app.app_context():
        return db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id)).instance.state_json


def test_the_post_and_the_next_page_reuse_the_workflow(portal, client, counts):
    journey = Journey(client)
    journey.start()
    journey.until("bank_details")
    before = counts()
    journey.next()  # the POST of « Coordonnées bancaires », then the GET of the next step
    assert journey.form_key == "vat_regime"
    hits, misses = counts()
    assert (hits - before[0], misses - before[1]) == (2, 0)


def test_a_page_opened_before_another_change_is_refused_as_stale(portal, client, counts):
    """The page released the workflow of its state; the state then changed elsewhere (another
    process, whose release this process never saw): the form's POST restores the stored state,
    finds its task gone, and shows the step the request is really at."""
    journey = Journey(client)
    journey.start()
    journey.until("bank_details")
    form = journey.fill()
    before_change = _state(portal, journey)
    public_id = journey.page.url.split("/")[2]
    with portal.test_request_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        run = Run.load(request.instance, request, reuse=False)  # the other process
        lane = lane_of(SUPPLIER)
        task = run.ready_task(lane)
        run.go_back(task.id, lane)
        run.save()
        db.session.commit()
    assert _state(portal, journey) != before_change
    hits, misses = counts()
    page = form.submit(journey._submit_label())
    assert page.status == 409 and "déjà été enregistrée" in page.text
    assert counts()[0] == hits and counts()[1] > misses  # restored from the database, not reused
    journey.page = page
    assert journey.form_key != "vat_regime"


def test_turned_off(portal, client, counts, monkeypatch):
    monkeypatch.setitem(portal.config, "WORKFLOW_CACHE_SIZE", 0)
    journey = Journey(client)
    journey.start()
    journey.until("vat_regime")
    hits, misses = counts()
    assert hits == 0 and misses > 5


def test_least_recently_released_dropped_first(app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKFLOW_CACHE_SIZE", 2)
    with app.app_context():
        for state in ("a", "b", "c"):
            WORKFLOWS.keep(("spec", 1), state, object())
        assert WORKFLOWS.take(("spec", 1), "a") is None
        assert WORKFLOWS.take(("spec", 1), "b") is not None
        assert WORKFLOWS.take(("spec", 1), "b") is None  # taken: in one request's hands only
        assert WORKFLOWS.take(("spec", 2), "c") is None  # another spec version
        assert WORKFLOWS.take(("spec", 1), "c") is not None
