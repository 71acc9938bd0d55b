"""Fields added to a task's form without Python: declared in the process package (a form definition
named by the task's form key, edited in the studio) or in the diagram (the user task's ``fields``
property, the same JSON). One catalogue of types, one parser and checker of their definitions (used
by the package's check, the studio's editor and the builder), one builder appending them to the
task's WTForms form (``extend``, in ``forms.EXTENSIONS``), and the lines that show their values on
the recap, the PDF, the request detail and the agent's review.

A definition: ``{name: {"type": …, "label": …, "help": …, "required": bool, "show_if": expression,
"choices": {value: label}, "kind": document type}}`` (the diagram may also give a list of objects
with a ``name``). The value is kept in task data under the field's name (a document: its id, and
its name starts with ``doc_`` like every document of the request, so that it is filed with them).
"""
import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from wtforms import StringField, TextAreaField
from wtforms.fields.core import UnboundField
from wtforms.validators import Optional

from app.engine.scripting import RestrictedEnvironment, ScriptRejected, compile_checked
from app.engine.specs import all_task_specs, load_spec, properties
from app.package import document_types
from app.services import validation

from .base import REGISTRY, YES_NO, DocumentField, Radio, Select, choices
from .validators import Normalised, email, max_length, phone, required, siret

#: The catalogue of field types: code → French label (the studio's list).
TYPES = {
    "text": "Texte",
    "long_text": "Texte long",
    "number": "Nombre",
    "date": "Date",
    "choice": "Liste de choix",
    "yes_no": "Oui / Non",
    "email": "Adresse électronique",
    "phone": "Téléphone",
    "siret": "SIRET",
    "iban": "IBAN",
    "document": "Document",
}

NAME = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
NUMBER_INVALID = "Saisissez un nombre, par exemple 12 ou 12,5."
DATE_INVALID = "Saisissez une date valide au format JJ/MM/AAAA, par exemple 31/12/2026."


@dataclass(frozen=True)
class FieldDefinition:
    name: str
    type: str
    label: str
    help: str = ""
    required: bool = False
    show_if: str = ""
    choices: tuple[tuple[str, str], ...] = ()
    kind: str = ""

    def display(self, value) -> str:
        """The value as the recap shows it."""
        if self.type == "yes_no":
            return {"oui": "Oui", "non": "Non"}.get(value, str(value))
        if self.type == "choice":
            return dict(self.choices).get(value, str(value))
        if self.type == "date":
            try:
                return date.fromisoformat(value).strftime("%d/%m/%Y")
            except (TypeError, ValueError):
                return str(value)
        if self.type == "number":
            return str(value).replace(".", ",")
        return str(value)


# --- reading and checking definitions -----------------------------------------------------------

def items(raw) -> list[tuple[str, object]]:
    """(name, definition) pairs of a JSON object ``{name: {...}}`` or list ``[{"name": ...}]``."""
    if isinstance(raw, dict):
        return list(raw.items())
    if isinstance(raw, list):
        return [((item or {}).get("name", "") if isinstance(item, dict) else "", item) for item in raw]
    raise ValueError("attendu un objet ou une liste de champs")


def field_problems(name: str, raw) -> list[tuple[str, str]]:
    """What is wrong with one field definition: (property, French message) pairs."""
    if not isinstance(raw, dict):
        return [("name", "la définition du champ doit être un objet JSON.")]
    problems = []
    kind = raw.get("type")
    if not isinstance(name, str) or not NAME.match(name) or name.startswith("spiff_"):
        problems.append(("name", "nom invalide : des lettres minuscules sans accent, des chiffres et « _ », "
                                 "en commençant par une lettre (50 caractères au plus)."))
    elif kind == "document" and not name.startswith("doc_"):
        problems.append(("name", "le nom d'un champ document commence par « doc_ »."))
    elif kind != "document" and name.startswith("doc_"):
        problems.append(("name", "seul un champ document a un nom commençant par « doc_ »."))
    if kind not in TYPES:
        problems.append(("type", f"type inconnu « {kind} » (types possibles : {', '.join(TYPES)})."))
    if not str(raw.get("label") or "").strip():
        problems.append(("label", "le libellé est obligatoire."))
    if kind == "choice":
        choices = raw.get("choices")
        if not isinstance(choices, dict) or not choices:
            problems.append(("choices", "une liste de choix doit proposer au moins un choix."))
    if kind == "document" and raw.get("kind") not in {t.code for t in document_types.requestable()}:
        problems.append(("kind", f"type de document inconnu « {raw.get('kind') or ''} »."))
    show_if = raw.get("show_if") or ""
    if show_if:
        try:
            compile_checked(str(show_if), "eval")
        except ScriptRejected as exc:
            problems.append(("show_if", f"condition d'affichage refusée : {exc}"))
    return problems


def problems(raw) -> list[str]:
    """Every problem of a set of field definitions, each prefixed by the field it concerns."""
    try:
        pairs = items(raw)
    except ValueError as exc:
        return [str(exc) + "."]
    found, seen = [], set()
    for name, definition in pairs:
        if name in seen:
            found.append(f"champ « {name} » : nom en double.")
        seen.add(name)
        found += [f"champ « {name} » : {message}" for _, message in field_problems(name, definition)]
    return found


def parse(raw) -> tuple[FieldDefinition, ...]:
    """The definitions of a checked set (a definition with problems is left out)."""
    try:
        pairs = items(raw)
    except ValueError:
        return ()
    return tuple(_definition(name, d) for name, d in pairs if not field_problems(name, d))


def _definition(name: str, raw: dict) -> FieldDefinition:
    return FieldDefinition(
        name=name, type=raw["type"], label=str(raw["label"]).strip(), help=str(raw.get("help") or ""),
        required=bool(raw.get("required")), show_if=str(raw.get("show_if") or ""),
        choices=tuple((str(v), str(label)) for v, label in (raw.get("choices") or {}).items()),
        kind=str(raw.get("kind") or ""))


@lru_cache(maxsize=256)
def property_fields(source: str) -> tuple[FieldDefinition, ...]:
    """The fields of a diagram's ``fields`` property (parsed once per text)."""
    try:
        return parse(json.loads(source))
    except ValueError:
        return ()


def property_problems(source: str) -> list[str]:
    try:
        raw = json.loads(source)
    except ValueError as exc:
        return [f"la propriété « fields » n'est pas un JSON valide ({exc})."]
    return problems(raw)


def class_field_names(form_class) -> set[str]:
    """The fields a form class declares."""
    return {name for name in dir(form_class) if isinstance(getattr(form_class, name, None), UnboundField)}


def used_by_classes() -> dict[str, str]:
    """{field name: form key} of every field the form classes declare (an added field may not take
    one of those names: it would overwrite what that step keeps in task data)."""
    return {name: key for key, cls in sorted(REGISTRY.items()) for name in class_field_names(cls)}


# --- building the fields of a task ----------------------------------------------------------------

def _number(value: str):
    text = re.sub(r"[\s\u00a0]", "", str(value)).replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        raise validation.Invalid(NUMBER_INVALID) from None
    if number != number or number in (float("inf"), float("-inf")):
        raise validation.Invalid(NUMBER_INVALID)
    return int(number) if number.is_integer() and "." not in text and "e" not in text.lower() else number


def _date(value: str) -> str:
    text = str(value).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date().isoformat()
        except ValueError:
            continue
    raise validation.Invalid(DATE_INVALID)


_RULES = {
    "text": (StringField, [max_length(500)], {}),
    "long_text": (TextAreaField, [max_length(5000)], {"rows": 4}),
    "number": (StringField, [Normalised(_number)], {"inputmode": "decimal"}),
    "date": (StringField, [Normalised(_date)], {"type": "date"}),
    "email": (StringField, [email], {"type": "email", "autocomplete": "email"}),
    "phone": (StringField, [phone], {"type": "tel", "autocomplete": "tel"}),
    "siret": (StringField, [siret], {"inputmode": "numeric"}),
    "iban": (StringField, [Normalised(validation.iban)], {}),
}


def unbound(definition: FieldDefinition):
    """The WTForms field of a definition."""
    presence = [required()] if definition.required else [Optional()]
    if definition.type == "document":
        return DocumentField(definition.label, kind=definition.kind, optional=not definition.required,
                             description=definition.help)
    if definition.type == "yes_no":
        return Radio(definition.label, presence, choices=YES_NO, description=definition.help)
    if definition.type == "choice":
        return Select(definition.label, presence, choices=choices(*definition.choices), description=definition.help)
    cls, validators, render_kw = _RULES[definition.type]
    return cls(definition.label, presence + validators, description=definition.help, render_kw=render_kw or None)


def task_fields(form_key: str, task_properties: dict, pkg) -> tuple[FieldDefinition, ...]:
    """The added fields of a user task: its package definition's, then its diagram's."""
    definition = pkg["forms"].get(form_key)
    return (definition.fields if definition else ()) + property_fields(task_properties.get("fields") or "[]")


def holds(definition: FieldDefinition, data: dict) -> bool:
    """Whether the field applies to this task data. A condition that cannot be evaluated on it (a
    name not known yet) does not hold: the field is not asked."""
    if not definition.show_if:
        return True
    try:
        return bool(RestrictedEnvironment().evaluate(definition.show_if, dict(data)))
    except Exception:
        return False


def extend(task, request) -> dict:
    """``forms.EXTENSIONS``: the added fields that apply to this task, as unbound WTForms fields."""
    from app import package  # app.package imports this module (its forms section)
    return {d.name: unbound(d) for d in task_fields(task.form_key, task.properties, package.of(request.instance))
            if holds(d, task.data)}


# --- showing the values -------------------------------------------------------------------------

_known: dict[tuple, tuple[FieldDefinition, ...]] = {}


def known_fields(instance) -> tuple[FieldDefinition, ...]:
    """Every added field of the user tasks of a request's diagrams, with the labels of its own
    version (diagrams and package), computed once per version."""
    from app import package  # app.package imports this module (its forms section)
    pkg = package.of(instance)
    version = instance.process_version
    # Package objects are cached for good (app/package), so their identity names one version.
    key = (version.id, version.sha256, id(pkg))
    if key not in _known:
        spec = load_spec(version)
        found: dict[str, FieldDefinition] = {}
        for _, task_spec in all_task_specs(spec.spec, spec.subprocess_specs):
            props = properties(task_spec)
            if props.get("formKey"):
                for definition in task_fields(props["formKey"], props, pkg):
                    found.setdefault(definition.name, definition)
        _known[key] = tuple(found.values())
    return _known[key]


def lines(request, data: dict | None) -> list[tuple[str, str]]:
    """(label, value) of the added fields that have a value in ``data`` (documents are listed with
    the request's other documents)."""
    instance = getattr(request, "instance", None)  # none: a request not started by the engine
    if instance is None or not data:
        return []
    return [(d.label, d.display(data[d.name])) for d in known_fields(instance)
            if d.type != "document" and data.get(d.name) not in (None, "")]
