"""Deployed versions of the BPMN processes: each spec is parsed, validated and stored once."""
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class ProcessPackage(db.Model):
    """One deployed version of the process package: the BPMN files of the deployed set and the data
    they name (statuses, mails, document types, forms, roles: app/package), stored once, never changed.
    A request runs on the package version current when it started (WorkflowInstance.package_id)."""

    __tablename__ = "process_package"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, unique=True)
    # SHA-256 of the data and the sources together: a deployment that changes nothing adds no version.
    sha256: Mapped[str] = mapped_column(String(64))
    # {section name: JSON value} (app/package SECTIONS).
    data_json: Mapped[str] = mapped_column(Text, deferred=True)  # read once per version, then cached
    # {file name: BPMN XML} of the deployed set at this version.
    sources_json: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)


class PackageDraft(db.Model):
    """An analyst's work in progress on one data section of the package (statuses, mails...)."""

    __tablename__ = "package_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[str] = mapped_column(String(60), unique=True)
    content_json: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProcessVersion(db.Model):
    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[str] = mapped_column(String(100), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 of the serialized spec with the specs of every process it calls.
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    # {"spec": ..., "subprocess_specs": ...} as produced by the SpiffWorkflow serializer.
    spec_json: Mapped[str] = mapped_column(Text, deferred=True)  # read once per version, then cached
    # {file name: BPMN XML} of the files the version was parsed from.
    sources_json: Mapped[str] = mapped_column(Text, deferred=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    author: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    is_current: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    # The package version this process version was deployed with.
    package_id: Mapped[int | None] = mapped_column(ForeignKey("process_package.id"), index=True)


class ProcessDraft(db.Model):
    """An analyst's work in progress on one BPMN file of the deployed set, not deployed yet."""

    __tablename__ = "process_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_name: Mapped[str] = mapped_column(String(200), unique=True)
    xml: Mapped[str] = mapped_column(Text)
    author: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WorkflowInstance(db.Model):
    """The SpiffWorkflow state of one running process (without its spec), optimistically locked."""

    __tablename__ = "workflow_instance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    # The package version whose data (mails, forms...) the instance uses: the current one when it started.
    package_id: Mapped[int | None] = mapped_column(ForeignKey("process_package.id"), index=True)
    state_json: Mapped[str] = mapped_column(Text)
    lock_version: Mapped[int] = mapped_column(Integer, nullable=False)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Earliest deadline among the timers the instance waits on (for the timer worker).
    next_timer_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Since when an asynchronous task waits for the worker (None: none does); written by Run.save.
    async_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    process_version = db.relationship(ProcessVersion)
    # Set through package_id; read-only here so that it costs nothing when the instance is flushed.
    package = db.relationship(ProcessPackage, viewonly=True)

    __mapper_args__ = {"version_id_col": lock_version}


class WaitingLane(db.Model):
    """A lane in which the instance has a ready user task: the queues' projection of the workflow
    state, written with it (``Run.save``), so that a queue never loads a workflow per row."""

    __tablename__ = "waiting_lane"

    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id", ondelete="CASCADE"), primary_key=True)
    lane: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)

    # One way only (no collection on the instance): the rows are written by Run.save when the lanes
    # change, and deleted with their instance by the database (ON DELETE CASCADE).
    instance = db.relationship(WorkflowInstance)
