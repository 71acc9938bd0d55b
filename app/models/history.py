"""What a request's workflow went through, kept in the database once the engine's finished tasks
are compacted away (app/engine/compaction.py): the diagram's marks and the timeline read it."""
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
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
