"""Mail templates as package data: the wording of every mail the portal sends, versioned with the
diagrams, so that a request sends the wording of the package version it started on.

Files (``mail_templates/``, reviewed and committed like code): one folder per template with
``subject.txt``, ``body.txt`` and ``body.html`` (optional), the shared layout (greeting-free frame:
footer, signature) in ``_layout.txt`` and ``_layout.html``, and ``index.json``, which gives each
template its French label and its sending context, in display order.

A **sending context** says where a mail is sent from, hence which variables it may use: the
catalogue below (``CONTEXTS``) is the one place that the senders (``outbox.enqueue`` refuses a
variable that is not declared), the check (« Vérifier », deployment) and the studio's editor (the
list shown beside the texts, the preview's sample values) read.

Templates are rendered in Jinja's sandbox (no Python internals reachable from a template, no value
changed) with ``StrictUndefined`` (a typo cannot send a mail with a hole in it); each package
version compiles a template once, on first use, and keeps it (``Mails``).
"""
import functools
import json
import re
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2 import (DictLoader, StrictUndefined, Template, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes,
                    select_autoescape)
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from .. import clock
from . import Folders, Section, current, dumps, literal, register, service_calls
from ..engine.specs import Problem


# --- the catalogue of sending contexts --------------------------------------------------------

@dataclass(frozen=True)
class Variable:
    description: str
    #: The value the studio's preview and the check's trial rendering use (a demo-like request's).
    sample: Any


@dataclass(frozen=True)
class Context:
    label: str
    variables: dict[str, Variable]
    #: The templates the portal's code sends in this context: they cannot be deleted, nor change context.
    events: tuple[str, ...] = ()


_SUBMITTED = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)

_LINKS = {
    "portal_url": Variable("Adresse du portail (sans « / » final)", "https://segurnum.asp-public.fr"),
    "assistance_url": Variable("Adresse du formulaire de l'assistance",
                               "https://segurnum.asp-public.fr/segurnum/contacter-assistance"),
}
_ACCOUNT = {
    "login": Variable("Identifiant de connexion du compte", "fournisseur.demo"),
    "first_name": Variable("Prénom du titulaire du compte", "Représentant"),
    "last_name": Variable("Nom du titulaire du compte", "LEGAL"),
    "siret": Variable("SIRET de la demande qui a ouvert le compte (absent sinon : « {% if number is defined %} »)",
                      "34866299000038"),
    "number": Variable("Numéro de la demande qui a ouvert le compte (absent sinon)", "ENR0042M0"),
    **_LINKS,
}

REQUEST = "demande"
LAYOUT = "_layout"
LAYOUT_CONTEXT = "mise_en_page"

CONTEXTS: dict[str, Context] = {
    REQUEST: Context("Demande (tâche de service « Envoi d'un courriel » d'un diagramme)", {
        "number": Variable("Numéro de la demande d'enrôlement", "ENR0042M0"),
        "siret": Variable("SIRET de l'entreprise", "34866299000038"),
        "company_name": Variable("Dénomination sociale de l'entreprise", "BEAUJOLAIS INFORMATIQUE SANTE"),
        "submitted_at": Variable("Date de dépôt (à afficher avec « |date_fr »)", _SUBMITTED),
        "status": Variable("Statut de la demande", "En cours"),
        "enrolment_type": Variable("Type d'enrôlement", "INITIAL"),
        "ans_number": Variable("Numéro ANS de la solution référencée", "JGe2DPI009"),
        "is_dpi": Variable("Vrai si la solution est un DPI du SONS", True),
        "data": Variable("Réponses du fournisseur (ex. « data.trade_name »)",
                         {"trade_name": "BIS SANTE", "siret": "34866299000038", "ans_number": "JGe2DPI009"}),
        "reason": Variable("Motif de la dernière décision de l'agent (rejet)",
                           "Le certificat de référencement n'est pas lisible."),
        "message": Variable("Message de l'agent joint à sa dernière décision",
                            "Merci de déposer un KBIS de moins de trois mois."),
        "requested_types": Variable("Pièces demandées par l'agent (libellés)", ["KBIS", "Certificat de référencement"]),
        "deposit_link": Variable("Lien personnel de dépôt (demandes et relances de pièces, quand le titulaire n'a pas "
                                 "de compte ; vide sinon)",
                                 "https://segurnum.asp-public.fr/depot/exemple"),
        "deposit_expires_at": Variable("Fin de validité du lien de dépôt (vide sans lien)", "01/04/2026 à 11:30"),
        **_LINKS,
    }),
    "compte": Context("Compte (courriels d'identifiant et d'ouverture des accès)", _ACCOUNT,
                      ("identifiant", "identifiant_oublie", "ouverture_acces")),
    "mot_de_passe": Context("Mot de passe (courriels portant un lien pour choisir le mot de passe)", {
        **_ACCOUNT,
        "link": Variable("Lien pour choisir le mot de passe", "https://segurnum.asp-public.fr/mot-de-passe/exemple"),
        "link_hours": Variable("Durée de validité du lien, en heures", "48"),
        "expires_at": Variable("Fin de validité du lien", "04/03/2026 à 10:30"),
    }, ("mot_de_passe_initialisation", "mot_de_passe_reinitialisation")),
    "antivirus": Context("Antivirus (fichier déposé écarté)", {
        "number": Variable("Numéro de la demande d'enrôlement", "ENR0042M0"),
        "file_name": Variable("Nom du fichier écarté", "kbis.pdf"),
        "document_type": Variable("Type de la pièce", "KBIS"),
        "uploaded_at": Variable("Date du dépôt (à afficher avec « |date_fr »)", _SUBMITTED),
        "threat": Variable("Nom du virus détecté", "Eicar-Signature"),
        **_LINKS,
    }, ("fichier_infecte",)),
}
#: The shared layout is rendered in every context: it may use what they all give.
CONTEXTS[LAYOUT_CONTEXT] = Context("Mise en page commune à tous les courriels", {
    name: variable for name, variable in _LINKS.items() if all(name in c.variables for c in CONTEXTS.values())})

#: Templates that the portal's code sends (or every template extends): they must exist.
REQUIRED = {LAYOUT: LAYOUT_CONTEXT, **{event: code for code, c in CONTEXTS.items() for event in c.events}}


def options() -> list[tuple[str, str]]:
    """(code, label) of the templates a diagram's « Envoi d'un courriel » may name (context
    « demande »), for the studio's properties panel."""
    items = current()["mails"].items
    return [(code, f"{item.get('label') or code} ({code})") for code, item in items.items()
            if item.get("context") == REQUEST]


def sample(context: str) -> dict:
    """The preview's values for a context (a demo-like request's)."""
    return {name: v.sample for name, v in CONTEXTS[context].variables.items()}


# --- rendering --------------------------------------------------------------------------------

#: part → (template file name, French name in messages)
PARTS = {"subject": ("subject.txt", "objet"), "text": ("body.txt", "texte"), "html": ("body.html", "HTML")}
_LAYOUT_FILES = {"text": "_layout.txt", "html": "_layout.html"}
CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,59}")


def template_name(code: str, part: str) -> str:
    return _LAYOUT_FILES[part] if code == LAYOUT else f"{code}/{PARTS[part][0]}"


def parts_of(code: str) -> tuple[str, ...]:
    return tuple(_LAYOUT_FILES) if code == LAYOUT else tuple(PARTS)


#: Bounds on what one template may build, as for the diagrams' expressions (app/engine/scripting.py):
#: an analyst's template must not exhaust the worker, the preview or « Vérifier » that renders it.
MAX_SIZE = 1_000_000     # items or characters of a value built by « * » or « + »
MAX_INT_BITS = 4096
MAX_RANGE = 1000         # items of a range() (a mail lists a request's items, not millions)
MAX_ITERATIONS = 100_000  # turns of all the loops of one rendering (nested loops multiply)


class TooBig(SecurityError):
    """A template went past a bound (the message is French)."""


def _size(value) -> int | None:
    return len(value) if isinstance(value, (str, list, tuple)) else None


#: Loop turns of the rendering under way (a one-item list), shared by the templates it includes.
_turns: ContextVar[list[int] | None] = ContextVar("mail_template_turns", default=None)
_COUNTED = "_counted_loop"


def _counted(iterable):
    """What every ``{% for %}`` of a template iterates: ``iterable``, each turn counted against
    MAX_ITERATIONS for the whole rendering (three loops of 1000 would otherwise run 10⁹ times)."""
    turns = _turns.get()
    for item in iterable:
        if turns is not None:
            turns[0] += 1
            if turns[0] > MAX_ITERATIONS:
                raise TooBig(f"plus de {MAX_ITERATIONS} tours de boucle refusés")
        yield item


class BoundedTemplate(Template):
    def render(self, *args, **kwargs) -> str:
        token = _turns.set([0])
        try:
            return super().render(*args, **kwargs)
        finally:
            _turns.reset(token)


class BoundedSandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, with « * », « ** » and « + » bounded, a short range() and a
    budget of loop turns per rendering."""

    intercepted_binops = frozenset({"*", "**", "+"})
    template_class = BoundedTemplate

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.globals["range"] = self._range
        self.globals[_COUNTED] = _counted

    def _parse(self, source, name, filename):
        """The template's tree, every loop iterating through ``_counted``."""
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Call(nodes.Name(_COUNTED, "load"), [loop.iter], [], None, None, lineno=loop.lineno)
        return tree

    @staticmethod
    def _range(*args):
        found = range(*args)
        if len(found) > MAX_RANGE:
            raise TooBig(f"range() de plus de {MAX_RANGE} éléments refusé")
        return found

    def call_binop(self, context, operator, left, right):
        ints = isinstance(left, int) and isinstance(right, int)
        if operator == "**" and ints and right > 0 and max(left.bit_length(), 1) * right > MAX_INT_BITS:
            raise TooBig(f"puissance refusée : le résultat dépasserait {MAX_INT_BITS} bits")
        if operator == "*":
            sized = _size(left) if isinstance(right, int) else _size(right) if isinstance(left, int) else None
            count = right if isinstance(right, int) else left
            if sized is not None and sized * max(count, 0) > MAX_SIZE:
                raise TooBig(f"répétition refusée : plus de {MAX_SIZE} éléments ou caractères")
            if ints and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise TooBig(f"produit refusé : le résultat dépasserait {MAX_INT_BITS} bits")
        if operator == "+" and (_size(left) or 0) + (_size(right) or 0) > MAX_SIZE:
            raise TooBig(f"concaténation refusée : plus de {MAX_SIZE} éléments ou caractères")
        return super().call_binop(context, operator, left, right)


def environment(items: dict) -> ImmutableSandboxedEnvironment:
    """A sandbox that holds the templates ``items`` ({code: item}) under their file names. Immutable:
    a template cannot change the values it is given either (``data`` is the request's own data)."""
    sources = {template_name(code, part): item.get(part) or "" for code, item in items.items() for part in parts_of(code)}
    env = BoundedSandbox(loader=DictLoader(sources), undefined=StrictUndefined,
                                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                                        lstrip_blocks=True, keep_trailing_newline=True, cache_size=-1)
    env.filters["date_fr"] = clock.date_fr
    return env


class MailError(ValueError):
    """A mail that cannot be rendered (unknown template, undeclared variable): the message is French."""


class Mails:
    """The built value of the section: the templates of one package version, each compiled on first
    use and kept as long as the version (never parsed per mail)."""

    def __init__(self, items: dict):
        self.items = items
        self.env = environment(items)

    def render(self, code: str, values: dict) -> tuple[str, str, str]:
        """(subject on one line, text, HTML or "") of template ``code`` with ``values``, which must be
        variables of the template's context."""
        item = self.items.get(code)
        if item is None or code == LAYOUT:
            raise MailError(f"le modèle de courriel « {code} » n'existe pas dans le paquet de processus.")
        undeclared = sorted(set(values) - set(CONTEXTS[item["context"]].variables))
        if undeclared:
            raise MailError(f"le courriel « {code} » reçoit des variables que son contexte « {item['context']} » "
                            f"ne déclare pas : {', '.join(undeclared)}.")
        return self.parts(code, values)

    def parts(self, code: str, values: dict) -> tuple[str, str, str]:
        """(subject on one line, text, HTML): the parts of ``code`` that have a text, rendered."""
        item = self.items[code]
        rendered = {part: self.env.get_template(template_name(code, part)).render(values)
                    for part in parts_of(code) if (item.get(part) or "").strip()}
        return " ".join(rendered.get("subject", "").split()), rendered.get("text", ""), rendered.get("html", "")


def preview(items: dict, code: str) -> dict:
    """What the studio shows for template ``code`` of ``items`` (unsaved texts), rendered in the
    sandbox with its context's sample values: {subject, text, html} or {error} (French, with the
    part and line)."""
    context = items[code].get("context")
    if context not in CONTEXTS:
        return {"error": f"Contexte d'envoi inconnu « {context} »."}
    problems = text_problems(items, code, complete=False)
    if problems:
        return {"error": sentence(problems[0].message)}
    try:
        subject, text, html = Mails(items).parts(code, sample(context))
    except (TemplateError, SecurityError, MailError) as exc:
        return {"error": sentence(_rendering_error(exc))}
    return {"subject": subject, "text": text, "html": html}


def sentence(message: str) -> str:
    """A problem's message shown on its own (it follows « Courriels / code : » in the check's lists)."""
    return message[:1].upper() + message[1:]


def new_template(label: str, context: str) -> dict:
    """What a new template starts from: the shared layout around a greeting, for the analyst to fill."""
    return {"label": label, "context": context, "subject": "",
            "text": '{% extends "_layout.txt" %}\n{% block body %}\nMadame, Monsieur,\n\n{% endblock %}\n',
            "html": '{% extends "_layout.html" %}\n{% block body %}\n<p>Madame, Monsieur,</p>\n{% endblock %}\n'}


def new_template_refusal(items: dict, code: str, label: str, context: str) -> str | None:
    """Why a new template cannot be added to ``items`` (French), None when it can."""
    if not CODE.fullmatch(code):
        return "Le code doit être fait de lettres minuscules sans accent, de chiffres et de « _ » (60 au plus)."
    if code in items:
        return f"Un courriel de code « {code} » existe déjà."
    if not label:
        return "Indiquez un libellé."
    if context not in CONTEXTS or context == LAYOUT_CONTEXT:
        return "Choisissez un contexte d'envoi."
    return None


# --- checking ---------------------------------------------------------------------------------

def _rendering_error(exc: Exception) -> str:
    if isinstance(exc, SecurityError):
        return f"accès interdit par le bac à sable des modèles ({exc})."
    if isinstance(exc, MailError):
        return str(exc)
    return f"le rendu avec l'exemple échoue ({exc})."


#: Jinja's syntax errors, as an analyst reads them (what is not listed is quoted as Jinja says it).
_SYNTAX = (
    (re.compile(r"Unexpected end of template\..*innermost block that needs to be closed is '(\w+)'", re.S),
     "le modèle se termine sans fermer le bloc « {0} » (il manque « {{% end{0} %}} »)"),
    (re.compile(r"Encountered unknown tag '(\w+)'"), "balise inconnue « {0} »"),
    (re.compile(r"unexpected end of template, expected '(.+?)'"), "le modèle se termine alors que « {0} » est attendu"),
    (re.compile(r"expected token '(.+?)', got '(.+?)'"), "« {1} » trouvé là où « {0} » est attendu"),
    (re.compile(r"unexpected '(.+?)'"), "« {0} » inattendu"),
    (re.compile(r"Expected an expression, got '(.+?)'"), "une expression est attendue, « {0} » trouvé"),
    (re.compile(r"No filter named '(.+?)'"), "filtre inconnu « {0} »"),
    (re.compile(r"No test named '(.+?)'"), "test inconnu « {0} »"),
)


def syntax_error(message: str) -> str:
    """A Jinja syntax error in French."""
    for pattern, french in _SYNTAX:
        found = pattern.search(message)
        if found:
            return "erreur de syntaxe : " + french.format(*found.groups())
    return f"erreur de syntaxe ({message})"


def _problem(code: str, message: str) -> Problem:
    return Problem(SECTION_LABEL, code, message)


def item_problems(items: dict, code: str, env: ImmutableSandboxedEnvironment | None = None) -> list[Problem]:
    """What refuses template ``code`` of ``items``: its code, label or context, then its texts
    (``text_problems``)."""
    item = items[code]
    if code != LAYOUT and not CODE.fullmatch(code):
        return [_problem(code, "code invalide : lettres minuscules sans accent, chiffres et « _ » (60 au plus).")]
    problems = [] if (item.get("label") or "").strip() else [_problem(code, "libellé manquant.")]
    context = item.get("context")
    if context not in CONTEXTS:
        return problems + [_problem(code, f"contexte d'envoi inconnu « {context} ».")]
    if code in REQUIRED and context != REQUIRED[code]:
        fixed = CONTEXTS[REQUIRED[code]].label
        return problems + [_problem(code, f"ce courriel est envoyé par le portail dans le contexte « {fixed} » : "
                                          "son contexte ne peut pas changer.")]
    return problems + text_problems(items, code, env=env)


def text_problems(items: dict, code: str, complete: bool = True,
                  env: ImmutableSandboxedEnvironment | None = None) -> list[Problem]:
    """What is wrong in the texts of template ``code`` (of a known context): a syntax error (with
    its line), a variable its context does not give, a template it extends that does not exist;
    with ``complete``, also a missing subject or text and a trial rendering with the sample values
    that fails (the sandbox refused an access, a filter failed…). ``env``: ``items``' environment,
    when the caller checks several templates."""
    item, env = items[code], env or environment(items)
    context = item["context"]
    allowed = set(CONTEXTS[context].variables)
    problems = []
    for part in parts_of(code):
        source, name = item.get(part) or "", PARTS[part][1]
        if not source.strip():
            if complete and part != "html":
                problems.append(_problem(code, f"{name} manquant."))
            continue
        try:
            tree = env.parse(source)
            template = env.get_template(template_name(code, part))  # compiling finds unknown filters and tests
        except TemplateSyntaxError as exc:
            problems.append(_problem(code, f"{name}, ligne {exc.lineno} : {syntax_error(exc.message or '')}."))
            continue
        unknown = sorted(meta.find_undeclared_variables(tree) - allowed)
        if unknown:
            plural = "s" if len(unknown) > 1 else ""
            names = ", ".join(f"« {u} »" for u in unknown)
            problems.append(_problem(code, f"{name} : variable{plural} inconnue{plural} {names} "
                                           f"(contexte « {CONTEXTS[context].label} »)."))
        missing = [t for t in meta.find_referenced_templates(tree) if t is not None and t not in env.loader.mapping]
        if missing:
            problems.append(_problem(code, f"{name} : modèle inclus inconnu « {missing[0]} »."))
        if complete and not unknown and not missing:
            try:
                template.render(sample(context))
            except UndefinedError:
                pass  # a key of the sample's data: the real request may have it
            except (TemplateError, SecurityError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
                problems.append(_problem(code, f"{name} : {_rendering_error(exc)}"))
    return problems


SECTION_LABEL = "Courriels"


# --- the section ------------------------------------------------------------------------------

INDEX = "index.json"


def _paths(root: Path, code: str) -> dict[str, Path]:
    if code == LAYOUT:
        return {part: root / name for part, name in _LAYOUT_FILES.items()}
    return {part: root / code / file for part, (file, _) in PARTS.items()}


class MailsSection(Section):
    name = "mails"
    label = SECTION_LABEL
    editor = "studio_mails.index"

    def read(self, folders: Folders) -> dict:
        """``index.json`` (labels, contexts, order), then each template's files; a folder or the
        layout missing from the index is read too (labelled by its code), so that nothing is lost."""
        root = folders.mails
        index = json.loads((root / INDEX).read_text(encoding="utf-8")) if (root / INDEX).exists() else {}
        found = [LAYOUT] if (root / _LAYOUT_FILES["text"]).exists() else []
        if root.is_dir():
            found += sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "subject.txt").exists())
        value = {}
        for code in [*index, *(c for c in found if c not in index)]:
            meta_ = index.get(code, {})
            value[code] = {"label": meta_.get("label", code), "context": meta_.get("context", REQUIRED.get(code, REQUEST))}
            for part, path in _paths(root, code).items():
                value[code][part] = path.read_text(encoding="utf-8") if path.exists() else ""
        return value

    def write(self, folders: Folders, value: dict) -> None:
        """The files ``read`` reads back; a template no longer in the package loses its files."""
        root = folders.mails
        root.mkdir(parents=True, exist_ok=True)
        (root / INDEX).write_text(dumps({c: {"label": i["label"], "context": i["context"]} for c, i in value.items()}),
                                  encoding="utf-8")
        if root.is_dir():
            for gone in [p for p in root.iterdir() if p.is_dir() and p.name not in value and (p / "subject.txt").exists()]:
                for path in _paths(root, gone.name).values():
                    path.unlink(missing_ok=True)
                if not any(gone.iterdir()):
                    gone.rmdir()
        for code, item in value.items():
            if code != LAYOUT and not CODE.fullmatch(code):
                raise ValueError(f"invalid mail template code {code!r}")
            for part, path in _paths(root, code).items():
                text = item.get(part) or ""
                if part == "html" and not text:
                    path.unlink(missing_ok=True)
                    continue
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8", newline="")

    def build(self, value: dict, package) -> Mails:
        return Mails(value)

    def check(self, package, processes: dict[str, tuple]) -> list[Problem]:
        items = package.data[self.name]
        problems = list(_templates_problems(json.dumps(items, sort_keys=True)))
        for file, element, params in service_calls(processes, "mail.send"):
            code = literal(params.get("template", ""))
            if code is None:
                continue  # an expression: checked when it runs
            if code not in items or code == LAYOUT:
                problems.append(Problem(file, element, f"le modèle de courriel « {code} » n'existe pas."))
            elif items[code].get("context") != REQUEST:
                problems.append(Problem(file, element, f"le modèle de courriel « {code} » n'est pas un courriel de "
                                                       "demande : la tâche « Envoi d'un courriel » ne peut pas l'envoyer."))
        return problems


@functools.lru_cache(maxsize=8)
def _templates_problems(items_json: str) -> tuple[Problem, ...]:
    """What refuses the templates themselves, given as JSON: the answer depends on their texts
    alone, so checking a package whose mails did not change (« Vérifier », a deployment of
    another section, every start) does not compile them all again."""
    items = json.loads(items_json)
    env = environment(items)
    return (*(p for code in items for p in item_problems(items, code, env)),
            *(_problem(code, "ce courriel est envoyé par le portail : il ne peut pas être supprimé.")
              for code in REQUIRED if code not in items))


register(MailsSection())
