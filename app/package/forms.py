"""The ``forms`` section: form definitions edited in the studio, keyed by form key,
``{key: {"label": …, "fields": {name: {...}}}}`` (fields: see forms/extra.py).

A user task's form is the class its form key names (if any) plus the definition of that key plus the
fields of its diagram's ``fields`` property; a key that names only a definition needs no class. The
check sees the whole package, so it also owns the rule that every user task names a known form.
"""
import re
from dataclasses import dataclass


from . import Problem, Section, current, properties, register, task_specs


def _forms():
    """The forms package, imported when first needed: it imports the app's services, which import
    this package."""
    import forms
    import forms.extra  # noqa: F401
    return forms

KEY = re.compile(r"^[a-z][a-z0-9_]{0,49}$")


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    fields: tuple  # of forms.extra.FieldDefinition


class Forms(Section):
    name = "forms"
    label = "Formulaires"
    editor = "studio_forms.index"

    def build(self, value, package) -> dict[str, Definition]:
        return {key: Definition(key, str(item.get("label") or key), _forms().extra.parse(item.get("fields") or {}))
                for key, item in value.items() if isinstance(item, dict)}

    def check(self, package, processes) -> list[Problem]:
        definitions = package.data[self.name]
        problems = []
        taken = _forms().extra.used_by_classes()
        for key, item in definitions.items():
            problems += [self.problem(key, message) for message in self.definition_problems(key, item, taken)]
        deployed = current().data[self.name]
        for file, task_spec in task_specs(processes):
            props = properties(task_spec)
            key = props.get("formKey")
            if not key:
                continue

            def problem(message, _file=file, _element=task_spec.bpmn_id):
                problems.append(Problem(_file, _element, message))

            if key not in _forms().REGISTRY and key not in definitions:
                problem(f"le formulaire « {key} » est utilisé par cette tâche : sa définition ne peut pas être "
                        "supprimée." if key in deployed else f"formulaire inconnu « {key} ».")
            if "fields" not in props:
                continue
            found = _forms().extra.property_problems(props["fields"])
            problems += [Problem(file, task_spec.bpmn_id, f"propriété « fields », {m}") for m in found]
            if found:
                continue
            own = {d.name for d in _forms().extra.property_fields(props["fields"])}
            defined = set((definitions.get(key) or {}).get("fields") or {})
            for name in sorted(own):
                if name in defined:
                    problem(f"le champ « {name} » est déclaré à la fois par le diagramme et par la définition « {key} ».")
                elif name in taken:
                    problem(f"le champ « {name} » porte le nom d'un champ du formulaire « {taken[name]} ».")
        return problems

    @staticmethod
    def definition_problems(key: str, item, taken: dict[str, str] | None = None) -> list[str]:
        """What refuses one definition (French messages)."""
        if not KEY.match(key):
            return ["nom de formulaire invalide : des lettres minuscules sans accent, des chiffres et « _ », "
                    "en commençant par une lettre."]
        if not isinstance(item, dict):
            return ["la définition doit être un objet JSON."]
        problems = [] if str(item.get("label") or "").strip() else ["le titre du formulaire est obligatoire."]
        fields = item.get("fields") or {}
        if not fields:
            problems.append("le formulaire doit avoir au moins un champ.")
        problems += _forms().extra.problems(fields)
        taken = _forms().extra.used_by_classes() if taken is None else taken
        for name, _ in _forms().extra.items(fields) if isinstance(fields, (dict, list)) else ():
            if name in taken:
                problems.append(f"champ « {name} » : ce nom est celui d'un champ du formulaire « {taken[name]} ».")
        return problems


FORMS = register(Forms())
