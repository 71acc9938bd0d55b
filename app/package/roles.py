"""Section « roles »: who acts in the diagrams and who may do what.

Each role (item code = the code stored on accounts, e.g. ``agent``) has its French ``label``, the
``lanes`` whose user tasks its holders complete (the lane names analysts draw in the diagrams,
« Gestionnaire ASP », « Superviseur »…), whether it is the agency's ``staff`` and its
``capabilities``, taken from the fixed catalogue below. Read the other way round, the capabilities
are the one permissions table (capability → roles) that every view asks (``access.require_capability``)
and the access-matrix tests read. The « Système » lane holds the service tasks: no role works in it.

Role names outlive a request (accounts hold them, queues list by lane): read ``package.current()``.
"""
import re
from dataclasses import dataclass

from ..engine.runtime import NOT_SAME_ACTOR
from . import Problem, Section, properties, register, task_specs

#: The lane of the service tasks, done by the portal itself.
SYSTEM_LANE = "Système"

#: Every capability a role may be given (code → French label). Code decides what each one opens.
CAPABILITIES = {
    "supplier_space": "Espace fournisseur : ses demandes et son compte",
    "see_requests": "Consulter toutes les demandes déposées",
    "instruct": "Prendre en charge et instruire les demandes",
    "reassign": "Réattribuer et libérer les demandes des autres",
    "studio": "Modifier les processus (studio « Processus »)",
    "incidents": "Traiter les incidents",
    "mails": "Suivre les courriels en attente ou en échec",
    "accounts": "Gérer les comptes et leurs rôles",
    "integrations": "Gérer les intégrations : jetons d'API et webhooks",
    "steering": "Piloter la procédure : tableaux de bord",
}

#: What the check keeps whatever the table says: (capability, role that must keep it).
LOCKOUT_GUARDS = (("accounts", "admin"), ("studio", "admin"), ("studio", "analyst"))

_CODE = re.compile(r"^[a-z][a-z0-9_]{0,19}$")


@dataclass(frozen=True)
class Role:
    code: str
    label: str
    lanes: tuple[str, ...]
    staff: bool
    capabilities: frozenset[str]


class Roles:
    """The built section: roles by code, and the permissions table read from them."""

    def __init__(self, roles: dict[str, Role]):
        self.by_code = roles
        #: capability → the roles that have it (every catalogue capability, possibly empty).
        self.table = {cap: tuple(code for code, role in roles.items() if cap in role.capabilities)
                      for cap in CAPABILITIES}

    def __iter__(self):
        return iter(self.by_code.values())

    def __contains__(self, code) -> bool:
        return code in self.by_code

    def label(self, code: str) -> str:
        role = self.by_code.get(code)
        return role.label if role else code

    def allows(self, codes, capability: str) -> bool:
        """Whether one of the roles ``codes`` has ``capability``."""
        return any(code in self.table[capability] for code in codes)

    def lanes_of(self, codes) -> tuple[str, ...]:
        """The lanes whose tasks holders of ``codes`` complete, in the roles' order, each once."""
        lanes = [lane for code in codes if code in self.by_code for lane in self.by_code[code].lanes]
        return tuple(dict.fromkeys(lanes))

    def roles_in(self, lane: str) -> tuple[str, ...]:
        return tuple(code for code, role in self.by_code.items() if lane in role.lanes)

    @property
    def lanes(self) -> tuple[str, ...]:
        return self.lanes_of(self.by_code)

    @property
    def staff_lanes(self) -> tuple[str, ...]:
        """Lanes of the agency's staff: their tasks are claimed before being done."""
        return self.lanes_of(code for code, role in self.by_code.items() if role.staff)

    def is_staff(self, codes) -> bool:
        return any(self.by_code[c].staff for c in codes if c in self.by_code)


def _is_user_task(spec) -> bool:
    """A task a person completes (SpiffWorkflow's « manual » specs: user tasks)."""
    return bool(getattr(spec, "manual", False))


class RolesSection(Section):
    name = "roles"
    label = "Rôles et couloirs"
    editor = "studio_roles.index"
    # A package stored before roles were data has the roles the repository ships: nobody is
    # locked out until the next deployment.
    shipped_default = True

    def build(self, value, package) -> Roles:
        return Roles({code: Role(code, item.get("label", code), tuple(item.get("lanes", ())),
                                 bool(item.get("staff")), frozenset(item.get("capabilities", ())))
                      for code, item in value.items()})

    def check(self, package, processes) -> list:
        value = package.data[self.name]
        problems = []
        for code, item in value.items():
            if not _CODE.match(code):
                problems.append(self.problem(code, "code de rôle invalide : lettres minuscules sans accent, "
                                                   "chiffres et « _ », 20 caractères au plus."))
            if not str(item.get("label", "")).strip():
                problems.append(self.problem(code, "indiquez le libellé du rôle."))
            for lane in item.get("lanes", ()):
                if lane == SYSTEM_LANE:
                    problems.append(self.problem(code, f"le couloir « {SYSTEM_LANE} » est celui des tâches "
                                                       "automatiques : aucun rôle n'y travaille."))
                elif not str(lane).strip():
                    problems.append(self.problem(code, "un couloir sans nom."))
            unknown = sorted(set(item.get("capabilities", ())) - set(CAPABILITIES))
            if unknown:
                problems.append(self.problem(code, f"droit(s) inconnu(s) : {', '.join(unknown)}."))
        roles = package[self.name]
        for capability, code in LOCKOUT_GUARDS:
            if code not in roles.table[capability]:
                problems.append(self.problem(code, f"le rôle « {roles.label(code)} » doit garder le droit "
                                                   f"« {CAPABILITIES[capability]} » : le lui retirer fermerait "
                                                   "cette gestion à ceux qui en ont la charge."))
        problems += self._check_diagrams(roles, processes)
        from ..services.accounts import roles_in_use  # the accounts' roles outlive any package
        for code in sorted(set(roles_in_use()) - set(value)):
            problems.append(self.problem(code, "ce rôle est encore donné à des comptes : retirez-le "
                                               "d'abord de ces comptes (« Comptes »)."))
        return problems

    def _check_diagrams(self, roles: Roles, processes) -> list:
        problems = []
        user_tasks = {}
        for file, spec in task_specs(processes):
            if _is_user_task(spec):
                user_tasks.setdefault(file, set()).add(spec.bpmn_id)
        for file, spec in task_specs(processes):
            if not _is_user_task(spec):
                continue
            if spec.lane not in roles.lanes:
                problems.append(Problem(file, spec.bpmn_id, "la tâche utilisateur doit être dans un couloir connu : "
                                        f"« {spec.lane or 'aucun'} » n'est le couloir d'aucun rôle (couloirs des "
                                        f"rôles : {', '.join(roles.lanes)} ; « Rôles et couloirs » pour en ajouter un)."))
            other = properties(spec).get(NOT_SAME_ACTOR, "").strip()
            if other == spec.bpmn_id:
                problems.append(Problem(file, spec.bpmn_id, "une tâche ne peut pas exiger d'être faite par une "
                                                            "autre personne qu'elle-même."))
            elif other and other not in user_tasks.get(file, ()):
                problems.append(Problem(file, spec.bpmn_id, f"« à faire par une autre personne que la tâche "
                                                            f"{other} » : aucune tâche utilisateur « {other} » "
                                                            "dans ce fichier."))
        return problems


register(RolesSection())


def from_form(form, count: int) -> tuple[dict, dict[int, list[str]]]:
    """The section value posted by the studio's roles editor (rows ``role-<i>-…``, i < ``count``;
    a row without code is ignored, one marked ``remove`` is dropped), and the French errors per
    row (nothing is saved while there are some; the page shows what was typed)."""
    value, errors = {}, {}
    for i in range(count):
        code = form.get(f"role-{i}-code", "").strip()
        if not code or form.get(f"role-{i}-remove"):
            continue
        row = []
        if not _CODE.match(code):
            row.append(f"Code « {code} » invalide : lettres minuscules sans accent, chiffres et « _ », "
                       "20 caractères au plus, en commençant par une lettre.")
        elif code in value:
            row.append(f"Le code « {code} » est déjà celui d'un autre rôle.")
        label = " ".join(form.get(f"role-{i}-label", "").split())
        if not label:
            row.append("Indiquez le libellé du rôle.")
        lanes = [" ".join(lane.split()) for lane in form.get(f"role-{i}-lanes", "").split(",") if lane.strip()]
        value[code] = {"label": label, "lanes": list(dict.fromkeys(lanes)),
                       "staff": bool(form.get(f"role-{i}-staff")),
                       "capabilities": [c for c in CAPABILITIES if c in form.getlist(f"role-{i}-cap")]}
        if row:
            errors[i] = row
    return value, errors
