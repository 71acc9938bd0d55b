"""The statuses of an enrolment request, as process data (``bpmn/package/statuses.json``): the one
place that says what each status means. A request stores the status's code
(``EnrolmentRequest.status``); the diagrams set it (``enrolment.set_status``); every page, filter,
list, eligibility rule and handler asks this module what it means: its label for suppliers and for
agents, its DSFR badge colour, who must act, what it offers the supplier to do, whether it is final,
whether it records a validation, and its outcome for the enrolment rules.

Statuses outlive one request (lists and filters span package versions): they are read from the
current package (``package.current()``), and the section's check refuses to drop a status that a
deployed diagram or a stored request still uses.
"""
import re
from dataclasses import dataclass
from typing import Callable, Iterator

from . import (Section, current as current_package, draft_value, literal, register, save_section_draft,
               section_draft, service_calls)
from ..engine.specs import Problem, load_spec
from ..extensions import db
from ..models import request as request_model

#: The status of every request before « Terminer » (the model's default, not set by a diagram): the
#: one status every package must have.
DRAFT = request_model.DRAFT

CODE_FORMAT = re.compile(r"^[a-z][a-z0-9_]*$")

#: The DSFR badge variants (``fr-badge--<variant>``): a status's colour is one of them.
BADGES = {"info": "Bleu (information)", "success": "Vert (succès)", "warning": "Orange (avertissement)",
          "error": "Rouge (erreur)", "new": "Jaune (nouveauté)"}

#: Who must act while a request has the status. ``agency``: the agents' queue « À instruire ».
ACTORS = {"agency": "L'Agence (un gestionnaire de l'ASP)", "supplier": "Le fournisseur", "none": "Personne"}

#: What a status says of the enrolment, for the enrolment rules (app/services/eligibility.py):
#: « partial » is an anticipated request validated partially, not finalised yet; « rejected » frees
#: its ANS number; « validated » allows funding advances.
OUTCOMES = {"none": "Aucune (la demande n'est pas tranchée)", "partial": "Validée partiellement, à finaliser",
            "validated": "Validée", "rejected": "Rejetée"}


@dataclass(frozen=True)
class Action:
    """Something a status offers the supplier to do: a link of their list and detail page."""

    label: str
    endpoint: str  # taking the request's ``public_id``
    icon: str = "fr-icon-upload-line"


#: The supplier actions a status may offer (a fixed catalogue: each is a page of the portal).
ACTIONS = {
    "deposit_documents": Action("Déposer des pièces jointes", "tasks.step"),
    "add_certificate": Action("Ajouter le certificat de référencement", "tasks.step"),
}

#: The action of a status that waits for the supplier's documents: the personal deposit link of a
#: holder without an account opens the deposit while the request's status offers it.
DEPOSIT = "deposit_documents"

#: The labels the diagrams named before statuses had codes (the seven of the guide), for the diagram
#: versions deployed then, which still run: ``code_of`` maps them to their codes.
LEGACY_LABELS = {
    "Brouillon": "draft", "En cours": "in_progress",
    "Validation partielle - En attente de certificat(s)": "partially_validated",
    "En attente de pièce(s) jointe(s) complémentaire(s)": "awaiting_documents",
    "Certificat(s) à valider": "certificates_to_validate", "Rejetée": "rejected", "Validée": "validated",
}


@dataclass(frozen=True)
class Status:
    code: str
    supplier_label: str
    agent_label: str
    badge: str = "info"
    acts: str = "none"
    actions: tuple[str, ...] = ()
    final: bool = False
    validation: bool = False  # reaching it records a validation (sets validated_at the first time)
    outcome: str = "none"
    description: str = ""  # what it means for the supplier (the FAQ « Que signifient les statuts »)

    def label(self, staff: bool = False) -> str:
        return self.agent_label if staff else self.supplier_label

    @property
    def rejected(self) -> bool:
        return self.outcome == "rejected"

    @property
    def validated(self) -> bool:
        return self.outcome == "validated"

    @property
    def not_finalised(self) -> bool:
        return self.outcome == "partial"

    def offers(self, action: str) -> bool:
        return action in self.actions

    @property
    def supplier_actions(self) -> list[Action]:
        return [ACTIONS[code] for code in self.actions if code in ACTIONS]

    def as_item(self) -> dict:
        """The status as the package data holds it (without its code, the item's key)."""
        return {"supplier_label": self.supplier_label, "agent_label": self.agent_label, "badge": self.badge,
                "acts": self.acts, "actions": list(self.actions), "final": self.final,
                "validation": self.validation, "outcome": self.outcome, "description": self.description}

    @classmethod
    def from_item(cls, code: str, item: dict) -> "Status":
        return cls(code, item.get("supplier_label") or code, item.get("agent_label") or code,
                   item.get("badge") or "info", item.get("acts") or "none", tuple(item.get("actions") or ()),
                   bool(item.get("final")), bool(item.get("validation")), item.get("outcome") or "none",
                   str(item.get("description") or ""))


class Statuses:
    """Every status of a package version, in display order."""

    def __init__(self, items: dict[str, Status]):
        self._items = items

    def __getitem__(self, code: str) -> Status:
        """The status ``code``; a value no status has (none should remain) is shown as it is."""
        return self._items.get(code) or Status(code, code, code)

    def __contains__(self, code) -> bool:
        return code in self._items

    def __iter__(self) -> Iterator[Status]:
        return iter(self._items.values())

    @property
    def submitted(self) -> list[Status]:
        """The statuses a submitted request may have (drafts are never listed)."""
        return [status for status in self if status.code != DRAFT]

    @property
    def to_instruct(self) -> list[Status]:
        """The statuses where the agency must act: the agents' queue « À instruire »."""
        return [status for status in self.submitted if status.acts == "agency"]

    def codes(self, test: Callable[[Status], bool] = lambda status: True) -> tuple[str, ...]:
        return tuple(status.code for status in self if test(status))

    def code_of(self, value) -> str | None:
        """The code a diagram's value names: a code; else (diagram versions deployed before statuses
        had codes) a status's supplier label, or one of the seven labels of then; None otherwise."""
        if value in self._items:
            return value
        for status in self:
            if status.supplier_label == value:
                return status.code
        legacy = LEGACY_LABELS.get(value)
        return legacy if legacy in self._items else None


def current() -> Statuses:
    return current_package()["statuses"]


def of(code: str) -> Status:
    """What the status ``code`` means now (templates: ``status(enrolment.status)``)."""
    return current()[code]


def options() -> list[tuple[str, str]]:
    """(code, label) of every status a diagram may set, for the studio's properties panel."""
    return [(status.code, f"{status.supplier_label} ({status.code})") for status in current()]


# --- what uses a status ----------------------------------------------------------------------------

def named_by(processes: dict[str, tuple]) -> Iterator[tuple[str, str, object]]:
    """(file, element id, value) of every status literal that ``enrolment.set_status`` calls name in
    ``processes`` (an expression on task data names none: it is checked when it runs)."""
    for file, element, params in service_calls(processes, "enrolment.set_status"):
        value = literal(params.get("status"))
        if value is not None:
            yield file, element, value


def running_processes(current_too: bool = False) -> dict[str, tuple]:
    """The parsed diagrams of the process versions that requests still run on (and, with
    ``current_too``, of the deployed set), by « process vN »."""
    from ..models import ProcessVersion, WorkflowInstance
    running = ProcessVersion.id.in_(db.select(WorkflowInstance.process_version_id)
                                    .where(WorkflowInstance.completed.is_(False)))
    versions = db.session.scalars(db.select(ProcessVersion).where(
        db.or_(running, ProcessVersion.is_current.is_(True)) if current_too else running))
    return {f"{v.process_id} v{v.version}": (spec.spec, spec.subprocess_specs)
            for v in versions for spec in [load_spec(v)]}


def requests_by_status() -> dict[str, int]:
    """{code: how many requests have it} over every stored request."""
    from ..models import EnrolmentRequest
    return dict(db.session.execute(db.select(EnrolmentRequest.status, db.func.count())
                                   .group_by(EnrolmentRequest.status)).all())


def uses(code: str, statuses: Statuses | None = None) -> list[str]:
    """Why the status ``code`` cannot be deleted, in French (empty: it may be)."""
    statuses = statuses or current()
    reasons = []
    if code == DRAFT:
        reasons.append("c'est le statut de toute demande avant son dépôt")
    count = requests_by_status().get(code, 0)
    if count:
        reasons.append(f"{count} demande(s) ont ce statut")
    elements = sorted({element for _, element, value in named_by(running_processes(current_too=True))
                       if statuses.code_of(value) == code})
    if elements:
        reasons.append("un diagramme déployé le donne (élément(s) " + ", ".join(elements) + ")")
    return reasons


# --- the studio's editor (app/web/studio_statuses.py): a draft of the section -----------------------

class Refused(Exception):
    """A change of the statuses the editor refuses (the message is French)."""


def edited() -> dict:
    """The statuses as the analysts are editing them: the draft, else the deployed ones."""
    return draft_value("statuses")


def has_draft() -> bool:
    return section_draft("statuses") is not None


def put(code: str, item: dict, author: str) -> None:
    """Add the status ``code`` (at the end) or change it, in the draft."""
    save_section_draft("statuses", {**edited(), code: item}, author)


def remove(code: str, author: str) -> None:
    """Delete the status ``code`` from the draft, unless something uses it (``Refused``)."""
    reasons = uses(code)
    if reasons:
        label = edited().get(code, {}).get("supplier_label") or code
        raise Refused(f"Le statut « {label} » ({code}) ne peut pas être supprimé : " + " ; ".join(reasons) + ".")
    save_section_draft("statuses", {key: item for key, item in edited().items() if key != code}, author)


def changes() -> tuple[dict[str, str], list[Status]]:
    """What the draft changes: ({code: « ajouté » or « modifié »}, the deployed statuses it deletes)."""
    deployed, draft = current_package().data["statuses"], edited()
    changed = {code: "ajouté" if code not in deployed else "modifié"
               for code, item in draft.items() if deployed.get(code) != item}
    return changed, [current()[code] for code in deployed if code not in draft]


# --- the section ---------------------------------------------------------------------------------

def item_problems(code: str, item: dict) -> list[str]:
    """What is wrong with one status as the package data holds it, in French."""
    problems = []
    if not CODE_FORMAT.match(code):
        problems.append("le code ne doit contenir que des lettres minuscules sans accent, des chiffres et "
                        "des tirets bas (_), et commencer par une lettre.")
    for key, what in (("supplier_label", "le libellé pour les fournisseurs"), ("agent_label", "le libellé pour les agents")):
        if not str(item.get(key) or "").strip():
            problems.append(f"{what} est obligatoire.")
    choices = (("badge", BADGES, "couleur de badge"), ("acts", ACTORS, "acteur attendu"), ("outcome", OUTCOMES, "issue"))
    for key, allowed, what in choices:
        if item.get(key) not in allowed:
            problems.append(f"{what} « {item.get(key)} » inconnue : choisissez parmi {', '.join(repr(k) for k in allowed)}.")
    for action in item.get("actions") or ():
        if action not in ACTIONS:
            problems.append(f"action du fournisseur « {action} » inconnue : choisissez parmi {', '.join(ACTIONS)}.")
    if item.get("validation") and item.get("outcome") not in ("partial", "validated"):
        problems.append("un statut qui enregistre une validation doit avoir pour issue « Validée » ou "
                        "« Validée partiellement, à finaliser ».")
    return problems


class StatusesSection(Section):
    name = "statuses"
    label = "Statuts"
    editor = "studio_statuses.index"

    def build(self, value, package) -> Statuses:
        return Statuses({code: Status.from_item(code, item) for code, item in value.items()})

    def check(self, package, processes) -> list[Problem]:
        value = package.data[self.name]
        statuses = package[self.name]
        problems = [self.problem(code, message) for code, item in value.items() for message in item_problems(code, item)]
        if DRAFT not in value:
            problems.append(self.problem(DRAFT, "le statut « draft » (Brouillon) est celui de toute demande avant son "
                                                "dépôt : il ne peut pas être supprimé."))
        for file, element, value_named in named_by(processes):
            if value_named not in statuses:
                problems.append(Problem(file, element, f"statut « {value_named} » inconnu : le paramètre status doit "
                                                       f"être le code d'un statut ({', '.join(statuses.codes())})."))
        for name, (spec, subprocesses) in running_processes().items():
            for _, element, value_named in named_by({name: (spec, subprocesses)}):
                if statuses.code_of(value_named) is None:
                    problems.append(self.problem(str(value_named), f"des demandes en cours sur {name} passeront par ce "
                                                 f"statut (élément {element}) : il ne peut pas être supprimé."))
        for code, count in requests_by_status().items():
            if code not in statuses:
                problems.append(self.problem(code, f"{count} demande(s) ont ce statut : il ne peut pas être supprimé."))
        return problems


register(StatusesSection())
