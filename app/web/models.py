"""Downloadable models of the documents a supplier may have to attach (the guide: « Vous avez à
disposition des modèles de document que vous pouvez télécharger »)."""
from flask import Blueprint, Response, abort

from ..services.pdf import render_pdf

bp = Blueprint("models", __name__)

#: slug → link title, for the templates that list or link the models
#: (``url_for("models.download", slug=slug)``).
MODELS = {
    "contrat-de-prestation": "Modèle contrat de prestation",
    "mandat-de-delegation": "Modèle de mandat",
    "attestation-non-hebergement":
        "Modèle d'attestation sur l'honneur de non hébergement de données de santé",
}

#: slug → (template, downloaded file name).
_FILES = {
    "contrat-de-prestation": ("pdf/model_contrat_prestation.html",
                              "modele-contrat-de-prestation-delegation-de-signature.pdf"),
    "mandat-de-delegation": ("pdf/model_mandat_delegation.html",
                             "modele-mandat-de-delegation-de-signature.pdf"),
    "attestation-non-hebergement": ("pdf/model_attestation_non_hebergement.html",
                                    "modele-attestation-non-hebergement-donnees-de-sante.pdf"),
}

# The models do not change while the process runs: each is rendered once.
_rendered: dict[str, bytes] = {}


@bp.get("/modeles/<slug>.pdf")
def download(slug):
    if slug not in _FILES:
        abort(404)
    template, file_name = _FILES[slug]
    if slug not in _rendered:
        _rendered[slug] = render_pdf(template)
    return Response(_rendered[slug], mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{file_name}"',
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=86400",
    })
