"""Benchmark (not a test): how the cost of a step grows with a request's history — 200 rounds of the
supporting-documents loop on one request.

    .venv/bin/python bench/rounds.py [--rounds 200] [--database-url URL] [--profile PREFIX]

One request is filed over HTTP (tests/journey.py), then, round after round, an agent asks for a KBIS
(« Demander des pièces », the decision POST) and the supplier, logged in to their space, imports one
and confirms (« Confirmer », the POST that ends the deposit and hands the request back). The server
time of those two POSTs is taken around ``app.wsgi_app`` (as in bench/submit.py), with the size of the
request's stored workflow state after each round. Printed for rounds 1, 50, 100, 200 (or the last),
with their ratio to round 1. Targets (issue 14, P2): round 200 ≤ 1.3× round 1, and the stored state
≤ 1.5× its size after round 1. ``--profile PREFIX`` writes the cProfile stats of the server side of
round 1's and the last round's requests to PREFIX-round1.prof and PREFIX-round<N>.prof, to compare
where a round's time goes (``python -m pstats``); the timings are then inflated by the profiler.
"""
import argparse
import cProfile
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from submit import ROOT, ms, timed_app

sys.path.insert(0, str(ROOT / "tests"))  # the HTTP helpers of the test suite

SHOWN = (1, 50, 100, 200)
WINDOW = 10  # rounds per median


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds of the loop (200)")
    parser.add_argument("--database-url", help="a scratch database (default: temporary SQLite file)")
    parser.add_argument("--profile", metavar="PREFIX", help="cProfile stats of round 1 and the last round "
                                                            "to PREFIX-round<N>.prof")
    return parser.parse_args()


def state_size(app, public_id: str) -> int:
    from app.extensions import db
    from app.models import EnrolmentRequest
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest).where(EnrolmentRequest.public_id == public_id))
        return len(request.instance.state_json.encode())


def one_round(timer, agent, supplier, public_id: str, number: int) -> tuple[int, int]:
    """(server ns of the decision POST, of « Confirmer »)."""
    from files import pdf_bytes
    form = agent.decision_form(public_id).form_with("Enregistrer la décision").fill(
        decision="demander_pieces", requested_types=["kbis"], message=f"Tour {number} : un KBIS récent.")
    page = form.submit("Enregistrer la décision", follow=False)
    assert page.status == 303, (page.status, page.alerts())
    decided = timer.last_ns
    page = supplier.get(f"/demandes/{public_id}/etape")
    page = page.form().fill(document_type="kbis").attach("document_file", f"kbis-{number}.pdf",
                                                         pdf_bytes("KBIS")).submit("Importer")
    assert page.status == 200, (page.status, page.alerts(), page.errors())
    page = page.form().submit("Confirmer", follow=False)
    assert page.status == 303, (page.status, page.alerts())
    return decided, timer.last_ns


def main():
    args = parse_args()
    began = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="segur-bench-rounds-"))
    try:
        app, timer, dialect = timed_app(workdir, args.database_url)
        from browser import Browser
        from instruction_steps import Agent, file_request
        from people import log_in, make_user
        public_id, filer = file_request(app)
        agent, supplier = Agent(app), Browser(app.test_client())
        log_in(supplier, *make_user(app, "supplier", sirets=[filer.siret]))
        rows, times = {}, {}
        for number in range(1, args.rounds + 1):
            profiled = args.profile and number in (1, args.rounds)
            timer.profiler = cProfile.Profile() if profiled else None
            decided, confirmed = one_round(timer, agent, supplier, public_id, number)
            if profiled:
                timer.profiler.dump_stats(f"{args.profile}-round{number}.prof")
                timer.profiler = None
            times[number] = (decided, confirmed)
            if number in SHOWN or number == args.rounds:
                rows[number] = state_size(app, public_id)
        with app.app_context():
            from app.extensions import db
            db.engine.dispose()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    # One round is one sample of each POST, noisy on a shared machine, and the first round pays for
    # first-time costs (templates compiled...): each shown round is the median of WINDOW rounds,
    # the first WINDOW for round 1, the WINDOW ending at the round otherwise.
    def window(number):
        last = max(number, min(WINDOW, args.rounds))
        chosen = [times[n] for n in range(max(1, last - WINDOW + 1), last + 1)]
        return (statistics.median(d for d, _ in chosen), statistics.median(c for _, c in chosen),
                f"{max(1, last - WINDOW + 1)}–{last}")

    first = (*window(1)[:2], rows[1])
    print()
    print(f"Supporting-documents loop on {dialect}, {args.rounds} rounds on one request "
          f"(whole run {time.perf_counter() - began:.0f} s); medians of {WINDOW} rounds, ratios to the first "
          + ("(rounds 1 and the last profiled: inflated)" if args.profile else ""))
    print(f"  {'round':>5}  {'rounds':>8}  {'decision POST':>20}  {'« Confirmer » POST':>20}  {'stored state':>18}")
    for number, size in rows.items():
        decided, confirmed, span = window(number)
        print(f"  {number:5d}  {span:>8}  {ms(decided):8.1f} ms ×{decided / first[0]:5.2f}  "
              f"{ms(confirmed):8.1f} ms ×{confirmed / first[1]:5.2f}  {size / 1024:8.1f} KB ×{size / first[2]:5.2f}")
    decided, confirmed, _ = window(max(rows))
    print(f"  targets at round {max(rows)}: steps ≤ 1.3× round 1: "
          f"{'MET' if max(decided / first[0], confirmed / first[1]) <= 1.3 else 'NOT MET'}; "
          f"state ≤ 1.5× round 1: {'MET' if rows[max(rows)] / first[2] <= 1.5 else 'NOT MET'}")


if __name__ == "__main__":
    main()
