"""Incidents: a task that fails (a look-up service down, a handler error) does not lose the request.
The supplier is told plainly, admins and analysts see the incident and retry it once the cause is
fixed, and the request goes on from where it stopped. Timers that fail do not block the others."""
from datetime import timedelta

import pytest

from app import clock
from app.engine.registry import HANDLERS, Handler
from app.extensions import db
from app.models import EnrolmentRequest, Incident
from app.services import referencing, timers
from app.worker import drain
from browser import Browser
from instruction_steps import Agent, file_request
from journey import Journey, Supplier
from people import log_in, make_user
from rows import stored

HELD = ("Un incident technique empêche pour le moment la suite du traitement de votre demande. "
        "Vos informations sont enregistrées : vous n'avez rien à ressaisir.")


def directory_down(*args, **kwargs):
    raise ConnectionError("annuaire ANS injoignable (délai dépassé)")


def incidents_of(app, public_id) -> list[Incident]:
    with app.app_context():
        rows = db.session.scalars(db.select(Incident).join(Incident.request)
                                  .where(EnrolmentRequest.public_id == public_id).order_by(Incident.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def break_handler(monkeypatch, name, failing=lambda ctx: True):
    """Make the handler ``name`` raise for the requests ``failing`` names (undo: monkeypatch.undo)."""
    real = HANDLERS[name]

    def func(ctx, **params):
        if failing(ctx):
            raise RuntimeError(f"{name} en panne")
        return real.func(ctx, **params)

    monkeypatch.setitem(HANDLERS, name, Handler(real.name, real.label, func, real.params))


def row_of(page, incident_id) -> str:
    return page.texts(f'//tr[@id="incident-{incident_id}"]')[0]


def test_a_failing_lookup_is_an_incident_that_a_retry_resumes_after_the_fix(portal, client, monkeypatch):
    journey = Journey(client)
    journey.start()
    step_url = journey.page.url
    public_id = step_url.split("/")[2]
    assert journey.form_key == "referencing_search"
    monkeypatch.setattr(referencing, "lookup", directory_down)

    page = journey.next()
    # The supplier gets a plain message, no form and no technical detail.
    assert page.status == 503 and HELD in page.content
    assert "annuaire ANS" not in page.text and "Traceback" not in page.text and "ConnectionError" not in page.text
    assert not page.doc.xpath("//form[@data-form-key]")
    assert journey.browser.get(step_url).status == 503  # and so until the retry
    [incident] = incidents_of(portal, public_id)
    assert (incident.task_bpmn_id, incident.task_label, incident.handler, incident.retries) == (
        "lookup_referencing", "Rechercher le référencement ANS", "referencing.lookup", 0)
    assert incident.error.startswith("ConnectionError('annuaire ANS injoignable") and incident.resolved_at is None
    # What was entered is kept: the completed step and its data, in the saved workflow.
    with portal.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        assert '"ans_number": "JGe2DPI009"' in request.instance.state_json

    # Admins and analysts see it (the draft has no number yet); agents have no such page.
    admin, analyst, agent = Agent(portal, "admin"), Agent(portal, "analyst"), Agent(portal, "agent")
    for person in (admin, analyst):
        listing = person.browser.get("/gestion/incidents")
        assert listing.status == 200 and listing.h1 == "Incidents"
        assert "Incidents" in listing.texts('//nav[@id="navigation-principale"]//a')
        line = row_of(listing, incident.id)
        for text in ("brouillon", "Rechercher le référencement ANS", "referencing.lookup",
                     "ConnectionError('annuaire ANS injoignable", "0"):
            assert text in line, (text, line)
    assert agent.browser.get("/gestion/incidents").status == 404
    assert "Incidents" not in agent.browser.get("/gestion/demandes").texts('//nav[@id="navigation-principale"]//a')

    # A retry before the fix fails again: the incident stays open, one more retry counted.
    page = admin.browser.get("/gestion/incidents")
    page = page.form_with("Relancer").submit("Relancer")
    assert "La relance a de nouveau échoué" in " ".join(page.alerts())
    [incident] = incidents_of(portal, public_id)
    assert incident.resolved_at is None and incident.retries == 1 and incident.last_retry_at is not None
    assert journey.browser.get(step_url).status == 503

    # The directory is back: « Relancer » runs the look-up again and the request goes on.
    monkeypatch.undo()
    page = page.form_with("Relancer").submit("Relancer")
    assert "Le traitement de la demande (brouillon) a repris" in " ".join(page.alerts())
    [incident] = incidents_of(portal, public_id)
    assert incident.resolved_at is not None and incident.resolved_by_id is not None
    assert "Aucun incident ouvert." in page.texts('//section[@id="open-incidents"]')[0]
    assert "Rechercher le référencement ANS" in page.texts('//section[@id="resolved-incidents"]')[0]
    assert stored(portal, public_id).ans_number == "JGe2DPI009"

    # The supplier finds the next step with what the look-up found, then finishes as usual.
    journey.page = journey.browser.get(step_url)
    assert journey.page.status == 200 and journey.form_key == "referencing_dpi"
    assert "LOGICIEL HOP-DPI" in journey.page.content
    assert journey.complete().h1 == "Confirmation"
    request = stored(portal, public_id)
    assert (request.number, request.status) == ("ENR0001M0", "in_progress")


def test_a_failing_timer_is_an_incident_and_the_other_timers_still_fire(portal, mailbox, monkeypatch):
    late, _ = file_request(portal)
    other, other_supplier = file_request(portal, Supplier(ans_number="MSv2VIL014", siret="81245367800011"))
    agent = Agent(portal)
    start = clock.now()
    clock.freeze(start)
    for public_id in (late, other):
        page = agent.decide(public_id, "demander_pieces", requested_types=["rib"], message="Merci.")
        assert page.status == 200, (page.status, page.errors())

    break_handler(monkeypatch, "enrolment.mark_overdue", lambda ctx: ctx.request.public_id == late)
    clock.freeze(start + timedelta(days=15, minutes=1))
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1  # the other one fired; the failing one did not stop the worker
    assert stored(portal, other).overdue_since is not None
    assert stored(portal, late).overdue_since is None
    [incident] = incidents_of(portal, late)
    assert (incident.task_bpmn_id, incident.handler) == ("mark_overdue", "enrolment.mark_overdue")
    with portal.app_context():  # skipped until retried, not retried on every round
        assert sum(drain(timers.fire_next)) == 0
    assert incidents_of(portal, late)[0].retries == 0

    # The agent's review page says so (with the task, without the incidents page link).
    review = agent.review(late)
    assert "Incident technique en cours" in review.content and "Signaler la demande en retard" in review.content
    assert "Voir les incidents" not in review.content
    admin = Agent(portal, "admin")
    assert "Voir les incidents" in admin.review(late).content
    # The supplier's space says so plainly.
    supplier = Browser(portal.test_client())
    log_in(supplier, *make_user(portal, "supplier", sirets=["34866299000038"]))
    detail = supplier.get(f"/espace/demandes/{late}")
    assert detail.status == 200 and HELD in detail.content and "Signaler la demande en retard" not in detail.content

    monkeypatch.undo()
    page = admin.browser.get("/gestion/incidents")
    number = stored(portal, late).number
    assert number in row_of(page, incident.id)
    page = page.form_with("Relancer").submit("Relancer")
    assert f"Le traitement de la demande ({number}) a repris" in " ".join(page.alerts())
    request = stored(portal, late)
    assert request.overdue_since is not None
    assert request.status == "awaiting_documents"
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 0
    reminders = [m for m in mailbox.messages if m["message"]["Subject"].startswith("Relance")]
    assert len(reminders) == 2
    assert "Incident technique en cours" not in agent.review(late).content
    # The supplier's deposit still waits, as before the incident.
    step = supplier.get(f"/demandes/{late}/etape")
    assert step.status == 200 and step.doc.xpath("//form[@data-form-key='supporting_documents']")


def test_a_failing_decision_is_kept_and_completed_by_the_retry(portal, mailbox):
    public_id, supplier = file_request(portal)
    agent = Agent(portal)
    with pytest.MonkeyPatch.context() as monkeypatch:
        break_handler(monkeypatch, "mail.send")
        page = agent.decide(public_id, "rejeter", reason="Pièces illisibles")
        # The decision is recorded, the status set before the mail stays; the agent is told which task waits.
        assert page.status == 503 and "Incident technique en cours" in page.content
        assert "« Envoyer le courriel de rejet » a échoué" in page.content
        assert stored(portal, public_id).status == "rejected"
        admin = Agent(portal, "admin")
        assert "Voir les incidents" in admin.review(public_id).content
    page = admin.browser.get("/gestion/incidents").form_with("Relancer").submit("Relancer")
    assert "a repris" in " ".join(page.alerts())
    assert any(m["Subject"].startswith("Rejet de votre demande") for m in mailbox.to(supplier.holder_email))
    review = agent.review(public_id)
    assert review.status == 200 and "Incident technique en cours" not in review.content
    history = review.texts('//section[@id="historique"]//tr')
    assert any("Incident technique : traitement interrompu" in line for line in history)
    assert any("Relance après incident : traitement repris" in line for line in history)
    assert stored(portal, public_id).status == "rejected"
