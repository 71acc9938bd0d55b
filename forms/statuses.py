"""The studio's status form (« Processus » › « Statuts »): one status of the process package
(app/package/statuses.py says what each field means). Not a user-task form."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField, ValidationError

from app.package import statuses

from .base import Radio, Select, choices
from .validators import max_length, required


class StatusForm(FlaskForm):
    code = StringField("Code", [required("Indiquez le code du statut."), max_length(60)],
                       description="Identifiant stable que les diagrammes donnent au service « Changement de statut » : "
                                   "lettres minuscules sans accent, chiffres et tirets bas, par exemple en_expertise.")
    supplier_label = StringField("Libellé pour les fournisseurs",
                                 [required("Indiquez le libellé que lisent les fournisseurs."), max_length(120)])
    agent_label = StringField("Libellé pour les agents",
                              [required("Indiquez le libellé que lisent les gestionnaires de l'ASP."), max_length(120)])
    description = TextAreaField("Explication pour les fournisseurs", [max_length(500)],
                                description="Affiché dans la foire aux questions, « Que signifient les statuts de ma "
                                            "demande ? », après le libellé, par exemple : vous devez fournir des "
                                            "justificatifs complémentaires.")
    badge = Select("Couleur du badge", [required("Choisissez la couleur du badge.")],
                   choices=choices(*statuses.BADGES.items()))
    acts = Radio("Qui doit agir ?", [required("Indiquez qui doit agir quand la demande a ce statut.")],
                 choices=choices(*statuses.ACTORS.items()),
                 description="« L'Agence » : les demandes à ce statut sont dans la liste « À instruire » des agents.")
    actions = SelectMultipleField("Actions proposées au fournisseur",
                                  choices=choices(*[(code, action.label) for code, action in statuses.ACTIONS.items()]),
                                  description="Les liens de sa liste de demandes et de la page de la demande.")
    final = BooleanField("Statut final : la demande est close")
    validation = BooleanField("Enregistre une validation par un agent (date de première validation)")
    outcome = Select("Issue pour les règles d'enrôlement", [required("Choisissez l'issue du statut.")], choices=choices(*statuses.OUTCOMES.items()),
                     description="« Rejetée » libère le numéro ANS ; « Validée » ouvre les demandes d'avance ; "
                                 "« Validée partiellement » les retient jusqu'à la finalisation.")

    def __init__(self, *args, taken: tuple[str, ...] = (), editing: str | None = None, **kwargs):
        """``taken``: the codes of the other statuses; ``editing``: the code of the status edited
        (a code is stable: it is not changed once given)."""
        super().__init__(*args, **kwargs)
        self.taken, self.editing = taken, editing
        if editing is not None:
            self.code.data = editing

    def validate_code(self, field):
        if self.editing is not None:
            return
        if not statuses.CODE_FORMAT.match(field.data or ""):
            raise ValidationError("Le code ne doit contenir que des lettres minuscules sans accent, des chiffres et des "
                                  "tirets bas (_), et commencer par une lettre, par exemple en_expertise.")
        if field.data in self.taken:
            raise ValidationError(f"Un statut a déjà le code « {field.data} » : choisissez-en un autre.")

    def validate_validation(self, field):
        if field.data and self.outcome.data not in ("partial", "validated"):
            raise ValidationError("Un statut qui enregistre une validation a pour issue « Validée » ou « Validée "
                                  "partiellement, à finaliser ».")

    def item(self) -> dict:
        """The status as the package data holds it."""
        return statuses.Status(self.code.data, self.supplier_label.data.strip(), self.agent_label.data.strip(),
                               self.badge.data, self.acts.data, tuple(self.actions.data or ()), self.final.data,
                               self.validation.data, self.outcome.data or "none",
                               (self.description.data or "").strip()).as_item()

    @classmethod
    def of(cls, code: str, item: dict, **kwargs) -> "StatusForm":
        return cls(data=statuses.Status.from_item(code, item).as_item(), editing=code, **kwargs)
