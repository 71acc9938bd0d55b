"""Webhooks: what happens to a filed request, announced over HTTP to the endpoints admins register.

Each event becomes one delivery row per subscribed active endpoint, written in the transaction of
the change (the outbox: nothing leaves for a change that is rolled back, nothing is lost for one
that commits), and is delivered by the worker after commit (``deliver_next``), never in a web request.

Where each event happens (its one choke point):
- ``request.filed``: the submission is recorded (``enrolment.file_submission``, number given); its
  data carry the first status the diagram gives the request in that transaction (``filed``);
- ``request.status_changed``: any change of ``EnrolmentRequest.status`` of a filed request (the
  attribute listener below), and with it ``request.validated`` / ``request.rejected`` when the new
  status's outcome is a validation / a rejection (the package's statuses say so, not their codes);
- ``request.documents_requested`` / ``request.documents_deposited``: the agent's « Demander des
  pièces » and the supplier's « Terminer mon dépôt », declared by their forms (``TaskForm.event``)
  and emitted by ``steps.submit`` when the task completes.

Signed as Standard Webhooks say (https://www.standardwebhooks.com): ``webhook-id`` (the same on
every attempt and on « Renvoyer »), ``webhook-timestamp`` (unix seconds of the attempt) and
``webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the
base64-decoded part of the endpoint's ``whsec_…`` secret.

Order: a delivery is not attempted while an earlier delivery of the same endpoint and request is
not delivered, so each receiver gets a request's events in order. A failed attempt (network error,
timeout, any answer but 2xx) is retried after 30 s, 1 min, 2 min… at most
WEBHOOK_MAX_BACKOFF_MINUTES apart; after WEBHOOK_MAX_ATTEMPTS attempts the delivery fails (shown in
the endpoint's log, where « Renvoyer » gives it as many attempts again).
"""
import base64
import hashlib
import hmac
import ipaddress
import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
from flask import current_app
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Session, aliased

from .. import clock
from ..extensions import db
from ..models import EnrolmentRequest, WebhookDelivery, WebhookEndpoint
from ..models.request import DRAFT
from ..models.mail import FAILED, PENDING
from ..models.webhook import DELIVERED
from ..package import document_types, statuses
from . import audit, outbox, retries

log = logging.getLogger(__name__)

FILED = "request.filed"
STATUS_CHANGED = "request.status_changed"
DOCUMENTS_REQUESTED = "request.documents_requested"
DOCUMENTS_DEPOSITED = "request.documents_deposited"
VALIDATED = "request.validated"
REJECTED = "request.rejected"

#: Every event an endpoint may subscribe to, with its label for admins.
EVENTS = {
    FILED: "Demande déposée",
    STATUS_CHANGED: "Changement de statut",
    DOCUMENTS_REQUESTED: "Pièces justificatives demandées par l'agent",
    DOCUMENTS_DEPOSITED: "Pièces justificatives déposées par le fournisseur",
    VALIDATED: "Demande validée",
    REJECTED: "Demande rejetée",
}

SECRET_PREFIX = "whsec_"
FIRST_RETRY = timedelta(seconds=30)
USER_AGENT = "Portail-Segur-Numerique-Webhooks/1"


# --- endpoints (admins) -----------------------------------------------------------------------

def new_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes: the key both sides sign with."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot receive webhooks (in French), None when it can: ``https://`` with a host and
    no credentials; ``http://`` only to this machine (loopback) and only when WEBHOOK_ALLOW_HTTP_LOOPBACK
    is on (the ``portal`` command, tests): the payloads name companies and the signature proves who
    sent them, not that nobody read them on the way."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return "Cette adresse n'est pas une URL valide. Format attendu : https://exemple.fr/webhooks"
    if parts.scheme not in ("https", "http") or not host or any(c.isspace() for c in url.strip()):
        return "Saisissez une adresse complète. Format attendu : https://exemple.fr/webhooks"
    if parts.username is not None or parts.password is not None:
        return ("L'adresse ne doit pas contenir d'identifiant ni de mot de passe : le destinataire "
                "authentifie les envois par leur signature.")
    if parts.scheme == "http" and not (current_app.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] and _loopback(host)):
        return ("L'adresse doit commencer par https:// : les envois contiennent des données des demandes "
                "et doivent être chiffrés.")
    return None


def create(url: str, description: str, events: list[str], actor) -> WebhookEndpoint:
    endpoint = WebhookEndpoint(url=url.strip(), description=description.strip(), events=_known(events),
                               secret=new_secret(), active=True, created_at=clock.now(),
                               created_by_id=actor.id if actor is not None else None)
    db.session.add(endpoint)
    audit.record(f"Webhook ajouté : {endpoint.url}", None, actor=actor)
    return endpoint


def update(endpoint: WebhookEndpoint, url: str, description: str, events: list[str]) -> None:
    endpoint.url, endpoint.description, endpoint.events = url.strip(), description.strip(), _known(events)
    audit.record(f"Webhook modifié : {endpoint.url}")


def set_active(endpoint: WebhookEndpoint, active: bool) -> None:
    """A deactivated endpoint gets no new event; its pending deliveries wait until it is active again."""
    endpoint.active = active
    audit.record(f"Webhook {'réactivé' if active else 'désactivé'} : {endpoint.url}")
    if active:
        outbox.wake_after_commit()


def delete(endpoint: WebhookEndpoint) -> None:
    """The endpoint and its delivery log."""
    audit.record(f"Webhook supprimé : {endpoint.url}")
    db.session.delete(endpoint)


def secret_shown(endpoint: WebhookEndpoint) -> None:
    audit.record(f"Secret du webhook affiché : {endpoint.url}")


def _known(events) -> list[str]:
    return [code for code in EVENTS if code in set(events)]


def deliveries(endpoint: WebhookEndpoint):
    """The endpoint's delivery log, newest first (a select for ``listing.paginate``)."""
    return (db.select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint.id)
            .order_by(WebhookDelivery.id.desc()))


def counts(endpoint_ids) -> dict[int, dict[str, int]]:
    """{endpoint id: {status: number of deliveries}} for the list of endpoints."""
    rows = db.session.execute(db.select(WebhookDelivery.endpoint_id, WebhookDelivery.status, db.func.count())
                              .where(WebhookDelivery.endpoint_id.in_(list(endpoint_ids)))
                              .group_by(WebhookDelivery.endpoint_id, WebhookDelivery.status))
    found: dict[int, dict[str, int]] = {}
    for endpoint_id, status, number in rows:
        found.setdefault(endpoint_id, {})[status] = number
    return found


# --- queueing (in the caller's transaction) ---------------------------------------------------

def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def staff_url(request: EnrolmentRequest) -> str:
    """The request's page for agents (built without an HTTP request: the worker emits events too)."""
    path = current_app.url_map.bind("portal").build("agent.review", {"public_id": request.public_id})
    return current_app.config["PORTAL_URL"].rstrip("/") + path


def payload(event: str, request: EnrolmentRequest, details: dict) -> dict:
    status = statuses.of(request.status)
    return {"type": event, "timestamp": _iso(clock.now()), "data": {
        "number": request.number, "status": request.status, "status_label": status.agent_label,
        "type": request.enrolment_type, "siret": request.siret, "company_name": request.company_name,
        "ans_number": request.ans_number,
        "submitted_at": _iso(request.submitted_at) if request.submitted_at else None,
        "url": staff_url(request), **details}}


def _json(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


_ENDPOINTS = "webhooks.active_endpoints"
#: session.info: {request: its ``request.filed`` deliveries} queued in this transaction.
_JUST_FILED = "webhooks.just_filed"


def _active_endpoints() -> list[tuple[int, frozenset]]:
    """(id, events) of the active endpoints, in order: read once per transaction (a validation
    emits two events, a step may change the status twice)."""
    info = db.session.info
    if _ENDPOINTS not in info:
        info[_ENDPOINTS] = [(e.id, frozenset(e.events)) for e in db.session.scalars(
            db.select(WebhookEndpoint).where(WebhookEndpoint.active).order_by(WebhookEndpoint.id))]
    return info[_ENDPOINTS]


@orm_event.listens_for(Session, "after_transaction_end")
def _forget_endpoints(session, transaction):
    if transaction.parent is None:  # the next transaction reads them again (an admin may have changed them)
        session.info.pop(_ENDPOINTS, None)
        session.info.pop(_JUST_FILED, None)


def emit(event: str, request: EnrolmentRequest, **details) -> list[WebhookDelivery]:
    """Queue ``event`` about ``request`` for every active endpoint subscribed to it (``details`` join
    the payload's ``data``); it leaves only if the transaction commits."""
    with db.session.no_autoflush:  # also called from an attribute event, in the middle of a change
        endpoints = [endpoint_id for endpoint_id, events in _active_endpoints() if event in events]
        if not endpoints:
            return []
        body = _json(payload(event, request, details))
    now, limit = clock.now(), int(current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    rows = [WebhookDelivery(endpoint_id=endpoint_id, request=request, event=event, payload=body,
                            message_id="msg_" + secrets.token_urlsafe(18), status=PENDING, attempts=0,
                            attempt_limit=limit, next_attempt_at=now, created_at=now) for endpoint_id in endpoints]
    db.session.add_all(rows)  # inserted in this order: the order each receiver gets them in
    outbox.wake_after_commit()
    return rows


def filed(request: EnrolmentRequest) -> None:
    """``request.filed``. The diagram gives the request its first status after the draft in the
    same transaction (the task after « Terminer »): that status completes the event's data then
    (``_status_set``), so that receivers see the request as it was committed, not as a draft."""
    rows = emit(FILED, request)
    if rows:
        db.session.info.setdefault(_JUST_FILED, {})[request] = rows


@orm_event.listens_for(EnrolmentRequest.status, "set", active_history=True)
def _status_set(request, value, previous, _initiator):
    """Any status change of a filed request, whoever makes it (a diagram's ``enrolment.set_status``
    today). A draft's statuses, and a request being built (no previous value), announce nothing."""
    if not isinstance(previous, str) or value == previous:
        return
    with db.session.no_autoflush:  # the change is under way: nothing is flushed before it is done
        if request.number is None:
            return
        new = statuses.of(value)
        if previous == DRAFT:  # the filing's first status: its request.filed says it too
            for row in db.session.info.get(_JUST_FILED, {}).pop(request, ()):
                body = json.loads(row.payload)
                body["data"].update(status=value, status_label=new.agent_label)
                row.payload = _json(body)
        # the attribute still holds the previous value while this runs: the payload says the new one
        change = {"status": value, "status_label": new.agent_label, "previous_status": previous}
        emit(STATUS_CHANGED, request, **change)
        if new.validated or new.rejected:
            emit(VALIDATED if new.validated else REJECTED, request, **change)


def documents_requested(codes, message: str) -> tuple[str, dict]:
    """The event of an agent's « Demander des pièces » (``TaskForm.event``)."""
    return DOCUMENTS_REQUESTED, {"requested_documents": [{"type": c, "label": document_types.label(c)}
                                                         for c in codes], "message": message}


def documents_deposited(deposited) -> tuple[str, dict]:
    """The event of a supplier's « Terminer mon dépôt » (``TaskForm.event``): the documents deposited."""
    return DOCUMENTS_DEPOSITED, {"documents": [{"type": d.kind, "label": d.label, "name": d.original_name}
                                              for d in deposited]}


# --- delivering (the worker) --------------------------------------------------------------------

def signed_headers(secret: str, message_id: str, moment: datetime, body: str) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt."""
    timestamp = str(int(moment.timestamp()))
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{message_id}.{timestamp}.{body}".encode(), hashlib.sha256).digest()
    return {"webhook-id": message_id, "webhook-timestamp": timestamp,
            "webhook-signature": "v1," + base64.b64encode(digest).decode(),
            "content-type": "application/json", "user-agent": USER_AGENT}


_client: httpx.Client | None = None
_client_lock = threading.Lock()


def _http() -> httpx.Client:
    """The process's HTTP client, made once: making one costs about 60 ms (its TLS context), an
    attempt with it about 4 ms on loopback. Thread-safe; it follows no redirect."""
    global _client
    with _client_lock:
        if _client is None:
            _client = httpx.Client(follow_redirects=False)
        return _client


def _post(row: WebhookDelivery) -> tuple[int, str]:
    """One HTTP attempt: (status code, first bytes of the answer)."""
    headers = signed_headers(row.endpoint.secret, row.message_id, clock.now(), row.payload)
    with _http().stream("POST", row.endpoint.url, content=row.payload.encode(), headers=headers,
                        timeout=float(current_app.config["WEBHOOK_TIMEOUT"])) as response:
        excerpt = next(response.iter_bytes(500), b"")
    return response.status_code, excerpt.decode(errors="replace")


def _due():
    """Conditions of a delivery that may be attempted: its endpoint is active and every earlier
    delivery of the same endpoint and request is delivered."""
    earlier = aliased(WebhookDelivery)
    blocked = db.select(earlier.id).where(earlier.endpoint_id == WebhookDelivery.endpoint_id,
                                          earlier.request_id == WebhookDelivery.request_id,
                                          earlier.id < WebhookDelivery.id, earlier.status != DELIVERED).exists()
    active = WebhookDelivery.endpoint_id.in_(db.select(WebhookEndpoint.id).where(WebhookEndpoint.active))
    return active, ~blocked


def deliver_next() -> str | None:
    """Attempt the next due delivery and flush; its status after the attempt (delivered, pending,
    failed), None when none is due. The caller commits (one delivery per transaction)."""
    row = retries.next_due(WebhookDelivery, *_due())
    if row is None:
        return None
    row.attempts += 1
    row.last_attempt_at = clock.now()
    started = time.perf_counter()
    try:
        code, answer = _post(row)
    except Exception as exc:  # refused, timed out, TLS, invalid address…: retried like a 5xx
        row.last_status_code, error = None, f"{type(exc).__name__}: {exc}"
    else:
        row.last_status_code = code
        error = None if 200 <= code < 300 else f"HTTP {code} : {answer}".strip()
    row.last_duration_ms = round((time.perf_counter() - started) * 1000)
    if error is None:
        row.status, row.delivered_at, row.last_error = DELIVERED, clock.now(), None
    else:
        row.last_error = error[:2000]
        if row.attempts >= row.attempt_limit:
            row.status = FAILED
            log.error("webhook %s (%s) to %s FAILED for good after %d attempt(s): %s", row.message_id, row.event,
                      row.endpoint.url, row.attempts, row.last_error)
        else:
            cap = timedelta(minutes=float(current_app.config["WEBHOOK_MAX_BACKOFF_MINUTES"]))
            row.next_attempt_at = clock.now() + retries.backoff(row.attempts, FIRST_RETRY, cap)
            log.warning("webhook %s (%s) to %s: attempt %d failed (%s); next attempt at %s", row.message_id,
                        row.event, row.endpoint.url, row.attempts, row.last_error,
                        row.next_attempt_at.isoformat(timespec="seconds"))
    db.session.flush()
    return row.status


def resend(row: WebhookDelivery) -> None:
    """« Renvoyer »: the same payload with the same ``webhook-id``, due now, with WEBHOOK_MAX_ATTEMPTS
    attempts more (a delivered one too: the receiver lost it). The deliveries after it for the same
    request wait for it again."""
    row.status, row.next_attempt_at, row.delivered_at = PENDING, clock.now(), None
    row.attempt_limit = row.attempts + int(current_app.config["WEBHOOK_MAX_ATTEMPTS"])
    audit.record(f"Webhook renvoyé : {EVENTS.get(row.event, row.event)} ({row.message_id}) à {row.endpoint.url}",
                 row.request)
    db.session.flush()
    outbox.wake_after_commit()
