"""In a real browser (Debian's Chromium through Playwright), under the portal's Content-Security-Policy:
an analyst opens « Pilotage » and the diagram of the filing process is coloured by the median wait at
each task, the slowest task the darkest, with its legend."""
from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from files import pdf_bytes
from journey import Journey
from test_csp_browser import Watched
from test_studio_browser import sign_in


@pytest.fixture
def watched(chromium):
    watched = Watched(chromium)
    yield watched
    watched.assert_clean()


@pytest.fixture(autouse=True)
def quick_recap_pdf(monkeypatch):
    monkeypatch.setattr("app.services.pdf.html_to_pdf", lambda html: pdf_bytes("Récapitulatif"))


def test_the_heatmap_colours_the_slow_task(portal, mailbox, watched):
    # The supplier stays 1 day on « applicant » and 3 days on « vat_regime », no time on the others.
    clock.freeze(datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc))
    journey = Journey(portal.test_client())
    journey.start()
    journey.until("applicant")
    clock.advance(timedelta(days=1))
    journey.until("vat_regime")
    clock.advance(timedelta(days=3))
    journey.complete()

    page = watched.page
    sign_in(portal, page, "analyst")
    page.goto("/")
    page.get_by_role("link", name="Pilotage").click()
    page.select_option("#steering-process", "initial_enrolment")
    page.get_by_role("button", name="Afficher", exact=True).click()
    page.wait_for_selector("#steering-diagram[data-ready='true']")

    def grade(element: str) -> str:
        classes = page.get_attribute(f"#steering-diagram g.djs-element[data-element-id='{element}']", "class").split()
        return next((c for c in classes if c.startswith("heat-")), "")

    # Grades in quarters of the slowest median: 3 days → 4, 1 day → 2, nothing → 1.
    assert (grade("vat_regime"), grade("applicant"), grade("bank_details")) == ("heat-4", "heat-2", "heat-1")
    assert grade("start") == ""  # not a user task: no colour
    fill = page.evaluate("""() => getComputedStyle(document.querySelector(
        "#steering-diagram g[data-element-id='vat_regime'] .djs-visual > :first-child")).fill""")
    assert fill == "rgb(206, 5, 0)"
    legend = page.locator("#steering-legend li")
    assert legend.count() == 5 and legend.last.inner_text() == "les trois quarts et plus"
    assert page.evaluate("""() => getComputedStyle(document.querySelector(".steering-swatch--4")).backgroundColor""") \
        == "rgb(206, 5, 0)"
    # The same figures as text, next to the diagram.
    row = page.locator("#steering-heat-table tr[data-element='vat_regime']")
    assert row.locator("td").all_inner_texts()[:3] == ["1", "3 j", "3 j"]
    watched.assert_clean()
