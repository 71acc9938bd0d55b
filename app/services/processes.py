"""The analysts' process studio: the deployed diagrams, drafts, checks, comparison, deployment.

The deployed set is the union of the BPMN files of the current versions (every version stores
the files it was parsed from). A draft replaces one file of that set. The package is one version:
checking or deploying parses the whole set with every draft (diagrams and data, app/package), so
that a called process and its callers, and a diagram and the data it names, always deploy together.
Running requests keep the version they started on (app/engine/specs.py).
"""
import json
from collections import Counter
from dataclasses import dataclass, field

from lxml import etree

from .. import clock, package
from ..engine import Run
from ..engine.waiting import waiting_elements
from ..engine.specs import Problem
from ..package import SECTIONS, deploy, deployed_sources
from ..extensions import db
from ..models import PackageDraft, ProcessDraft, ProcessPackage, ProcessVersion, WorkflowInstance

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
        raise StudioError(f"Le fichier n'est pas un XML valide (erreur ligne {exc.lineno}).") from None


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


def _running() -> list[WorkflowInstance]:
    return list(db.session.scalars(db.select(WorkflowInstance).where(WorkflowInstance.completed.is_(False))))


def _sources(version: ProcessVersion) -> dict[str, str]:
    return json.loads(version.sources_json)


def running_counts() -> Counter:
    """{process version id: running requests on it}. A request counts for the version it started on
    and, while it waits inside a called process, for the version of that process its own version
    embeds (the one whose files are those the caller was deployed with)."""
    counts: Counter = Counter()
    versions = {}
    for instance in _running():
        top = instance.process_version
        counts[top.id] += 1
        inside = {process for process, _ in waiting_elements(Run.load(instance))} - {top.process_id}
        for process_id in inside:
            found = _embedded(top, process_id, versions)
            if found is not None:
                counts[found] += 1
    return counts


def _embedded(caller: ProcessVersion, process_id: str, versions: dict) -> int | None:
    """The id of the version of ``process_id`` that ``caller`` runs: the newest, deployed with or
    before the caller, whose files are all among the caller's own (a rollback may deploy the same
    files again later)."""
    if process_id not in versions:
        versions[process_id] = list(db.session.scalars(
            db.select(ProcessVersion).where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())))
    files = _sources(caller)
    same = [v for v in versions[process_id] if all(files.get(name) == xml for name, xml in _sources(v).items())]
    return next((v.id for v in same if v.created_at <= caller.created_at), same[0].id if same else None)


def running_versions(version: ProcessVersion) -> list[int]:
    """The ids of the versions whose requests run ``version``: itself, and those of the processes
    that call its process and embed this version of it."""
    versions: dict = {}
    callers = db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.process_id != version.process_id))
    return [version.id, *(caller.id for caller in callers
                          if _embedded(caller, version.process_id, versions) == version.id)]


def overview() -> list[ProcessRow]:
    """Every process, its versions (newest first) with how many requests still run on each."""
    running = running_counts()
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


def _valid(xml: str) -> str:
    if not process_ids(xml):
        raise StudioError("Le fichier ne définit aucun processus BPMN.")
    return xml


def save_draft(file_name: str, xml: str, author: str) -> ProcessDraft:
    _deployed_file(file_name)
    _valid(xml)
    found = draft(file_name) or ProcessDraft(file_name=file_name)
    found.xml, found.author, found.updated_at = xml, author, clock.now()
    db.session.add(found)
    db.session.flush()
    return found


def discard_draft(file_name: str) -> None:
    found = draft(file_name)
    if found is not None:
        db.session.delete(found)


def editing(file_name: str, xml: str | None = None) -> str:
    """What the editor holds: the XML posted with an action (kept in memory, not saved), else the
    draft, else the deployed file."""
    return _valid(xml) if xml else source(file_name)[0]


@dataclass
class PendingDraft:
    """One draft waiting to be deployed with the package: a diagram file or a data section."""

    kind: str           # « Diagramme » or « Données »
    name: str           # file name or section name
    label: str
    author: str
    updated_at: object
    editor: str | None  # the URL to edit it


def pending_drafts(url_for) -> list[PendingDraft]:
    """Every draft that the next package deployment takes, diagrams first."""
    found = [PendingDraft("Diagramme", d.file_name, d.file_name, d.author, d.updated_at,
                          url_for("processes.studio", file_name=d.file_name))
             for d in db.session.scalars(db.select(ProcessDraft).order_by(ProcessDraft.file_name))]
    for d in db.session.scalars(db.select(PackageDraft).order_by(PackageDraft.section)):
        section = SECTIONS.get(d.section)
        if section is not None:
            found.append(PendingDraft("Données", d.section, section.label, d.author, d.updated_at,
                                      url_for(section.editor) if section.editor else None))
    return found


# --- check, compare, deploy -------------------------------------------------------------------

def check_package(file_name: str | None = None, xml: str | None = None) -> list[Problem]:
    """« Vérifier »: every deployment check on the package as the drafts would deploy it, with
    ``xml`` (the editor's state, in memory) for ``file_name``. Saves nothing."""
    sources = {**deployed_sources(), **package.bpmn_drafts()}
    if file_name is not None:
        sources[file_name] = editing(file_name, xml)
    return package.check(sources, package.draft_data())


@dataclass(frozen=True)
class Change:
    element_id: str
    kind: str       # French name of the element type
    name: str
    what: str       # « ajouté », « supprimé », « modifié »
    process_id: str = ""


#: Children that are not part of what an element does: its flows are elements of their own, its
#: documentation is for readers, a lane's members say their lane on themselves.
_NOT_BEHAVIOUR = {"incoming", "outgoing", "documentation", "flowNodeRef", "childLaneSet"}
_CONTAINERS = {"subProcess", "transaction", "adHocSubProcess"}


def _flow_elements(container):
    """The elements of a process: its flow nodes, flows, artifacts and lanes, those of its
    sub-processes included (an event definition or a condition is part of its element)."""
    for child in container:
        if not isinstance(child.tag, str) or child.get("id") is None:
            continue
        local = etree.QName(child).localname
        if local == "laneSet":
            yield from child.iter(f"{{{BPMN}}}lane")
            continue
        yield child
        if local in _CONTAINERS:
            yield from _flow_elements(child)


def _elements(xml: str) -> dict[str, tuple[str, str, bytes, str]]:
    """{id: (kind, name, canonical form, process id)} of the process elements. What an element does
    only: the layout, its documentation, its incoming and outgoing flows and the elements it contains
    (each compared on its own) are left out; its lane is in (it says who does it)."""
    found = {}
    for process in _tree(xml).iterfind("bpmn:process", NS):
        lanes = {ref.text.strip(): lane.get("name") or lane.get("id")
                 for lane in process.iter(f"{{{BPMN}}}lane") for ref in lane.iterfind("bpmn:flowNodeRef", NS) if ref.text}
        elements = list(_flow_elements(process))
        ids = {element.get("id") for element in elements}
        for element in elements:
            ident = element.get("id")
            copy = etree.fromstring(etree.tostring(element))
            for child in list(copy):
                if isinstance(child.tag, str) and (etree.QName(child).localname in _NOT_BEHAVIOUR or child.get("id") in ids):
                    copy.remove(child)
            for node in copy.iter():
                node.tail = None
                if node.text is not None and not node.text.strip():
                    node.text = None
            if ident in lanes:
                copy.set("lane", lanes[ident])
            local = etree.QName(element).localname
            found[ident] = (KINDS.get(local, local), element.get("name") or "",
                            etree.tostring(copy, method="c14n", exclusive=True), process.get("id"))
    return found


def compare_xml(before: str, after: str) -> list[Change]:
    """The elements ``after`` adds, removes or changes (what they do, not where they are drawn)."""
    old, new = _elements(before) if before else {}, _elements(after)
    changes = [Change(i, *new[i][:2], "ajouté", new[i][3]) for i in new if i not in old]
    changes += [Change(i, *old[i][:2], "supprimé", old[i][3]) for i in old if i not in new]
    changes += [Change(i, *new[i][:2], "modifié", new[i][3]) for i in new if i in old and old[i][2] != new[i][2]]
    return sorted(changes, key=lambda c: (c.what, c.element_id))


def compare_file(file_name: str, xml: str | None = None) -> list[Change]:
    """What the editor's XML (or the saved draft) changes in the deployed file."""
    return compare_xml(_deployed_file(file_name), editing(file_name, xml))


def impact(changes: list[Change]) -> dict:
    """How many running requests wait in an element that is removed or changed, called processes
    included (a request of initial_enrolment waiting in instruction's review waits in instruction's
    element). They keep their version: this tells the analyst what the old one still carries."""
    touched = {(c.process_id, c.element_id): c for c in changes if c.what != "ajouté"}
    counts: Counter = Counter()
    requests = 0
    if touched:
        for instance in _running():
            hit = waiting_elements(Run.load(instance)) & set(touched)
            requests += bool(hit)
            counts.update(hit)
    return {"requests": requests,
            "elements": [{"process_id": p, "element_id": e, "name": touched[p, e].name, "what": touched[p, e].what,
                          "requests": n} for (p, e), n in sorted(counts.items())]}


@dataclass
class SectionChanges:
    """What a data section's draft adds, removes or modifies, by item code."""

    name: str
    label: str
    added: list[str]
    removed: list[str]
    modified: list[str]


def compare_section(name: str, before: dict, after: dict) -> SectionChanges:
    """Generic over every section: a section's value is {code: {field: value}}."""
    return SectionChanges(name, SECTIONS[name].label, [c for c in after if c not in before],
                          [c for c in before if c not in after],
                          [c for c in after if c in before and after[c] != before[c]])


@dataclass
class PackageComparison:
    files: dict[str, list[Change]]
    sections: list[SectionChanges]
    impact: dict


def compare_package() -> PackageComparison:
    """« Comparer » at the package level: every draft against the deployed package."""
    deployed = deployed_sources()
    files = {name: compare_xml(deployed.get(name, ""), xml) for name, xml in package.bpmn_drafts().items()}
    current, drafted = package.current().data, package.draft_data()
    sections = [compare_section(name, current[name], drafted[name]) for name in SECTIONS
                if drafted[name] != current[name]]
    return PackageComparison(files, sections, impact([c for changes in files.values() for c in changes]))


def deploy_all(author: str, comment: str):
    """« Déployer »: the package is one version, so every draft (diagrams and data) deploys together
    (from a diagram's editor as from the versions page). Returns (package version or None, process
    versions created); raises ``DeployError``."""
    if not comment:
        raise StudioError("Indiquez un commentaire de version : ce qui change et pourquoi.")
    return package.deploy_drafts(author, comment)


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
    note = f"Retour à la version {number}" + (f" : {comment}" if comment else "")
    created = deploy_files(_sources(old), author, note)
    if not created:
        raise StudioError(f"La version {number} est déjà celle en service : rien à déployer.")
    return created


# --- the package's versions -------------------------------------------------------------------

@dataclass
class PackageRow:
    version: ProcessPackage
    running: int


def package_versions() -> list[PackageRow]:
    """Every package version, newest first, with how many running requests started on it."""
    running = dict(db.session.execute(
        db.select(WorkflowInstance.package_id, db.func.count()).where(WorkflowInstance.completed.is_(False))
        .group_by(WorkflowInstance.package_id)).all())
    return [PackageRow(row, running.get(row.id, 0))
            for row in db.session.scalars(db.select(ProcessPackage).order_by(ProcessPackage.version.desc()))]


def rollback_package(number: int, author: str, comment: str = "") -> ProcessPackage:
    """« Revenir à la version N » of the whole package: its diagrams and its data deployed again as
    a new version (the drafts stay drafts). A section the old version did not have yet keeps its
    current value. Running requests keep the version they started on."""
    old = db.session.scalar(db.select(ProcessPackage).where(ProcessPackage.version == number))
    if old is None:
        raise StudioError(f"Le paquet de processus n'a pas de version {number}.")
    note = f"Retour à la version {number} du paquet" + (f" : {comment}" if comment else "")
    data = {**package.current().data, **json.loads(old.data_json)}
    row, _ = package.deploy_package(json.loads(old.sources_json), author, note, data=data)
    if row is None:
        raise StudioError(f"La version {number} du paquet est déjà celle en service : rien à déployer.")
    return row
