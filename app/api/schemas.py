"""What the API reads and answers (marshmallow): the OpenAPI document is generated from these, with
their French descriptions and examples."""
import base64
import binascii
from datetime import datetime

import marshmallow as ma
from flask_smorest.fields import Upload

from ..models.request import TYPES
from ..package import statuses
from ..services import listing

INVALID_DATE = "Date invalide : format AAAA-MM-JJ attendu (par exemple 2026-12-01)."


def _known_status(code: str) -> None:
    if code not in listing.submitted_statuses():
        raise ma.ValidationError("Statut inconnu. Statuts possibles : " + ", ".join(listing.submitted_statuses()) + ".")


class Cursor(ma.fields.String):
    """The opaque position after which the next page starts: (submitted_at, id) of the last row
    of the previous page, encoded; the client gives it back as it is."""

    default_error_messages = {"invalid": "Curseur invalide : reprenez la valeur « next_cursor » d'une page "
                                         "précédente, telle quelle."}

    @staticmethod
    def encode(submitted_at: datetime, row_id: int) -> str:
        raw = f"{submitted_at.isoformat()}|{row_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            moment, row_id = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode().split("|")
            moment = datetime.fromisoformat(moment)
            if moment.tzinfo is None:
                raise ValueError
            return moment, int(row_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise self.make_error("invalid") from None


class RequestFilters(ma.Schema):
    status = ma.fields.String(validate=_known_status, metadata={
        "description": "Le code du statut (par exemple « in_progress »). Voir les statuts du processus déployé.",
        "example": "in_progress"})
    type = ma.fields.String(validate=ma.validate.OneOf(TYPES, error="Type d'enrôlement inconnu. Types possibles : "
                                                                    + ", ".join(TYPES) + "."),
                            metadata={"description": "Le type d'enrôlement.", "example": "INITIAL"})
    siret = ma.fields.String(validate=ma.validate.Regexp(r"^[0-9]{14}$", error="Le SIRET compte 14 chiffres."),
                             metadata={"description": "Le SIRET du fournisseur (14 chiffres).",
                                       "example": "81245367800011"})
    deposited_from = ma.fields.Date(error_messages={"invalid": INVALID_DATE}, metadata={
        "description": "Déposées à partir de ce jour inclus (heure de Paris).", "example": "2026-11-01"})
    deposited_to = ma.fields.Date(error_messages={"invalid": INVALID_DATE}, metadata={
        "description": "Déposées jusqu'à ce jour inclus (heure de Paris).", "example": "2026-11-30"})
    cursor = Cursor(metadata={"description": "La page suivante : la valeur « next_cursor » de la page précédente "
                                             "(opaque). Absent : la première page."})
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(
        min=1, max=100, error="La limite est un entier de 1 à 100."),
        error_messages={"invalid": "La limite est un entier de 1 à 100."},
        metadata={"description": "Le nombre de demandes par page (100 au plus).", "example": 20})

    @ma.validates_schema
    def _ordered_dates(self, data, **kwargs):
        first, last = data.get("deposited_from"), data.get("deposited_to")
        if first and last and first > last:
            raise ma.ValidationError("La date de fin précède la date de début.", "deposited_to")


class RequestSchema(ma.Schema):
    number = ma.fields.String(metadata={"description": "Le numéro de la demande.", "example": "ENR0601M0"})
    status = ma.fields.String(metadata={"description": "Le code de son statut.", "example": "in_progress"})
    status_label = ma.fields.Function(lambda r: statuses.of(r.status).label(staff=True), metadata={
        "type": "string", "description": "Le libellé de son statut (celui des agents).", "example": "En cours"})
    type = ma.fields.String(attribute="enrolment_type", metadata={"description": "Le type d'enrôlement.",
                                                                    "example": "INITIAL"})
    siret = ma.fields.String(metadata={"description": "Le SIRET du fournisseur.", "example": "81245367800011"})
    company_name = ma.fields.String(allow_none=True, metadata={"description": "La dénomination sociale.",
                                                               "example": "EDITEUR SANTE SAS"})
    ans_number = ma.fields.String(allow_none=True, metadata={"description": "Le n° unique de référencement (ANS).",
                                                             "example": "JGe2DPI009"})
    profile = ma.fields.String(allow_none=True, metadata={"description": "Le profil référencé.",
                                                          "example": "Général, Stockage"})
    dsr = ma.fields.String(allow_none=True, metadata={"description": "Le DSR concerné.", "example": "Hôpital"})
    submitted_at = ma.fields.AwareDateTime(metadata={"description": "La date de dépôt (UTC).",
                                                     "example": "2026-12-01T09:30:00+00:00"})
    status_changed_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "Le dernier changement de statut (UTC)."})
    validated_at = ma.fields.AwareDateTime(allow_none=True, metadata={
        "description": "La première validation, complète ou partielle (UTC)."})


class RequestPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(RequestSchema), metadata={
        "description": "Les demandes de la page, les plus récemment déposées d'abord."})
    next_cursor = ma.fields.String(allow_none=True, metadata={
        "description": "À passer en paramètre « cursor » pour la page suivante ; null sur la dernière page.",
        "example": "MjAyNi0xMi0wMVQwOTozMDowMCswMDowMHw0Mg"})


class HistoryLineSchema(ma.Schema):
    at = ma.fields.AwareDateTime(metadata={"description": "Quand (UTC).", "example": "2026-12-01T09:30:00+00:00"})
    actor = ma.fields.String(metadata={"description": "Qui.", "example": "Agent Démo (agent.demo)"})
    action = ma.fields.String(metadata={"description": "Quoi.", "example": "Demande déposée"})
    detail = ma.fields.String(metadata={"description": "Le détail ou le motif.", "example": ""})


class DocumentFilters(ma.Schema):
    current = ma.fields.Boolean(load_default=False, truthy={"true", "1"}, falsy={"false", "0"},
                                error_messages={"invalid": "« current » vaut true ou false."},
                                metadata={"description": "true : seulement la version actuelle de chaque type de pièce "
                                                         "(sans les fichiers remplacés depuis).", "example": True})


class DocumentSchema(ma.Schema):
    """A filed document, as one of the versions of its type (``services.verdicts.Version``)."""
    id = ma.fields.Integer(attribute="document.id", metadata={
        "description": "L'identifiant du document (pour le télécharger).", "example": 12})
    kind = ma.fields.String(attribute="document.kind", metadata={"description": "Le code de son type.", "example": "rib"})
    kind_label = ma.fields.String(attribute="document.label", metadata={"description": "Le libellé de son type.",
                                                                        "example": "RIB"})
    name = ma.fields.String(attribute="document.original_name", metadata={
        "description": "Le nom du fichier déposé.", "example": "rib.pdf"})
    size = ma.fields.Integer(attribute="document.size", metadata={"description": "Sa taille en octets.", "example": 20480})
    content_type = ma.fields.String(attribute="document.content_type", metadata={
        "description": "Son type MIME.", "example": "application/pdf"})
    sha256 = ma.fields.String(attribute="document.sha256", metadata={"description": "L'empreinte SHA-256 de son contenu."})
    uploaded_at = ma.fields.AwareDateTime(attribute="document.uploaded_at", metadata={
        "description": "Quand il a été déposé (UTC)."})
    scan_status = ma.fields.String(attribute="document.scan_status", allow_none=True, metadata={
        "description": "L'analyse antivirus : pending (en cours), clean (sain), infected (infecté, écarté), "
                       "null (non analysé : antivirus désactivé, ou document produit par le portail).",
        "example": "clean"})
    downloadable = ma.fields.Boolean(attribute="document.downloadable", metadata={
        "description": "Téléchargeable : ni en attente d'analyse, ni infecté.", "example": True})
    version = ma.fields.Integer(attribute="number", metadata={
        "description": "Le numéro de version de la pièce de ce type : 1 pour le premier dépôt ; les fichiers "
                       "d'un type déposés ensemble (recto et verso) sont une même version.", "example": 1})
    current = ma.fields.Boolean(metadata={
        "description": "De la version actuelle de son type (false : remplacé par un dépôt plus récent).",
        "example": True})


class ImportFileSchema(ma.Schema):
    file = Upload(required=True, error_messages={"required": "Joignez le fichier CSV (champ « file »)."},
                  metadata={"description": "L'annuaire des référencements : CSV UTF-8 séparé par des points-virgules, "
                                           "colonnes ans_number;software_name;software_version;dsr;profile;"
                                           "validated;sons_dpi;editor_siren."})


class ImportReportSchema(ma.Schema):
    created = ma.fields.Integer(metadata={"description": "Référencements créés.", "example": 3})
    updated = ma.fields.Integer(metadata={"description": "Référencements mis à jour.", "example": 1})
