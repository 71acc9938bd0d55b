"""The enrolment request (« demande d'enrôlement »): projections of its workflow, and its history."""
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, func, literal, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from ..extensions import db
from .types import UTCDateTime

#: The status of a request before « Terminer »: the code of the draft status (what every status
#: means, and which statuses exist, is process data: app/package/statuses.py).
DRAFT = "draft"

#: How the history line of a status change begins (« Statut : <the status's agent label> »).
STATUS_LINE = "Statut : "

#: Every enrolment type a diagram may set.
TYPES = ("INITIAL", "INITIAL ANTICIPE", "COMPLEMENTAIRE", "COMPLEMENTAIRE ANTICIPE")


class EnrolmentRequest(db.Model):
    __tablename__ = "enrolment_request"
    # The lists' indexes (app/services/listing.py, app/web/agent.py): each filter followed by the
    # default sort, newest first, so that a filtered page is read in order and stops at the page;
    # the number-sorted queue of one status. The search by the beginning of the ANS number in any
    # case has its index on lower(ans_number), after the class.
    __table_args__ = (
        Index("ix_enrolment_request_status_submitted_at", "status", "submitted_at"),
        Index("ix_enrolment_request_status_sequence", "status", "sequence"),
        Index("ix_enrolment_request_type_submitted_at", "enrolment_type", "submitted_at"),
        Index("ix_enrolment_request_siret_submitted_at", "siret", "submitted_at"),
        Index("ix_enrolment_request_dsr_submitted_at", "dsr", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unguessable identifier used in URLs and in the anonymous draft's session.
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("workflow_instance.id"), unique=True)
    # Projections written by the diagram's service tasks, indexed for lists and searches.
    sequence: Mapped[int | None] = mapped_column(Integer, unique=True)
    number: Mapped[str | None] = mapped_column(String(12), unique=True)
    # The code of its status (app/package/statuses.py says what it means).
    status: Mapped[str] = mapped_column(String(80), default=DRAFT)
    enrolment_type: Mapped[str | None] = mapped_column(String(40))
    siret: Mapped[str | None] = mapped_column(String(14))
    ans_number: Mapped[str | None] = mapped_column(String(40), index=True)
    profile: Mapped[str | None] = mapped_column(String(300), index=True)
    dsr: Mapped[str | None] = mapped_column(String(200))
    company_name: Mapped[str | None] = mapped_column(String(300))
    holder_email: Mapped[str | None] = mapped_column(String(254), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # First validation by an agent, full or partial (the enrolment rules read it: eligibility).
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the diagram when a supplier's deposit is late (reminder timer), cleared when it is done.
    overdue_since: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The agent who holds the request: only they may decide it (an admin may reassign it).
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The data entered by the supplier, as submitted (scalars and document ids).
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    # Whether an open incident holds its diagram: loaded with the request by the step page's query
    # (access.load_request), None when the request was loaded otherwise (incidents.is_held).
    held: Mapped[bool | None] = query_expression()

    instance = relationship("WorkflowInstance")
    claimed_by = relationship("User")
    documents = relationship("Document", back_populates="request", order_by="Document.id",
                             cascade="all, delete-orphan", passive_deletes=True)
    events = relationship("RequestEvent", back_populates="request", order_by="RequestEvent.id",
                          cascade="all, delete-orphan", passive_deletes=True)
    mails = relationship("OutboxMail", back_populates="request", order_by="OutboxMail.id",
                         cascade="all, delete-orphan", passive_deletes=True)

    @property
    def is_draft(self) -> bool:
        return self.number is None

    @property
    def is_anticipated(self) -> bool:
        """Filed while the referencing was not validated (type INITIAL/COMPLEMENTAIRE ANTICIPE)."""
        return (self.enrolment_type or "").endswith("ANTICIPE")

    @property
    def is_complementary(self) -> bool:
        return (self.enrolment_type or "").startswith("COMPLEMENTAIRE")

    @property
    def is_sons_dpi(self) -> bool:
        """The referenced software is a SONS DPI (from the ANS look-up kept in the request's data)."""
        return bool((self.data.get("referencing") or {}).get("sons_dpi"))


Index("ix_enrolment_request_lower_ans_number", func.lower(EnrolmentRequest.ans_number))


class RequestEvent(db.Model):
    """History of a request: who did what, when, with which detail."""

    __tablename__ = "request_event"
    # The status changes only (« Pilotage » counts them per week): a small index, read alone.
    __table_args__ = (
        Index("ix_request_event_status_at", "at", "action", "request_id",
              postgresql_where=text(f"action LIKE '{STATUS_LINE}%'"), sqlite_where=text(f"action LIKE '{STATUS_LINE}%'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(
        ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200))
    detail: Mapped[str] = mapped_column(Text, default="")

    # Setting it adds the event to an unloaded ``EnrolmentRequest.events`` without loading the
    # request's whole history (services.enrolment.record, at every step).
    request = relationship(EnrolmentRequest, back_populates="events")


def is_status_line():
    """The condition of a status change's history line, rendered as a constant (not a bound
    parameter) so that the databases' planners can use the partial index of these lines."""
    return RequestEvent.action.like(literal(STATUS_LINE + "%", literal_execute=True))
