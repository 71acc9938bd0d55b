"""In a real browser (Debian's Chromium through Playwright), under the portal's CSP: an agent takes
a request, judges its documents in the review grid, then opens « Instruire la demande » and finds
« Demander des pièces » pre-filled with the documents found non conforming."""
from playwright.sync_api import expect

from instruction_steps import file_request
from test_csp_browser import Watched
from test_review_grid import _documents, with_kbis
from test_studio_browser import sign_in


def test_the_agent_judges_documents_in_the_grid_and_the_request_for_documents_is_prefilled(portal, mailbox, chromium):
    watched = Watched(chromium)  # CSP violations and uncaught errors fail the test
    page = watched.page
    public_id, _ = file_request(portal, with_kbis())
    docs = _documents(portal, public_id)
    kbis, rib = docs["kbis.pdf"], docs["rib.pdf"]
    sign_in(portal, page, "agent")
    page.goto(f"/gestion/demandes/{public_id}")
    with page.expect_navigation():
        page.get_by_role("button", name="Prendre en charge").click()

    def judge(document, verdict, reason=None):
        row = page.locator(f"#document-grid tr[data-document='{document.id}']")
        row.locator(f"input[value='{verdict}']").check(force=True)  # DSFR hides the input under its label
        if reason:
            row.get_by_role("combobox", name="Motif").select_option(label=reason)
        with page.expect_navigation():
            row.get_by_role("button", name=f"Enregistrer l'avis sur {document.original_name}").click()
        assert "Avis enregistré" in page.locator(".fr-alert").first.inner_text()
        return page.locator(f"#document-grid tr[data-document='{document.id}'] td.verdict").inner_text()

    assert "Document expiré" in judge(kbis, "non_conforme", "Document expiré")
    assert "conforme" in judge(rib, "conforme").lower()
    assert "Pièce « KBIS » jugée non conforme" in page.locator("#history-table").inner_text()

    page.get_by_role("link", name="Instruire la demande").click()
    page.wait_for_selector("form[data-form-key='instruction_decision']")
    page.locator("input[name=decision][value='demander_pieces']").check(force=True)
    expect(page.locator("input[name=requested_types]:checked")).to_have_count(1)
    assert page.locator("input[name=requested_types]:checked").get_attribute("value") == kbis.kind
    assert page.locator("textarea[name=message]").input_value() == "- KBIS « kbis.pdf » : Document expiré"
    watched.assert_clean()
