"""« Processus » › « Formulaires »: the form definitions of the process package (fields added to a
step without Python). Every change is saved in the package's draft; « Vérifier » and « Déployer »
post to the package routes (processes.package_check / package_deploy) and come back here."""
from flask import Blueprint, flash, redirect, render_template, request, url_for

from forms.field_editor import DefinitionForm, DefinitionLabelForm, FieldForm
from forms.extra import TYPES

from .. import access
from ..package import section_draft
from ..extensions import db
from ..services import form_definitions
from ..services.processes import StudioError

bp = Blueprint("studio_forms", __name__, url_prefix="/processus/formulaires")


@bp.errorhandler(StudioError)
def _refused(error):
    flash(str(error), "error")
    key = (request.view_args or {}).get("key")
    target = url_for(".definition", key=key) if key and key in form_definitions.definitions() else url_for(".index")
    return redirect(target, code=303)


def _done(message: str, key: str | None = None):
    db.session.commit()
    flash(message, "success")
    return redirect(url_for(".definition", key=key) if key else url_for(".index"), code=303)


@bp.route("", methods=["GET", "POST"])
@access.require_capability("studio")
def index():
    form = DefinitionForm()
    if form.validate_on_submit():
        key = form.key.data.strip()
        form_definitions.add(key, form.label.data.strip(), access.current_actor())
        return _done(f"Formulaire « {key} » ajouté au brouillon du paquet : ajoutez-lui des champs.", key)
    status = 422 if form.errors else 200
    return render_template("studio/forms.html", form=form, definitions=form_definitions.definitions(),
                           class_keys=form_definitions.class_keys(), types=TYPES,
                           draft=section_draft("forms")), status


@bp.route("/<key>", methods=["GET", "POST"])
@access.require_capability("studio")
def definition(key):
    found = form_definitions.definition(key)
    label_form = _label_form(found)
    if label_form.validate_on_submit():
        form_definitions.rename(key, label_form.label.data.strip(), access.current_actor())
        return _done("Titre du formulaire enregistré dans le brouillon.", key)
    return _definition_page(key, found, label_form, FieldForm(formdata=None), 422 if label_form.errors else 200)


def _label_form(found, **kwargs):
    """The title's form (prefixed: the page's other form has a « label » too)."""
    return DefinitionLabelForm(prefix="definition", data={"label": found.get("label", "")}, **kwargs)


def _definition_page(key, found, label_form, field_form, status=200):
    return render_template("studio/forms_definition.html", key=key, definition=found, label_form=label_form,
                           field_form=field_form, types=TYPES,
                           is_class=key in form_definitions.class_keys()), status


@bp.post("/<key>/supprimer")
@access.require_capability("studio")
def remove(key):
    form_definitions.remove(key, access.current_actor())
    return _done(f"Formulaire « {key} » retiré du brouillon du paquet.")


def _save_field(key, old_name, field_form):
    """Validate and save the posted field; the page again with the reasons when refused."""
    if field_form.validate_on_submit():
        name = field_form.name.data.strip()
        refusal = form_definitions.save_field(key, old_name, name, field_form.definition(), access.current_actor())
        if refusal is None:
            return _done(f"Champ « {field_form.label.data.strip()} » enregistré dans le brouillon.", key)
        field_form.name.errors.append(refusal)
    return None


@bp.post("/<key>/champs")
@access.require_capability("studio")
def add_field(key):
    found = form_definitions.definition(key)
    field_form = FieldForm()
    return _save_field(key, None, field_form) or _definition_page(
        key, found, _label_form(found, formdata=None), field_form, 422)


@bp.route("/<key>/champs/<name>", methods=["GET", "POST"])
@access.require_capability("studio")
def field(key, name):
    fields = form_definitions.definition(key).get("fields") or {}
    if name not in fields:
        raise StudioError(f"Le champ « {name} » n'existe pas dans le formulaire « {key} ».")
    field_form = FieldForm.of(name, fields[name], formdata=request.form if request.method == "POST" else None)
    if request.method == "POST":
        saved = _save_field(key, name, field_form)
        if saved:
            return saved
    return render_template("studio/forms_field.html", key=key, name=name, field_form=field_form,
                           types=TYPES), 422 if field_form.errors else 200


@bp.post("/<key>/champs/<name>/supprimer")
@access.require_capability("studio")
def remove_field(key, name):
    form_definitions.remove_field(key, name, access.current_actor())
    return _done(f"Champ « {name} » retiré du brouillon.", key)


@bp.post("/<key>/champs/<name>/deplacer")
@access.require_capability("studio")
def move_field(key, name):
    offset = {"haut": -1, "bas": 1}.get(request.form.get("sens", ""))
    if offset is None:
        raise StudioError("Sens de déplacement inconnu.")
    form_definitions.move_field(key, name, offset, access.current_actor())
    return _done(f"Champ « {name} » déplacé.", key)
