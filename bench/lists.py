"""Benchmark (not a test): the request lists at scale — the agents' queue, the supplier's list and the
searches — on a database of 100,000 submitted requests.

    .venv/bin/python bench/lists.py [--requests 100000] [--n 30] [--database-url URL]

It migrates a scratch database (temporary SQLite file by default; ``--database-url`` for a scratch
PostgreSQL database, which must hold no request), inserts the requests in bulk (their rows, workflow
instances and the queues' waiting lanes; no workflow state: list pages never load one), with one
supplier SIRET holding 1,000 of them, then GETs each page N times through the real app (an agent's
and that supplier's logged-in sessions) and prints the median and p95 server time of each: the time
taken around ``app.wsgi_app``, as in bench/submit.py. Target (issue 14, P3): p95 ≤ 30 ms each.
"""
import argparse
import cProfile
import random
import statistics
import sys
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from submit import ROOT, ms, timed_app

sys.path.insert(0, str(ROOT / "tests"))  # the HTTP helpers of the test suite (browser, people)

TARGET_MS = 30.0
SUPPLIER_SIRET = "34866299000038"
SUPPLIER_REQUESTS = 1000
BATCH = 5000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000, help="submitted requests to insert (100,000)")
    parser.add_argument("--n", type=int, default=30, help="GETs of each page (30)")
    parser.add_argument("--database-url", help="a scratch database (default: temporary SQLite file)")
    parser.add_argument("--profile", metavar="PREFIX", help="then profile each page's N GETs with cProfile, into "
                        "PREFIX-1.prof, PREFIX-2.prof… (the pages' order)")
    return parser.parse_args()


def siret_of(index: int) -> str:
    """A valid SIRET (Luhn) per index, all distinct: 14 digits whose last makes the sum right."""
    from stdnum import luhn
    body = f"{(index * 7919) % 10**13:013d}"
    return body + luhn.calc_check_digit(body)


def seed(app, total: int) -> dict:
    """Insert ``total`` submitted requests; returns sample values to search for."""
    from app import clock
    from app.extensions import db
    from app.models import EnrolmentRequest, TYPES, WaitingLane, WorkflowInstance
    from app.package import statuses
    from app.engine.specs import current_version
    rng = random.Random(42)
    with app.app_context():
        codes = [status.code for status in statuses.current().submitted]
        to_instruct = {status.code for status in statuses.current().to_instruct}
        version_id = current_version("initial_enrolment").id
        start = clock.now() - timedelta(days=400)
        engine = db.engine
        instance_table, request_table = WorkflowInstance.__table__, EnrolmentRequest.__table__
        lane_table = WaitingLane.__table__
        supplier_indexes = set(rng.sample(range(total), min(SUPPLIER_REQUESTS, total)))
        first_id = (db.session.scalar(db.select(db.func.max(WorkflowInstance.id))) or 0) + 1
        first_sequence = (db.session.scalar(db.select(db.func.max(EnrolmentRequest.sequence))) or 0) + 1
        db.session.commit()
        samples = {}
        for batch_start in range(0, total, BATCH):
            instances, requests, lanes = [], [], []
            for index in range(batch_start, min(total, batch_start + BATCH)):
                instance_id, sequence = first_id + index, first_sequence + index
                submitted = start + timedelta(minutes=5 * index)
                status = rng.choice(codes)
                instances.append(dict(id=instance_id, process_version_id=version_id, state_json="{}",
                                      lock_version=1, completed=False, created_at=submitted, updated_at=submitted))
                siret = SUPPLIER_SIRET if index in supplier_indexes else siret_of(index)
                number = f"ENR{sequence:04d}M0"
                ans = f"RA{index:08d}"
                requests.append(dict(
                    public_id=str(uuid.UUID(int=rng.getrandbits(128))), instance_id=instance_id, sequence=sequence,
                    number=number, status=status, enrolment_type=rng.choice(TYPES), siret=siret, ans_number=ans,
                    dsr=rng.choice(["Hôpital", "Radiologie", "Biologie médicale", "Officine", "Médecine de ville"]),
                    company_name=f"Éditeur {index}", holder_email=f"titulaire{index}@exemple.fr",
                    submitted_at=submitted, status_changed_at=submitted, created_at=submitted, updated_at=submitted,
                    data={}))
                if status in to_instruct:
                    lanes.append(dict(instance_id=instance_id, lane="Gestionnaire ASP"))
                if index == total // 2:
                    samples = {"number": number, "siret": siret, "ans_number": ans}
            with engine.begin() as connection:
                connection.execute(instance_table.insert(), instances)
                connection.execute(request_table.insert(), requests)
                if lanes:
                    connection.execute(lane_table.insert(), lanes)
        if engine.dialect.name == "postgresql":
            with engine.begin() as connection:
                connection.exec_driver_sql("ANALYZE")
        return samples


def next_of(browser, url: str, direction: str = "next") -> str:
    """The « Suivant » (or « Précédent »: ``direction`` "prev") link of ``url``'s page, as an agent
    reaches the page after (before) it: it carries the cursor of the page's last (first) row."""
    from lxml import html
    page = html.fromstring(browser.client.get(url).get_data(as_text=True))
    [href] = page.xpath(f'//a[contains(@class, "fr-pagination__link--{direction}")]/@href')
    return href


def measure(browser, timer, url: str, n: int) -> tuple[float, float, int]:
    times = []
    for _ in range(n):
        response = browser.client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        times.append(timer.last_ns)
    times.sort()
    p95 = statistics.quantiles(times, n=20, method="inclusive")[18] if len(times) > 1 else times[0]
    return ms(statistics.median(times)), ms(p95), len(response.get_data())


def main():
    args = parse_args()
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-lists-"))
    try:
        app, timer, dialect = timed_app(workdir, args.database_url)
        t = time.perf_counter()
        samples = seed(app, args.requests)
        seeded_in = time.perf_counter() - t

        from browser import Browser
        from people import log_in, make_user
        agent, supplier = Browser(app.test_client()), Browser(app.test_client())
        log_in(agent, *make_user(app, "agent"))
        log_in(supplier, *make_user(app, "supplier", sirets=[SUPPLIER_SIRET]))
        pages = [
            ("queue « À instruire », page 1", agent, "/gestion/demandes"),
            ("queue « À instruire », page 200", agent, next_of(agent, "/gestion/demandes?page=199")),
            ("queue « À instruire », page 200 typed (?page=200)", agent, "/gestion/demandes?page=200"),
            ("queue « À instruire », page 199 by « Précédent »", agent,
             next_of(agent, next_of(agent, "/gestion/demandes?page=199"), "prev")),
            ("queue all statuses, page 1", agent, "/gestion/demandes?status=toutes"),
            ("queue all statuses, page 200", agent, next_of(agent, "/gestion/demandes?status=toutes&page=199")),
            ("queue one status, sorted by number", agent, "/gestion/demandes?status=validated&sort=number&order=asc"),
            ("queue one type, page 200", agent,
             next_of(agent, "/gestion/demandes?status=toutes&type=INITIAL&page=199")),
            ("queue one DSR (« Radiologie »)", agent, "/gestion/demandes?status=toutes&dsr=Radiologie"),
            ("search by number", agent, f"/gestion/demandes?status=toutes&number={samples['number'][:8]}"),
            ("search by SIRET", agent, f"/gestion/demandes?status=toutes&siret={samples['siret']}"),
            ("search by ANS number", agent, f"/gestion/demandes?status=toutes&ans_number={samples['ans_number']}"),
            ("supplier list (1,000 requests), page 1", supplier, "/espace/demandes"),
            ("supplier list, page 50", supplier, "/espace/demandes?page=50"),
            ("supplier home (counts)", supplier, "/espace"),
        ]
        rows = []
        for label, browser, url in pages:
            measure(browser, timer, url, 2)  # warm-up (caches, prepared statements)
            rows.append((label, *measure(browser, timer, url, args.n)))
        for index, (label, browser, url) in enumerate(pages, 1) if args.profile else ():
            timer.profiler = cProfile.Profile()
            measure(browser, timer, url, args.n)
            timer.profiler.dump_stats(f"{args.profile}-{index}.prof")
            timer.profiler = None
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"Lists on {dialect} with {args.requests:,} submitted requests (seeded in {seeded_in:.0f} s), "
          f"N = {args.n} GETs each; target p95 ≤ {TARGET_MS:.0f} ms")
    print(f"  {'page':52} {'median':>8} {'p95':>8}  ")
    for label, median, p95, size in rows:
        print(f"  {label:52} {median:6.1f}ms {p95:6.1f}ms  {'MET' if p95 <= TARGET_MS else 'NOT MET'}")
    met = sum(1 for row in rows if row[2] <= TARGET_MS)
    print(f"  {met}/{len(rows)} pages within the target (whole run {time.perf_counter() - began:.0f} s)")


if __name__ == "__main__":
    main()
