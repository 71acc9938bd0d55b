"""« Courriels » in the studio: analysts edit the mail templates of the process package (label,
sending context, subject, text and HTML bodies) as a draft of its ``mails`` section, see each one
rendered with a sample request as they type (``mail_editor.js`` posts to the preview), then
« Vérifier » and « Déployer » the package (``processes.package_check`` / ``package_deploy``)."""
import copy

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for

from .. import access, package
from ..extensions import db
from ..package.mails import (CONTEXTS, LAYOUT, LAYOUT_CONTEXT, REQUEST, REQUIRED, item_problems, new_template,
                             new_template_refusal, preview, sentence)

bp = Blueprint("studio_mails", __name__, url_prefix="/processus/courriels")

SECTION = "mails"

#: The contexts a template may choose (the layout's is its own).
CHOICES = {c: v for c, v in CONTEXTS.items() if c != LAYOUT_CONTEXT}


def _items() -> dict:
    """The templates to edit (the draft's, else the current package's), a copy: the current package's
    value is shared by every request of this process and must not change."""
    return copy.deepcopy(package.draft_value(SECTION))


def _has_draft() -> bool:
    return package.section_draft(SECTION) is not None


def _save(items: dict) -> None:
    package.save_section_draft(SECTION, items, access.current_actor())
    db.session.commit()


def _posted(code: str, item: dict) -> dict:
    """Template ``code`` as the editor's form posts it (unsaved texts are kept as typed)."""
    fields = ("label", "context", *(("text", "html") if code == LAYOUT else ("subject", "text", "html")))
    return {**item, **{name: request.form.get(name, item.get(name, "")).replace("\r\n", "\n") for name in fields}}


def _index(posted=None, status: int = 200):
    return render_template("studio/mails.html", items=_items(), contexts=CONTEXTS, has_draft=_has_draft(),
                           new_contexts=CHOICES, request_context=REQUEST, posted=posted), status


@bp.get("")
@access.require_capability("studio")
def index():
    return _index()


@bp.post("")
@access.require_capability("studio")
def add():
    """« Ajouter un courriel »: a new template (code, label, context) in the draft, then its editor."""
    code, label, context = (request.form.get(n, "").strip() for n in ("code", "label", "context"))
    items = _items()
    refusal = new_template_refusal(items, code, label, context)
    if refusal:
        flash(refusal, "error")
        return _index(request.form, 422)
    _save({**items, code: new_template(label, context)})
    flash(f"Courriel « {label} » ajouté au brouillon : rédigez son objet et son texte.", "success")
    return redirect(url_for(".edit", code=code), code=303)


def _editor(code: str, items: dict):
    return render_template("studio/mails_edit.html", code=code, item=items[code], contexts=CONTEXTS, choices=CHOICES,
                           required=REQUIRED.get(code), has_draft=_has_draft(), layout=code == LAYOUT,
                           preview=preview(items, code))


@bp.get("/<code>")
@access.require_capability("studio")
def edit(code):
    items = _items()
    if code not in items:
        flash(f"Aucun courriel de code « {code} » dans le paquet de processus ni dans le brouillon.", "error")
        return redirect(url_for(".index"), code=303)
    return _editor(code, items)


@bp.post("/<code>")
@access.require_capability("studio")
def save(code):
    """« Enregistrer le brouillon »: saved as typed, with what « Vérifier » will say of it."""
    items = _items()
    if code not in items:
        flash(f"Aucun courriel de code « {code} » dans le paquet de processus ni dans le brouillon.", "error")
        return redirect(url_for(".index"), code=303)
    items[code] = _posted(code, items[code])
    _save(items)
    problems = item_problems(items, code)
    flash("Brouillon enregistré." + (" À corriger avant de déployer :" if problems else ""),
          "warning" if problems else "success")
    for problem in problems:
        flash(sentence(problem.message), "error")
    return redirect(url_for(".edit", code=code), code=303)


@bp.post("/<code>/supprimer")
@access.require_capability("studio")
def delete(code):
    items = _items()
    if code in REQUIRED:
        flash("Ce courriel est envoyé par le portail : il ne peut pas être supprimé.", "error")
        return redirect(url_for(".edit", code=code), code=303)
    label = items.pop(code, {}).get("label", code)
    _save(items)
    flash(f"Courriel « {label} » supprimé du brouillon. « Vérifier » dit si un diagramme l'envoie encore.", "success")
    return redirect(url_for(".index"), code=303)



@bp.post("/apercu")
@access.require_capability("studio")
def render_preview():
    """The posted (unsaved) texts rendered in the sandbox with a sample request: {subject, text, html}
    or {error} (French, with the part and the line)."""
    code = request.form.get("code", "")
    items = _items()
    item = _posted(code, items.get(code, {"label": code, "context": REQUEST}))
    return jsonify(preview({**items, code: item}, code))
