"""« Où en est la demande ? » on the supplier's detail page: a plain-French timeline computed from
the request's own diagram version (the elements with a ``timelineLabel``) instead of the BPMN
diagram, which staff keep: what was done and when, what is under way since when with the date to
answer before, what comes next on the usual path."""
from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from app.services import timers
from app.worker import drain
from browser import Browser
from files import pdf_bytes
from instruction_steps import Agent, file_request
from journey import Supplier
from people import log_in, make_user
from test_process_studio import Analyst, source

FILED_AT = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)  # 10:30 in Paris


def supplier_of(app, supplier) -> Browser:
    """A logged-in account of the request's SIRET."""
    browser = Browser(app.test_client())
    log_in(browser, *make_user(app, "supplier", sirets=[supplier.siret]))
    return browser


def timeline(page) -> list[tuple[str, str, str | None]]:
    """(label, « Fait le … » / « En cours depuis le … » / « À venir », deadline) of each step."""
    assert page.status == 200, page.status
    steps = []
    for item in page.doc.xpath("//ol[@id='request-timeline']/li"):
        texts = [" ".join(p.text_content().split()) for p in item.xpath("./p")]
        steps.append((texts[0], texts[1], texts[2] if len(texts) > 2 else None))
    return steps


def turn(page) -> str:
    return " ".join(page.texts("//*[@id='request-turn']"))


@pytest.fixture
def filed(portal, mailbox):
    clock.freeze(FILED_AT)
    public_id, supplier = file_request(portal)
    return public_id, supplier_of(portal, supplier), Agent(portal)


def test_a_filed_request_says_what_was_done_who_has_it_and_what_comes_next(filed):
    public_id, supplier, agent = filed
    page = supplier.get(f"/espace/demandes/{public_id}")
    assert timeline(page) == [
        ("Dépôt de votre demande", "Fait le 01/12/2026", None),
        ("Instruction par l'ASP", "En cours depuis le 01/12/2026", None),
        ("Validation de votre demande", "À venir", None),
        ("Ouverture de votre compte", "À venir", None),
    ]
    assert page.doc.xpath("//ol[@id='request-timeline']/li[@aria-current='step']/p/strong/text()") \
        == ["Instruction par l'ASP"]
    assert turn(page) == "Votre demande est entre les mains d'un gestionnaire de l'ASP depuis le 01/12/2026 à 10:30."
    # No diagram, nor its viewer, for the supplier; nothing technical either.
    assert not page.doc.xpath("//*[@id='request-diagram'] | //script/@src[contains(., 'bpmn-js')]")
    assert "Gateway" not in page.text and "review" not in page.content
    # Staff keep the diagram.
    review = agent.review(public_id)
    assert review.doc.xpath("//*[@id='request-diagram']/@data-diagram-url") == [f"/demandes/{public_id}/diagramme"]
    assert not review.doc.xpath("//ol[@id='request-timeline']")


def test_documents_requested_show_the_date_to_answer_before(filed):
    public_id, supplier, agent = filed
    clock.advance(timedelta(days=2))  # 03/12/2026: the agent asks for a KBIS; the reminder is due 15 days later
    page = agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")
    assert page.status == 200, page.errors()
    clock.advance(timedelta(days=1))
    page = supplier.get(f"/espace/demandes/{public_id}")
    assert timeline(page) == [
        ("Dépôt de votre demande", "Fait le 01/12/2026", None),
        ("Instruction par l'ASP", "En cours depuis le 01/12/2026", None),
        ("Pièces demandées par l'ASP", "Fait le 03/12/2026", None),
        ("Dépôt des pièces demandées", "En cours depuis le 03/12/2026", "Répondez avant le 18/12/2026"),
        ("Validation de votre demande", "À venir", None),
        ("Ouverture de votre compte", "À venir", None),
    ]
    assert turn(page) == "C'est à vous d'agir depuis le 03/12/2026 à 10:30 : Déposer des pièces jointes."


def test_once_the_deadline_is_past_the_reminder_is_a_step_done(portal, filed):
    public_id, supplier, agent = filed
    clock.advance(timedelta(days=2))
    agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")
    clock.advance(timedelta(days=15, minutes=1))  # 18/12: the worker sends the reminder
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1
    assert timeline(supplier.get(f"/espace/demandes/{public_id}"))[2:5] == [
        ("Pièces demandées par l'ASP", "Fait le 03/12/2026", None),
        ("Dépôt des pièces demandées", "En cours depuis le 03/12/2026", None),
        ("Relance pour les pièces demandées", "Fait le 18/12/2026", None),
    ]


def test_a_validated_request_shows_every_step_done(filed):
    public_id, supplier, agent = filed
    clock.advance(timedelta(days=2))
    agent.decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS de moins de 3 mois.")
    clock.advance(timedelta(days=2))  # 05/12: the supplier deposits the KBIS
    page = supplier.get(f"/espace/demandes/{public_id}").follow("Déposer des pièces jointes")
    page = page.form().fill(document_type="kbis").attach("document_file", "kbis.pdf", pdf_bytes("KBIS")).submit("Importer")
    assert page.status == 200, page.errors()
    page = page.form().submit("Confirmer")
    assert page.status == 200, page.text
    clock.advance(timedelta(days=1))  # 06/12: validated
    agent.decide(public_id, "valider")
    page = supplier.get(f"/espace/demandes/{public_id}")
    assert timeline(page) == [
        ("Dépôt de votre demande", "Fait le 01/12/2026", None),
        ("Pièces demandées par l'ASP", "Fait le 03/12/2026", None),
        ("Dépôt des pièces demandées", "Fait le 05/12/2026", None),
        ("Instruction par l'ASP", "Fait le 06/12/2026", None),
        ("Validation de votre demande", "Fait le 06/12/2026", None),
        ("Ouverture de votre compte", "Fait le 06/12/2026", None),
    ]
    assert turn(page) == "Votre demande est instruite : validée le 06/12/2026 à 10:30."


def test_a_label_changed_in_the_studio_follows_the_new_requests_only(filed):
    public_id, supplier, agent = filed
    analyst = Analyst(agent.app)
    renamed = source("instruction.bpmn").replace(
        'name="timelineLabel" value="Ouverture de votre compte"', 'name="timelineLabel" value="Accès à votre espace"')
    assert renamed.count("Accès à votre espace") == 2
    status, answer = analyst.action("instruction.bpmn", "deployer", xml=renamed, comment="Libellé plus clair")
    assert status == 200 and answer["ok"], answer
    new_supplier = Supplier(ans_number="OFf2PHA003", siret="79031846300011")  # a SIRET without an account
    new_id, _ = file_request(agent.app, new_supplier)

    assert timeline(supplier.get(f"/espace/demandes/{public_id}"))[-1] == ("Ouverture de votre compte", "À venir", None)
    assert timeline(supplier_of(agent.app, new_supplier).get(f"/espace/demandes/{new_id}"))[-1] \
        == ("Accès à votre espace", "À venir", None)
