"""Incidents: a task of a request's diagram failed (a look-up service down, a handler error). The
request waits at that task, its state saved, until an admin or an analyst retries it."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class Incident(db.Model):
    __tablename__ = "incident"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    # The task that failed: its BPMN id (None when the engine failed outside any task), its label,
    # and the handler it calls when it is a service task.
    task_bpmn_id: Mapped[str | None] = mapped_column(String(200))
    task_label: Mapped[str] = mapped_column(String(300))
    handler: Mapped[str | None] = mapped_column(String(100))
    # repr of the original exception (for the technical team only, never shown to suppliers).
    error: Mapped[str] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    last_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # None while the incident is open.
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    request = relationship("EnrolmentRequest")
    resolved_by = relationship("User")

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
