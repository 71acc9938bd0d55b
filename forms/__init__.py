"""User-task forms, one WTForms class per form key that the diagrams name.

Importing this package registers every form; ``build`` returns the form a ready task names.
"""
from .base import REGISTRY, DocumentField, TaskForm, When, register
from . import applicant, bank, complementary, confirmation, instruction, referencing, vat  # noqa: F401,E402


class UnknownForm(LookupError):
    pass


def form_class(form_key: str) -> type[TaskForm]:
    try:
        return REGISTRY[form_key]
    except KeyError:
        raise UnknownForm(form_key) from None


def build(task, request, formdata=None) -> TaskForm:
    return form_class(task.form_key)(task, request, formdata=formdata)


__all__ = ["REGISTRY", "DocumentField", "TaskForm", "UnknownForm", "When", "build", "form_class", "register"]
