"""The studio's editor of form definitions (« Processus » › « Formulaires »): a definition's title, and
one field with all its properties. A field is checked by the same rules as at « Vérifier »
(``extra.field_problems``), each message under the property it concerns."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, StringField, TextAreaField

from app.package import document_types

from .base import Select, choices
from .extra import TYPES, field_problems
from .validators import max_length, required

_TYPES = choices(*TYPES.items())
_PRESENT = required()


class DefinitionForm(FlaskForm):
    key = StringField("Clé du formulaire", [required(), max_length(50)],
                      description="Le nom que la propriété « Formulaire » (formKey) d'une tâche utilisateur donne : "
                                  "lettres minuscules, chiffres et « _ ». La clé d'un formulaire existant "
                                  "(par exemple applicant) lui ajoute des champs.")
    label = StringField("Titre", [required(), max_length(200)])


class DefinitionLabelForm(FlaskForm):
    label = StringField("Titre", [required(), max_length(200)])


class FieldForm(FlaskForm):
    name = StringField("Nom technique", [_PRESENT, max_length(50)],
                       description="La clé de la valeur dans les données de la demande : lettres minuscules, chiffres "
                                   "et « _ » ; « doc_… » pour un document.")
    label = StringField("Libellé", [_PRESENT, max_length(300)])
    help = TextAreaField("Texte d'aide", [max_length(1000)], render_kw={"rows": 2})
    type = Select("Type de champ", [_PRESENT], choices=_TYPES)
    required = BooleanField("Champ obligatoire")
    show_if = StringField("Condition d'affichage", [max_length(1000)],
                          description="Une expression sur les données de la demande, par exemple "
                                      "referencing['sons_dpi'] == True. Vide : le champ est toujours demandé.")
    choices = TextAreaField("Choix proposés (liste de choix)", [max_length(5000)], render_kw={"rows": 4},
                            description="Un choix par ligne : « valeur | libellé », ou le libellé seul.")
    kind = Select("Type de document (champ document)", choices=[])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The documents a supplier may be asked to deposit, as the package defines them now.
        self.kind.choices = choices(*((t.code, t.label) for t in document_types.requestable()))

    @classmethod
    def of(cls, name: str, definition: dict, formdata=None) -> "FieldForm":
        """The form showing a stored field definition."""
        data = {"name": name, "label": definition.get("label", ""), "help": definition.get("help", ""),
                "type": definition.get("type"), "required": bool(definition.get("required")),
                "show_if": definition.get("show_if", ""), "kind": definition.get("kind"),
                "choices": "\n".join(v if v == label else f"{v} | {label}"
                                     for v, label in (definition.get("choices") or {}).items())}
        return cls(formdata=formdata, data=data)

    def definition(self) -> dict:
        """The field definition as the package stores it (empty properties left out)."""
        kind = self.type.data
        found = {"type": kind, "label": (self.label.data or "").strip()}
        for key in ("help", "show_if"):
            if (getattr(self, key).data or "").strip():
                found[key] = getattr(self, key).data.strip()
        if self.required.data:
            found["required"] = True
        if kind == "choice":
            found["choices"] = {}
            for line in (self.choices.data or "").splitlines():
                value, _, label = (part.strip() for part in line.partition("|"))
                if value:
                    found["choices"][value] = label or value
        if kind == "document":
            found["kind"] = self.kind.data
        return found

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not valid:
            return False
        for attribute, message in field_problems((self.name.data or "").strip(), self.definition()):
            getattr(self, attribute).errors.append(message[0].upper() + message[1:])
            valid = False
        return valid
