"""Uploaded (and generated) documents; the bytes live on disk under a generated name."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime

#: Document types: code → label shown to users (the guide's wording).
DOCUMENT_TYPES = {
    "referencing_certificate": "Certificat de référencement",
    "hds_certificate": "Certificat d'hébergement de données de santé",
    "hds_attestation": "Attestation sur l'honneur de non hébergement de données de santé",
    "kbis": "KBIS",
    "editor_mandate": "Mandat de l'éditeur pour le distributeur",
    "representative_id": "CNI, passeport ou titre de séjour du représentant",
    "depositary_id": "CNI, passeport ou titre de séjour du dépositaire",
    "service_contract": "Contrat de prestation spécifiant la délégation de signature",
    "signature_mandate": "Mandat de délégation de signature du représentant légal",
    "rib": "RIB",
    "non_vat_proof": "Preuve de régime hors TVA",
    "recap_pdf": "PDF récapitulatif de la demande d'enrôlement",
}

DRAFT = "draft"   # uploaded while the form is being filled, not yet part of a submitted step
FILED = "filed"   # part of the request


class Document(db.Model):
    __tablename__ = "document"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))
    # The form field the file was uploaded through (None for generated documents).
    field: Mapped[str | None] = mapped_column(String(60))
    state: Mapped[str] = mapped_column(String(10), default=DRAFT)
    original_name: Mapped[str] = mapped_column(String(100))
    storage_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(200), default="")

    request = relationship("EnrolmentRequest", back_populates="documents")

    @property
    def label(self) -> str:
        return DOCUMENT_TYPES.get(self.kind, self.kind)
