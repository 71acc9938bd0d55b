"""In a real browser (Debian's Chromium through Playwright), the pages with the most JavaScript work
under the portal's Content-Security-Policy: the initial enrolment with the ALTCHA captcha solved in
the browser, an agent's review page with its bpmn-js diagram, and the analyst's studio. Any CSP
violation (Chromium's « … violates the following Content Security Policy directive … » console
errors, or a ``securitypolicyviolation`` event) or uncaught script error fails the test."""
import pytest

from files import jpeg_bytes, pdf_bytes
from instruction_steps import file_request
from journey import REPRESENTATIVE, Supplier
from test_studio_browser import deployed, sign_in  # noqa: F401  (a fixture and a helper)

REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("securitypolicyviolation: " + event.violatedDirective + " blocked " + event.blockedURI
                + " (" + event.sourceFile + ":" + event.lineNumber + ")");
});
"""


class Watched:
    """A Chromium page that records CSP violations and uncaught errors, on every page it loads."""

    def __init__(self, page):
        self.page, self.problems = page, []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"{page.url}: uncaught {error}"))

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or "securitypolicyviolation" in text:
            self.problems.append(f"{self.page.url}: {text}")

    def assert_clean(self):
        self.page.evaluate("0")  # a round trip: the console events sent before it have arrived
        problems, self.problems = self.problems, []  # each reported once
        assert not problems, "\n".join(problems)


@pytest.fixture
def watched(chromium):
    watched = Watched(chromium)
    yield watched
    watched.assert_clean()  # also when the test stopped early (e.g. a worker refused, a timeout)


def upload(page, name, file_name, content, mime):
    page.set_input_files(f"input[type=file][name={name}]",
                         files=[{"name": file_name, "mimeType": mime, "buffer": content}])


def choose(page, name, value):
    page.locator(f"input[name={name}][value='{value}']").check(force=True)  # DSFR hides the input


def next_step(page, form_key):
    with page.expect_navigation():
        page.locator(".segur-step-nav__next").click()
    page.wait_for_selector(f"form[data-form-key='{form_key}']")


def solve_captcha(page):
    """Tick « Je ne suis pas un robot »: the widget fetches a challenge and solves it in a worker."""
    page.locator("altcha-widget input[type=checkbox]").click(force=True)  # under its drawn tick
    page.wait_for_selector("altcha-widget [data-state=verified]")


def test_the_enrolment_with_its_captcha_works_under_the_content_security_policy(deployed, watched):
    app, page = deployed, watched.page
    app.config["CAPTCHA_ENABLED"] = True
    supplier = Supplier()
    page.goto("/")
    page.get_by_role("button", name="Effectuer ma demande d'enrôlement").click()
    page.wait_for_selector("form[data-form-key='referencing_search']")
    page.fill("[name=ans_number]", supplier.ans_number)
    next_step(page, "referencing_dpi")
    upload(page, "doc_referencing_certificate", "certificat.pdf", pdf_bytes("Certificat"), "application/pdf")
    choose(page, "hosts_health_data", "oui")
    upload(page, "doc_hds_certificate", "certificat-hds.pdf", pdf_bytes("Certificat HDS"), "application/pdf")
    next_step(page, "siret_search")
    page.fill("[name=siret]", supplier.siret)
    solve_captcha(page)
    next_step(page, "applicant")
    page.fill("[name=trade_name]", supplier.trade_name)
    choose(page, "is_legal_representative", "oui")
    for field, value in REPRESENTATIVE.items():
        page.fill(f"[name=rep_{field}]", value)
    page.fill("[name=rep_email_confirmation]", REPRESENTATIVE["email"])
    upload(page, "doc_representative_id", "cni.jpg", jpeg_bytes(), "image/jpeg")
    next_step(page, "bank_details")
    page.fill("[name=iban]", supplier.iban)
    page.fill("[name=bic]", supplier.bic)
    page.fill("[name=account_holder]", supplier.account_holder)
    upload(page, "doc_rib", "rib.pdf", pdf_bytes("RIB"), "application/pdf")
    next_step(page, "vat_regime")
    choose(page, "vat_liable", "oui")
    page.select_option("[name=vat_rate]", supplier.vat_rate)
    next_step(page, "confirmation")
    for name in ("accept_cgu", "accept_penal_code", "accept_sincerity"):
        page.locator(f"input[name={name}]").check(force=True)
    solve_captcha(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    assert page.locator("h1").inner_text() == "Confirmation"
    watched.assert_clean()


def test_the_review_diagram_works_under_the_content_security_policy(deployed, watched):
    app, page = deployed, watched.page
    public_id, _ = file_request(app)
    sign_in(app, page, "agent")
    page.goto(f"/gestion/demandes/{public_id}")
    page.wait_for_selector("#request-diagram g.djs-element.diagram-current[data-element-id='review']")
    watched.assert_clean()


def test_the_studio_works_under_the_content_security_policy(deployed, watched):
    app, page = deployed, watched.page
    sign_in(app, page, "analyst")
    page.goto("/processus")
    page.locator("#process-supporting_documents").get_by_role("link", name="Modifier le diagramme").click()
    page.wait_for_selector("#studio[data-ready='true']")
    page.click("g.djs-element[data-element-id='deposit']")
    assert page.locator("#studio-panel [data-property='name']").input_value() == "Déposer des pièces jointes"
    page.click("#studio-check")
    page.wait_for_selector("#studio-alert:has-text('Diagramme valide')")
    watched.assert_clean()
