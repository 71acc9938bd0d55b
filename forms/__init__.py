"""User-task forms, one WTForms class per form key that the diagrams name.

Importing this package registers every form; ``build`` returns the form a ready task names.
"""
from .base import REGISTRY, DocumentField, FormUnavailable, TaskForm, When, register
from . import applicant, asked_documents, bank, complementary, confirmation, instruction, referencing, vat  # noqa: F401,E402
from . import extra  # noqa: E402


class UnknownForm(LookupError):
    pass


def form_class(form_key: str) -> type[TaskForm]:
    try:
        return REGISTRY[form_key]
    except KeyError:
        raise UnknownForm(form_key) from None


#: Functions ``extend(task, request) -> {field name: unbound field}`` that add fields to a task's form
#: (what the process package declares for that task), applied in order by ``build``.
EXTENSIONS: list = [asked_documents.asked_documents, extra.extend]


def build(task, request, formdata=None) -> TaskForm:
    """The form of a ready task: the class its form key names, with the fields the package adds; a
    key that names no class (deployment checks that the package defines it) gets the generic
    ``TaskForm`` with those fields alone."""
    added = {}
    for extend in EXTENSIONS:
        added.update(extend(task, request))
    base = REGISTRY.get(task.form_key, TaskForm)
    cls = type(base.__name__, (base,), {**added, "extra_names": tuple(added)}) if added else base
    return cls(task, request, formdata=formdata)


__all__ = ["EXTENSIONS", "REGISTRY", "DocumentField", "FormUnavailable", "TaskForm", "UnknownForm", "When", "build", "form_class", "register"]
