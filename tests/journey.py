"""An initial enrolment driven through the portal like a supplier would, step by step."""
from dataclasses import dataclass, field

from background import run_continuations
from browser import Browser, Page
from files import jpeg_bytes, pdf_bytes, png_bytes

REPRESENTATIVE = {"last_name": "LEGAL", "first_name": "Représentant",
                  "email": "representant.legal@fournisseur-sante.fr", "phone": "01 23 45 67 89"}
DEPOSITARY = {"last_name": "DEPOT", "first_name": "Dépositaire",
              "email": "depositaire@cabinet-comptable.fr", "phone": "+33 6 12 34 56 78"}


@dataclass
class Supplier:
    """What a supplier answers at each step (defaults: the guide's example, all validated)."""

    ans_number: str = "JGe2DPI009"           # validated SONS DPI
    hosts_health_data: str = "oui"
    siret: str = "34866299000038"            # the editor of JGe2DPI009
    company_name: str | None = None          # a new dénomination sociale (→ KBIS)
    trade_name: str = "BIS SANTE"
    legal_representative: str = "oui"
    quality: str = "prestataire"
    iban: str = "FR76 3000 4000 0100 0123 4567 830"
    bic: str = "BNPAFRPP"
    account_holder: str = "BEAUJOLAIS INFORMATIQUE SANTE"
    vat_liable: str = "oui"
    vat_rate: str = "20"
    representative: dict = field(default_factory=lambda: dict(REPRESENTATIVE))
    depositary: dict = field(default_factory=lambda: dict(DEPOSITARY))

    @property
    def holder_email(self) -> str:
        person = self.depositary if self.legal_representative == "non" else self.representative
        return person["email"]


class Journey:
    def __init__(self, client, supplier: Supplier | None = None):
        self.browser = Browser(client)
        self.supplier = supplier or Supplier()
        self.page: Page | None = None
        self.uploaded: dict[str, str] = {}   # field → file name

    # --- navigation ---

    def start(self) -> Page:
        self.page = self.browser.get("/").form().submit("Effectuer ma demande d'enrôlement")
        assert self.page.status == 200, self.page.text
        return self.page

    @property
    def form_key(self) -> str | None:
        forms = self.page.doc.xpath("//form[@data-form-key]")
        return forms[0].get("data-form-key") if forms else None

    def fill(self):
        """The main form of the current step, filled with the supplier's answers."""
        return getattr(self, f"_fill_{self.form_key}")(self.page.form())

    def next(self, button: str | None = None) -> Page:
        form = self.fill()
        self.page = form.submit(button or self._submit_label())
        return self.page

    def _submit_label(self) -> str:
        return next(label for label, name, value in self.page.form().buttons()
                    if name == "_action" and value == "next")

    def back(self) -> Page:
        self.page = self.page.form().submit("Etape précédente")
        return self.page

    def until(self, form_key: str) -> Page:
        """Complete the steps until the one that shows ``form_key``."""
        for _ in range(15):
            if self.form_key == form_key:
                return self.page
            self.next()
            assert self.page.status == 200, f"{self.form_key}: {self.page.errors()} {self.page.alerts()}"
        raise AssertionError(f"never reached {form_key}")

    def complete(self, worker: bool = True) -> Page:
        """All the steps, « Terminer » included; returns the confirmation page as « Terminer » answers
        it. Then, unless ``worker`` is false, the worker runs the asynchronous tasks « Terminer » left
        (the recap PDF, then the acknowledgement and the instruction), as the portal's worker does
        right after the commit."""
        if self.page is None:
            self.start()
        self.until("confirmation")
        self.next("Terminer")
        assert self.page.h1 == "Confirmation", (self.page.status, self.page.errors(), self.page.alerts())
        if worker:
            run_continuations(self.browser.client.application)
        return self.page

    # --- one method per form key ---

    def _attach(self, form, name, filename, content):
        self.uploaded[name] = filename
        return form.attach(name, filename, content)

    def _fill_referencing_search(self, form):
        return form.fill(ans_number=self.supplier.ans_number)

    def _fill_referencing_anticipated(self, form):
        return form

    def _fill_referencing_certificate(self, form):
        return self._attach(form, "doc_referencing_certificate", "certificat-referencement.pdf",
                            pdf_bytes("Certificat de référencement ANS"))

    def _fill_referencing_dpi(self, form):
        self._fill_referencing_certificate(form)
        form.fill(hosts_health_data=self.supplier.hosts_health_data)
        if self.supplier.hosts_health_data == "oui":
            return self._attach(form, "doc_hds_certificate", "certificat-hds.pdf", pdf_bytes("Certificat HDS"))
        return self._attach(form, "doc_hds_attestation", "attestation-non-hebergement.png", png_bytes())

    def _fill_siret_search(self, form):
        return form.fill(siret=self.supplier.siret)

    def _fill_applicant(self, form):
        s = self.supplier
        form.fill(trade_name=s.trade_name, is_legal_representative=s.legal_representative)
        if s.company_name:
            form.fill(company_name=s.company_name)
            self._attach(form, "doc_kbis", "kbis.pdf", pdf_bytes("Extrait KBIS"))
        if "doc_editor_mandate" in form.fields():
            self._attach(form, "doc_editor_mandate", "mandat-editeur.pdf", pdf_bytes("Mandat de l'éditeur"))
        self._person(form, "rep", s.representative)
        self._attach(form, "doc_representative_id", "cni-representant.jpg", jpeg_bytes())
        if s.legal_representative == "non":
            self._person(form, "dep", s.depositary)
            self._attach(form, "doc_depositary_id", "cni-depositaire.jpg", jpeg_bytes())
            form.fill(depositary_quality=s.quality)
            if s.quality == "prestataire":
                self._attach(form, "doc_service_contract", "contrat-prestation.pdf", pdf_bytes("Contrat"))
            else:
                self._attach(form, "doc_signature_mandate", "mandat-delegation.pdf", pdf_bytes("Mandat"))
        return form

    @staticmethod
    def _person(form, prefix, person):
        form.fill(**{f"{prefix}_last_name": person["last_name"], f"{prefix}_first_name": person["first_name"],
                     f"{prefix}_email": person["email"], f"{prefix}_email_confirmation": person["email"],
                     f"{prefix}_phone": person["phone"]})

    def _fill_bank_details(self, form):
        s = self.supplier
        form.fill(iban=s.iban, bic=s.bic, account_holder=s.account_holder)
        return self._attach(form, "doc_rib", "rib.pdf", pdf_bytes("Relevé d'identité bancaire"))

    def _fill_vat_regime(self, form):
        form.fill(vat_liable=self.supplier.vat_liable)
        if self.supplier.vat_liable == "oui":
            return form.fill(vat_rate=self.supplier.vat_rate)
        return self._attach(form, "doc_non_vat_proof", "preuve-hors-tva.pdf", pdf_bytes("Régime hors TVA"))

    def _fill_confirmation(self, form):
        return form.fill(accept_cgu=True, accept_penal_code=True, accept_sincerity=True)
