"""Demo data for the embedded portal: an account for each role and requests in every status.

The requests are not inserted as rows: each one runs through the real diagrams (headless, the same
engine calls as the web pages), so that its history, documents, mails and workflow state are those
of a real request. Created once, when the database holds no request yet.
"""
from dataclasses import dataclass

from .engine import Run
from .extensions import db
from .models import EnrolmentRequest, User
from .roles import SUPPLIER
from .services import accounts, documents, enrolment, pdf

PASSWORD = "Demo-Segur-2026!"
SUPPLIER_LANE, AGENT_LANE = "Fournisseur", "Gestionnaire ASP"  # the lanes of the diagrams of bpmn/

#: login, role, email, first name, last name (the supplier holds the demo requests' SIRET).
ACCOUNTS = [
    ("fournisseur.demo", "supplier", "representant.legal@fournisseur-sante.fr", "Claire", "LEGAL"),
    ("agent.demo", "agent", "agent.demo@asp-public.fr", "Antoine", "GESTIONNAIRE"),
    ("admin.demo", "admin", "admin.demo@asp-public.fr", "Anne", "ADMINISTRATRICE"),
    ("analyste.demo", "analyst", "analyste.demo@asp-public.fr", "Paul", "ANALYSTE"),
]
SIRET = "34866299000038"
#: An account known from wave 1 (no wave-2 request yet), held by the SIRET's dépositaire: its first
#: complementary enrolment asks for the signature mandate.
WAVE_1 = ("fournisseur.vague1", "supplier", "depositaire@medisoft-solutions.fr", "Hugo", "DEPOSITAIRE")
WAVE_1_SIRET = "81245367800011"
#: A complementary enrolment of the demo supplier, waiting for instruction.
COMPLEMENTARY_ANS = "OFf2PHA003"


@dataclass
class Scenario:
    ans_number: str
    decisions: tuple[dict, ...] = ()   # agent decisions, in order
    certificates: bool = False         # the supplier deposits the certificates after a partial validation


SCENARIOS = [
    Scenario("JGe2DPI009"),                                                     # En cours
    Scenario("JGe2DPI015"),                                                     # En cours, anticipé
    Scenario("MSv2VIL014", ({"decision": "valider"},)),                         # Validée
    Scenario("HOp2DPI027", ({"decision": "demander_pieces", "requested_types": ["kbis", "rib"],
                             "message": "Merci de fournir un KBIS de moins de 3 mois et un RIB lisible."},)),
    Scenario("BIo2LBM007", ({"decision": "valider_partiellement"},)),           # Validation partielle
    Scenario("MEd2ESM011", ({"decision": "valider_partiellement"},), certificates=True),  # Certificat(s) à valider
    Scenario("RAd2RIS021", ({"decision": "rejeter",
                             "reason": "Le RIB fourni ne correspond pas au titulaire du compte."},)),
]


def needed() -> bool:
    return db.session.scalar(db.select(db.func.count()).select_from(EnrolmentRequest)) == 0


def create() -> list[tuple[str, str, str]]:
    """Accounts and requests; returns (login, role, password) of the demo accounts."""
    made, accesses = [], []
    for (login, role, email, first_name, last_name), siret in [*((a, SIRET) for a in ACCOUNTS), (WAVE_1, WAVE_1_SIRET)]:
        user = accounts.find_by_login(login) or accounts.create_user(
            role, email, first_name, last_name, login=login, password=PASSWORD)
        if role == SUPPLIER:
            accesses.append((user, siret, login == WAVE_1[0]))
        made.append((login, role, PASSWORD))
    agent = accounts.find_by_login("agent.demo")
    sample = pdf.render_pdf("pdf/model_attestation_non_hebergement.html")  # stands for every document
    # Initial enrolments are filed anonymously, while the SIRET has no portal account yet
    # (eligibility.initial); the agents' decisions come after.
    filed = [(scenario, _file(scenario, sample)) for scenario in SCENARIOS]
    for user, siret, depositary in accesses:
        accounts.grant_siret(user, siret, depositary=depositary)
    for scenario, driver in filed:
        _instruct(scenario, driver, agent)
    _complementary(accounts.find_by_login(ACCOUNTS[0][0]), sample)
    db.session.flush()  # the caller commits the demo as one unit
    return made


FILE = object()  # as a field's value: a document deposited for that field


class _Driver:
    """Completes a request's user tasks headless."""

    def __init__(self, request: EnrolmentRequest, sample: bytes):
        self.request, self.sample = request, sample
        self.run = Run.load(request.instance, request)

    def document(self, kind: str, field: str | None = None) -> int:
        checked = documents.check_upload(f"{kind.replace('_', '-')}.pdf", self.sample)
        return documents.store(self.request, kind, checked, field=field, uploaded_by="démonstration").id

    def complete(self, lane: str, **data):
        task = self.run.ready_task(lane)
        fields = {k: (self.document(k.removeprefix("doc_").removeprefix("final_"), k) if v is FILE else v)
                  for k, v in data.items()}
        self.run.complete(task.id, lane, fields)
        self.run.continue_all_async()  # what the worker would do next (the recap PDF): at once

    def save(self):
        self.run.save()
        db.session.flush()


def _complementary(user: User, sample: bytes) -> None:
    driver = _Driver(enrolment.start_complementary(user, SIRET, "démonstration"), sample)
    driver.complete(SUPPLIER_LANE, ans_number=COMPLEMENTARY_ANS)
    distributor = (driver.run.ready_task(SUPPLIER_LANE).data.get("company") or {}).get("distributor")
    driver.complete(SUPPLIER_LANE, doc_referencing_certificate=FILE, vat_liable="oui", vat_rate="20",
                    **({"doc_editor_mandate": FILE} if distributor else {}))
    driver.save()


def _file(scenario: Scenario, sample: bytes) -> _Driver:
    driver = _Driver(enrolment.start(actor="démonstration"), sample)
    run, complete = driver.run, driver.complete

    complete(SUPPLIER_LANE, ans_number=scenario.ans_number)
    form_key = run.ready_task(SUPPLIER_LANE).form_key
    if form_key == "referencing_dpi":
        complete(SUPPLIER_LANE, doc_referencing_certificate=FILE, hosts_health_data="oui",
                 doc_hds_certificate=FILE)
    elif form_key == "referencing_certificate":
        complete(SUPPLIER_LANE, doc_referencing_certificate=FILE)
    else:
        complete(SUPPLIER_LANE)
    complete(SUPPLIER_LANE, siret=SIRET)
    distributor = (run.ready_task(SUPPLIER_LANE).data.get("company") or {}).get("distributor")
    complete(SUPPLIER_LANE, company_name="BEAUJOLAIS INFORMATIQUE SANTE", trade_name="BIS SANTE",
             street_type="Ancien chemin", street_name="LIEU DIT CHANTEMERLE", postal_code="69220", city="LANCIE",
             is_legal_representative="oui", rep_last_name="LEGAL", rep_first_name="Claire",
             rep_email=ACCOUNTS[0][2], rep_phone="+33123456789", doc_representative_id=FILE,
             **({"doc_editor_mandate": FILE} if distributor else {}))
    complete(SUPPLIER_LANE, iban="FR7630004000010001234567830", bic="BNPAFRPP",
             account_holder="BEAUJOLAIS INFORMATIQUE SANTE", bank_domiciliation="BNP PARIBAS", doc_rib=FILE)
    complete(SUPPLIER_LANE, vat_liable="oui", vat_rate="20")
    complete(SUPPLIER_LANE, accept_cgu=True, accept_penal_code=True, accept_sincerity=True)
    driver.save()
    return driver


def _instruct(scenario: Scenario, driver: _Driver, agent: User) -> None:
    request, complete = driver.request, driver.complete
    if scenario.decisions:
        request.claimed_by_id, request.claimed_at = agent.id, request.submitted_at
    for decision in scenario.decisions:
        complete(AGENT_LANE, **{"reason": None, "requested_types": None, "message": None, **decision})
    if scenario.certificates:
        complete(SUPPLIER_LANE, doc_final_referencing_certificate=FILE)
    driver.save()
