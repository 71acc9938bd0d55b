"""Webhooks: the endpoints that admins register, and the outbox of their deliveries (rows written in
the transaction of the change they announce, delivered by the worker after commit)."""
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .mail import PENDING  # the outboxes share their statuses (app/services/retries.py); FAILED too
from .types import UTCDateTime

DELIVERED = "delivered"


class WebhookEndpoint(db.Model):
    __tablename__ = "webhook_endpoint"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str] = mapped_column(String(300), default="")
    # The codes of the events it subscribes to (app/services/webhooks.py EVENTS).
    events: Mapped[list] = mapped_column(JSON, default=list)
    # ``whsec_`` + base64 of random bytes (Standard Webhooks): kept to sign each delivery.
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    created_by = relationship("User")
    deliveries = relationship("WebhookDelivery", back_populates="endpoint", cascade="all, delete-orphan",
                              passive_deletes=True)


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
        # « an earlier delivery of this endpoint for this request is not delivered yet » (the order)
        Index("ix_webhook_delivery_endpoint_request", "endpoint_id", "request_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("webhook_endpoint.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    # The body as sent, byte for byte, on every attempt (the signature covers it): JSON text.
    payload: Mapped[str] = mapped_column(Text)
    # The ``webhook-id`` header, the same on every attempt and on « Renvoyer »: receivers deduplicate on it.
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    status: Mapped[str] = mapped_column(String(10), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # The delivery fails for good when a failed attempt brings ``attempts`` to this number
    # (WEBHOOK_MAX_ATTEMPTS more at each « Renvoyer »).
    attempt_limit: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_duration_ms: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    endpoint = relationship("WebhookEndpoint", back_populates="deliveries")
    request = relationship("EnrolmentRequest")
