"""Parse, check, deploy and cache process specs.

A deployed version stores the serialized spec of one process together with the specs of every
process it calls, so that an instance always runs on the exact diagrams it started with. Parsed
specs are cached in memory per version id (versions never change once stored).
"""
import ast
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import DurationTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptTask
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.specs.ExclusiveChoice import ExclusiveChoice
from SpiffWorkflow.specs.MultiChoice import MultiChoice

from .. import clock
from ..extensions import db
from .registry import HANDLERS
from ..models import ProcessVersion
from .scripting import ScriptLimitExceeded, ScriptRejected, check_limits, compile_checked
from .setup import SERIALIZER

REGISTRY = SERIALIZER.registry

class DeployError(Exception):
    """The diagrams were refused; ``problems`` lists each reason in French."""

    def __init__(self, problems: list["Problem"]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Problem:
    file: str | None
    element: str | None
    message: str

    def __str__(self):
        where = " / ".join(x for x in (self.file, self.element) if x)
        return f"{where} : {self.message}" if where else self.message


@dataclass(frozen=True)
class Step:
    number: int
    title: str


@dataclass
class ProcessSpec:
    """A deployed process, ready to run: spec objects plus what our engine reads from them."""

    version_id: int | None
    process_id: str
    spec: object
    subprocess_specs: dict
    steps: tuple[Step, ...] = field(default=())


def all_task_specs(spec, subprocess_specs):
    for process in (spec, *subprocess_specs.values()):
        for task_spec in process.task_specs.values():
            yield process, task_spec


def properties(task_spec) -> dict:
    return task_spec.extensions.get("properties", {}) if hasattr(task_spec, "extensions") else {}


#: The property that makes a service or script task asynchronous (Camunda's ``asyncBefore``): the
#: engine stops in front of it, the instance is saved as due, and the worker runs it in its own
#: transaction. Values: ``true`` or ``false``.
ASYNC = "async"


def is_async(task_spec) -> bool:
    return properties(task_spec).get(ASYNC) == "true"


def _check_async(task_spec) -> str | None:
    """Why the ``async`` property of ``task_spec`` is refused, in French; None when it is fine."""
    value = properties(task_spec).get(ASYNC)
    if value is None:
        return None
    if value not in ("true", "false"):
        return f"propriété async « {value} » invalide : attendu true ou false."
    if value == "true" and not isinstance(task_spec, (ServiceTask, ScriptTask)):
        if isinstance(task_spec, UserTask):
            return ("une tâche utilisateur ne peut pas s'exécuter en arrière-plan : elle attend déjà une personne. "
                    "Seules les tâches de service et les tâches script s'exécutent par le worker.")
        return ("cet élément ne peut pas s'exécuter en arrière-plan : seules les tâches de service et les tâches "
                "script s'exécutent par le worker.")
    return None


def _steps(spec, subprocess_specs) -> tuple[Step, ...]:
    steps = {}
    for _, task_spec in all_task_specs(spec, subprocess_specs):
        props = properties(task_spec)
        if isinstance(task_spec, UserTask) and props.get("stepNumber", "").isdigit():
            steps.setdefault(int(props["stepNumber"]), props.get("stepTitle", ""))
    return tuple(Step(n, steps[n]) for n in sorted(steps))


# --- parsing and checks ---------------------------------------------------------------------

def parse(sources: dict[str, str]) -> dict[str, tuple]:
    """Parse BPMN files ({file name: XML}) into {process id: (spec, subprocess specs)}."""
    parser = SpiffBpmnParser(validator=VALIDATOR)
    problems = []
    for filename, xml in sources.items():
        try:
            parser.add_bpmn_str(xml.encode("utf-8"), filename)
        except etree.XMLSyntaxError as exc:
            problems.append(Problem(filename, None, f"XML invalide : {exc}"))
        except ValidationException as exc:
            problems.append(Problem(filename, getattr(exc, "id", None) or None, _in_french(exc)))
    if problems:
        raise DeployError(problems)
    processes = {}
    for process_id in parser.get_process_ids():
        try:
            processes[process_id] = (parser.get_spec(process_id), parser.get_subprocess_specs(process_id))
        except ValidationException as exc:
            problems.append(Problem(getattr(exc, "file_name", None) or None, getattr(exc, "id", None) or None,
                                    _in_french(exc)))
    if problems:
        raise DeployError(list(dict.fromkeys(problems)))  # a missing called process, once per caller
    return processes


#: SpiffWorkflow's parser messages that an analyst can trigger, in French (``{n}``: the name it gives).
_SPIFF_MESSAGES = tuple((re.compile(pattern), french) for pattern, french in (
    (r"Non-default exclusive outgoing sequence flow without condition",
     "ce flux sort d'une passerelle exclusive sans condition et n'est pas son flux par défaut : "
     "donnez-lui une condition ou faites-en le flux par défaut."),
    (r"Multiple outgoing flows are not supported for tasks of type",
     "plusieurs flux sortent de cet élément : placez une passerelle après lui pour choisir le chemin."),
    (r"When looking for a task spec, we found two items.*\((?P<n>[^)]*)\)",
     "le flux mène à « {n} », élément introuvable (ou dont l'identifiant est en double)."),
    (r"No start event found", "le processus n'a pas d'événement de début."),
    (r"Process (?P<n>\S+) is not executable", "le processus « {n} » n'est pas marqué exécutable."),
    (r"There is no support implemented for this task type", "ce type d'élément n'est pas pris en charge par le moteur."),
    (r"A loopMaximum or loopCondition must be specified",
     "une tâche en boucle doit avoir un nombre maximal d'itérations ou une condition de boucle."),
    (r"A multiinstance task must specify a cardinality or a loop input",
     "une tâche multi-instance doit avoir une cardinalité ou une collection d'entrée."),
    (r"A multiinstance task must specify exactly one of",
     "une tâche multi-instance doit avoir une cardinalité ou une collection d'entrée, pas les deux."),
    (r"Exactly one start event is required in a SubWorkflow Task; found (?P<n>\d+)",
     "un sous-processus doit avoir exactement un événement de début ({n} trouvés)."),
    (r"A SubWorkflow Must contain an End event", "un sous-processus doit avoir un événement de fin."),
    (r'No "calledElement" attribute for Call Activity',
     "l'activité appelée doit nommer le processus qu'elle appelle (calledElement)."),
    (r"Invalid Script Task.\s+No Script Provided", "la tâche script n'a pas de script."),
    (r"A Service Task must have an operator",
     "la tâche de service doit nommer le service qu'elle appelle (serviceTaskOperator)."),
    (r"The process '(?P<n>[^']+)' was not found", "le processus appelé « {n} » est introuvable."),
    (r"Duplicate process ID: (?P<n>\S+)", "deux processus portent l'identifiant « {n} »."),
    (r"Conditional event definition with missing condition", "l'événement conditionnel n'a pas de condition."),
    (r"Unknown Time Specification|Time Specification Error",
     "la minuterie n'a pas de durée, de date ou de cycle valide."),
    (r"Could not find messageRef from message event definition: (?P<n>\S+)",
     "le message « {n} » de cet événement est introuvable."),
    (r"Expected an? (?P<n>Message|Signal|Error|Escalation) node",
     "l'événement fait référence à un élément « {n} » introuvable."),
    (r"(?P<n>Message|Signal|Error|Escalation|Correlation|Data Store) identifier is missing",
     "un élément « {n} » n'a pas d'identifiant."),
    (r"Cannot resolve data(?:Input|Output)Association (?P<n>\S+)",
     "l'association de données « {n} » ne mène à aucun objet de données."),
    (r"Cancel Events may only be used with transactions",
     "un événement d'annulation n'est permis que dans une transaction."),
    (r"Duplicate key-sequence \[?'?(?P<n>[^'\]]+)", "l'identifiant « {n} » est utilisé deux fois."),
    (r"Element '(?P<el>[^']+)', attribute '(?P<n>[^']+)': The attribute '[^']+' is not allowed",
     "l'attribut « {n} » n'est pas permis sur « {el} »."),
    (r"Element '(?P<el>[^']+)', attribute '(?P<n>[^']+)': '(?P<v>[^']*)' is not a valid value",
     "la valeur « {v} » de l'attribut « {n} » de « {el} » est invalide."),
    (r"Element '(?P<el>[^']+)': The attribute '(?P<n>[^']+)' is required but missing",
     "l'attribut « {n} » manque sur « {el} »."),
    (r"Element '(?P<el>[^']+)': This element is not expected", "l'élément « {el} » n'est pas attendu à cet endroit."),
    (r"Element '(?P<el>[^']+)': Missing child element", "il manque un élément dans « {el} »."),
))


def _in_french(exc: ValidationException) -> str:
    """SpiffWorkflow's (and the BPMN schema's) refusal, in French."""
    message = str(exc.args[0]) if exc.args else ""
    schema = message.startswith("Element ") or "key-sequence" in message
    intro = "Schéma BPMN 2.0 non respecté : " if schema else "Diagramme invalide : "
    for pattern, french in _SPIFF_MESSAGES:
        found = pattern.search(message)
        if found:
            names = {k: re.sub(r"\{[^}]*\}", "", v or "") for k, v in found.groupdict().items()}
            return intro + french.format(**names)
    return intro + f"élément refusé par le moteur BPMN ({message})."


def _expressions(task_spec):
    """(what, source, mode) for every expression our engine will evaluate for this task spec."""
    if isinstance(task_spec, MultiChoice):
        for condition, target in task_spec.cond_task_specs:
            if condition is not None:
                yield f"condition vers {target}", condition.args[0], "eval"
    if isinstance(task_spec, ScriptTask) and task_spec.script:
        yield "script", task_spec.script, "exec"
    for attr in ("prescript", "postscript"):
        if getattr(task_spec, attr, None):
            yield attr, getattr(task_spec, attr), "exec"
    if isinstance(task_spec, ServiceTask):
        for name, param in task_spec.operation_params.items():
            yield f"paramètre {name}", param["value"], "eval"
    if isinstance(task_spec, CatchingEvent):
        definition = task_spec.event_definition
        if isinstance(definition, (TimerEventDefinition, ConditionalEventDefinition)):
            yield "expression", definition.expression, "eval"


def check(processes: dict[str, tuple]) -> list[Problem]:
    """Our own rules on top of SpiffWorkflow's parse: restricted expressions, forms, handlers (the
    lanes are the package's « roles » section's to check: app/package/roles.py)."""
    problems = []
    seen = set()
    for spec, subprocess_specs in processes.values():
        for process, task_spec in all_task_specs(spec, subprocess_specs):
            key = (process.name, task_spec.name)
            if key in seen or not hasattr(task_spec, "bpmn_id") or task_spec.bpmn_id is None:
                continue
            seen.add(key)

            def problem(message, _file=process.file, _el=task_spec.bpmn_id):
                problems.append(Problem(_file, _el, message))

            for what, source, mode in _expressions(task_spec):
                try:
                    compile_checked(source, mode)
                    check_limits(source, mode)
                except ScriptRejected as exc:
                    problem(f"{what} : {exc}")
                except ScriptLimitExceeded as exc:
                    problem(f"{what} : Expression refusée : {exc.detail}")
            form_key = properties(task_spec).get("formKey") if isinstance(task_spec, UserTask) else None
            if isinstance(task_spec, UserTask) and not form_key:  # which forms exist: app/package/forms.py
                problem("la tâche utilisateur doit nommer son formulaire (propriété formKey).")
            if isinstance(task_spec, ExclusiveChoice) and not _decides_always(task_spec):
                problem("la passerelle n'a ni flux par défaut ni conditions couvrant tous les cas : "
                        "une demande pourrait y rester bloquée. Ajoutez un flux par défaut.")
            duration = _literal_duration(task_spec)
            if duration is not None:
                try:
                    TimerEventDefinition.parse_iso_duration(duration)
                except Exception:
                    problem(f"durée « {duration} » invalide : attendu une durée ISO 8601, par exemple P15D.")
            if isinstance(task_spec, ServiceTask):
                problems.extend(_check_service(process.file, task_spec))
            refusal = _check_async(task_spec)
            if refusal:
                problem(refusal)
            if isinstance(task_spec, SubWorkflowTask) and task_spec.spec not in subprocess_specs \
                    and task_spec.spec != spec.name:
                problem(f"l'activité appelle le processus « {task_spec.spec} », introuvable.")
    return problems


def _decides_always(gateway) -> bool:
    """An exclusive gateway always finds a way out: a default flow, a single way out, or two
    conditions of which one is the negation of the other (``x`` / ``not x``)."""
    conditions = [c.args[0] for c, _ in gateway.cond_task_specs if c is not None]
    if gateway.default_task_spec is not None or len(gateway.outputs) <= 1:
        return True
    try:
        trees = [ast.dump(ast.parse(source.strip(), mode="eval").body) for source in conditions]
        negated = [ast.dump(ast.UnaryOp(ast.Not(), ast.parse(source.strip(), mode="eval").body))
                   for source in conditions]
    except SyntaxError:
        return True  # reported as an expression problem
    return len(trees) == 2 and (trees[0] == negated[1] or trees[1] == negated[0])


def _literal_duration(task_spec) -> str | None:
    """The duration of a timer written as a literal (an expression is checked when it runs)."""
    definition = getattr(task_spec, "event_definition", None)
    if not isinstance(definition, DurationTimerEventDefinition):
        return None
    try:
        value = ast.literal_eval(definition.expression.strip())
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, str) else None


def _check_service(file, task_spec) -> list[Problem]:
    handler = HANDLERS.get(task_spec.operation_name)
    if handler is None:
        return [Problem(file, task_spec.bpmn_id, f"service inconnu « {task_spec.operation_name} ».")]
    problems = []
    given = task_spec.operation_params
    for param in handler.params:
        if param.name not in given:
            if param.required:
                problems.append(Problem(file, task_spec.bpmn_id,
                                        f"paramètre obligatoire « {param.name} » absent ({handler.name})."))
            continue
        if param.choices:
            try:
                value = ast.literal_eval(given[param.name]["value"])
            except (ValueError, SyntaxError):
                continue  # an expression: checked when it runs
            if value not in param.choices:
                problems.append(Problem(file, task_spec.bpmn_id,
                                        f"valeur « {value} » inconnue pour « {param.name} »."))
    for name in given:
        if name not in {p.name for p in handler.params}:
            problems.append(Problem(file, task_spec.bpmn_id,
                                    f"paramètre « {name} » inconnu du service {handler.name}."))
    return problems


# --- deployment and cache ---------------------------------------------------------------------

_cache: dict[tuple[int, str], ProcessSpec] = {}


def _serialize(spec, subprocess_specs) -> str:
    return json.dumps({
        "spec": REGISTRY.convert(spec),
        "subprocess_specs": {name: REGISTRY.convert(s) for name, s in subprocess_specs.items()},
    }, sort_keys=True)


def read_folder(folder: str | Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(Path(folder).glob("*.bpmn"))}


def store(processes: dict[str, tuple], sources: dict[str, str], author: str, comment: str = "",
          package_id: int | None = None) -> list[ProcessVersion]:
    """Store a new version of every parsed and checked process whose diagrams changed (the package
    deployment calls this: app/package). Returns the versions created (none when nothing changed)."""
    one_deployment_at_a_time()
    created = []
    for process_id, (spec, subprocess_specs) in processes.items():
        files = sorted({p.file for p in (spec, *subprocess_specs.values())})
        used_sources = json.dumps({f: sources[f] for f in files if f in sources}, sort_keys=True)
        spec_json = _serialize(spec, subprocess_specs)
        sha = hashlib.sha256((spec_json + used_sources).encode()).hexdigest()
        current = current_version(process_id)
        if current is not None and current.sha256 == sha:
            continue
        last = db.session.scalar(db.select(db.func.max(ProcessVersion.version))
                                 .where(ProcessVersion.process_id == process_id)) or 0
        if current is not None:
            current.is_current = False
        version = ProcessVersion(
            process_id=process_id, version=last + 1, name=spec.description or process_id,
            sha256=sha, spec_json=spec_json, sources_json=used_sources, created_at=clock.now(),
            author=author, comment=comment, is_current=True, package_id=package_id)
        db.session.add(version)
        created.append(version)
    db.session.flush()
    return created


#: PostgreSQL advisory lock key held by a deploying transaction.
DEPLOY_LOCK = 0x5E6_0DE9


def one_deployment_at_a_time() -> None:
    """Deployments queue up: each numbers its versions max + 1 and makes them current, from what
    the deployments before it committed. PostgreSQL: a transaction-scoped advisory lock (released at
    commit or rollback; the reads after it see what the previous deployment committed). SQLite:
    every transaction already holds the database's write lock (BEGIN IMMEDIATE)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(db.text("SELECT pg_advisory_xact_lock(:key)"), {"key": DEPLOY_LOCK})


def current_version(process_id: str) -> ProcessVersion | None:
    return db.session.scalar(db.select(ProcessVersion).where(
        ProcessVersion.process_id == process_id, ProcessVersion.is_current.is_(True)))


def spec_key(version: ProcessVersion) -> tuple:
    """What identifies a parsed spec in this process's caches (ids are reused by a database made
    anew, e.g. in tests: the SHA-256 tells the versions apart)."""
    return version.id, version.sha256


def load_spec(version: ProcessVersion) -> ProcessSpec:
    key = spec_key(version)
    cached = _cache.get(key)
    if cached is None:
        stored = json.loads(version.spec_json)
        spec = REGISTRY.restore(stored["spec"])
        subprocess_specs = {name: REGISTRY.restore(s) for name, s in stored["subprocess_specs"].items()}
        cached = ProcessSpec(version.id, version.process_id, spec, subprocess_specs,
                             _steps(spec, subprocess_specs))
        _cache[key] = cached
    return cached
