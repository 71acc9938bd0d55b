"""What every user-task form shares: building from task data, conditional fields, documents.

A form is found by the form key that the diagram's user task names (``@register("key")``). It is
built from the task data (so going back shows what was entered), validates the posted data, stores
the uploaded files as draft documents of the request (so nothing uploaded is lost when another
field is wrong), and returns the task data to complete the task with: scalars and document ids.
"""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import RadioField, SelectField, ValidationError
from wtforms.fields.choices import SelectChoice
from wtforms.validators import StopValidation

from app.services import documents

REQUIRED = "Ce champ est obligatoire."

REGISTRY: dict[str, type["TaskForm"]] = {}


class FormUnavailable(Exception):
    """A task's form cannot be built from the package and the task data (e.g. its
    ``documentTypes`` expression fails); ``str(exc)`` is the French message to show."""


def register(form_key: str):
    def decorator(cls):
        if form_key in REGISTRY:
            raise ValueError(f"form key {form_key} registered twice")
        cls.form_key = form_key
        REGISTRY[form_key] = cls
        return cls
    return decorator


class When:
    """Makes a field apply only under a condition, and required when it applies.

    ``When("is_legal_representative", "non")`` looks at another field of the form;
    ``When(callable)`` calls ``callable(form)``. When the condition is false the field is ignored
    (no error, and its value is not kept in the task data).
    """

    field_flags = {"required": True}

    def __init__(self, condition, *values, message: str = REQUIRED):
        self.condition, self.values, self.message = condition, values, message

    def applies(self, form) -> bool:
        if callable(self.condition):
            return bool(self.condition(form))
        return form[self.condition].data in self.values

    def show_if(self) -> dict:
        """Attributes that let portal.js show the field only when it applies."""
        if callable(self.condition):
            return {}
        return {"data-show-if": f"{self.condition}={'|'.join(self.values)}"}

    def __call__(self, form, field):
        if not self.applies(form):
            field.errors[:] = []
            raise StopValidation()
        if isinstance(field, DocumentField):
            return  # DocumentField.pre_validate checks presence
        if field.data is None or field.data == [] or (isinstance(field.data, str) and not field.data.strip()):
            raise StopValidation(self.message)


_UNREAD = object()


class DocumentField(FileField):
    """A file upload that becomes a document of the request, of the type ``kind`` (a code of the
    package's document types, looked up when the form is built: its label, limits and help).

    Its task-data value is the document id. A file already deposited for this field is kept
    until the user chooses another one.
    """

    def __init__(self, label=None, validators=None, *, kind: str, optional: bool = False, **kwargs):
        from app.package import document_types  # here: the package's forms section imports this module
        self.document_type = document_types.get(kind)
        if self.document_type is None:
            raise FormUnavailable(f"Cette étape demande un type de document inconnu du portail (« {kind} ») : "
                                  "signalez-le à l'assistance.")
        kwargs.setdefault("description", self.document_type.hint)
        super().__init__(label or self.document_type.label, validators, **kwargs)
        self.kind = kind
        self.accept = self.document_type.accept
        self.optional = optional
        self._document = _UNREAD    # the document deposited for this field, if any: read when asked
        self.load_documents = None  # set by the form: reads the deposits of all its document fields
        self.upload_error = None    # why the file just posted was refused
        if not optional and not any(isinstance(v, When) for v in self.validators):
            self.flags.required = True

    @property
    def document(self):
        if self._document is _UNREAD:
            self.load_documents()
        return self._document

    @document.setter
    def document(self, value):
        self._document = value

    def pre_validate(self, form):
        if self.upload_error:
            raise StopValidation(self.upload_error)

    def post_validate(self, form, validation_stopped):
        if not validation_stopped and self.document is None and not self.optional:
            raise ValidationError(f"Veuillez joindre le document « {self.label.text} ».")


def choices(*pairs: tuple[str, str]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


YES_NO = choices(("oui", "Oui"), ("non", "Non"))


class _NoChoiceIsNotInvalid:
    """No choice made is the required-rule's business, not « invalid choice » (no double error)."""

    def pre_validate(self, form):
        if self.data not in (None, "", "None"):
            super().pre_validate(form)


class Radio(_NoChoiceIsNotInvalid, RadioField):
    pass


class Select(_NoChoiceIsNotInvalid, SelectField):
    pass


class TaskForm(FlaskForm):
    """Base of the user-task forms."""

    class Meta:
        locales = ("fr_FR", "fr")
        # Every POST's token is checked before any view by the app's CSRFProtect (the pages post
        # ``csrf_token()``); a token of the form's own would be made and checked a second time.
        csrf = False

    form_key: str = ""
    #: Label of the button that completes the task.
    submit_label = "Etape suivante"
    #: Label of the button that goes back to the previous user task.
    back_label = "Etape précédente"
    #: Fields whose value is never stored in task data (confirmations, captcha).
    transient: tuple[str, ...] = ()
    #: ``_action`` values that complete the task (« back » is handled by the engine).
    completing_actions: tuple[str, ...] = ("next",)
    #: ``_action`` values handled by ``run_local_action`` without completing the task.
    local_actions: tuple[str, ...] = ()
    #: The ``_action`` posted with the form.
    action: str = "next"
    #: The fields added by the process package or the diagram (forms/extra.py), shown after the
    #: class's own fields on every task page.
    extra_names: tuple[str, ...] = ()

    def __init__(self, task, request, formdata=None):
        self.task = task
        self.enrolment = request
        super().__init__(formdata=formdata, data=self.initial(task.data))
        fields = self.document_fields()

        def load_documents():  # one query for all the fields, when one of them is first asked
            deposited = documents.by_field(request, [field.name for field in fields])
            for field in fields:
                if field._document is _UNREAD:
                    field._document = deposited.get(field.name)

        for field in fields:
            field.load_documents = load_documents

    # --- building ---

    def initial(self, data: dict) -> dict:
        """Field values shown before the user types anything (default: the task data)."""
        return dict(data)

    def document_fields(self):
        return [f for f in self if isinstance(f, DocumentField)]

    def simulate_local_actions(self, sample, actor: str) -> None:
        """In a simulation (« Simuler »), before the form completes its task: what a person would
        have done with the form's ``local_actions``, done with the ``sample`` file
        (``documents.CheckedFile``). Nothing by default."""

    def has_files(self) -> bool:
        """Whether the form sends files (multipart)."""
        return bool(self.document_fields())

    def run_local_action(self, action: str, actor: str) -> str | None:
        """Handle one of ``local_actions``; the success message, or None with field errors."""
        raise NotImplementedError(action)

    def audit(self) -> tuple[str, str] | None:
        """(action, reason) to write to the audit trail when a staff member completes the task."""
        return None

    def event(self) -> tuple[str, dict] | None:
        """(webhook event, details of its payload) that completing the task announces to the
        integrations (``app/services/webhooks.py``); None: nothing of its own."""
        return None

    def data_fields(self):
        skip = {"csrf_token", *self.transient}
        return [f for f in self if f.name not in skip and not isinstance(f, DocumentField)]

    def condition(self, field) -> When | None:
        return next((v for v in field.validators if isinstance(v, When)), None)

    def applies(self, field) -> bool:
        condition = self.condition(field)
        return condition is None or condition.applies(self)

    def show_if(self, field) -> dict:
        condition = self.condition(field)
        return condition.show_if() if condition else {}

    # --- documents ---

    def save_uploads(self, uploaded_by: str) -> None:
        """Check and store every file posted with the form (before validation, so that a valid
        file is kept even when another field is wrong). A refused file leaves the field's
        previous document in place and records why it was refused."""
        for field in self.document_fields():
            upload = field.data
            if upload is None or not getattr(upload, "filename", ""):
                continue
            try:
                checked = documents.check_upload(upload.filename, upload.read(), field.document_type)
            except documents.UploadRejected as exc:
                field.upload_error = f"{upload.filename} : {exc}"
                continue
            if field.document is not None:
                documents.delete(field.document)
            field.document = documents.store(self.enrolment, field.kind, checked, field=field.name,
                                             uploaded_by=uploaded_by)

    # --- results ---

    def clean(self, field):
        """The value of a data field as stored in task data."""
        value = field.data
        return value.strip() if isinstance(value, str) else value

    def task_data(self) -> dict:
        """What completing the task stores: applicable values; None for what does not apply."""
        data = {}
        for field in self.data_fields():
            data[field.name] = self.clean(field) if self.applies(field) else None
        for field in self.document_fields():
            applies = self.applies(field) and field.document is not None
            data[field.name] = field.document.id if applies else None
        return data

    def draft_data(self) -> dict:
        """What the user typed, unvalidated, kept when they go back a step."""
        data = {f.name: f.data for f in self.data_fields() if isinstance(f.data, (str, bool))}
        data.update({f.name: f.document.id for f in self.document_fields() if f.document is not None})
        return data
