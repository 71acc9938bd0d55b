"""A running request moved to another version of its process (app/services/migration.py)."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


def request_label(request, instance_id: int) -> str:
    """How a moved (or movable) request is named on the pages and in the terminal: its number, or
    « Brouillon » before « Terminer »; an instance without a request by its id."""
    if request is None:
        return f"Instance {instance_id}"
    return request.number or "Brouillon"


class InstanceMove(db.Model):
    """One move of a workflow instance from one process version to another, with what undoing it
    needs: the instance exactly as it was before (state, version, package, next timer), and the
    lock version the move left, so that « Annuler » is refused once anything else happened."""

    __tablename__ = "instance_move"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    from_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    to_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    from_package_id: Mapped[int | None] = mapped_column(ForeignKey("process_package.id"))
    to_package_id: Mapped[int | None] = mapped_column(ForeignKey("process_package.id"))
    state_before: Mapped[str] = mapped_column(Text)
    next_timer_before: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lock_version_after: Mapped[int] = mapped_column(Integer)
    # The last history line of the request once moved (the move's own): a later one means that
    # something else happened since.
    event_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(200))

    instance = db.relationship("WorkflowInstance")
    request = db.relationship("EnrolmentRequest")
    from_version = db.relationship("ProcessVersion", foreign_keys=[from_version_id])
    to_version = db.relationship("ProcessVersion", foreign_keys=[to_version_id])

    @property
    def label(self) -> str:
        return request_label(self.request, self.instance_id)
