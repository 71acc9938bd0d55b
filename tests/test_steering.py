"""« Pilotage » (admins and analysts): requests per status week by week, the time spent in each task
(median and 90th percentile, nearest rank), the requests past a deadline and the heatmap's figures,
from requests driven through the portal with the clock moved between their steps."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from app.services import timers
from app.worker import drain
from browser import Browser
from files import pdf_bytes
from instruction_steps import Agent
from journey import Journey, Supplier
from people import log_in, make_user

PAGE = "/gestion/pilotage"
C_FILED = datetime(2026, 11, 24, 9, 0, tzinfo=timezone.utc)   # Tuesday, the week before
AB_FILED = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)   # Tuesday
SEEN = AB_FILED + timedelta(days=15, hours=12)                 # 16/12/2026, after C's 15-day deadline
SUPPLIERS = {
    "A": Supplier(),
    "B": Supplier(ans_number="MSv2VIL014", siret="81245367800029"),
    "C": Supplier(ans_number="JGe2DPI015", siret="35600000049008"),
}


@pytest.fixture(autouse=True)
def quick_recap_pdf(monkeypatch):
    """The recap PDF is tested elsewhere; rendering it takes most of a filing."""
    monkeypatch.setattr("app.services.pdf.html_to_pdf", lambda html: pdf_bytes("Récapitulatif"))


def file(portal, name: str, at: datetime) -> str:
    clock.freeze(at)
    return Journey(portal.test_client(), SUPPLIERS[name]).complete().url.split("/")[2]


@pytest.fixture
def measured(portal, mailbox):
    """C filed a week before A and B; the agent validates A after 2 h, B after 4 h, and asks C for a
    document after 7 days 10 h; nobody answers: C is late 15 days later. Seen on 16/12."""
    filed = {"C": file(portal, "C", C_FILED)}
    filed.update({name: file(portal, name, AB_FILED) for name in "AB"})
    agent = Agent(portal)
    for name, hours, decision, fields in (("A", 2, "valider", {}), ("B", 4, "valider", {}),
                                          ("C", 10, "demander_pieces", {"requested_types": ["kbis"], "message": "KBIS"})):
        clock.freeze(AB_FILED + timedelta(hours=hours))
        page = agent.decide(filed[name], decision, **fields)
        assert page.status == 200, (page.status, page.errors())
    clock.freeze(SEEN)
    with portal.app_context():
        assert sum(drain(timers.fire_next)) == 1
    return filed


def person(portal, role: str) -> Browser:
    browser = Browser(portal.test_client())
    log_in(browser, *make_user(portal, role))
    return browser


def rows(page, table_id: str) -> list[list[str]]:
    return [[" ".join(cell.text_content().split()) for cell in row.xpath("./th|./td")]
            for row in page.doc.xpath(f"//table[@id='{table_id}']/tbody/tr")]


def test_the_page_measures_the_requests_driven_through_the_portal(portal, measured):
    page = person(portal, "analyst").get(f"{PAGE}?semaines=4")
    assert page.status == 200 and page.h1 == "Pilotage", page.status
    assert page.texts("//table[@id='steering-status-table']/thead//th") == [
        "Statut", "Sem. du 23/11", "Sem. du 30/11", "Sem. du 07/12", "Sem. du 14/12", "Aujourd'hui"]
    # Entered each status, week by week, from the history; how many are in it today.
    assert rows(page, "steering-status-table") == [
        ["En cours", "1", "2", "0", "0", "0"],
        ["En attente de pièce(s) jointe(s) complémentaire(s)", "0", "1", "0", "0", "1"],
        ["Validée", "0", "2", "0", "0", "2"],
    ]
    steps = {row[0]: row[1:] for row in rows(page, "steering-step-table")}
    # 2 h, 4 h and 7 days 9 h: the median is the 2nd of 3 stays, the 90th percentile the 3rd.
    assert steps["Instruire la demande"] == ["instruction", "3", "4 h", "7 j 9 h"]
    assert steps["Indiquer le régime de TVA"] == ["initial_enrolment", "3", "0 s", "0 s"]
    assert rows(page, "steering-overdue-table") == [
        ["ENR0001M0", "LA POSTE", "En attente de pièce(s) jointe(s) complémentaire(s)", "16/12/2026"]]
    assert page.doc.xpath("//table[@id='steering-overdue-table']//a/@href") == [f"/gestion/demandes/{measured['C']}"]
    assert "1 demande en retard" in page.texts("//section[@id='steering-overdue']/p")[0]
    # Without a chosen process, the heatmap shows the diagram of the slowest task.
    assert "Instruction" in page.texts("//h2[@id='steering-heatmap-title']")[0]
    assert page.doc.xpath("//table[@id='steering-heat-table']/tbody/tr/@data-grade") == ["4"]
    assert rows(page, "steering-heat-table") == [["Instruire la demande", "3", "4 h", "7 j 9 h", "0"]]


def test_the_period_and_the_process_narrow_the_figures(portal, measured):
    analyst = person(portal, "analyst")
    # No request was filed through the called process « pièces jointes » itself: no status nor
    # step of its own; its diagram shows where the requests that call it wait (C).
    page = analyst.get(f"{PAGE}?semaines=4&processus=supporting_documents")
    assert page.texts("//section[@id='steering-statuses']/p")[-1] == "Aucune demande déposée sur la période."
    assert page.texts("//section[@id='steering-steps']/p")[-1] == "Aucune étape terminée sur la période."
    assert rows(page, "steering-heat-table") == [["Déposer des pièces jointes", "0", "—", "—", "1"]]
    # The period starts after the filings and decisions: no stay ended in it, nothing entered a status.
    clock.freeze(SEEN + timedelta(weeks=5))
    page = analyst.get(f"{PAGE}?semaines=4")
    assert page.texts("//section[@id='steering-steps']/p")[-1] == "Aucune étape terminée sur la période."
    assert rows(page, "steering-status-table") == [
        ["En attente de pièce(s) jointe(s) complémentaire(s)", "0", "0", "0", "0", "1"],
        ["Validée", "0", "0", "0", "0", "2"]]


def test_bad_filters_say_so_and_show_the_default(portal, measured):
    page = person(portal, "admin").get(f"{PAGE}?semaines=7&processus=nope&version=abc")
    assert page.status == 200
    assert page.alerts() == ["Processus inconnu : tous les processus sont affichés.",
                             "Période inconnue : les 12 dernières semaines sont affichées.",
                             "Version inconnue : la version en service est affichée."]
    assert page.doc.xpath("//select[@id='steering-weeks']/option[@selected]/@value") == ["12"]
    assert ["Instruire la demande", "instruction", "3", "4 h", "7 j 9 h"] in rows(page, "steering-step-table")


def test_the_diagram_gives_the_version_file_and_the_grades(portal, measured):
    admin = person(portal, "admin")
    page = admin.get(f"{PAGE}?processus=instruction")
    url = page.doc.xpath("//div[@id='steering-diagram']/@data-diagram-url")[0]
    response = admin.client.get(url)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"
    data = json.loads(response.get_data(as_text=True))
    assert data["heat"] == {"review": 4} and 'id="review"' in data["xml"]
    assert admin.client.get(f"{PAGE}/versions/999999/diagramme").status_code == 404


def test_only_admins_and_analysts_may_see_it(portal):
    for role in ("admin", "analyst"):
        page = person(portal, role).get(PAGE)
        assert page.status == 200 and page.h1 == "Pilotage"
        assert page.doc.xpath("//nav[@id='navigation-principale']//a[@href='/gestion/pilotage']/text()") == ["Pilotage"]
        assert page.texts("//section[@id='steering-steps']/p")[-1] == "Aucune étape terminée sur la période."
    agent = person(portal, "agent")
    assert agent.get(PAGE).status == 404
    assert agent.client.get(f"{PAGE}/versions/1/diagramme").status_code == 404
    assert not agent.get("/gestion/demandes").doc.xpath("//a[@href='/gestion/pilotage']")
    anonymous = Browser(portal.test_client()).get(PAGE, follow=False)
    assert anonymous.status == 302 and "/connexion" in anonymous.response.headers["Location"]


def test_its_weekly_counts_and_waiting_requests_are_read_from_their_partial_indexes(portal, measured):
    """The page's history and waiting queries name their rows as the partial indexes do (the status
    line's prefix a constant, not a parameter), so that the planners may read those small indexes
    instead of the whole history: asked with sequential scans off on PostgreSQL, each must use its
    index (a bound parameter, or a different condition, would leave it unusable)."""
    from sqlalchemy import event, text

    from app.extensions import db
    statements = []
    analyst = person(portal, "analyst")
    with portal.app_context():
        engine = db.engine

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        statements.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert analyst.get(PAGE).status == 200
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    postgresql = engine.dialect.name == "postgresql"
    for marker, index in (("FROM request_event", "ix_request_event_status_at"),
                          ("task_span.left_at IS NULL", "ix_task_span_open")):
        statement, parameters = next((s, p) for s, p in statements if marker in s)
        with engine.connect() as connection:
            if postgresql:
                connection.execute(text("SET enable_seqscan = off"))
            explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
            plan = " ".join(str(row) for row in connection.exec_driver_sql(explain + statement, parameters))
        assert index in plan, plan
