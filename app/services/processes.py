"""The analysts' process studio: the deployed diagrams, drafts, checks, comparison, deployment.

The deployed set is the union of the BPMN files of the current versions (every version stores
the files it was parsed from). A draft replaces one file of that set; checking or deploying a
draft parses the whole set with it, so that a called process and its callers always deploy
together. Running requests keep the version they started on (app/engine/specs.py).
"""
import json
from dataclasses import dataclass, field

from lxml import etree

from .. import clock, package
from ..engine import Run
from ..engine.waiting import waiting_elements
from ..engine.specs import Problem
from ..package import deploy, deployed_sources
from ..extensions import db
from ..models import ProcessDraft, ProcessVersion, WorkflowInstance

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
NS = {"bpmn": BPMN}

#: French names of the BPMN elements an analyst meets (comparison, check messages).
KINDS = {
    "userTask": "Tâche utilisateur", "serviceTask": "Tâche de service", "scriptTask": "Tâche script",
    "callActivity": "Activité appelée", "exclusiveGateway": "Passerelle exclusive",
    "parallelGateway": "Passerelle parallèle", "inclusiveGateway": "Passerelle inclusive",
    "startEvent": "Événement de début", "endEvent": "Événement de fin",
    "intermediateCatchEvent": "Événement intermédiaire", "boundaryEvent": "Événement attaché",
    "sequenceFlow": "Flux", "lane": "Couloir", "task": "Tâche",
}


class StudioError(Exception):
    """What the analyst asked cannot be done; the message says why, in French."""


# --- the deployed set ---------------------------------------------------------------------------

def current_versions() -> list[ProcessVersion]:
    return list(db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                   .order_by(ProcessVersion.process_id)))


def process_ids(xml: str) -> list[str]:
    """The executable processes a BPMN file defines."""
    return _tree(xml).xpath("//bpmn:process/@id", namespaces=NS)


def _tree(xml: str):
    try:
        return etree.fromstring(xml.encode("utf-8"))
    except etree.XMLSyntaxError as exc:
        raise StudioError(f"Le fichier n'est pas un XML valide : {exc}") from None


@dataclass
class VersionRow:
    version: ProcessVersion
    running: int


@dataclass
class ProcessRow:
    process_id: str
    name: str
    file_name: str | None
    versions: list[VersionRow] = field(default_factory=list)

    @property
    def current(self) -> ProcessVersion | None:
        return next((row.version for row in self.versions if row.version.is_current), None)


def overview() -> list[ProcessRow]:
    """Every process, its versions (newest first) with how many requests still run on each."""
    running = dict(db.session.execute(
        db.select(WorkflowInstance.process_version_id, db.func.count())
        .where(WorkflowInstance.completed.is_(False)).group_by(WorkflowInstance.process_version_id)).all())
    files = {pid: name for name, xml in deployed_sources().items() for pid in process_ids(xml)}
    rows: dict[str, ProcessRow] = {}
    for version in db.session.scalars(db.select(ProcessVersion).order_by(ProcessVersion.process_id,
                                                                         ProcessVersion.version.desc())):
        row = rows.setdefault(version.process_id, ProcessRow(version.process_id, version.name,
                                                             files.get(version.process_id)))
        row.versions.append(VersionRow(version, running.get(version.id, 0)))
    return list(rows.values())


# --- drafts -----------------------------------------------------------------------------------

def draft(file_name: str) -> ProcessDraft | None:
    return db.session.scalar(db.select(ProcessDraft).where(ProcessDraft.file_name == file_name))


def _deployed_file(file_name: str) -> str:
    sources = deployed_sources()
    if file_name not in sources:
        raise StudioError(f"Aucun diagramme déployé ne s'appelle « {file_name} ».")
    return sources[file_name]


def source(file_name: str) -> tuple[str, ProcessDraft | None]:
    """The XML to edit: the draft if there is one, else the deployed file."""
    deployed = _deployed_file(file_name)
    found = draft(file_name)
    return (found.xml if found else deployed), found


def save_draft(file_name: str, xml: str, author: str) -> ProcessDraft:
    _deployed_file(file_name)
    if not process_ids(xml):
        raise StudioError("Le fichier ne définit aucun processus BPMN.")
    found = draft(file_name) or ProcessDraft(file_name=file_name)
    found.xml, found.author, found.updated_at = xml, author, clock.now()
    db.session.add(found)
    db.session.flush()
    return found


def discard_draft(file_name: str) -> None:
    found = draft(file_name)
    if found is not None:
        db.session.delete(found)


def _with_draft(file_name: str) -> dict[str, str]:
    found = draft(file_name)
    if found is None:
        raise StudioError("Aucun brouillon n'est enregistré pour ce diagramme.")
    return {**deployed_sources(), file_name: found.xml}


# --- check, compare, deploy -------------------------------------------------------------------

def check_sources(sources: dict[str, str]) -> list[Problem]:
    """Everything that would refuse these files at deployment with the current package data (empty
    list: deployable): the diagrams' rules and each section's (e.g. the statuses they name)."""
    return package.check(sources, package.current().data)


def check_draft(file_name: str) -> list[Problem]:
    return check_sources(_with_draft(file_name))


@dataclass(frozen=True)
class Change:
    element_id: str
    kind: str       # French name of the element type
    name: str
    what: str       # « ajouté », « supprimé », « modifié »


def _elements(xml: str) -> dict[str, tuple[str, str, bytes]]:
    """{id: (kind, name, canonical form)} of the process elements (the layout is left out)."""
    found = {}
    for process in _tree(xml).iterfind("bpmn:process", NS):
        for element in process.iter():
            ident = element.get("id")
            if ident is None or not isinstance(element.tag, str) or element is process:
                continue
            local = etree.QName(element).localname
            if local in ("laneSet", "conditionExpression", "timerEventDefinition", "timeDuration"):
                continue
            copy = etree.fromstring(etree.tostring(element))
            for node in copy.iter():
                node.tail = None
                if node.text is not None and not node.text.strip():
                    node.text = None
            found[ident] = (KINDS.get(local, local), element.get("name") or "", etree.tostring(copy, method="c14n"))
    return found


def compare_xml(before: str, after: str) -> list[Change]:
    old, new = _elements(before), _elements(after)
    changes = [Change(i, *new[i][:2], "ajouté") for i in new if i not in old]
    changes += [Change(i, *old[i][:2], "supprimé") for i in old if i not in new]
    changes += [Change(i, *new[i][:2], "modifié") for i in new if i in old and old[i][2] != new[i][2]]
    return sorted(changes, key=lambda c: (c.what, c.element_id))


def compare_draft(file_name: str) -> list[Change]:
    found = draft(file_name)
    if found is None:
        raise StudioError("Aucun brouillon n'est enregistré pour ce diagramme.")
    return compare_xml(_deployed_file(file_name), found.xml)


def deploy_draft(file_name: str, author: str, comment: str) -> list[ProcessVersion]:
    """Deploy the draft with the rest of the deployed set; the draft is then gone."""
    created = deploy(_with_draft(file_name), author=author, comment=comment)
    discard_draft(file_name)
    return created


def deploy_files(sources: dict[str, str], author: str, comment: str) -> list[ProcessVersion]:
    """Deploy files kept elsewhere (e.g. in git) over the deployed set."""
    return deploy({**deployed_sources(), **sources}, author=author, comment=comment)


def rollback(process_id: str, number: int, author: str, comment: str = "") -> list[ProcessVersion]:
    """« Revenir à la version N »: deploy again the diagrams of ``process_id``'s version N, its
    called processes included, exactly as they ran then (the other files stay as deployed). New
    requests start on the result; running ones keep theirs."""
    old = db.session.scalar(db.select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                            ProcessVersion.version == number))
    if old is None:
        raise StudioError(f"Le processus « {process_id} » n'a pas de version {number}.")
    restored = json.loads(old.sources_json)
    note = f"Retour à la version {number}" + (f" : {comment}" if comment else "")
    created = deploy_files(restored, author, note)
    if not created:
        raise StudioError(f"La version {number} est déjà celle en service : rien à déployer.")
    return created


def impact(file_name: str, changes: list[Change]) -> dict:
    """How many running requests wait in an element that the draft removes or changes (``changes``:
    compare_draft's); they keep their version: this tells the analyst what the old one still carries."""
    touched = {c.element_id: c for c in changes if c.what != "ajouté"}
    defined = set(process_ids(_deployed_file(file_name)))
    counts: dict[str, int] = {}
    requests = 0
    for instance in db.session.scalars(db.select(WorkflowInstance).where(WorkflowInstance.completed.is_(False))):
        waiting = {element for process, element in waiting_elements(Run.load(instance)) if process in defined}
        hit = waiting & set(touched)
        requests += bool(hit)
        for element in hit:
            counts[element] = counts.get(element, 0) + 1
    return {"requests": requests,
            "elements": [{"element_id": e, "name": touched[e].name, "what": touched[e].what, "requests": n}
                         for e, n in sorted(counts.items())]}
