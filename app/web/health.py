"""Health endpoints for load balancers and orchestrators (no login, no session, no page):

- ``/sante/vivant`` (liveness): the process answers; nothing else is checked, so that a database
  outage does not make every web process restart.
- ``/sante/pret`` (readiness): the process can serve requests: its database answers and is migrated
  to this code's schema, and its document storage accepts a file. 503 with the reasons (French)
  otherwise, so that the load balancer sends the traffic elsewhere.
- ``/sante/metriques``: Prometheus metrics (app/metrics.py), for the scraper that sends
  ``Authorization: Bearer <METRICS_TOKEN>``; 404 for anybody else, and when no token is configured.
"""
import hmac
import logging
from functools import cache

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, Response, abort, current_app, jsonify, request
from prometheus_client import CONTENT_TYPE_LATEST

from .. import metrics
from ..services import storage

from ..extensions import db

bp = Blueprint("health", __name__, url_prefix="/sante")
log = logging.getLogger(__name__)


@bp.get("/vivant")
def alive():
    return jsonify(status="ok")


def _database() -> str | None:
    """Why the database cannot serve (French), None when it can."""
    try:
        with db.engine.connect() as connection:
            stored = MigrationContext.configure(connection).get_current_heads()
    except Exception as exc:  # any driver error: the reason goes to the operator
        return f"base de données injoignable ({type(exc).__name__})"
    expected = _heads(current_app.extensions["migrate"].directory)
    if set(stored) != set(expected):
        return (f"base de données à migrer (version {', '.join(stored) or 'aucune'}, attendue "
                f"{', '.join(expected)} : flask db upgrade)")
    return None


@cache
def _heads(directory: str) -> tuple[str, ...]:
    """The schema this code expects (the migrations' heads), read once per process."""
    return tuple(ScriptDirectory(directory).get_heads())


def _storage() -> str | None:
    """Why documents cannot be stored (French), None when they can: the folder accepts a file, or
    the S3 bucket answers."""
    return storage.current().check()


@bp.get("/pret")
def ready():
    problems = {name: problem for name, problem in (("database", _database()), ("storage", _storage())) if problem}
    checks = {name: problems.get(name, "ok") for name in ("database", "storage")}
    if problems:
        log.warning("pas prêt : %s", " ; ".join(problems.values()))
    return jsonify(status="ko" if problems else "ok", checks=checks), 503 if problems else 200


@bp.get("/metriques")
def scrape():
    token = current_app.config["METRICS_TOKEN"]
    if not token or not hmac.compare_digest(request.headers.get("Authorization", "").encode(), f"Bearer {token}".encode()):
        abort(404)
    return Response(metrics.exposition(), mimetype=CONTENT_TYPE_LATEST)
