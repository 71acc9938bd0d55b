"""Outbox: mails are rows written in the step's transaction and delivered by the worker after commit."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class OutboxMail(db.Model):
    __tablename__ = "outbox_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(60))
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(400))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "smtp" or "capture" (embedded default: kept here and shown at /dev/courriels).
    transport: Mapped[str | None] = mapped_column(String(10))
    last_error: Mapped[str | None] = mapped_column(Text)
    # The ``Message-ID`` header, the same on every attempt: a mail delivered again after a crash
    # between the server's acceptance and our commit is recognisable as the same message.
    message_id: Mapped[str | None] = mapped_column(String(200))
    # When an admin last put the mail back in the queue (« Renvoyer »): retries count from then.
    resent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    request = relationship("EnrolmentRequest", back_populates="mails")
