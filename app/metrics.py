"""Prometheus metrics of the portal, read at ``/sante/metriques`` (app/web/health.py).

- The state of the work waiting on the portal, counted in the database when scraped (so every web
  process gives the same figures): mails waiting in the outbox or failed, open incidents, instances
  whose timer is due, instances whose asynchronous task waits for the worker, documents waiting for
  the antivirus.
- The time each user-task step takes on the server (``segur_step_seconds``, by form key), observed
  by the process that served it. Under gunicorn's several processes, set ``PROMETHEUS_MULTIPROC_DIR``
  (an empty folder, the same for every process of a host): the figures of all of them are then added
  up (prometheus_client's multiprocess mode; gunicorn.conf.py forgets the processes that exit).
"""
import os

from prometheus_client import CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from . import clock
from .extensions import db
from .models import Document, Incident, OutboxMail, WorkflowInstance
from .models.document import SCAN_PENDING
from .models.mail import FAILED, PENDING
from .services import continuations

STEP_SECONDS = Histogram("segur_step_seconds", "Server time of a user-task step (POST), by form key",
                         ["form_key"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))


class _Waiting:
    """The gauges counted in the database at each scrape."""

    def collect(self):
        count = lambda *where: db.session.scalar(db.select(db.func.count()).where(*where))  # noqa: E731
        gauges = (
            ("segur_outbox_pending", "Mails waiting in the outbox", count(OutboxMail.status == PENDING)),
            ("segur_outbox_failed", "Mails that failed for good", count(OutboxMail.status == FAILED)),
            ("segur_incidents_open", "Incidents not resolved (their requests wait)", count(Incident.resolved_at.is_(None))),
            ("segur_timers_due", "Workflow instances whose timer is due (the worker fires them)",
             count(WorkflowInstance.next_timer_at <= clock.now())),
            ("segur_continuations_due", "Workflow instances whose asynchronous task waits for the worker",
             continuations.due_count()),
            ("segur_documents_waiting_scan", "Documents waiting for the antivirus",
             count(Document.scan_status == SCAN_PENDING)),
        )
        for name, documentation, value in gauges:
            yield GaugeMetricFamily(name, documentation, value=value)


def exposition() -> bytes:
    """The metrics in Prometheus' text format."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(STEP_SECONDS)
    registry.register(_Waiting())
    return generate_latest(registry)
