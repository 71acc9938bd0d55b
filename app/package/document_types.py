"""Document types, as process data: code, label, accepted formats, maximum size, help text and
whether suppliers deposit it (« Demander des pièces » offers those). The one place that defines
them: forms, handlers, mails and pages read them here.

A type's name outlives one request (a document keeps its type; the agents' lists span versions), so
readers use the current package (``current``). A user task may ask for types with its
``documentTypes`` property: an expression on task data giving a list of codes (``['kbis']``, or
``['kbis'] + (['attestation_dsr'] if referencing['dsr'] == 'X' else [])``), evaluated when its form
is built (``forms/asked_documents.py``). The codes written in it are checked here at « Vérifier » and
at deployment, so that a type a diagram asks for, a portal form asks for or a stored document has
cannot be deleted.
"""
import ast
import re
from dataclasses import dataclass
from functools import cached_property

from .. import package
from ..engine.scripting import ScriptLimitExceeded, ScriptRejected, check_limits, compile_checked
from ..extensions import db
from ..engine.specs import all_task_specs, load_spec
from ..models import Document, ProcessVersion, WorkflowInstance
from ..services import documents

#: The user-task property that asks for documents.
PROPERTY = "documentTypes"
#: The type of the recap PDF the portal generates (``enrolment.recap_pdf``).
RECAP_PDF = "recap_pdf"
CODE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
LABEL_MAX = 200


def size_ceiling_mb() -> float:
    """The largest maximum size a type may set (what the upload checks accept at all), in Mo."""
    return documents.SIZE_CEILING / (1024 * 1024)


@dataclass(frozen=True)
class DocumentType:
    code: str
    label: str
    formats: tuple[str, ...]
    max_size_mb: float
    help: str = ""
    requestable: bool = True

    @property
    def max_size(self) -> int:
        return int(self.max_size_mb * 1024 * 1024)

    @cached_property  # a type is built once per package version, its form fields at every build
    def hint(self) -> str:
        """The help text and the limits, under the file input."""
        return " ".join(x for x in (self.help.strip(), documents.hint(self)) if x)

    @cached_property
    def accept(self) -> str:
        return documents.accept(self)

    @property
    def limits(self) -> str:
        """« formats : pdf, png ; 4 Mo au plus » (next to its name where a page lists types)."""
        return f"formats : {', '.join(self.formats)} ; {documents.size_fr(self.max_size)} au plus"


def item(code: str, value: dict) -> DocumentType:
    return DocumentType(code=code, label=value["label"], formats=tuple(value["formats"]),
                        max_size_mb=value["max_size_mb"], help=value.get("help", ""),
                        requestable=value.get("requestable", True))


# --- readers ----------------------------------------------------------------------------------

def current() -> dict[str, DocumentType]:
    return package.current()[DocumentTypes.name]


def get(code: str) -> DocumentType | None:
    return current().get(code)


def label(code: str) -> str:
    found = get(code)
    return found.label if found else code


def requestable() -> list[DocumentType]:
    """The types a supplier deposits (an agent may ask for them), in display order."""
    return [t for t in current().values() if t.requestable]


# --- what uses a type ---------------------------------------------------------------------------

def codes_in(expression: str) -> list[str]:
    """The codes an expression of ``documentTypes`` names: the strings written as items of a list,
    tuple or set (``'X'`` in ``referencing['dsr'] == 'X'`` is not one)."""
    try:
        tree = ast.parse((expression or "").strip(), mode="eval")
    except SyntaxError:
        return []
    return list(dict.fromkeys(
        element.value for node in ast.walk(tree) if isinstance(node, (ast.List, ast.Tuple, ast.Set))
        for element in node.elts if isinstance(element, ast.Constant) and isinstance(element.value, str)))


def asking_tasks(processes: dict[str, tuple]):
    """(file, element id, expression) of every user task with a ``documentTypes`` property."""
    for file, task_spec in package.task_specs(processes):
        expression = package.properties(task_spec).get(PROPERTY, "").strip()
        if expression:
            yield file, task_spec.bpmn_id, expression


def portal_kinds() -> set[str]:
    """The types the portal's own form classes and handlers name."""
    import forms  # the forms name types; the package is read by them (imported late)
    from forms.base import DocumentField
    kinds = {RECAP_PDF}
    for cls in forms.REGISTRY.values():
        for name in dir(cls):
            value = getattr(cls, name, None)
            if isinstance(getattr(value, "field_class", None), type) and issubclass(value.field_class, DocumentField):
                kinds.add(value.kwargs["kind"])
    return kinds


def stored_kinds() -> dict[str, int]:
    """{type: number of stored documents}."""
    return dict(db.session.execute(db.select(Document.kind, db.func.count()).group_by(Document.kind)).all())


def asked_by_running_versions() -> dict[str, list[str]]:
    """{type: where an earlier diagram version that running requests still follow asks for it}: a
    request runs on its version, so deleting such a type would leave its deposit step unbuildable."""
    running = db.select(WorkflowInstance.process_version_id).where(WorkflowInstance.completed.is_(False))
    versions = db.session.scalars(db.select(ProcessVersion).where(
        ProcessVersion.is_current.is_(False), ProcessVersion.id.in_(running))
        .order_by(ProcessVersion.process_id, ProcessVersion.version))
    found: dict[str, list[str]] = {}
    for version in versions:
        spec = load_spec(version)
        for _, task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
            for code in codes_in(package.properties(task_spec).get(PROPERTY, "")):
                found.setdefault(code, []).append(
                    f"la version {version.version} de « {version.name} », que suivent des demandes en cours, "
                    f"le demande (tâche {task_spec.bpmn_id})")
    return found


def usages(code: str, processes: dict[str, tuple]) -> list[str]:
    """Why ``code`` cannot be deleted (French), empty when nothing uses it."""
    found = []
    if code in portal_kinds():
        found.append("un formulaire du portail le demande")
    found += [f"le diagramme {file} le demande (tâche {element})"
              for file, element, expression in asking_tasks(processes) if code in codes_in(expression)]
    found += asked_by_running_versions().get(code, [])
    count = stored_kinds().get(code, 0)
    if count:
        found.append(f"{count} document{'s' if count > 1 else ''} déposé{'s' if count > 1 else ''} "
                     f"{'sont' if count > 1 else 'est'} de ce type")
    return found


# --- the studio's edits (a draft of the section) ------------------------------------------------

class Refused(ValueError):
    """A change the studio refuses; ``str(exc)`` is the French reason."""


def draft_types() -> dict:
    """{code: JSON value} as the studio edits them (the section's draft, else the current package's)."""
    return dict(package.draft_value(DocumentTypes.name))


def save(code: str, value: dict, author: str, *, new: bool) -> None:
    """Add (``new``) or change one type in the draft; ``value`` was checked (``item_problems``)."""
    types = draft_types()
    if new and code in types:
        raise Refused(f"Le code « {code} » est déjà celui d'un type de document.")
    if not new and code not in types:
        raise Refused(f"Le type de document « {code} » n'existe pas (ou plus) dans le brouillon.")
    types[code] = value
    package.save_section_draft(DocumentTypes.name, types, author)


def delete(code: str, author: str) -> str:
    """Remove one type from the draft, unless something uses it; returns its label."""
    types = draft_types()
    if code not in types:
        raise Refused(f"Le type de document « {code} » n'existe pas (ou plus) dans le brouillon.")
    name = types[code].get("label") or code
    used = usages(code, _studio_processes())
    if used:
        raise Refused(f"Le type « {name} » ne peut pas être supprimé : {' ; '.join(used)}.")
    del types[code]
    package.save_section_draft(DocumentTypes.name, types, author)
    return name


def _studio_processes() -> dict[str, tuple]:
    """The deployed diagrams with their drafts (the deployed ones alone when a draft does not parse)."""
    try:
        return package.parse({**package.deployed_sources(), **package.bpmn_drafts()})
    except package.DeployError:
        return package.parse(package.deployed_sources())


# --- the section --------------------------------------------------------------------------------

def item_problems(code: str, value) -> dict[str, str]:
    """What is wrong with one type: {field: French message}, empty when it is valid."""
    if not CODE.match(code or ""):
        return {"code": "Le code doit commencer par une lettre minuscule et ne contenir que des lettres "
                        "minuscules sans accent, des chiffres et « _ » (50 caractères au plus)."}
    if not isinstance(value, dict):
        return {"label": "La définition du type est illisible."}
    problems = {}
    text = value.get("label")
    if not isinstance(text, str) or not text.strip():
        problems["label"] = "Le libellé est obligatoire."
    elif len(text) > LABEL_MAX:
        problems["label"] = f"Le libellé ne doit pas dépasser {LABEL_MAX} caractères."
    formats = value.get("formats")
    unknown = [f for f in formats if f not in documents.FORMATS] if isinstance(formats, list) else []
    if not isinstance(formats, list) or not formats:
        problems["formats"] = "Choisissez au moins un format accepté."
    elif unknown:
        problems["formats"] = (f"Le format « {unknown[0]} » n'est pas contrôlé par le portail : formats possibles : "
                               f"{', '.join(documents.FORMATS)}.")
    size = value.get("max_size_mb")
    if isinstance(size, bool) or not isinstance(size, (int, float)) or not 0 < size <= size_ceiling_mb():
        problems["max_size_mb"] = (f"La taille maximale doit être un nombre de Mo supérieur à 0 et d'au plus "
                                   f"{size_ceiling_mb():g} Mo.")
    if not isinstance(value.get("help", ""), str):
        problems["help"] = "Le texte d'aide est illisible."
    if not isinstance(value.get("requestable", True), bool):
        problems["requestable"] = "Indiquez si les fournisseurs déposent ce type."
    return problems


class DocumentTypes(package.Section):
    name = "document_types"
    label = "Types de documents"
    editor = "studio_documents.index"

    def build(self, value, pkg):
        return {code: item(code, found) for code, found in value.items()}

    def check(self, pkg, processes):
        value = pkg.data[self.name]
        problems = [self.problem(code, message[0].lower() + message[1:]) for code, found in value.items()
                    for message in item_problems(code, found).values()]
        deployed = set(current())
        for code in portal_kinds() - set(value):
            problems.append(self.problem(code, "un formulaire du portail demande ce type : il ne peut pas être supprimé."))
        for code, count in stored_kinds().items():
            if code not in value:
                problems.append(self.problem(code, f"{count} document(s) déposé(s) sont de ce type : il ne peut pas "
                                                   "être supprimé."))
        for code, where in asked_by_running_versions().items():
            if code not in value:
                problems += [self.problem(code, f"{usage} : il ne peut pas être supprimé.") for usage in where]
        for file, element, expression in asking_tasks(processes):
            problems += [package.Problem(file, element, f"propriété {PROPERTY} : {message}")
                         for message in self._expression_problems(expression, value, deployed)]
        return problems

    @staticmethod
    def _expression_problems(expression: str, value: dict, deployed: set) -> list[str]:
        try:
            compile_checked(expression)
            check_limits(expression)
        except ScriptRejected as exc:
            return [str(exc).rstrip(".") + "."]
        except ScriptLimitExceeded as exc:
            return [f"Expression refusée : {exc.detail.rstrip('.')}."]
        literal = package.literal(expression)
        if literal is not None and not (isinstance(literal, list) and all(isinstance(c, str) for c in literal)):
            return ["une liste de codes de types de documents est attendue, par exemple ['kbis']."]
        problems = []
        for code in codes_in(expression):
            if code not in value:
                problems.append(f"le type de document « {code} » est demandé ici : il ne peut pas être supprimé."
                                if code in deployed else f"type de document inconnu « {code} ».")
            elif not value[code].get("requestable", True):
                problems.append(f"le type « {code} » n'est pas déposé par les fournisseurs.")
        return problems


package.register(DocumentTypes())
