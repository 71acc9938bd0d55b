"""The antivirus: ClamAV's daemon (``clamd``), asked over TCP (``host:port``) or a unix socket
with the INSTREAM command (``clamav-client``). No database here: the documents pipeline decides
what a verdict means for a document (``documents.check_upload``, ``documents.scan_next_pending``).

``ANTIVIRUS=clamd`` turns it on, with ``CLAMD_ADDRESS`` and ``CLAMD_TIMEOUT`` (seconds). Off (the
embedded default), nothing is scanned and the staff pages say so.
"""
import io
import logging
from dataclasses import dataclass

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from flask import current_app

from ..models.document import SCAN_CLEAN, SCAN_INFECTED, SCAN_PENDING

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    status: str                 # SCAN_CLEAN, SCAN_INFECTED, or SCAN_PENDING when clamd did not answer
    threat: str | None = None   # what clamd found, e.g. « Eicar-Test-Signature »


def enabled() -> bool:
    return current_app.config["ANTIVIRUS"] == "clamd"


def _client():
    address, timeout = current_app.config["CLAMD_ADDRESS"], current_app.config["CLAMD_TIMEOUT"]
    if address.startswith("/"):
        return ClamdUnixSocket(address, timeout=timeout)
    host, _, port = address.rpartition(":")
    return ClamdNetworkSocket(host or "127.0.0.1", int(port), timeout=timeout)


def scan(data: bytes) -> Verdict:
    """Scan ``data``. A daemon that cannot be reached, times out or answers an error gives
    SCAN_PENDING (a file is never refused because our daemon is down: it is scanned again later)."""
    try:
        status, threat = _client().instream(io.BytesIO(data))["stream"]
    except (ClamdError, OSError, KeyError, ValueError) as exc:
        log.warning("Antivirus unavailable (%s): %r", current_app.config["CLAMD_ADDRESS"], exc)
        return Verdict(SCAN_PENDING)
    if status == "FOUND":
        return Verdict(SCAN_INFECTED, threat)
    if status == "OK":
        return Verdict(SCAN_CLEAN)
    log.warning("Antivirus error: %s %s", status, threat)
    return Verdict(SCAN_PENDING)
