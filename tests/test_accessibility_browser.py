"""RGAA: in a real browser (Debian's Chromium through Playwright), axe-core (npm ``axe-core``, served
by the portal's assets route so that the Content-Security-Policy allows it) scans every page that a
supplier, an agent, an analyst and an admin reach, as they reach them, and any « serious » or « critical »
violation fails the test, listed with its page, rule and elements."""
import json
from pathlib import Path

from background import run_continuations
from browser import Browser
from files import jpeg_bytes, pdf_bytes
from instruction_steps import PENDING_DPI, Agent, file_request, link_in
from journey import REPRESENTATIVE, Supplier
from people import PASSWORD, log_in, make_user
from test_csp_browser import choose, next_step, solve_captcha, upload
from test_studio_browser import deployed, sign_in  # noqa: F401  (a fixture and a helper)

AXE = "/assets/axe-core/axe.min.js"
BLOCKING = ("serious", "critical")
MEDISOFT = "81245367800011"  # a wave-1 supplier, editor of MSv2VIL014 (validated): a complementary enrolment
DIAGRAM_DRAWN = "#request-diagram g.djs-element"

AXE_VERSION = json.loads((Path(__file__).parents[1] / "package.json").read_text())["dependencies"]["axe-core"]

RUN_AXE = """async (blocking) => {
  const results = await axe.run(document, {resultTypes: ["violations"]});
  return results.violations.filter((v) => blocking.includes(v.impact)).map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => n.target.join(" ") + "\\n        " + n.failureSummary.replace(/\\n/g, "\\n        ")),
  }));
}"""


class Axe:
    """Scans the page shown in ``page`` and keeps the blocking violations, reported all at once."""

    def __init__(self, page):
        self.page, self.scanned, self.found = page, [], []
        page.emulate_media(reduced_motion="reduce")  # DSFR then skips its transitions: no half-faded
        # pop-in whose contrast depends on when the scan runs

    def scan(self):
        """Scan the page once loaded (and its request diagram, if any, once drawn)."""
        page = self.page
        page.wait_for_load_state()
        if page.locator("#request-diagram").count():
            page.wait_for_selector(DIAGRAM_DRAWN)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(url=AXE)
        title = page.title()
        self.scanned.append(title)
        for violation in page.evaluate(RUN_AXE, list(BLOCKING)):
            nodes = "\n      ".join(violation["nodes"])
            self.found.append(f"{title} ({page.url})\n  {violation['impact']} {violation['id']}: "
                              f"{violation['help']}\n      {nodes}")

    def assert_clean(self):
        assert self.scanned
        assert not self.found, "axe-core, violations « serious » ou « critical » :\n" + "\n".join(self.found)


def sign_in_supplier(app, page, *sirets, email=None):
    """A supplier account with access to ``sirets`` logs in; its space's home is shown."""
    login, _ = make_user(app, "supplier", email=email, sirets=sirets)
    page.context.clear_cookies()
    page.goto("/connexion")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url("**/espace")
    return login


def start_enrolment(page, ans_number):
    """« Effectuer ma demande d'enrôlement », then the ANS number: the referencing step it leads to."""
    page.goto("/")
    page.get_by_role("button", name="Effectuer ma demande d'enrôlement").click()
    page.wait_for_selector("form[data-form-key='referencing_search']")
    page.fill("[name=ans_number]", ans_number)
    with page.expect_navigation():
        page.locator(".segur-step-nav__next").click()


def file_initial_enrolment(page, axe, supplier):
    """The anonymous filer, every step of the initial enrolment scanned (one with its errors)."""
    page.goto("/")
    axe.scan()
    page.get_by_role("button", name="Effectuer ma demande d'enrôlement").click()
    page.wait_for_selector("form[data-form-key='referencing_search']")
    axe.scan()
    with page.expect_navigation():
        page.locator(".segur-step-nav__next").click()  # nothing typed: the step and its error
    axe.scan()
    page.fill("[name=ans_number]", supplier.ans_number)
    next_step(page, "referencing_dpi")
    axe.scan()
    upload(page, "doc_referencing_certificate", "certificat.pdf", pdf_bytes("Certificat"), "application/pdf")
    choose(page, "hosts_health_data", "oui")
    upload(page, "doc_hds_certificate", "certificat-hds.pdf", pdf_bytes("Certificat HDS"), "application/pdf")
    next_step(page, "siret_search")
    axe.scan()
    page.fill("[name=siret]", supplier.siret)
    solve_captcha(page)
    next_step(page, "applicant")
    axe.scan()
    choose(page, "is_legal_representative", "non")  # the dépositaire's fields shown
    page.wait_for_selector("[name=dep_last_name]", state="visible")
    axe.scan()
    page.fill("[name=trade_name]", supplier.trade_name)
    choose(page, "is_legal_representative", "oui")
    for field, value in REPRESENTATIVE.items():
        page.fill(f"[name=rep_{field}]", value)
    page.fill("[name=rep_email_confirmation]", REPRESENTATIVE["email"])
    upload(page, "doc_representative_id", "cni.jpg", jpeg_bytes(), "image/jpeg")
    next_step(page, "bank_details")
    axe.scan()
    page.fill("[name=iban]", supplier.iban)
    page.fill("[name=bic]", supplier.bic)
    page.fill("[name=account_holder]", supplier.account_holder)
    upload(page, "doc_rib", "rib.pdf", pdf_bytes("RIB"), "application/pdf")
    next_step(page, "vat_regime")
    axe.scan()
    choose(page, "vat_liable", "oui")
    page.select_option("[name=vat_rate]", supplier.vat_rate)
    next_step(page, "confirmation")
    axe.scan()
    for name in ("accept_cgu", "accept_penal_code", "accept_sincerity"):
        page.locator(f"input[name={name}]").check(force=True)
    solve_captcha(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    assert page.locator("h1").inner_text() == "Confirmation"
    axe.scan()
    return page.url.split("/")[4]  # /demandes/<public_id>/confirmation


def test_every_page_a_supplier_reaches_passes_axe(deployed, chromium, mailbox):
    app, page = deployed, chromium
    app.config["CAPTCHA_ENABLED"] = True
    axe = Axe(page)
    for path in ("/accessibilite", "/aide/questions-frequentes", "/mentions-legales", "/cgu", "/connexion",
                 "/identifiant-oublie", "/mot-de-passe-oublie"):
        page.goto(path)
        axe.scan()
    start_enrolment(page, "MSv2VIL014")  # validated, not DPI
    page.wait_for_selector("form[data-form-key='referencing_certificate']")
    axe.scan()
    start_enrolment(page, PENDING_DPI)  # anticipated
    page.wait_for_selector("form[data-form-key='referencing_anticipated']")
    axe.scan()
    page.get_by_role("link", name="Quitter sans enregistrer").click()
    page.wait_for_selector("h1:has-text('Quitter sans enregistrer ?')")
    axe.scan()
    supplier = Supplier()
    public_id = file_initial_enrolment(page, axe, supplier)  # its confirmation while the PDF is prepared
    run_continuations(app)  # the worker makes the PDF: the confirmation with its link
    page.reload()
    page.wait_for_selector("#recap a.fr-link--download")
    axe.scan()
    Agent(app).decide(public_id, "demander_pieces", requested_types=["kbis"], message="Un KBIS récent.")
    mailbox.deliver()

    # The account holder's space (an account that also holds a wave-1 SIRET, for a complementary request).
    app.config["CAPTCHA_ENABLED"] = False
    login = sign_in_supplier(app, page, supplier.siret, MEDISOFT, email="titulaire@fournisseur-sante.fr")
    axe.scan()
    page.goto("/espace/demandes")
    axe.scan()
    with page.expect_navigation():
        page.locator(f"a[href='/espace/demandes/{public_id}']").first.click()
    axe.scan()
    page.locator("#request-action").click()
    page.wait_for_selector("form[data-form-key='supporting_documents']")
    axe.scan()
    page.select_option("[name=document_type]", "kbis")
    upload(page, "document_file", "kbis.pdf", pdf_bytes("KBIS"), "application/pdf")
    with page.expect_navigation():
        page.get_by_role("button", name="Importer", exact=True).click()
    axe.scan()  # the deposit step with its file
    page.goto("/espace/compte")
    axe.scan()

    page.goto("/enrolement/complementaire")
    axe.scan()
    with page.expect_navigation():
        page.locator(f"#start-{MEDISOFT} button").click()
    page.wait_for_selector("form[data-form-key='complementary_search']")
    axe.scan()
    page.fill("[name=ans_number]", "MSv2VIL014")
    with page.expect_navigation():
        page.get_by_role("button", name="Rechercher").click()
    page.wait_for_selector("form[data-form-key='complementary']")
    axe.scan()
    upload(page, "doc_referencing_certificate", "certificat-ans.pdf", pdf_bytes("Certificat ANS"), "application/pdf")
    page.select_option("[name=vat_rate]", "20")
    with page.expect_navigation():
        page.get_by_role("button", name="Terminer").click()
    assert page.locator("h1").inner_text() == "Confirmation"
    axe.scan()

    # A forgotten password: the form, then the page of the link the mail gives.
    page.context.clear_cookies()
    page.goto("/mot-de-passe-oublie")
    page.fill("[name=login]", login)
    with page.expect_navigation():
        page.get_by_role("button", name="Valider").click()
    axe.scan()
    mails = "\n".join(mailbox.text(mail) for mail in mailbox.to("titulaire@fournisseur-sante.fr"))
    page.goto(link_in(mails, "/mot-de-passe/"))
    page.wait_for_selector("[name=password]")
    axe.scan()
    axe.assert_clean()


def test_every_page_an_agent_reaches_passes_axe(deployed, chromium, mailbox):
    app, page = deployed, chromium
    anticipated, supplier = file_request(app, Supplier(ans_number=PENDING_DPI))
    waiting, _ = file_request(app)
    Agent(app).decide(waiting, "demander_pieces", requested_types=["kbis"], message="Un KBIS récent.")
    mailbox.deliver()
    axe = Axe(page)
    sign_in(app, page, "agent")
    page.goto("/gestion/demandes")
    axe.scan()
    page.goto(f"/gestion/demandes/{anticipated}")
    axe.scan()
    with page.expect_navigation():
        page.get_by_role("button", name="Prendre en charge").click()
    axe.scan()
    page.get_by_role("link", name="Instruire la demande").click()
    page.wait_for_selector("form[data-form-key='instruction_decision']")
    axe.scan()
    choose(page, "decision", "valider_partiellement")
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer la décision").click()
    axe.scan()
    page.goto("/gestion/demandes?status=toutes")
    axe.scan()
    page.goto(f"/gestion/demandes/{waiting}")  # waiting for the supplier's documents
    axe.scan()

    # The finalisation: the supplier deposits the certificates, the agent reviews them.
    holder = Browser(app.test_client())
    log_in(holder, *make_user(app, "supplier", sirets=[supplier.siret]))
    form = holder.get(f"/demandes/{anticipated}/etape").form()
    form.attach("doc_final_referencing_certificate", "certificat-ans.pdf", pdf_bytes("Certificat ANS"))
    form.fill(final_hosts_health_data="oui").attach("doc_final_hds_certificate", "hds.pdf", pdf_bytes("HDS"))
    assert form.submit("Confirmer").status == 200
    page.goto(f"/gestion/demandes/{anticipated}")
    axe.scan()
    page.get_by_role("link", name="Instruire la demande").click()
    page.wait_for_selector("form[data-form-key='instruction_decision']")
    axe.scan()
    axe.assert_clean()


def test_the_supplier_finalisation_step_passes_axe(deployed, chromium, mailbox):
    app, page = deployed, chromium
    anticipated, supplier = file_request(app, Supplier(ans_number=PENDING_DPI))
    Agent(app).decide(anticipated, "valider_partiellement")
    axe = Axe(page)
    sign_in_supplier(app, page, supplier.siret)
    page.goto(f"/espace/demandes/{anticipated}")
    axe.scan()
    page.locator("#request-action").click()
    page.wait_for_selector("form[data-form-key='certificates_deposit']")
    axe.scan()
    page.get_by_role("button", name="Terminer mon dépôt").click()
    page.wait_for_selector("dialog.fr-modal--opened")
    axe.scan()  # the confirmation pop-in
    with page.expect_navigation():
        page.get_by_role("button", name="Confirmer").click()  # nothing deposited: the errors
    axe.scan()
    axe.assert_clean()


def test_every_page_an_analyst_reaches_passes_axe(deployed, chromium):
    app, page = deployed, chromium
    axe = Axe(page)
    sign_in(app, page, "analyst")
    page.goto("/processus")
    axe.scan()
    page.locator("#process-supporting_documents").get_by_role("link", name="Modifier le diagramme").click()
    page.wait_for_selector("#studio[data-ready='true']")
    axe.scan()
    page.click("g.djs-element[data-element-id='deposit']")  # the properties panel of a task
    axe.scan()
    page.goto("/gestion/incidents")
    axe.scan()
    page.goto("/processus/roles")
    axe.scan()
    page.goto("/processus/motifs")
    page.fill("#reasons", "illisible Document illisible")  # a line without « | »: the errors shown
    with page.expect_navigation():
        page.get_by_role("button", name="Enregistrer le brouillon").click()
    assert "il manque « | »" in page.inner_text("#reasons-group")
    axe.scan()
    axe.assert_clean()


def test_the_portal_serves_axe_core_s_engine_and_nothing_else_of_its_package(client):
    engine = client.get(AXE)
    assert engine.status_code == 200 and engine.mimetype == "text/javascript"
    assert AXE_VERSION in engine.get_data(as_text=True)[:200]  # « axe v4.14.1 » in its licence header
    for other in ("/assets/axe-core/package.json", "/assets/axe-core/axe.js", "/assets/axe-core/locales/fr.json"):
        assert client.get(other).status_code == 404, other


def test_the_accessibility_declaration_states_the_automatic_checks(client):
    home = Browser(client).get("/")
    assert home.texts("//footer//a[@href='/accessibilite']") == ["Accessibilité : non conforme"]  # no audit yet
    page = home.follow("Accessibilité : non conforme")
    assert page.h1 == "Déclaration d'accessibilité"
    checks = " ".join(page.texts("//main//p | //main//li"))
    assert "est non conforme avec le référentiel général d'amélioration de l'accessibilité (RGAA)" in checks
    assert f"Vérifications automatiques du 1er décembre 2026 : le moteur d'analyse axe-core (version {AXE_VERSION})" \
        in checks
    for reached in ("chaque étape de la demande d'enrôlement initiale", "la demande complémentaire et ses étapes",
                    "la page d'une demande avec son diagramme", "l'étape de décision", "l'atelier"):
        assert reached in checks, reached
    assert "aucune erreur d'impact « grave » ou « critique » (au sens d'axe-core) ne subsiste" in checks


def test_every_page_an_admin_reaches_passes_axe(deployed, chromium):
    from app.extensions import db
    from app.services import webhooks
    app, page = deployed, chromium
    with app.app_context():  # a webhook, so that its page lists the deliveries of the request below
        endpoint = webhooks.create("https://exemple.fr/webhooks", "Suivi", list(webhooks.EVENTS), None)
        db.session.commit()
        endpoint_id = endpoint.id
    public_id, _ = file_request(app)
    axe = Axe(page)
    sign_in(app, page, "admin")
    for path in ("/gestion/demandes", f"/gestion/demandes/{public_id}", "/gestion/courriels", "/gestion/incidents",
                 "/gestion/comptes", "/gestion/webhooks", "/gestion/webhooks/nouveau",
                 f"/gestion/webhooks/{endpoint_id}", f"/gestion/webhooks/{endpoint_id}/modifier"):
        page.goto(path)
        axe.scan()
    axe.assert_clean()
