"""The process package: the BPMN diagrams and everything they name (statuses, mail templates,
document types, form fields, roles and lanes), deployed, checked, compared, versioned and rolled back
together. A request runs on the package version that was current when it started.

Source: the repository's files. ``bpmn/*.bpmn`` (the diagrams), ``bpmn/package/<section>.json``
(the data) and ``mail_templates/`` (the mails); ``flask bpmn deploy`` deploys them, ``flask bpmn
export`` writes the deployed package back, so that a change made in the studio is reviewed and
committed like code. Before anything is deployed, the package is the one those files hold.

Each kind of data is a **section** (``Section``), one module each in this package: it reads and
writes its files, builds its typed value from the stored JSON (once per package version: versions
never change, so the built values are cached) and checks itself against the diagrams at « Vérifier »
and at deployment. Where a request's own version matters (the wording of its mails, the fields of
its forms), read the package of the request (``of``); where a name outlives one request (a status, a
document type, a role: lists and filters span versions), read the current one (``current``). A
section refuses to drop a name that a deployed diagram or a stored row still uses.
"""
import copy
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from flask import current_app
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session

from .. import clock
from ..engine import specs
from ..engine.specs import DeployError, Problem, one_deployment_at_a_time, parse, properties, store
from ..extensions import db
from ..models import PackageDraft, ProcessDraft, ProcessPackage, ProcessVersion


# --- sections ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Folders:
    """Where the package's files live (the repository's folders by default)."""

    bpmn: Path
    mails: Path

    @property
    def data(self) -> Path:
        return self.bpmn / "package"


class Section:
    """One kind of package data. Subclasses set ``name`` (key in the data, file stem) and ``label``
    (French, for the studio and the check messages) and override what differs from a JSON file.

    A section's value is a JSON object keyed by item code ({code: {field: value}}), in display
    order, so that drafts, comparison and « in use » checks work the same way for every section."""

    name: str = ""
    label: str = ""
    #: The endpoint of the section's editor in the studio (« Processus »), None when it has none.
    editor: str | None = None
    #: Whether a package stored before the section existed (or files without it) takes the value
    #: the repository ships, rather than an empty one (what must never be empty: roles, reasons…).
    shipped_default: bool = False

    def read(self, folders: Folders) -> Any:
        path = folders.data / f"{self.name}.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else self.empty()

    def write(self, folders: Folders, value: Any) -> None:
        folders.data.mkdir(parents=True, exist_ok=True)
        (folders.data / f"{self.name}.json").write_text(dumps(value), encoding="utf-8")

    def empty(self) -> Any:
        if self.shipped_default:
            path = Path(current_app.config["BPMN_FOLDER"]) / "package" / f"{self.name}.json"
            if path.exists():
                return json.loads(path.read_text(encoding="utf-8"))
        return {}

    def build(self, value: Any, package: "Package") -> Any:
        """The typed value the app reads (default: the JSON value as it is)."""
        return value

    def check(self, package: "Package", processes: dict[str, tuple]) -> list[Problem]:
        """What refuses this section, given the package it belongs to and the parsed diagrams of
        the deployed set ({process id: (spec, subprocess specs)})."""
        return []

    def problem(self, element: str | None, message: str) -> Problem:
        return Problem(self.label, element, message)


SECTIONS: dict[str, Section] = {}


def register(section: Section) -> Section:
    if section.name in SECTIONS:
        raise ValueError(f"package section {section.name} registered twice")
    SECTIONS[section.name] = section
    return section


def dumps(value: Any) -> str:
    """The files' JSON form: readable French, items in their order (the order lists show)."""
    return json.dumps(value, ensure_ascii=False, indent=2) + "\n"


# --- a package version ------------------------------------------------------------------------

class Package:
    """The data of one package version (deployed, or read from the files), typed per section on first
    use: ``package["statuses"]``."""

    def __init__(self, data: dict, row: ProcessPackage | None = None):
        self._raw = dict(data)
        self.id = row.id if row is not None else None
        self.version = row.version if row is not None else None
        self._built: dict[str, Any] = {}

    @property
    def data(self) -> dict:
        """{section name: JSON value} for every section (an empty value for a section the version
        does not hold)."""
        return {**{name: section.empty() for name, section in SECTIONS.items()}, **self._raw}

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            section = SECTIONS[name]
            self._built[name] = section.build(self._raw.get(name, section.empty()), self)
        return self._built[name]

    def with_section(self, name: str, value: Any) -> "Package":
        return Package({**self.data, name: value})

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()


def folders() -> Folders:
    config = current_app.config
    return Folders(Path(config["BPMN_FOLDER"]), Path(config["MAIL_TEMPLATES_FOLDER"]))


def read_files(where: Folders | None = None) -> tuple[dict[str, str], dict]:
    """({file name: BPMN XML}, data) of the package held in the files."""
    where = where or folders()
    sources = {p.name: p.read_text(encoding="utf-8") for p in sorted(where.bpmn.glob("*.bpmn"))}
    return sources, {name: section.read(where) for name, section in SECTIONS.items()}


def write_files(sources: dict[str, str], data: dict, where: Folders | None = None) -> None:
    """Write a package to the files (``flask bpmn export``): the diagrams and every section."""
    where = where or folders()
    where.bpmn.mkdir(parents=True, exist_ok=True)
    for name, xml in sources.items():
        (where.bpmn / name).write_text(xml, encoding="utf-8")
    for name, section in SECTIONS.items():
        section.write(where, data.get(name, section.empty()))


_cache: dict[tuple[int, str], Package] = {}
_files_cache: dict[Folders, Package] = {}


def load(row: ProcessPackage) -> Package:
    """The package of a stored version, parsed once per process."""
    key = (row.id, row.sha256)
    if key not in _cache:
        _cache[key] = Package(json.loads(row.data_json), row)
    return _cache[key]


def current_row() -> ProcessPackage | None:
    return db.session.scalar(db.select(ProcessPackage).where(ProcessPackage.is_current.is_(True)))


def current() -> Package:
    """The package new requests start on, read once per transaction (a deployment committed meanwhile
    is seen by the next one); before the first deployment, the one the files hold."""
    cached = db.session.info.get(_SESSION_KEY)
    if cached is not None:
        return cached
    row = current_row()
    found = load(row) if row is not None else _of_files()
    db.session.info[_SESSION_KEY] = found
    return found


def _of_files() -> Package:
    where = folders()
    if where not in _files_cache:
        _files_cache[where] = Package(read_files(where)[1])
    return _files_cache[where]


def with_current(query):
    """``query`` (a select) with two more columns, the current version's id and SHA-256 (None before
    the first deployment), for ``remember_current``: the page that loads its main row this way reads
    ``current()`` without a query of its own."""
    return (query.add_columns(ProcessPackage.id, ProcessPackage.sha256)
            .outerjoin(ProcessPackage, ProcessPackage.is_current.is_(True)))


def remember_current(package_id: int | None, sha256: str | None) -> None:
    """Make ``current()`` of this transaction the version a ``with_current`` query saw, when this
    process has it built already (otherwise ``current()`` loads it as usual)."""
    found = _of_files() if package_id is None else _cache.get((package_id, sha256))
    if found is not None:
        db.session.info[_SESSION_KEY] = found


_SESSION_KEY = "process_package"


@orm_event.listens_for(Session, "after_commit")
@orm_event.listens_for(Session, "after_rollback")
def forget_current(session=None) -> None:
    """At the end of a transaction, or after a deployment in it: ``current`` reads again."""
    (session or db.session).info.pop(_SESSION_KEY, None)


def of(instance) -> Package:
    """The package a workflow instance (a request's) runs on; the current one for an instance started
    before packages existed."""
    if instance is None or instance.package_id is None:
        return current()
    row = instance.package  # loaded with the request by access.load_request: no query here
    if row is None or row.id != instance.package_id:  # the id was just set, the relation not yet
        row = db.session.get(ProcessPackage, instance.package_id)
    return load(row)


# --- what the diagrams name -------------------------------------------------------------------

def task_specs(processes: dict[str, tuple]) -> Iterator[tuple[str, object]]:
    """(file, task spec) of every element of the parsed diagrams, each once."""
    seen = set()
    for spec, subprocess_specs in processes.values():
        for process in (spec, *subprocess_specs.values()):
            for task_spec in process.task_specs.values():
                key = (process.name, task_spec.name)
                if key in seen or getattr(task_spec, "bpmn_id", None) is None:
                    continue
                seen.add(key)
                yield process.file, task_spec


def service_calls(processes: dict[str, tuple], handler: str) -> Iterator[tuple[str, str, dict]]:
    """(file, element id, {parameter: expression}) of every service task that calls ``handler``."""
    for file, task_spec in task_specs(processes):
        if getattr(task_spec, "operation_name", None) == handler:
            yield file, task_spec.bpmn_id, {n: p["value"] for n, p in task_spec.operation_params.items()}


def literal(expression: str):
    """The value of an expression written as a literal (``'En cours'``), None for anything else
    (an expression on task data is checked when it runs)."""
    import ast
    try:
        return ast.literal_eval((expression or "").strip())
    except (ValueError, SyntaxError):
        return None


__all__ = ["DeployError", "Folders", "Package", "Problem", "SECTIONS", "Section", "current", "deploy",
           "deploy_package", "dumps", "literal", "load", "of", "properties", "read_files", "register",
           "service_calls", "task_specs", "write_files"]


# --- check and deploy -------------------------------------------------------------------------

def deployed_sources() -> dict[str, str]:
    """{file name: XML} of the deployed set (the files of the current process versions)."""
    sources = {}
    for version in db.session.scalars(db.select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                      .order_by(ProcessVersion.process_id)):
        sources.update(json.loads(version.sources_json))
    return dict(sorted(sources.items()))


def check(sources: dict[str, str], data: dict) -> list[Problem]:
    """Everything that would refuse this package at deployment (empty: deployable). ``sources``:
    the whole deployed set as it would be."""
    try:
        return _check(parse(sources), data)
    except DeployError as exc:
        return exc.problems


def _check(processes: dict[str, tuple], data: dict) -> list[Problem]:
    package = Package(data)
    problems = specs.check(processes)
    for section in SECTIONS.values():
        problems += section.check(package, processes)
    return problems


def deploy_package(sources: dict[str, str], author: str, comment: str = "",
                   data: dict | None = None) -> tuple[ProcessPackage | None, list[ProcessVersion]]:
    """Check, then store a new package version with a new version of every process whose diagrams
    changed. ``sources``: the files to deploy over the deployed set; ``data``: the package data (the
    current package's when None). Returns (the new package version, or None when nothing changed;
    the process versions created). Raises ``DeployError`` with every reason, in French."""
    one_deployment_at_a_time()  # before reading what the deployments before this one committed
    data = current().data if data is None else data
    whole = {**deployed_sources(), **sources}
    processes = parse(whole)
    problems = _check(processes, data)
    if problems:
        raise DeployError(problems)
    created = store(processes, whole, author, comment)
    package = Package(data)
    deployed = deployed_sources()
    sha = hashlib.sha256((package.sha256 + json.dumps(deployed, sort_keys=True)).encode()).hexdigest()
    previous = current_row()
    if previous is not None and previous.sha256 == sha:
        return None, created
    last = db.session.scalar(db.select(db.func.max(ProcessPackage.version))) or 0
    if previous is not None:
        previous.is_current = False
    row = ProcessPackage(version=last + 1, sha256=sha, data_json=json.dumps(package.data, ensure_ascii=False),
                         sources_json=json.dumps(deployed, sort_keys=True), created_at=clock.now(),
                         author=author, comment=comment, is_current=True)
    db.session.add(row)
    db.session.flush()
    for version in created:
        version.package_id = row.id
    db.session.flush()
    forget_current()
    return row, created


def deploy(sources: dict[str, str], author: str, comment: str = "", data: dict | None = None) -> list[ProcessVersion]:
    """``deploy_package``, returning the process versions created."""
    return deploy_package(sources, author, comment, data)[1]


def deploy_files(author: str = "déploiement", comment: str = "", where: Folders | None = None) -> list[ProcessVersion]:
    """Deploy the package the files hold (the portal command, ``flask bpmn deploy``)."""
    sources, data = read_files(where)
    return deploy(sources, author, comment, data)


# --- drafts of the data -----------------------------------------------------------------------

def section_draft(name: str) -> PackageDraft | None:
    return db.session.scalar(db.select(PackageDraft).where(PackageDraft.section == name))


def draft_value(name: str) -> Any:
    """The value to edit: the section's draft if there is one, else the current package's."""
    found = section_draft(name)
    # a copy: the current package's value is shared by every reader of that version (cached)
    return json.loads(found.content_json) if found else copy.deepcopy(current().data[name])


def save_section_draft(name: str, value: Any, author: str) -> PackageDraft:
    if name not in SECTIONS:
        raise KeyError(name)
    found = section_draft(name) or PackageDraft(section=name)
    found.content_json, found.author, found.updated_at = json.dumps(value, ensure_ascii=False), author, clock.now()
    db.session.add(found)
    db.session.flush()
    return found


def discard_section_draft(name: str) -> None:
    found = section_draft(name)
    if found is not None:
        db.session.delete(found)
        db.session.flush()


def draft_data() -> dict:
    """The current package's data with every section draft over it."""
    data = copy.deepcopy(current().data)
    for found in db.session.scalars(db.select(PackageDraft)):
        if found.section in SECTIONS:
            data[found.section] = json.loads(found.content_json)
    return data


def bpmn_drafts() -> dict[str, str]:
    """{file name: XML} of the diagrams' drafts (app/services/processes.py edits them)."""
    return {d.file_name: d.xml for d in db.session.scalars(db.select(ProcessDraft).order_by(ProcessDraft.file_name))}


def has_drafts() -> bool:
    return bool(bpmn_drafts()) or db.session.scalar(db.select(db.func.count()).select_from(PackageDraft)) > 0


def check_drafts() -> list[Problem]:
    """« Vérifier » the package as the drafts (diagrams and data) would deploy it, saving nothing."""
    return check({**deployed_sources(), **bpmn_drafts()}, draft_data())


def deploy_drafts(author: str, comment: str) -> tuple[ProcessPackage | None, list[ProcessVersion]]:
    """Deploy every draft (diagrams and data) together as one package version; the drafts are then
    gone. Raises ``DeployError``."""
    deployed = deploy_package(bpmn_drafts(), author, comment, draft_data())
    for found in (*db.session.scalars(db.select(ProcessDraft)), *db.session.scalars(db.select(PackageDraft))):
        db.session.delete(found)
    db.session.flush()
    return deployed


# Importing the sections registers them (order: the studio's).
from . import mails  # noqa: E402,F401
from . import document_types  # noqa: E402,F401
from . import forms  # noqa: E402,F401
from . import roles  # noqa: E402,F401
from . import statuses  # noqa: E402,F401
from . import refusal_reasons  # noqa: E402,F401
