"""Benchmark (not a test): the cost of one user-task submit, through the app and in the engine alone.

    .venv/bin/python bench/submit.py [--n 200] [--warmup 10] [--database-url URL] [--profile FILE]
    .venv/bin/python bench/submit.py --instructions [--n 20]   # machine instructions, under valgrind

In one run, on a fresh database (temporary SQLite file by default), it prepares N + warm-up drafts,
each driven through HTTP up to step 4 « Taux TVA » (form ``vat_regime``), then, draft by draft:

* engine alone: ``Run.load`` → ``ready_task`` → ``complete`` → ``save`` → ``db.session.flush()``,
  timed, then rolled back (so the draft is still at « Taux TVA »);
* through the app: the POST of the « Taux TVA » form (``vat_liable=oui``, ``vat_rate=20``) on the
  same draft, timed around ``app.wsgi_app`` only (CSRF, load, validation, complete, engine steps,
  save, commit, after-request hooks, teardown), the 303 redirect not followed.

Both measures are interleaved so that they share the same (noisy, shared) machine conditions; the
ratio app/engine is the figure to compare between runs. ``--instructions`` counts the machine
instructions of the same two measures instead (valgrind's callgrind): slower, but the same figure
whatever else the machine does, so that two commits can be compared. See bench/README.md.
"""
import argparse
import contextlib
import cProfile
import ctypes
import io
import os
import re
import statistics
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the HTTP helpers of the test suite (journey, browser)

TARGET_MS = 4.0
FORM_KEY = "vat_regime"
ENGINE_DATA = {"vat_liable": "oui", "vat_rate": "20", "doc_non_vat_proof": None}  # what the form gives
DEMO_REFERENCING = ROOT / "app" / "data" / "referencing_demo.csv"


class TimedWSGI:
    """Around ``app.wsgi_app``: the server time of the last request, without the test client's
    own work (building the environ, encoding the multipart body, cookies, reading the response)."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app
        self.last_ns = None
        self.profiler = None  # a cProfile.Profile enabled only around the measured submits
        self.meter = None     # the callgrind meter (--instructions), counting only the measured submits

    def __call__(self, environ, start_response):
        profiler, meter = self.profiler, self.meter
        start = time.perf_counter_ns()
        if profiler is not None:
            profiler.enable()
        if meter is not None:
            meter.meter_toggle()
        try:
            return self.wsgi_app(environ, start_response)
        finally:
            if meter is not None:
                meter.meter_toggle()
            if profiler is not None:
                profiler.disable()
            self.last_ns = time.perf_counter_ns() - start


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=200, help="measured submits (and engine runs), default 200")
    parser.add_argument("--warmup", type=int, default=10, help="untimed submits first, default 10")
    parser.add_argument("--database-url", help="a scratch database (default: temporary SQLite file); "
                                               "postgresql://… accepted; it must hold no request yet")
    parser.add_argument("--profile", metavar="FILE",
                        help="also write cProfile stats of the measured submits (server side) to FILE; "
                             "timings are then inflated by the profiler")
    parser.add_argument("--no-reuse", action="store_true",
                        help="turn off the reuse of the workflow the step's page released (WORKFLOW_CACHE_SIZE=0): "
                             "the POST then restores it from the stored state")
    parser.add_argument("--instructions", action="store_true",
                        help="count machine instructions per submit under valgrind (callgrind) instead "
                             "of timing; use a small --n (20 takes about a minute)")
    return parser.parse_args()


# --- --instructions: the same measures, counted by callgrind -------------------------------------

METER_ENV = "BENCH_CALLGRIND_METER"  # set in the child run under valgrind: the compiled meter


def count_instructions(args) -> None:
    """Run this script again under callgrind and print the instructions per engine run and per
    submit. Instrumentation starts once the drafts are prepared; counting is on only around the
    measured calls (the meter's client requests), and each measure is dumped on its own."""
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-cg-"))
    try:
        meter = workdir / "meter.so"
        subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(meter), str(ROOT / "bench" / "callgrind_meter.c")],
                       check=True)
        out = workdir / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", "--collect-atstart=no",
                   f"--callgrind-out-file={out}", sys.executable, __file__, "--n", str(args.n),
                   "--warmup", str(args.warmup)] + (["--no-reuse"] if args.no_reuse else [])
        if args.database_url:
            command += ["--database-url", args.database_url]
        child = subprocess.run(command, env={**os.environ, METER_ENV: str(meter), "PYTHONHASHSEED": "0"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if child.returncode:
            sys.exit(f"bench: the run under valgrind failed\n{child.stderr[-3000:]}")
        totals = {}
        for dump in workdir.glob("callgrind.out.*"):
            text = dump.read_text()
            name = re.search(r"^desc: Trigger: Client Request: (\w+)", text, re.M)
            total = re.search(r"^(?:totals|summary): (\d+)", text, re.M)
            if name and total:
                totals[name.group(1)] = int(total.group(1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    app, engine = totals["app"] / args.n, totals["engine"] / args.n
    print(child.stdout.strip().splitlines()[0])
    print(f"  app (server side of the POST)   {app / 1e6:7.2f} M instructions per submit")
    print(f"  engine alone (load→save+flush)  {engine / 1e6:7.2f} M instructions per run")
    print(f"  ratio app/engine                {app / engine:7.2f}")


def make_app(workdir: Path, database_url: str | None, **settings):
    # The instance folder (secret key file) is the temporary one, never the project's instance/.
    os.environ["INSTANCE_PATH"] = str(workdir / "instance")
    from app import create_app
    from app.extensions import db
    from app.models import EnrolmentRequest
    from app.services import referencing

    app = create_app({
        "SECRET_KEY": "bench-secret",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "UPLOAD_FOLDER": str(workdir / "documents"),
        "MAIL_CAPTURE": True,
        "MAIL_CAPTURE_CONFIRMED": True,  # a bench sends no mail, knowingly
        "CAPTCHA_ENABLED": False,
        "COMPANY_DIRECTORY": "csv",
        **settings,
    })
    with app.app_context():
        from flask_migrate import upgrade
        log = io.StringIO()
        try:
            with contextlib.redirect_stderr(log):  # Alembic's INFO lines: shown only on failure
                upgrade()
        except BaseException:
            sys.stderr.write(log.getvalue())
            raise
        db.session.commit()
        if db.session.scalar(db.select(db.func.count()).select_from(EnrolmentRequest)):
            sys.exit("bench: the database already holds enrolment requests; give a scratch database")
        result = referencing.import_csv(DEMO_REFERENCING)
        assert result.ok, result
        from app.package import deploy_files
        deploy_files(author="bench")
        db.session.commit()
    return app


def timed_app(workdir: Path, database_url: str | None, **settings):
    """(app, its TimedWSGI, the database's dialect name): the set-up every bench script starts with."""
    app = make_app(workdir, database_url, **settings)
    timer = TimedWSGI(app.wsgi_app)
    app.wsgi_app = timer
    with app.app_context():
        from app.extensions import db
        return app, timer, db.engine.dialect.name


def prepare_draft(app):
    """A draft at « Taux TVA », driven through HTTP like a supplier (its own browser and session)."""
    from journey import Journey
    journey = Journey(app.test_client())
    journey.start()
    journey.until(FORM_KEY)
    assert journey.form_key == FORM_KEY, journey.form_key
    public_id = journey.page.url.split("/")[2]  # /demandes/<public_id>/etape
    return public_id, journey


def engine_once(app, public_id: str, meter=None) -> dict[str, int]:
    """load → ready_task → complete → save → flush on the draft, timed (and counted by ``meter``,
    under --instructions); then rolled back."""
    from app.engine import Run
    from app.extensions import db
    from app.models import EnrolmentRequest
    from app.roles import SUPPLIER, lane_of
    with app.app_context():
        lane = lane_of(SUPPLIER)
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        instance = request.instance  # rows fetched before the clock starts
        if meter is not None:
            meter.meter_toggle()
        t0 = time.perf_counter_ns()
        run = Run.load(instance, request, reuse=False)  # the engine from the stored state, always
        t1 = time.perf_counter_ns()
        task = run.ready_task(lane)
        run.complete(task.id, lane, ENGINE_DATA)
        t2 = time.perf_counter_ns()
        run.save()
        t3 = time.perf_counter_ns()
        db.session.flush()
        t4 = time.perf_counter_ns()
        if meter is not None:
            meter.meter_toggle()
        assert task.form_key == FORM_KEY, task.form_key
        assert run.ready_task(lane).form_key == "confirmation"
        db.session.rollback()  # the draft stays at « Taux TVA » for the app submit
    return {"total": t4 - t0, "load": t1 - t0, "complete": t2 - t1, "save": t3 - t2, "flush": t4 - t3}


def app_once(timer: TimedWSGI, journey) -> int:
    """POST the « Taux TVA » form; the server time of that one request."""
    form = journey.fill()  # vat_liable=oui, vat_rate=20 (plus CSRF token, _task)
    label = journey._submit_label()
    timer.last_ns = None
    page = form.submit(label, follow=False)
    elapsed = timer.last_ns
    assert page.status == 303 and page.response.headers["Location"].endswith("/etape"), \
        (page.status, page.text[:500])
    return elapsed


def ms(ns: float) -> float:
    return ns / 1e6


def summary(values_ns: list[int]) -> tuple[float, float]:
    median = statistics.median(values_ns)
    p95 = statistics.quantiles(values_ns, n=20, method="inclusive")[18] if len(values_ns) > 1 else values_ns[0]
    return ms(median), ms(p95)


def measure_instructions(app, timer, drafts) -> None:
    """The child run of --instructions: every engine run, then every submit, each measure dumped."""
    meter = ctypes.CDLL(os.environ[METER_ENV])
    meter.meter_start_instrumentation()
    for public_id, _ in drafts:
        engine_once(app, public_id, meter)
    meter.meter_dump(b"engine")
    timer.meter = meter
    for _, journey in drafts:
        app_once(timer, journey)
    timer.meter = None
    meter.meter_dump(b"app")


def main():
    args = parse_args()
    if args.n < 1 or args.warmup < 0:
        sys.exit("bench: --n must be ≥ 1 and --warmup ≥ 0")
    if args.instructions and METER_ENV not in os.environ:
        return count_instructions(args)
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-"))
    try:
        # Each draft's page, shown last when it was prepared, released its workflow: room for all of
        # them, as for people who post their form a little after opening it.
        reuse = 0 if args.no_reuse else args.n + args.warmup
        app, timer, dialect = timed_app(workdir, args.database_url, WORKFLOW_CACHE_SIZE=reuse)
        t = time.perf_counter()
        drafts = [prepare_draft(app) for _ in range(args.n + args.warmup)]
        prepared_in = time.perf_counter() - t

        for public_id, journey in drafts[:args.warmup]:
            engine_once(app, public_id)
            app_once(timer, journey)

        if METER_ENV in os.environ:
            measure_instructions(app, timer, drafts[args.warmup:])
            print(f"Submit of « Taux TVA » ({FORM_KEY}) on {dialect}, N = {args.n} (after {args.warmup} warm-up), "
                  f"counted by callgrind, workflow reuse {'off' if args.no_reuse else 'on'}")
            return
        profiler = cProfile.Profile() if args.profile else None
        app_ns, engine = [], []
        t = time.perf_counter()
        for public_id, journey in drafts[args.warmup:]:
            engine.append(engine_once(app, public_id))
            timer.profiler = profiler
            app_ns.append(app_once(timer, journey))
            timer.profiler = None
        measured_in = time.perf_counter() - t
        if profiler is not None:
            profiler.dump_stats(args.profile)

        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    engine_ns = [e["total"] for e in engine]
    app_med, app_p95 = summary(app_ns)
    eng_med, eng_p95 = summary(engine_ns)
    met = app_med <= TARGET_MS
    print()
    print(f"Submit of « Taux TVA » ({FORM_KEY}) on {dialect}, N = {args.n} (after {args.warmup} warm-up), "
          f"workflow reuse {'off' if args.no_reuse else 'on'}")
    print(f"  app (server time of the POST)   median {app_med:7.2f} ms   p95 {app_p95:7.2f} ms")
    print(f"  engine alone (load→save+flush)  median {eng_med:7.2f} ms   p95 {eng_p95:7.2f} ms")
    parts = "  ".join(f"{name} {ms(statistics.median(e[name] for e in engine)):.2f}"
                      for name in ("load", "complete", "save", "flush"))
    print(f"    engine medians (ms): {parts}")
    print(f"  ratio app/engine                median {app_med / eng_med:7.2f}      p95 {app_p95 / eng_p95:7.2f}")
    print(f"  target ≤ {TARGET_MS:.0f} ms median per submit: {'MET' if met else 'NOT MET'} "
          f"({app_med:.2f} ms)")
    print(f"  (drafts prepared in {prepared_in:.1f} s, measured in {measured_in:.1f} s, "
          f"whole run {time.perf_counter() - began:.1f} s)")
    if args.profile:
        print(f"  cProfile stats of the measured submits: {args.profile} (timings above inflated)")


if __name__ == "__main__":
    main()
