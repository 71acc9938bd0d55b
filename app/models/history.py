"""What a request's workflow went through, kept in the database once the engine's finished tasks
are compacted away (app/engine/compaction.py): the diagram's marks and the timeline read it."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class PassedElement(db.Model):
    """An element of a process that the instance completed, entered from ``previous`` (the element
    before it on the path taken, "" when none is known): the set of the diagram's green marks, one
    row per distinct pair, bounded by the diagram whatever the number of loop rounds."""

    __tablename__ = "passed_element"

    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id", ondelete="CASCADE"), primary_key=True)
    process: Mapped[str] = mapped_column(String(100), primary_key=True)
    element: Mapped[str] = mapped_column(String(255), primary_key=True)
    previous: Mapped[str] = mapped_column(String(255), primary_key=True, default="")


class PastMilestone(db.Model):
    """A completed element that was on the supplier's timeline (a ``timelineLabel``) when its task was
    compacted: when it finished. The label itself is read from the request's diagram version."""

    __tablename__ = "past_milestone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id", ondelete="CASCADE"), index=True)
    process: Mapped[str] = mapped_column(String(100))
    element: Mapped[str] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    # How deep its process was called (0: the top one): the timeline's order among equal moments.
    depth: Mapped[int] = mapped_column(Integer, default=0)


class TaskSpan(db.Model):
    """A user task's stay: when it became ready and when it left (completed, or cancelled by a
    boundary event, a step back...), written by ``Run.save``; what the « Pilotage » page measures
    (app/services/steering.py). ``seconds``: the stay's length once it is over, so that the
    percentiles are read from one integer column on every database."""

    __tablename__ = "task_span"
    __table_args__ = (
        # The percentiles read the finished stays in order from it, without the table (index-only).
        Index("ix_task_span_element_seconds", "process", "element", "seconds", "left_at", "process_version_id",
              postgresql_where=text("seconds IS NOT NULL"), sqlite_where=text("seconds IS NOT NULL")),
        Index("ix_task_span_instance_task", "instance_id", "task_id"),
        # The requests waiting at each task now (the open stays: one or two per running request).
        Index("ix_task_span_open", "process", "element", "process_version_id",
              postgresql_where=text("left_at IS NULL"), sqlite_where=text("left_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id", ondelete="CASCADE"))
    # The task's SpiffWorkflow id: what closes the span when the task is no longer ready.
    task_id: Mapped[str] = mapped_column(String(36))
    # The instance's (top) process version, and the process (top or called) the element belongs to.
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"))
    process: Mapped[str] = mapped_column(String(100))
    element: Mapped[str] = mapped_column(String(255))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    entered_epoch: Mapped[int] = mapped_column(Integer)  # entered_at in seconds since 1970 (UTC)
    seconds: Mapped[int | None] = mapped_column(Integer)

    # One way only, like WaitingLane: set for an instance not flushed yet.
    instance = db.relationship("WorkflowInstance")
