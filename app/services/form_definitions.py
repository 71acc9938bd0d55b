"""Editing the form definitions of the process package (the ``forms`` section) in the studio: every
change is saved in the section's draft, deployed with the other drafts by « Déployer »."""
from copy import deepcopy

import forms
from forms import extra

from .. import package
from ..package.forms import FORMS, KEY
from .processes import StudioError

SECTION = FORMS.name


def definitions() -> dict:
    """{key: definition} as the draft (or the deployed package) holds them: a copy, to change."""
    return deepcopy(package.draft_value(SECTION))


def class_keys() -> list[str]:
    """The form keys that name a Python form class (their definition, if any, adds fields to it)."""
    return sorted(forms.REGISTRY)


def definition(key: str) -> dict:
    found = definitions().get(key)
    if found is None:
        raise StudioError(f"Le formulaire « {key} » n'est pas défini dans le paquet.")
    return found


def _save(value: dict, author: str) -> None:
    package.save_section_draft(SECTION, value, author)


def add(key: str, label: str, author: str) -> None:
    value = definitions()
    if not KEY.match(key):
        raise StudioError("Clé de formulaire invalide : des lettres minuscules sans accent, des chiffres et « _ », "
                          "en commençant par une lettre.")
    if key in value:
        raise StudioError(f"Le formulaire « {key} » est déjà défini.")
    value[key] = {"label": label, "fields": {}}
    _save(value, author)


def rename(key: str, label: str, author: str) -> None:
    value = definitions()
    definition(key)  # raises when unknown
    value[key] = {**value[key], "label": label}
    _save(value, author)


def remove(key: str, author: str) -> None:
    value = definitions()
    definition(key)
    del value[key]
    _save(value, author)


def save_field(key: str, old_name: str | None, name: str, field: dict, author: str) -> str | None:
    """Add a field (``old_name`` None) or replace one, in place; the French reason why the name
    cannot be used, or None once saved."""
    value = definitions()
    fields = dict(definition(key).get("fields") or {})
    if old_name is not None and old_name not in fields:
        raise StudioError(f"Le champ « {old_name} » n'existe pas dans le formulaire « {key} ».")
    if name != old_name and name in fields:
        return f"Le formulaire a déjà un champ « {name} »."
    taken = extra.used_by_classes()
    if name in taken:
        return f"Ce nom est celui d'un champ du formulaire « {taken[name]} » : choisissez-en un autre."
    if old_name is None:
        fields[name] = field
    else:
        fields = {(name if n == old_name else n): (field if n == old_name else f) for n, f in fields.items()}
    value[key] = {**value[key], "fields": fields}
    _save(value, author)
    return None


def remove_field(key: str, name: str, author: str) -> None:
    value = definitions()
    fields = dict(definition(key).get("fields") or {})
    fields.pop(name, None)
    value[key] = {**value[key], "fields": fields}
    _save(value, author)


def move_field(key: str, name: str, offset: int, author: str) -> None:
    """Move a field ``offset`` places (-1: up, 1: down) in the form's order."""
    value = definitions()
    names = list(definition(key).get("fields") or {})
    if name not in names:
        raise StudioError(f"Le champ « {name} » n'existe pas dans le formulaire « {key} ».")
    index = names.index(name)
    target = min(max(index + offset, 0), len(names) - 1)
    names.insert(target, names.pop(index))
    fields = value[key]["fields"]
    value[key] = {**value[key], "fields": {n: fields[n] for n in names}}
    _save(value, author)
