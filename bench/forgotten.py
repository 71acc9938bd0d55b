"""Benchmark (not a test): does « J'ai oublié » answer in the same time for a known and an unknown
account? Prints the median server time of each case, side by side, and their ratio.

    .venv/bin/python bench/forgotten.py [--n 30] [--database-url URL]

On a fresh database (temporary SQLite file by default; ``--database-url`` must name a scratch
database), one supplier account is created; then the POSTs of « J'ai oublié mon mot de passe » (its
identifiant, then an unknown one) and of « J'ai oublié mon identifiant » (its email, then an unknown
one) are interleaved N times each, timed around ``app.wsgi_app`` (CSRF off, rate limits off: they
are not what is measured). Nothing is mailed: the worker does not run.
"""
import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CASES = {  # form → (url, field, known value, unknown value)
    "mot de passe oublié": ("/mot-de-passe-oublie", "login", "F1234567", "F7654321"),
    "identifiant oublié": ("/identifiant-oublie", "email", "titulaire@fournisseur-sante.fr",
                           "inconnu@fournisseur-sante.fr"),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=30)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-forgotten-"))
    os.environ["INSTANCE_PATH"] = str(workdir / "instance")
    from app import create_app
    from app.extensions import db
    from app.services import accounts

    app = create_app({"SECRET_KEY": "bench-secret", "MAIL_CAPTURE": True, "WTF_CSRF_ENABLED": False,
                      "RATELIMIT_ENABLED": False,
                      "SQLALCHEMY_DATABASE_URI": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        accounts.create_user("supplier", "titulaire@fournisseur-sante.fr", login="F1234567",
                             password="Mot-de-passe-solide-2026")
        db.session.commit()

    timings = {}
    wsgi_app = app.wsgi_app

    def timed(environ, start_response):
        start = time.perf_counter()
        try:
            return wsgi_app(environ, start_response)
        finally:
            timed.last = time.perf_counter() - start

    app.wsgi_app = timed
    client = app.test_client()
    for _ in range(args.n):
        for form, (url, field, known, unknown) in CASES.items():
            for case, value in (("connu", known), ("inconnu", unknown)):
                response = client.post(url, data={field: value})
                assert response.status_code == 303, response.status_code
                timings.setdefault((form, case), []).append(timed.last * 1000)

    with app.app_context():
        db.engine.dispose()
    shutil.rmtree(workdir, ignore_errors=True)
    print(f"Médiane de {args.n} réponses (ms, côté serveur) :")
    for form in CASES:
        known, unknown = (statistics.median(timings[(form, case)]) for case in ("connu", "inconnu"))
        print(f"  {form:<22} compte connu {known:6.2f}   compte inconnu {unknown:6.2f}   "
              f"rapport {known / unknown:4.2f}")


if __name__ == "__main__":
    main()
