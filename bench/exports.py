"""Benchmark (not a test): the exports of the agents' queue (CSV and Excel) at 10,000 and then
100,000 requests, to show that their memory stays flat when the list grows tenfold.

    .venv/bin/python bench/exports.py [--sizes 10000 100000] [--database-url URL]

It migrates a scratch database (temporary SQLite file by default; ``--database-url`` for a scratch
PostgreSQL database, which must hold no request), inserts the requests in bulk with bench/lists.py's
``seed`` (at each size, after removing those of the size before), and at each size downloads
« /gestion/demandes/export.csv?status=toutes » and « .xlsx » through the real app, logged in as an
agent, reading the streamed response block by block without keeping it (as a browser saving the
file). Each export runs twice: once timed (the whole download, server and reading), once under
tracemalloc for the peak of Python memory allocated during the download; the first also gives the
growth of the process's resident set (its high-water mark, reset before, minus what it held).
"""
import argparse
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from submit import ROOT, timed_app
from lists import seed

sys.path.insert(0, str(ROOT / "tests"))  # the HTTP helpers of the test suite (browser, people)

URL = "/gestion/demandes/export.{}?status=toutes"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000],
                        help="numbers of requests to export, increasing (10,000 and 100,000)")
    parser.add_argument("--database-url", help="a scratch database (default: temporary SQLite file)")
    return parser.parse_args()


def download(client, extension: str) -> int:
    """GET the export and read it to the end, block by block; returns its size in bytes."""
    response = client.get(URL.format(extension), buffered=False)
    assert response.status_code == 200, response.status_code
    size = sum(len(block) for block in response.response)
    response.close()
    return size


def clear(app) -> None:
    """Remove the requests seeded before (``seed`` inserts the same rows again)."""
    from app.extensions import db
    from app.models import EnrolmentRequest, WaitingLane, WorkflowInstance
    with app.app_context():
        for model in (WaitingLane, EnrolmentRequest, WorkflowInstance):
            db.session.execute(db.delete(model))
        db.session.commit()


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))


def measure(client, extension: str) -> tuple[float, int, int, int]:
    """(seconds, peak bytes allocated by Python, growth of the resident set over the download in
    bytes, file size) of one export. The resident set's high-water mark is reset first (Linux:
    /proc/self/clear_refs), so that its growth counts what C code holds too (the database
    driver's buffers, XlsxWriter's)."""
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")
    resident = _status_kib("VmRSS")
    began = time.perf_counter()
    size = download(client, extension)
    seconds = time.perf_counter() - began
    rss_growth = (_status_kib("VmHWM") - resident) * 1024
    tracemalloc.start()
    download(client, extension)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, peak, rss_growth, size


def main():
    args = parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-exports-"))
    results = []
    try:
        app, _timer, dialect = timed_app(workdir, args.database_url)
        from browser import Browser
        from people import log_in, make_user
        agent = Browser(app.test_client())
        log_in(agent, *make_user(app, "agent"))
        for size in sorted(args.sizes):
            clear(app)
            seed(app, size)
            for extension in ("csv", "xlsx"):
                results.append((size, extension, *measure(agent.client, extension)))
                print(f"  {size:>9,} requests  {extension:4}  done", file=sys.stderr)
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    print()
    print(f"Exports of the queue on {dialect} (« Tous les statuts »), one run each")
    print(f"  {'requests':>9}  {'format':6} {'time':>8} {'rows/s':>9} {'Python peak':>12} {'RSS growth':>11} "
          f"{'file':>9}")
    for size, extension, seconds, peak, rss_growth, file_size in results:
        print(f"  {size:>9,}  {extension:6} {seconds:7.2f}s {size / seconds:9,.0f} {peak / 2**20:8.2f} MiB "
              f"{rss_growth / 2**20:7.1f} MiB {file_size / 2**20:6.1f} MiB")
    for extension in ("csv", "xlsx"):
        runs = [row for row in results if row[1] == extension]
        (small, _, small_time, small_peak, *_), (large, _, large_time, large_peak, *_) = runs[0], runs[-1]
        if large > small:
            print(f"  {extension}: ×{large / small:.0f} requests → time ×{large_time / small_time:.1f}, "
                  f"peak memory ×{large_peak / small_peak:.2f}")

if __name__ == "__main__":
    main()
