"""« Processus » › « Types de documents »: the analysts' editor of the package's document types. Each
change is saved in the section's draft; « Vérifier » and « Déployer » post to the package routes
(``processes.package_check`` / ``package_deploy``) with every other draft."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget

from .. import access, package
from ..extensions import db
from ..package import document_types
from ..services import documents

bp = Blueprint("studio_documents", __name__, url_prefix="/processus/documents")

FORMAT_LABELS = {"jpg": "JPEG (.jpg, .jpeg)", "png": "PNG (.png)", "pdf": "PDF (.pdf)"}


class TypeForm(FlaskForm):
    class Meta:
        locales = ("fr_FR", "fr")

    code = StringField("Code", description="Lettres minuscules sans accent, chiffres et « _ », par exemple "
                                           "attestation_dsr. Il ne change plus une fois le type créé.")
    label = StringField("Libellé", description="Le nom du document, tel que les fournisseurs et les agents le lisent.")
    formats = SelectMultipleField("Formats acceptés", choices=[SelectChoice(*c) for c in FORMAT_LABELS.items()],
                                  widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    max_size_mb = StringField("Taille maximale (Mo)", description="Par exemple 4 ou 2,5 ; au plus "
                                                                  f"{document_types.size_ceiling_mb():g} Mo.")
    help = TextAreaField("Texte d'aide", description="Affiché sous le champ de dépôt, avant les formats et la taille.")
    requestable = BooleanField("Déposé par les fournisseurs (proposé dans « Demander des pièces »)")

    def value(self) -> dict:
        """The type as the section stores it (the size as typed when it is no number: refused)."""
        typed = (self.max_size_mb.data or "").strip().replace(",", ".")
        try:
            size = float(typed)
            size = int(size) if size.is_integer() else size
        except ValueError:
            size = typed
        return {"label": (self.label.data or "").strip(), "formats": [f for f in documents.FORMATS if f in self.formats.data],
                "max_size_mb": size, "help": (self.help.data or "").strip(), "requestable": bool(self.requestable.data)}

    def checked(self, code: str) -> bool:
        """Put ``item_problems``' messages on the fields; True when there is none."""
        for name, message in document_types.item_problems(code, self.value()).items():
            self[name].errors = [message]
        return not self.errors


@bp.get("")
@access.require_capability("studio")
def index():
    return render_template("studio/document_types.html", types=document_types.draft_types(),
                           draft=package.section_draft(document_types.DocumentTypes.name) is not None)


def _edit(code: str | None):
    """Add (``code`` None) or change a type; saved in the draft."""
    types = document_types.draft_types()
    form = TypeForm(data=None if code is None else {**types.get(code, {}), "code": code})
    if code is not None and code not in types:
        flash(f"Le type de document « {code} » n'existe pas (ou plus) dans le brouillon.", "error")
        return redirect(url_for(".index"), code=303)
    if request.method == "POST":
        new_code = (form.code.data or "").strip() if code is None else code
        if form.validate() & form.checked(new_code):
            try:
                document_types.save(new_code, form.value(), access.current_actor(), new=code is None)
            except document_types.Refused as exc:
                form.code.errors = [str(exc)]
            else:
                db.session.commit()
                flash(f"Type « {form.value()['label']} » enregistré dans le brouillon. Vérifiez puis déployez le "
                      "paquet pour qu'il serve aux nouvelles demandes.", "success")
                return redirect(url_for(".index"), code=303)
        return render_template("studio/document_types_form.html", form=form, code=code), 422
    return render_template("studio/document_types_form.html", form=form, code=code)


@bp.route("/nouveau", methods=["GET", "POST"])
@access.require_capability("studio")
def add():
    return _edit(None)


@bp.route("/<code>", methods=["GET", "POST"])
@access.require_capability("studio")
def edit(code):
    return _edit(code)


@bp.post("/<code>/supprimer")
@access.require_capability("studio")
def delete(code):
    try:
        name = document_types.delete(code, access.current_actor())
    except document_types.Refused as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(f"Type « {name} » supprimé du brouillon.", "success")
    return redirect(url_for(".index"), code=303)
