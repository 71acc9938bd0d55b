"""Benchmark (not a test): server CPU per completed step under concurrent suppliers, with the
production server — gunicorn (gunicorn.conf.py) on PostgreSQL (issue 14, P4).

    .venv/bin/python bench/concurrency.py [--clients 32] [--rounds 3] [--workers 2]
                                          [--database-url postgresql+psycopg://…/scratch]

A scratch PostgreSQL database is created (``bench_concurrency`` on the local server unless
``--database-url`` names another, which must hold no request), migrated and deployed; gunicorn is
started on it with ``--workers`` processes. Then ``--clients`` threads, each a supplier with its
own HTTP session (tests/browser.py LiveClient), fill drafts from « Effectuer ma demande » up to
« Récapitulatif » (six step POSTs each), ``--rounds`` drafts per client, all at once. Printed: the
step POSTs completed (answered 303) and refused, the wall time, and the gunicorn processes' CPU time
(user + system, read from /proc before and after, so that the figure does not depend on the
client) per completed step. Target: ≤ 6 ms median per step, 0 lost, 0 doubled.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from submit import ROOT, make_app

sys.path.insert(0, str(ROOT / "tests"))

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SCRATCH = "bench_concurrency"
TARGET_MS = 6.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="drafts each client fills (3)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes (2)")
    parser.add_argument("--database-url", help=f"a scratch PostgreSQL database (default: {SCRATCH}, recreated)")
    parser.add_argument("--floor", type=int, metavar="N", help="instead of drafts: each client GETs each of "
                        "the floor's pages N times (the cost of a request that does almost nothing)")
    return parser.parse_args()


#: The floor: a request that does almost nothing, through the same server, app and hooks.
FLOOR_PAGES = {
    "/sante/vivant": "liveness, no database, no template",
    "/": "home page: the DSFR layout, no query",
}


def scratch_database() -> str:
    import psycopg
    with psycopg.connect(ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{SCRATCH}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/{SCRATCH}"


def cpu_seconds(pids) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (after the command's name)
    return total / CLOCK_TICKS


def children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in found]


class Counts:
    def __init__(self):
        self.lock = threading.Lock()
        self.done = self.refused = 0
        self.errors: list[str] = []


def supplier(url: str, rounds: int, counts: Counts, start: threading.Event) -> None:
    from browser import LiveClient
    from journey import Journey
    start.wait()
    for _ in range(rounds):
        journey = Journey(LiveClient(url))
        try:
            journey.start()
            while journey.form_key != "confirmation":
                before = journey.form_key
                journey.next()
                with counts.lock:
                    if journey.form_key != before:
                        counts.done += 1
                    else:
                        counts.refused += 1
        except Exception as exc:  # reported, not raised: the others go on
            with counts.lock:
                counts.errors.append(f"{type(exc).__name__}: {exc}"[:300])
            return


def prober(url: str, path: str, n: int, counts: Counts, start: threading.Event) -> None:
    import httpx
    with httpx.Client(base_url=url) as client:
        start.wait()
        for _ in range(n):
            ok = client.get(path).status_code == 200
            with counts.lock:
                if ok:
                    counts.done += 1
                else:
                    counts.refused += 1


def measure(workers, clients: int, target, args) -> tuple[Counts, float, float]:
    """Run ``clients`` threads of ``target(*args, counts, start)`` at once: (counts, wall, CPU)."""
    counts, start = Counts(), threading.Event()
    threads = [threading.Thread(target=target, args=(*args, counts, start)) for _ in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before, began = cpu_seconds(workers), time.perf_counter()
    start.set()
    for thread in threads:
        thread.join()
    return counts, time.perf_counter() - began, cpu_seconds(workers) - cpu_before


def main():
    args = parse_args()
    database = args.database_url or scratch_database()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-concurrency-"))
    make_app(workdir, database)  # migrated, deployed, referencing imported
    from conftest import free_port
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if k not in ("MAIL_SERVER", "FLASK_RUN_FROM_CLI")}
    environment.update(INSTANCE_PATH=str(workdir / "instance"), DATABASE_URL=database, MAIL_CAPTURE="1",
                       SECRET_KEY="bench", CAPTCHA_ENABLED="0", COMPANY_DIRECTORY="csv",
                       UPLOAD_FOLDER=str(workdir / "documents"), GUNICORN_BIND=f"127.0.0.1:{port}",
                       WEB_CONCURRENCY=str(args.workers), GUNICORN_LOG_LEVEL="warning")
    log = (workdir / "gunicorn.log").open("w")  # read it when a client fails
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--access-logfile",
                               "/dev/null", "wsgi:app"], cwd=ROOT, env=environment, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx
        for _ in range(300):  # until the workers answer
            try:
                if httpx.get(f"{url}/sante/pret", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        workers = children(server.pid)
        if args.floor:
            print(f"\n{args.clients} clients × {args.floor} GETs of each page, gunicorn {args.workers} processes")
            for path, what in FLOOR_PAGES.items():
                counts, wall, cpu = measure(workers, args.clients, prober, (url, path, args.floor))
                print(f"  {path:14} {cpu / max(counts.done, 1) * 1000:5.2f} ms of gunicorn CPU per request "
                      f"({counts.done} answered 200, {counts.refused} other; {what})")
            return
        counts, wall, cpu = measure(workers, args.clients, supplier, (url, args.rounds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    per_step = cpu / counts.done * 1000 if counts.done else float("nan")
    print()
    print(f"{args.clients} suppliers × {args.rounds} drafts, gunicorn {args.workers} processes on PostgreSQL")
    print(f"  step POSTs completed {counts.done}, refused or stale {counts.refused}, clients failed {len(counts.errors)}")
    print(f"  wall {wall:.1f} s, {counts.done / wall:.1f} steps/s")
    print(f"  gunicorn CPU {cpu:.2f} s = {per_step:.1f} ms per completed step "
          f"(target ≤ {TARGET_MS:.0f} ms: {'MET' if per_step <= TARGET_MS else 'NOT MET'}; it counts the pages "
          "each step shows too)")
    for error in counts.errors[:5]:
        print("  error:", error)
    if counts.errors:
        print(f"  gunicorn's log: {workdir / 'gunicorn.log'}")


if __name__ == "__main__":
    main()
