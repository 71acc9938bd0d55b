"""A complementary enrolment driven through the portal by a logged-in supplier:

    filer = Filer.new(app, "81245367800011")             # a wave-1 account (no wave-2 request yet)
    page = filer.file("MSv2VIL014")                      # menu → search → form → « Terminer »
    filer = Filer(holder.browser, siret)                 # the account opened by an initial enrolment
"""
from background import run_continuations
from browser import Browser, Page
from files import jpeg_bytes, pdf_bytes
from people import PASSWORD, log_in, make_user


class Filer:
    def __init__(self, browser: Browser, siret: str):
        self.browser, self.siret = browser, siret
        self.page: Page | None = None

    @classmethod
    def new(cls, app, siret: str, **person) -> "Filer":
        login, _ = make_user(app, "supplier", sirets=[siret], **person)
        browser = Browser(app.test_client())
        log_in(browser, login, PASSWORD)
        return cls(browser, siret)

    def menu(self) -> Page:
        return self.browser.get("/enrolement/complementaire")

    def start(self) -> Page:
        self.page = self.menu().form(f"start-{self.siret}").submit()
        assert self.form_key == "complementary_search", (self.page.status, self.page.alerts())
        return self.page

    @property
    def form_key(self) -> str | None:
        forms = self.page.doc.xpath("//form[@data-form-key]")
        return forms[0].get("data-form-key") if forms else None

    def search(self, ans_number: str) -> Page:
        self.page = self.page.form().fill(ans_number=ans_number).submit("Rechercher")
        return self.page

    def fill(self, vat_rate: str = "20", hosts: str = "oui"):
        """The complementary form, every field it shows filled."""
        form = self.page.form()
        fields = form.fields()
        if "doc_referencing_certificate" in fields:
            form.attach("doc_referencing_certificate", "certificat-ans.pdf", pdf_bytes("Certificat ANS"))
        if "hosts_health_data" in fields:
            form.fill(hosts_health_data=hosts)
            if hosts == "oui":
                form.attach("doc_hds_certificate", "certificat-hds.pdf", pdf_bytes("Certificat HDS"))
            else:
                form.attach("doc_hds_attestation", "attestation.jpg", jpeg_bytes())
        form.fill(vat_rate=vat_rate)
        if vat_rate == "non_assujetti":
            form.attach("doc_non_vat_proof", "hors-tva.pdf", pdf_bytes("Régime hors TVA"))
        for name, file_name in (("doc_signature_mandate", "mandat-signature.pdf"),
                                ("doc_editor_mandate", "mandat-editeur.pdf")):
            if name in fields:
                form.attach(name, file_name, pdf_bytes(file_name))
        return form

    def finish(self, **answers) -> Page:
        """« Terminer »; then the worker runs the asynchronous tasks it left (the recap PDF, the
        acknowledgement, the instruction), as the portal's worker does right after the commit."""
        self.page = self.fill(**answers).submit("Terminer")
        run_continuations(self.browser.client.application)
        return self.page

    def file(self, ans_number: str, **answers) -> Page:
        """Menu → « Rechercher » → the form → « Terminer »; returns the confirmation page."""
        self.start()
        self.search(ans_number)
        assert self.form_key == "complementary", (self.page.status, self.page.alerts())
        page = self.finish(**answers)
        assert page.h1 == "Confirmation", (page.status, page.alerts(), page.errors())
        return page

    @property
    def public_id(self) -> str:
        return self.page.url.split("/")[2]
