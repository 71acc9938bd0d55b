"""« Simuler »: run a process of the draft package (the diagrams' and the data's drafts over the
deployed package) in a sandbox, step by step, with a virtual clock.

How nothing real is written: every step of a simulation (start, a user task's form, « Avancer de N
jours », even showing the current form) runs inside a SAVEPOINT that is always rolled back. Inside
it, the draft package is deployed as production would deploy it (so the steps read the draft's
diagrams, mails, forms and statuses through the ordinary code: ``package.of``, ``Run``, the
handlers), a throw-away ``EnrolmentRequest`` is rebuilt from the simulation's own snapshot, the
demo referencing directory is imported and the company look-up is forced onto the demo CSV
(``companies.demo_only``). What the step produced (statuses set, mails as rendered into the outbox,
history lines, task data, incidents, the elements completed and where the run stands) is read
before the rollback; only the ``simulation`` row keeps it. A rolled-back step takes no request
number (the counter row's update is undone), leaves no outbox row (no mail leaves), no document
file (``documents.store`` removes its file when the savepoint rolls back), no deployed version.

The clock: each simulation has its own (``clock_at``), set for the step only (``clock.at``: this
thread, not the process). « Avancer de N jours » fires the timers that fall due in that time, one
deadline after the other, each at its own moment.

Documents: a document field that the analyst leaves empty gets a generated sample PDF (« pièce
d'exemple »), stored for the step only; a file chosen in the form is checked as in production.
Because the request is rebuilt at every step, the documents of an earlier step are not kept.
"""
import copy
import hashlib
import json
import re
import uuid
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app
from flask_wtf.csrf import generate_csrf
from sqlalchemy import event as orm_event
from werkzeug.datastructures import MultiDict

import forms

from .. import clock, demo, package
from ..engine import EngineFailure, Run
from ..engine import compaction, specs as engine_specs
from ..engine.position import position
from ..engine import sandbox as engine_sandbox
from ..engine.specs import DeployError
from ..extensions import db
from ..models import EnrolmentRequest, OutboxMail, Simulation, WorkflowInstance
from ..package import statuses
from . import companies, documents, processes, referencing

#: The author of the sandbox's deployment (never committed).
SANDBOX = "simulation"
#: How many days « Avancer » accepts at once.
MAX_DAYS = 3650

#: The request's columns a simulation keeps between steps (the rest is rebuilt each time).
REQUEST_COLUMNS = ("status", "number", "enrolment_type", "siret", "ans_number", "profile", "dsr",
                   "company_name", "holder_email", "submitted_at", "status_changed_at", "validated_at",
                   "overdue_since", "data")
DATE_COLUMNS = ("submitted_at", "status_changed_at", "validated_at", "overdue_since")

#: The sample used when the database holds no demo request (the demo supplier of app/demo.py).
DEFAULT_SAMPLE = {
    "request": {"status": "draft", "holder_email": demo.ACCOUNTS[0][2], "siret": demo.SIRET,
                "company_name": "BEAUJOLAIS INFORMATIQUE SANTE"},
    "data": {"ans_number": demo.SCENARIOS[0].ans_number, "siret": demo.SIRET, "trade_name": "BIS SANTE",
             "is_legal_representative": "oui", "rep_last_name": "LEGAL", "rep_first_name": "Claire",
             "rep_email": demo.ACCOUNTS[0][2], "rep_email_confirmation": demo.ACCOUNTS[0][2],
             "rep_phone": "01 23 45 67 89", "iban": "FR76 3000 4000 0100 0123 4567 830", "bic": "BNPAFRPP",
             "account_holder": "BEAUJOLAIS INFORMATIQUE SANTE", "vat_liable": "oui", "vat_rate": "20",
             "hosts_health_data": "oui"},
}

#: A one-page PDF, the « pièce d'exemple » of the document fields left empty.
SAMPLE_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
              b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
              b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
              b"trailer<</Root 1 0 R>>\n%%EOF\n")


class SimulationError(Exception):
    """A simulation step refused; ``str(exc)`` is the French reason (``problems``: the draft's
    problems when it cannot be deployed, hence not simulated)."""

    def __init__(self, message: str, problems=()):
        super().__init__(message)
        self.problems = list(problems)


# --- the draft package and the sample -----------------------------------------------------------

def draft_package() -> tuple[dict[str, str], dict]:
    """({file: XML} of the whole set with the drafts over the deployed files, data with the drafts)."""
    return {**package.deployed_sources(), **package.bpmn_drafts()}, package.draft_data()


def process_ids(sources: dict[str, str]) -> list[str]:
    """The processes the sources define (the ones a simulation may start), sorted."""
    try:
        return sorted(engine_specs.parse(sources))
    except DeployError:
        return []


def start_elements(process_id: str, sources: dict[str, str]) -> list[tuple[str, str]]:
    """(element id, name) of the elements of ``process_id``'s own diagram a simulation may start at."""
    try:
        found = engine_specs.parse(sources).get(process_id)
    except DeployError:
        return []
    return engine_sandbox.elements(found[0]) if found else []


@dataclass(frozen=True)
class Expected:
    """A name of the task data the process reads: who reads it, and whether the process sets it
    itself (a form, a service task, a script) or the sample data must hold it."""
    name: str
    readers: tuple[str, ...]
    set_by_process: bool


def expected_data(process_id: str, sources: dict[str, str], data: dict) -> list[Expected]:
    """The task data ``process_id`` (with the processes it calls) reads, per its diagrams and forms in
    the simulated package: a simulation started after the step that sets a name needs it in its
    sample data."""
    try:
        found = engine_specs.parse(sources).get(process_id)
    except DeployError:
        return []
    if found is None:
        return []
    read, produced, user_tasks = engine_sandbox.data_names(*found)
    definitions = data.get("forms") or {}
    for form_key, fields in user_tasks:
        if form_key in forms.REGISTRY:
            produced |= set(forms.extra.class_field_names(forms.REGISTRY[form_key]))
        produced |= set((definitions.get(form_key) or {}).get("fields") or {})
        produced |= {field.name for field in forms.extra.property_fields(fields)} if fields else set()
    return [Expected(name, tuple(readers), name in produced) for name, readers in read.items()]


def sample() -> dict:
    """Sample data, from the latest submitted demo request (app/demo.py: its SIRET; never a real
    supplier's data, which an analyst may not see) when there is one: its columns (without its number:
    the simulation takes its own) and the data it was submitted with (without its documents)."""
    latest = db.session.scalars(db.select(EnrolmentRequest).where(
        EnrolmentRequest.submitted_at.is_not(None), EnrolmentRequest.siret == demo.SIRET)
        .order_by(EnrolmentRequest.submitted_at.desc(), EnrolmentRequest.id.desc())).first()
    if latest is None:
        return copy.deepcopy(DEFAULT_SAMPLE)
    columns = _snapshot(latest)
    for name in ("number", "data", *DATE_COLUMNS):
        columns.pop(name, None)
    data = {k: v for k, v in (latest.data or {}).items() if not k.startswith(("doc_", "_", "spiff_"))}
    return {"request": {k: v for k, v in columns.items() if v is not None}, "data": data}


def parse_sample(text: str) -> dict:
    """The sample an analyst typed (JSON): ``{"request": {...}, "data": {...}}``."""
    try:
        value = json.loads(text or "{}")
    except ValueError as exc:
        raise SimulationError(f"Les données d'exemple ne sont pas du JSON valide : {exc}.") from None
    if not isinstance(value, dict) or not all(isinstance(value.get(k, {}), dict) for k in ("request", "data")):
        raise SimulationError("Les données d'exemple doivent être un objet JSON "
                              "{\"request\": {…}, \"data\": {…}}.")
    columns = value.get("request", {})
    unknown = sorted(set(columns) - set(REQUEST_COLUMNS))
    if unknown:
        raise SimulationError("Colonnes de demande inconnues dans les données d'exemple : " + ", ".join(unknown)
                              + f". Colonnes possibles : {', '.join(REQUEST_COLUMNS)}.")
    for name, given in columns.items():
        refusal = _column_refusal(name, given)
        if refusal:
            raise SimulationError(f"Données d'exemple, colonne « {name} » : {refusal}")
    return {"request": columns, "data": value.get("data", {})}


def _column_refusal(name: str, given) -> str | None:
    """Why a sample's value does not fit the request's column (French), None when it fits."""
    if given is None:
        return None
    if name == "data":
        return None if isinstance(given, dict) else "un objet JSON est attendu."
    if not isinstance(given, str):
        return "une chaîne de caractères est attendue."
    if name in DATE_COLUMNS:
        try:
            moment = datetime.fromisoformat(given)
        except ValueError:
            return "une date ISO 8601 est attendue, par exemple 2026-03-02T10:00:00+00:00."
        return None if moment.tzinfo is not None else "indiquez le fuseau horaire (+00:00 par exemple)."
    length = getattr(EnrolmentRequest.__table__.c[name].type, "length", None)
    return f"{length} caractères au plus." if length and len(given) > length else None


# --- the request snapshot ------------------------------------------------------------------------

def _snapshot(request: EnrolmentRequest) -> dict:
    values = {name: getattr(request, name) for name in REQUEST_COLUMNS}
    for name in DATE_COLUMNS:
        values[name] = values[name].isoformat() if values[name] else None
    values["data"] = copy.deepcopy(values["data"] or {})
    return values


def _rebuild(values: dict, instance: WorkflowInstance) -> EnrolmentRequest:
    """The throw-away request of one step (rolled back with it)."""
    now = clock.now()
    values = {k: v for k, v in values.items() if k in REQUEST_COLUMNS}
    for name in DATE_COLUMNS:
        if values.get(name):
            values[name] = datetime.fromisoformat(values[name])
    number = values.get("number")
    if number and db.session.scalar(db.select(EnrolmentRequest.id).where(EnrolmentRequest.number == number)):
        values["number"] = "SIM" + number.removeprefix("ENR")[:9]  # taken since by a real request
    request = EnrolmentRequest(public_id=str(uuid.uuid4()), created_at=now, updated_at=now,
                               **{**values, "data": copy.deepcopy(values.get("data") or {})})
    request.status = request.status or "draft"
    request.instance = instance
    db.session.add(request)
    return request


# --- what a step did -----------------------------------------------------------------------------

#: (request, [status codes set]) while a step runs: the statuses it sets, in order.
_watched: ContextVar[tuple | None] = ContextVar("simulation_statuses", default=None)


@orm_event.listens_for(EnrolmentRequest.status, "set")
def _status_set(target, value, oldvalue, initiator):
    watched = _watched.get()
    if watched is not None and target is watched[0]:
        watched[1].append(value)


def _public(data: dict) -> dict:
    """Task data as an analyst reads it (without the engine's and the portal's reserved keys)."""
    return {k: v for k, v in (data or {}).items() if not k.startswith(("_", "spiff_"))}


def _values(form) -> dict:
    """The values of a form's fields (not its documents), as a browser would post them back."""
    return {name: field.data for name, field in form._fields.items()
            if name != "csrf_token" and not isinstance(field, forms.DocumentField)
            and isinstance(field.data, (str, bool, int, float, list)) and field.data not in ("", [])}


@dataclass
class Outcome:
    """What one submitted form did: done (the task completed) or the form's errors to show."""
    done: bool
    message: str | None = None


class Sandbox:
    """One step of a simulation, inside its savepoint (``sandbox``): the throw-away request, the run,
    and what the step records."""

    def __init__(self, simulation: Simulation, request: EnrolmentRequest, instance: WorkflowInstance):
        self.simulation = simulation
        self.request = request
        self.instance = instance
        self.run: Run | None = None
        self.entry: dict | None = None      # what the step did (None: nothing, e.g. a form shown)
        self.action: dict | None = None     # the step, replayable
        self.result: dict = {}              # what the simulation row keeps, read before the rollback

    # --- reading ---

    def task(self):
        """The simulation's ready user task (any lane: the analyst plays every role), or None."""
        return self.run.ready_task(None) if self.run is not None else None

    def form(self, formdata=None):
        task = self.task()
        return forms.build(task, self.request, formdata) if task is not None else None

    # --- steps ---

    def start(self, data: dict, element: str | None = None) -> None:
        """Start the process at its start event, or at ``element`` (the way to it is not run)."""
        if not element:
            self._step("start", "Début du processus",
                       lambda: setattr(self, "run", Run.start(self.simulation.process_id, self.request, data)),
                       {"start": True})
            return
        try:
            self.run = engine_sandbox.start_at(self.instance, self.request, element, data)
        except engine_sandbox.NoSuchStart:
            raise SimulationError(f"L'élément « {element} » ne peut pas servir de départ : ce n'est pas une étape du "
                                  f"diagramme du processus « {self.simulation.process_id} ».") from None
        label = dict(engine_sandbox.elements(self.run.spec.spec)).get(element, element)
        self._step("start", f"Début à « {label} »", lambda: engine_sandbox.proceed(self.run),
                   {"start": True, "element": element})

    def submit(self, task, form, action: str = "next") -> Outcome:
        """Validate the task's form as in production and complete the task with it."""
        if action not in form.completing_actions:
            return Outcome(False, "Cette action ne termine pas l'étape : seules les actions qui la terminent sont "
                                  "simulées, avec des fichiers d'exemple pour les pièces à déposer.")
        form.action = action
        form.save_uploads(SANDBOX)
        self._sample_documents(form)
        if not form.validate():
            for field in form.document_fields():  # stored for this step only: not there any more
                field.document = None
            return Outcome(False, "Le formulaire contient des erreurs : corrigez les champs signalés puis "
                                  "validez de nouveau.")
        answers = form.task_data()
        posted = _values(form)
        self._step("task", task.label, lambda: self.run.complete(task.id, task.lane, answers),
                   {"task": task.bpmn_id, "action": action, "answers": posted}, answers=_public(answers))
        return Outcome(True)

    def advance(self, days: int) -> None:
        """Move the virtual clock ``days`` forward, firing the timers due meanwhile in order."""
        target = self.simulation.clock_at + timedelta(days=days)
        moment = {"at": target}

        def fire():
            for _ in range(1000):  # a cycle timer that falls due again and again stops here
                due = engine_sandbox.next_deadline(self.run)
                if due is None or due > target:
                    break
                fired_at = due + timedelta(seconds=1)  # SpiffWorkflow fires a timer once past its deadline
                with clock.at(fired_at):
                    self.run.fire_timers()
                moment["at"] = max(target, fired_at)

        self._step("advance", f"Avancer de {days} jour{'s' if days > 1 else ''}", fire, {"advance": days})
        self.result["clock_at"] = moment["at"]
        self.entry["at"] = moment["at"].isoformat()  # the step is dated when the clock arrives

    def _sample_documents(self, form) -> None:
        """A sample PDF for each applicable document field left empty, and for what the form's local
        actions would have stored (« Importer »): stored for this step only."""
        checked = documents.CheckedFile("piece-exemple.pdf", documents.PDF, ".pdf", SAMPLE_PDF,
                                        hashlib.sha256(SAMPLE_PDF).hexdigest(), len(SAMPLE_PDF))
        for field in form.document_fields():
            if field.document is None and not field.upload_error and form.applies(field):
                field.document = documents.store(self.request, field.kind, checked, field=field.name,
                                                 uploaded_by=SANDBOX)
        form.simulate_local_actions(checked, SANDBOX)

    def _step(self, kind: str, label: str, act, action: dict, answers: dict | None = None) -> None:
        before = set(engine_sandbox.completed(self.run)) if self.run is not None else set()
        at = clock.now()
        incident = None
        watched = (self.request, [])
        token = _watched.set(watched)
        try:
            act()
            self.run.continue_all_async()  # no worker in a simulation: its asynchronous tasks run at the step
        except EngineFailure as failure:
            incident = {"element": failure.task_name, "label": failure.label, "handler": failure.handler,
                        "reason": str(failure.original)}
        finally:
            _watched.reset(token)
        run = self.run
        if run is None:  # the start itself failed: nothing ran that could be kept
            self.entry = {"kind": kind, "label": label, "at": at.isoformat(), "path": [], "statuses": [],
                          "mails": [], "events": [], "answers": answers, "data": {}, "incident": incident}
            self.action = action
            return
        self.instance = run.save()
        self.request.instance = self.instance
        db.session.flush()
        done = sorted((element for task_id, element in engine_sandbox.completed(run).items() if task_id not in before),
                      key=lambda element: element[2])
        mails = db.session.scalars(db.select(OutboxMail).where(OutboxMail.request_id == self.request.id)
                                   .order_by(OutboxMail.id)).all()
        where = position(run)
        self.entry = {
            "kind": kind, "label": label, "at": at.isoformat(),
            "path": [{"id": element, "label": name} for element, name, _ in done],
            "statuses": [{"code": code, "supplier_label": statuses.of(code).supplier_label,
                          "agent_label": statuses.of(code).agent_label} for code in watched[1]],
            "mails": [{"template": m.event, "recipient": m.recipient, "subject": m.subject, "body": m.body_text,
                       "html": m.body_html} for m in mails],
            "events": [" — ".join(x for x in (e.action, e.detail) if x) for e in self.request.events],
            "answers": answers, "data": _public(run.data), "incident": incident, "number": self.request.number,
        }
        self.action = action
        self.result.update(
            state_json=self.instance.state_json, request_json=json.dumps(_snapshot(self.request), ensure_ascii=False),
            completed=run.workflow.is_completed(),
            position_json=json.dumps({"active": where.active, "completed": where.completed,
                                      "turn": where.turn.task if where.turn else None,
                                      "processes": [{"id": p.id, "name": p.name, "done": p.done, "current": p.current}
                                                    for p in where.processes]}, ensure_ascii=False))


def _demo_referencing() -> Path:
    return Path(current_app.root_path) / "data" / "referencing_demo.csv"


@contextmanager
def sandbox(simulation: Simulation):
    """One step of ``simulation``: yields a ``Sandbox`` in a savepoint that is always rolled back;
    what the step did is then written to the simulation row (outside the savepoint)."""
    sources, data = json.loads(simulation.sources_json), json.loads(simulation.data_json)
    forgotten = []
    # The sandbox keeps its runs whole: the rows compaction would write for them are rolled back.
    with clock.at(simulation.clock_at), companies.demo_only(), compaction.suspended():
        savepoint = db.session.begin_nested()
        try:
            try:
                row, created = package.deploy_package(sources, SANDBOX, "simulation", data)
            except DeployError as exc:
                raise SimulationError("Le paquet de processus avec vos brouillons ne peut pas être simulé : "
                                      "corrigez d'abord ce que « Vérifier » signale.", exc.problems) from None
            # What the sandbox deployed is parsed for this step only: not kept in the caches.
            forgotten = [(engine_specs._cache, (v.id, v.sha256)) for v in created]
            if row is not None:
                forgotten.append((package._cache, (row.id, row.sha256)))
            row = row or package.current_row()  # nothing to deploy: the drafts are the deployed package
            referencing.import_csv(_demo_referencing())
            version = engine_specs.current_version(simulation.process_id)
            if version is None:
                raise SimulationError(f"Le processus « {simulation.process_id} » n'existe pas dans le paquet simulé.")
            now = clock.now()
            instance = WorkflowInstance(process_version=version, package_id=row.id,
                                        state_json=simulation.state_json or "{}", created_at=now, updated_at=now)
            request = _rebuild(json.loads(simulation.request_json or "{}"), instance)
            box = Sandbox(simulation, request, instance)
            if simulation.state_json:
                box.run = Run.load(instance, request)
            yield box
        finally:
            savepoint.rollback()
            package.forget_current()  # the sandbox's package was current inside the savepoint only
            for cache, key in forgotten:
                cache.pop(key, None)
    if box.entry is not None:
        _keep(simulation, box)


def _keep(simulation: Simulation, box: Sandbox) -> None:
    for name, value in box.result.items():
        setattr(simulation, name, value)
    simulation.log_json = json.dumps([*json.loads(simulation.log_json or "[]"), box.entry], ensure_ascii=False)
    simulation.actions_json = json.dumps([*json.loads(simulation.actions_json or "[]"), box.action],
                                         ensure_ascii=False)
    simulation.updated_at = clock.now()


# --- the simulation's life ---------------------------------------------------------------------

def start(process_id: str, sample_value: dict, author: str, sources: dict | None = None,
          data: dict | None = None, keep: bool = True, at: datetime | None = None,
          element: str | None = None) -> Simulation:
    """A new simulation of ``process_id`` in the draft package (or the given sources and data),
    started with ``sample_value`` at its start event or at ``element``; ``keep``: stored (the
    studio) or not (the command line, replays); ``at``: when its clock starts (now by default)."""
    if sources is None or data is None:
        drafts_sources, drafts_data = draft_package()
        sources, data = sources or drafts_sources, data or drafts_data
    try:
        defined = engine_specs.parse(sources)
    except DeployError as exc:
        raise SimulationError("Les diagrammes à simuler sont refusés : corrigez d'abord ce que « Vérifier » "
                              "signale.", exc.problems) from None
    if process_id not in defined:
        raise SimulationError(f"Le processus « {process_id} » n'existe pas dans le paquet simulé.")
    now = clock.now()
    simulation = Simulation(process_id=process_id, author=author, created_at=now, updated_at=now,
                            sources_json=json.dumps(sources, ensure_ascii=False),
                            data_json=json.dumps(data, ensure_ascii=False),
                            sample_json=json.dumps(sample_value, ensure_ascii=False),
                            request_json=json.dumps(sample_value.get("request") or {}, ensure_ascii=False),
                            state_json=None, clock_at=at or now, log_json="[]", actions_json="[]",
                            position_json="{}", completed=False)
    if keep:
        db.session.add(simulation)
    with sandbox(simulation) as box:
        box.start(copy.deepcopy(sample_value.get("data") or {}), element)
    if keep:
        db.session.flush()
    return simulation


def advance(simulation: Simulation, days: int) -> None:
    if not 1 <= days <= MAX_DAYS:
        raise SimulationError(f"Indiquez un nombre de jours entre 1 et {MAX_DAYS}.")
    if simulation.completed:
        raise SimulationError("La simulation est terminée : le processus n'attend plus rien.")
    if simulation.state_json is None:
        raise SimulationError("Le processus n'a pas pu démarrer (voir l'incident) : commencez une nouvelle simulation.")
    with sandbox(simulation) as box:
        box.advance(days)


def formdata(answers: dict) -> MultiDict:
    """What a browser would post for ``answers`` ({field: value}; a list for several values, True
    for a ticked box), with the session's CSRF token (a request context is needed)."""
    pairs = [("csrf_token", generate_csrf())]
    for name, value in (answers or {}).items():
        for each in value if isinstance(value, (list, tuple)) else [value]:
            if each is None or each is False:
                continue
            pairs.append((name, "y" if each is True else str(each)))
    return MultiDict(pairs)


def answer(simulation: Simulation, answers_by_task: dict) -> tuple[str, Outcome] | None:
    """Complete the current user task with the answers given for it (keyed by the task's element id
    or its form key; the form is pre-filled with the task data, as on the page), validated as in
    production. Returns (the task's label, outcome), or None when no task waits or none is answered."""
    with sandbox(simulation) as box:
        task = box.task()
        if task is None:
            return None
        given = answers_by_task.get(task.bpmn_id, answers_by_task.get(task.form_key))
        if given is None:
            return None
        given = dict(given)
        action = given.pop("_action", "next")
        shown = _values(box.form())  # the page as the analyst sees it: every field pre-filled
        form = box.form(formdata({**shown, **given}))
        outcome = box.submit(task, form, action)
        if not outcome.done:
            errors = "; ".join(f"{name} : {', '.join(map(str, messages))}" for name, messages in form.errors.items())
            outcome.message = f"{outcome.message} ({errors})" if errors else outcome.message
        return task.label, outcome


def log(simulation: Simulation) -> list[dict]:
    """What each step did, in order (« at »: a moment; the data also as readable JSON text)."""
    entries = json.loads(simulation.log_json or "[]")
    for entry in entries:
        entry["at"] = datetime.fromisoformat(entry["at"])
        entry["data_text"] = json.dumps(entry.get("data") or {}, ensure_ascii=False, indent=2)
        entry["answers_text"] = json.dumps(entry["answers"], ensure_ascii=False, indent=2) if entry.get("answers") else ""
    return entries


def standing(simulation: Simulation) -> dict:
    """Where the run stands: {active, completed, turn, processes: [{id, name, done, current}]}."""
    return json.loads(simulation.position_json or "{}")


def where(simulation: Simulation) -> dict:
    """Where the run stands, with each process's XML (from the simulated sources), for the viewer."""
    found = standing(simulation)
    sources = json.loads(simulation.sources_json)
    files = {}
    for name, xml in sources.items():
        for process_id in defined_processes(xml):
            files.setdefault(process_id, xml)
    for process in found.get("processes", []):
        process["xml"] = files.get(process["id"], "")
    return found


def defined_processes(xml: str) -> list[str]:
    """The ids of the processes a BPMN file defines (none for a file that is not XML)."""
    try:
        return processes.process_ids(xml)
    except processes.StudioError:
        return []


def incident(simulation: Simulation) -> dict | None:
    """The incident the run is held by (its last step failed), or None."""
    entries = json.loads(simulation.log_json or "[]")
    return entries[-1]["incident"] if entries and entries[-1].get("incident") else None


# --- scenarios: the analysts' regression suite ----------------------------------------------------

def save_scenario(simulation: Simulation, name: str) -> None:
    """Keep ``simulation`` as a scenario: its sample data, answers and clock moves, and what its steps
    did (path, statuses, mails) as what a later draft must still do."""
    name = " ".join((name or "").split())
    if not name or len(name) > 200:
        raise SimulationError("Donnez au scénario un nom (200 caractères au plus).")
    if not json.loads(simulation.log_json or "[]"):
        raise SimulationError("La simulation n'a encore rien fait : rien à garder comme scénario.")
    simulation.scenario = name


@dataclass
class Replays:
    passed: list[str]                          # names of the scenarios that did the same
    changed: list[tuple[str, list[str]]]       # (name, what changed, in French)


def replay_scenarios(files: dict[str, str] | None = None, touching: set[str] | None = None) -> Replays:
    """Replay the saved scenarios against the draft package (with ``files`` over its diagrams: the
    studio's unsaved XML); with ``touching``, only those whose run went through one of these
    processes. None is stored."""
    passed, changed = [], []
    for scenario in db.session.scalars(db.select(Simulation).where(Simulation.scenario.is_not(None))
                                       .order_by(Simulation.scenario, Simulation.id)):
        if touching is not None and not touching & {p["id"] for p in standing(scenario).get("processes", [])}:
            continue
        differences = replay(scenario, files)
        if differences:
            changed.append((scenario.scenario, differences))
        else:
            passed.append(scenario.scenario)
    return Replays(passed, changed)


def replay_file(file_name: str, xml: str | None = None) -> Replays:
    """The scenarios that go through the processes of ``file_name``, replayed with ``xml`` (the
    studio's unsaved diagram; by default its draft or deployed file) over the drafts."""
    xml = xml or processes.source(file_name)[0]
    return replay_scenarios({file_name: xml}, set(defined_processes(xml)))


def replay(scenario: Simulation, files: dict[str, str] | None = None) -> list[str]:
    """What the draft package (with ``files`` over its diagrams) does differently from ``scenario``
    (empty: the same path, statuses and mails at every step), the same sample data, answers and
    clock moves given."""
    expected = json.loads(scenario.log_json or "[]")
    actions = json.loads(scenario.actions_json or "[]")
    sources, data = draft_package()
    sources = {**sources, **(files or {})}
    try:
        again = start(scenario.process_id, json.loads(scenario.sample_json), SANDBOX, sources, data, keep=False,
                      at=datetime.fromisoformat(expected[0]["at"]) if expected else None,
                      element=actions[0].get("element") if actions else None)
        for number, action in enumerate(actions[1:], 2):
            if "advance" in action:
                advance(again, action["advance"])
                continue
            played = answer(again, {action["task"]: {**action.get("answers", {}), "_action": action.get("action", "next")}})
            if played is None or not played[1].done:
                got = json.loads(again.log_json)
                return _differences(expected[:len(got)], got) + [
                    f"étape {number} « {expected[number - 1]['label']} » : "
                    + ("cette étape n'est plus celle qui attend." if played is None else f"formulaire refusé ({played[1].message}).")]
    except SimulationError as exc:
        return [str(exc)]
    return _differences(expected, json.loads(again.log_json))


def _normalised(text: str, number: str | None) -> str:
    """A mail's text without what changes from one run to another: the request's number (taken from
    the real sequence when the step ran) and random tokens (personal deposit links)."""
    if number:
        text = text.replace(number, "{numéro}")
    return _TOKEN.sub("…", text)


_TOKEN = re.compile(r"[A-Za-z0-9_-]{24,}")


def _mails(entry: dict) -> list[tuple[str, str, str]]:
    return [(m["template"], _normalised(m["subject"], entry.get("number")), _normalised(m["body"], entry.get("number")))
            for m in entry.get("mails", [])]


def _differences(expected: list[dict], got: list[dict]) -> list[str]:
    found = []
    for number, (want, have) in enumerate(zip(expected, got), 1):
        where = f"étape {number} « {want['label']} »"
        path = [p["label"] for p in want["path"]], [p["label"] for p in have["path"]]
        if [p["id"] for p in want["path"]] != [p["id"] for p in have["path"]]:
            found.append(f"{where} : chemin « {' → '.join(path[1]) or 'aucun'} » au lieu de « {' → '.join(path[0]) or 'aucun'} ».")
        labels = [s["supplier_label"] for s in want["statuses"]], [s["supplier_label"] for s in have["statuses"]]
        if [(s["code"], s["supplier_label"]) for s in want["statuses"]] != \
                [(s["code"], s["supplier_label"]) for s in have["statuses"]]:
            found.append(f"{where} : statuts « {', '.join(labels[1]) or 'aucun'} » au lieu de « {', '.join(labels[0]) or 'aucun'} ».")
        mails = _mails(want), _mails(have)
        if mails[0] != mails[1]:
            before, after = {m[0]: m for m in mails[0]}, {m[0]: m for m in mails[1]}
            for template in sorted(set(before) | set(after)):
                if template not in after:
                    found.append(f"{where} : le courriel « {template} » n'est plus envoyé.")
                elif template not in before:
                    found.append(f"{where} : le courriel « {template} » est envoyé en plus.")
                elif before[template][1] != after[template][1]:
                    found.append(f"{where} : l'objet du courriel « {template} » est « {after[template][1]} » "
                                 f"au lieu de « {before[template][1]} ».")
                elif before[template][2] != after[template][2]:
                    found.append(f"{where} : le texte du courriel « {template} » a changé.")
        if bool(want.get("incident")) != bool(have.get("incident")):
            found.append(f"{where} : " + (f"incident « {have['incident']['reason']} »." if have.get("incident")
                                          else "l'incident attendu n'a plus lieu."))
    if len(got) < len(expected):
        found.append(f"la simulation s'arrête à l'étape {len(got)} sur {len(expected)}.")
    return found
