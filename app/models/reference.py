"""Reference data: the ANS referencing directory, counters, used captcha challenges."""
from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .types import UTCDateTime


class Referencing(db.Model):
    """One ANS referencing number, as imported by ``flask referencing import FILE``."""

    __tablename__ = "referencing"

    ans_number: Mapped[str] = mapped_column(String(40), primary_key=True)
    software_name: Mapped[str] = mapped_column(String(200))
    software_version: Mapped[str] = mapped_column(String(200))
    dsr: Mapped[str] = mapped_column(String(200))
    profile: Mapped[str] = mapped_column(String(300))
    validated: Mapped[bool] = mapped_column(Boolean)
    sons_dpi: Mapped[bool] = mapped_column(Boolean)
    # SIREN of the editor that holds the referencing: a supplier with another SIREN is a distributor.
    editor_siren: Mapped[str] = mapped_column(String(9))
    wave: Mapped[int] = mapped_column(Integer, default=2)


class Counter(db.Model):
    """Named monotonic counters (request numbers), incremented atomically."""

    __tablename__ = "counter"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class UsedCaptcha(db.Model):
    """A solved captcha is accepted once: its signature is kept until it expires."""

    __tablename__ = "used_captcha"

    signature: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
