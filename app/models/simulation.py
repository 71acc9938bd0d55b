"""A simulation of the draft process package (« Simuler » in the studio): its own state, kept apart
from every real table. What a simulated step does to a request is undone at once
(app/services/simulation.py); only this row remembers it."""
from datetime import datetime

from sqlalchemy import Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Simulation(db.Model):
    __tablename__ = "simulation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    author: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The package simulated, as it was when the simulation started: {file name: BPMN XML} of the
    # whole set (deployed files with the drafts over them) and {section: JSON value}.
    sources_json: Mapped[str] = mapped_column(Text, deferred=True)
    data_json: Mapped[str] = mapped_column(Text, deferred=True)
    # What it started with: {"request": {column: value}, "data": {task data}}.
    sample_json: Mapped[str] = mapped_column(Text)
    # The SpiffWorkflow state (without specs) and the request as the last step left them.
    state_json: Mapped[str | None] = mapped_column(Text, deferred=True)
    request_json: Mapped[str] = mapped_column(Text, default="{}")
    # The virtual clock: the time the next step runs at.
    clock_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # What each step did ([{kind, label, at, path, statuses, mails, events, data, incident}]), the
    # steps themselves, replayable ([{"answers": {...}} | {"advance": days}]), and where it stands.
    log_json: Mapped[str] = mapped_column(Text, default="[]")
    actions_json: Mapped[str] = mapped_column(Text, default="[]")
    position_json: Mapped[str] = mapped_column(Text, default="{}")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Saved as a scenario of the analysts' regression suite: its name (None: a plain simulation).
    scenario: Mapped[str | None] = mapped_column(String(200), index=True)
    # Two tabs (or two analysts) moving the same simulation: the second step is refused, not lost.
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": lock_version}
