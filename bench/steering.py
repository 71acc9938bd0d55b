"""Benchmark (not a test): the « Pilotage » page at scale, on a database of 100,000 submitted requests
with their history.

    .venv/bin/python bench/steering.py [--requests 100000] [--n 10] [--database-url URL]

It seeds the requests as bench/lists.py does (rows, workflow instances, waiting lanes), then adds in
bulk the history the page reads: two status changes per request (« En cours » when filed, its
status a few days later) among OTHER_LINES other history lines (steps, mails, documents: what a
real request's history holds, which the page must not have to read), four task stays (three
filing steps, « Instruire la demande » in the called instruction process; the stay of the requests
still to instruct is open) and 2 % of requests past a deadline. It ends with ``VACUUM ANALYZE`` on
PostgreSQL: the state autovacuum keeps a table in after a bulk load (index-only scans need its
visibility map). Then an admin GETs the page N times per filter through the real app and it prints
the median and p95 server time (around ``app.wsgi_app``, as in bench/submit.py). Target (issue 15):
under 1 s on PostgreSQL.
"""
import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from lists import measure, seed
from submit import ROOT, timed_app

sys.path.insert(0, str(ROOT / "tests"))  # the HTTP helpers of the test suite (browser, people)

TARGET_MS = 1000.0
BATCH = 5000
#: History lines other than status changes, per request (a filed and instructed request has a dozen).
OTHER_LINES = 10
#: (process, element, the longest stay in hours) of the stays every request went through.
STAYS = (("initial_enrolment", "applicant", 2), ("initial_enrolment", "bank_details", 1),
         ("initial_enrolment", "vat_regime", 1), ("instruction", "review", 240))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000, help="submitted requests to insert (100,000)")
    parser.add_argument("--n", type=int, default=10, help="GETs of each page (10)")
    parser.add_argument("--database-url", help="a scratch database (default: temporary SQLite file)")
    return parser.parse_args()


def seed_history(app) -> int:
    """Add the status changes, task stays and deadlines of every request; returns the rows added."""
    from app.extensions import db
    from app.models import EnrolmentRequest, RequestEvent, TaskSpan
    from app.package import statuses
    rng = random.Random(15)
    added = 0
    with app.app_context():
        labels = {status.code: status.agent_label for status in statuses.current()}
        to_instruct = {status.code for status in statuses.current().to_instruct}
        requests = db.session.execute(db.select(
            EnrolmentRequest.id, EnrolmentRequest.instance_id, EnrolmentRequest.status,
            EnrolmentRequest.submitted_at, db.literal_column("(SELECT process_version_id FROM workflow_instance "
                                                             "WHERE workflow_instance.id = enrolment_request.instance_id)"))
            .order_by(EnrolmentRequest.id)).all()
        db.session.commit()  # the bulk inserts below have their own connection
        engine = db.engine
        for batch_start in range(0, len(requests), BATCH):
            events, spans = [], []
            for request_id, instance_id, status, submitted, version_id in requests[batch_start:batch_start + BATCH]:
                decided = submitted + timedelta(hours=rng.randint(1, 240))
                events += [dict(request_id=request_id, at=submitted, actor="système", action="Statut : En cours", detail=""),
                           dict(request_id=request_id, at=decided, actor="système", action=f"Statut : {labels[status]}",
                                detail="")]
                events += [dict(request_id=request_id, at=submitted + timedelta(minutes=line), actor="système",
                                action=f"Étape {line} enregistrée", detail="") for line in range(OTHER_LINES)]
                entered = submitted - timedelta(hours=4)
                for number, (process, element, hours) in enumerate(STAYS):
                    if element == "review":
                        entered = submitted
                    seconds = rng.randint(0, hours * 3600)
                    still = element == "review" and status in to_instruct
                    spans.append(dict(instance_id=instance_id, task_id=f"{instance_id}-{number}",
                                      process_version_id=version_id, process=process, element=element,
                                      entered_at=entered, entered_epoch=int(entered.timestamp()),
                                      left_at=None if still else entered + timedelta(seconds=seconds),
                                      seconds=None if still else seconds))
                    entered += timedelta(seconds=seconds)
            with engine.begin() as connection:
                connection.execute(RequestEvent.__table__.insert(), events)
                connection.execute(TaskSpan.__table__.insert(), spans)
            added += len(events) + len(spans)
        with engine.begin() as connection:
            connection.execute(db.update(EnrolmentRequest).where(EnrolmentRequest.id % 50 == 0)
                               .values(overdue_since=EnrolmentRequest.submitted_at))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
    return added


def main():
    args = parse_args()
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-steering-"))
    try:
        app, timer, dialect = timed_app(workdir, args.database_url)
        t = time.perf_counter()
        seed(app, args.requests)
        history = seed_history(app)
        seeded_in = time.perf_counter() - t
        with app.app_context():  # seen the day after the last filing: the periods hold requests
            from app import clock
            from app.extensions import db
            from app.models import EnrolmentRequest
            clock.freeze(db.session.scalar(db.select(db.func.max(EnrolmentRequest.submitted_at))) + timedelta(days=1))

        from browser import Browser
        from people import log_in, make_user
        admin = Browser(app.test_client())
        log_in(admin, *make_user(app, "admin"))
        pages = [
            ("last 12 weeks, every process", "/gestion/pilotage"),
            ("last 52 weeks, every process", "/gestion/pilotage?semaines=52"),
            ("last 12 weeks, initial enrolment", "/gestion/pilotage?processus=initial_enrolment"),
            ("last 52 weeks, instruction (called process)", "/gestion/pilotage?semaines=52&processus=instruction"),
        ]
        rows = []
        for label, url in pages:
            measure(admin, timer, url, 2)  # warm-up (caches, prepared statements)
            rows.append((label, *measure(admin, timer, url, args.n)[:2]))
        with app.app_context():
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"« Pilotage » on {dialect} with {args.requests:,} submitted requests and {history:,} history rows "
          f"(seeded in {seeded_in:.0f} s), N = {args.n} GETs each; target ≤ {TARGET_MS:.0f} ms")
    print(f"  {'page':48} {'median':>9} {'p95':>9}")
    for label, median, p95 in rows:
        print(f"  {label:48} {median:7.1f}ms {p95:7.1f}ms  {'MET' if p95 <= TARGET_MS else 'NOT MET'}")
    print(f"  (whole run {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
