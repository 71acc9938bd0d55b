"""Accounts: people who log in (suppliers' account holders, agents, analysts, admins), the SIRETs a
supplier account may see, single-use links, login attempts, forgotten identifiant/password requests, and the agents' audit trail."""
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .types import UTCDateTime


class User(UserMixin, db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # « Identifiant »: what the person types to log in (sent by mail when the account is opened).
    login: Mapped[str] = mapped_column(String(60), unique=True)
    # One account per person: a person known by this email keeps their credentials.
    email: Mapped[str] = mapped_column(String(254), unique=True)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    # The main role (the landing page, the first one given); ``roles`` holds every role, this one too.
    role: Mapped[str] = mapped_column(String(20), index=True)  # codes of the package's « roles » section
    password_hash: Mapped[str | None] = mapped_column(String(200))  # None until the person sets it
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    sirets = relationship("SupplierAccess", back_populates="user", order_by="SupplierAccess.id",
                          cascade="all, delete-orphan")
    held_roles = relationship("UserRole", order_by="UserRole.id", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> tuple[str, ...]:
        """Every role the account holds (an agent may also be a supervisor), the main one first."""
        return tuple(dict.fromkeys([self.role, *(held.role for held in self.held_roles)]))

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p) or self.login

    @property
    def siret_list(self) -> list[str]:
        return [a.siret for a in self.sirets]


class UserRole(db.Model):
    """A role an account holds (admins give and remove them: « Comptes », ``flask users``)."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20), index=True)


class SupplierAccess(db.Model):
    """« Ouverture des accès »: a supplier account may see the requests of this SIRET."""

    __tablename__ = "supplier_access"
    __table_args__ = (UniqueConstraint("user_id", "siret"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    siret: Mapped[str] = mapped_column(String(14), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The account holder acts for this SIRET as its dépositaire (tiers déclarant), not as its legal
    # representative: their first wave-2 enrolment then carries a signature mandate (eligibility).
    depositary: Mapped[bool] = mapped_column(Boolean, default=False)
    # The request whose first validation opened the access.
    request_id: Mapped[int | None] = mapped_column(ForeignKey("enrolment_request.id", ondelete="SET NULL"))

    user = relationship(User, back_populates="sirets")


class AccountToken(db.Model):
    """A single-use, time-limited link: set or reset a password (``user``), or deposit the documents
    an agent asked for on one request (``request``, for an account holder without an account).
    Only the token's hash is kept."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment_request.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship(User)
    request = relationship("EnrolmentRequest")


class LoginAttempt(db.Model):
    """Failed logins, counted per identifiant and per address to slow down password guessing."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    login: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ForgottenRequest(db.Model):
    """« J'ai oublié mon identifiant / mon mot de passe », as typed: the form records it whatever the
    account (same work, same time), the worker resolves the account and queues the mail."""

    __tablename__ = "forgotten_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))   # "login" (identifiant) or "password"
    value: Mapped[str] = mapped_column(String(254))  # the email, or the identifiant or email
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(db.Model):
    """Every agent (and admin) action: who, when, what, why, on which request."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text, default="")
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("enrolment_request.id", ondelete="SET NULL"), index=True)
