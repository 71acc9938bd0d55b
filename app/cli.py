"""``flask`` commands: run the portal, deploy diagrams, import reference data, run the worker."""
import csv
import json
import os
import subprocess
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from flask_migrate import upgrade
from werkzeug.serving import run_simple

from . import roles
from .config import ROOT, check_mail_transport
from .engine import DeployError
from .package import (Folders, check as check_package, current, current_row, deploy_files, deploy_package,
                      deployed_sources, folders, load, read_files, write_files)
from .extensions import db
from .models import ProcessVersion, Referencing
from .services import enrolment, package_archive, referencing
from .services.processes import StudioError
from .worker import deliver_mails, loop, work_once

DEMO_REFERENCING = ROOT / "app" / "data" / "referencing_demo.csv"

bpmn_cli = AppGroup("bpmn", help="Diagrammes BPMN : vérifier, déployer, lister les versions.")
referencing_cli = AppGroup("referencing", help="Annuaire des référencements ANS.")
outbox_cli = AppGroup("outbox", help="Courriels en attente d'envoi.")
drafts_cli = AppGroup("drafts", help="Brouillons de demandes abandonnés.")


def _package(files) -> tuple[dict[str, str], dict | None]:
    """(sources, data) to check or deploy: the files given over the deployed set with the deployed
    data (a process and its callers go together), or the whole package the repository's files hold."""
    if not files:
        return read_files()
    return {**deployed_sources(), **{Path(f).name: Path(f).read_text(encoding="utf-8") for f in files}}, None


def _refuse(problems) -> None:
    for problem in problems:
        click.echo(f"✗ {problem}", err=True)
    raise SystemExit(1)


@bpmn_cli.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def bpmn_check(files):
    """Vérifier le paquet de processus (par défaut : les dossiers bpmn/ et mail_templates/) ou des
    fichiers BPMN, sans les déployer."""
    sources, data = _package(files)
    problems = check_package(sources, current().data if data is None else data)
    if problems:
        _refuse(problems)
    click.echo("✓ Paquet de processus valide.")


@bpmn_cli.command("deploy")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--comment", default="", help="Commentaire de version.")
@click.option("--author", default="ligne de commande")
def bpmn_deploy(files, comment, author):
    """Déployer le paquet de processus (par défaut : les dossiers bpmn/ et mail_templates/) ou des
    fichiers BPMN, comme nouvelle version."""
    sources, data = _package(files)
    try:
        package, created = deploy_package(sources, author=author, comment=comment, data=data)
    except DeployError as exc:
        _refuse(exc.problems)
    db.session.commit()
    for version in created:
        click.echo(f"✓ {version.process_id} version {version.version} déployée ({version.sha256[:12]}).")
    if package is not None:
        click.echo(f"✓ Paquet de processus version {package.version} déployé.")
    else:
        click.echo("Aucun changement : le paquet déployé est à jour.")


@bpmn_cli.command("export")
@click.option("--bpmn", "bpmn_folder", type=click.Path(file_okay=False), help="Dossier des diagrammes (bpmn/).")
@click.option("--mails", "mails_folder", type=click.Path(file_okay=False), help="Dossier des courriels (mail_templates/).")
@click.option("--archive", type=click.Path(dir_okay=False), help="Écrire plutôt une archive zip (celle de « Exporter »).")
def bpmn_export(bpmn_folder, mails_folder, archive):
    """Écrire le paquet déployé dans les fichiers du dépôt, pour le relire et le committer, ou dans
    une archive zip."""
    where = folders()
    where = Folders(Path(bpmn_folder) if bpmn_folder else where.bpmn, Path(mails_folder) if mails_folder else where.mails)
    row = current_row()
    if row is None:
        raise click.ClickException("Aucun paquet de processus n'est déployé.")
    if archive:
        Path(archive).write_bytes(package_archive.export(json.loads(row.sources_json), load(row).data))
        click.echo(f"✓ Paquet de processus version {row.version} écrit dans {archive}.")
        return
    write_files(json.loads(row.sources_json), load(row).data, where)
    click.echo(f"✓ Paquet de processus version {row.version} écrit dans {where.bpmn} et {where.mails}.")


@bpmn_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--author", default="ligne de commande")
def bpmn_import(file, author):
    """Importer une archive zip de paquet de processus comme brouillons (rien n'est déployé)."""
    try:
        done = package_archive.import_archive(Path(file).read_bytes(), author)
    except StudioError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    for name in (*done.files, *done.sections):
        click.echo(f"✓ Brouillon : {name}")
    for problem in done.problems:
        click.echo(f"✗ {problem}", err=True)
    click.echo("Archive importée en brouillons : rien n'est déployé.")


@bpmn_cli.command("versions")
def bpmn_versions():
    """Lister les versions déployées."""
    for v in db.session.scalars(db.select(ProcessVersion).order_by(ProcessVersion.process_id, ProcessVersion.version)):
        current = "*" if v.is_current else " "
        click.echo(f"{current} {v.process_id} v{v.version}  {v.created_at:%Y-%m-%d %H:%M}  {v.author}  {v.sha256[:12]}  {v.comment}")


@referencing_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def referencing_import(file):
    """Importer (ou mettre à jour) l'annuaire des référencements depuis un CSV."""
    report = referencing.import_csv(file)
    for message in report.messages:
        click.echo(f"✗ {message}", err=True)
    if not report.ok:
        raise SystemExit(1)
    db.session.commit()
    click.echo(f"✓ {report.created} référencement(s) créé(s), {report.updated} mis à jour.")


@outbox_cli.command("deliver")
def outbox_deliver():
    """Envoyer les courriels en attente (avec nouvelles tentatives en cas d'échec)."""
    click.echo(f"{deliver_mails()} courriel(s) envoyé(s).")


@drafts_cli.command("purge")
def drafts_purge():
    """Supprimer les brouillons abandonnés depuis plus de DRAFT_MAX_AGE_HOURS heures."""
    purged = enrolment.purge_expired_drafts()
    db.session.commit()
    click.echo(f"{purged} brouillon(s) supprimé(s).")


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Une seule passe, puis s'arrêter.")
@click.option("--interval", default=10.0, show_default=True, help="Secondes entre deux passes.")
def worker(once, interval):
    """Déclencher les minuteries échues, purger les brouillons expirés, envoyer les courriels."""
    try:
        check_mail_transport(current_app.config)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    if once:
        done = work_once()
        click.echo(", ".join(f"{k} : {v}" for k, v in done.items()))
        return
    loop(current_app._get_current_object(), interval)


def ensure_assets() -> None:
    """Install the front-end packages from the npm registry when missing or outdated."""
    modules, lock = ROOT / "node_modules", ROOT / "package-lock.json"
    marker = modules / ".package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        click.echo("Installation des ressources front-end (npm ci)…")
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=ROOT, check=True)


def prepare() -> None:
    """Database schema, deployed diagrams and reference data, idempotently."""
    ensure_assets()
    upgrade()
    deploy_files(author="démarrage du portail")
    if db.session.scalar(db.select(db.func.count()).select_from(Referencing)) == 0:
        report = referencing.import_csv(DEMO_REFERENCING)
        if not report.ok:
            raise click.ClickException("\n".join(report.messages))
    db.session.commit()


def _demo_hints() -> str:
    with open(DEMO_REFERENCING, encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f, delimiter=";"))
    with open(current_app.config["COMPANY_CSV"], encoding="utf-8-sig") as f:
        companies = list(csv.DictReader(f, delimiter=";"))
    lines = ["Numéros ANS de démonstration :"]
    lines += [f"  {r['ans_number']:<12} {r['software_name']} — "
              f"{'validé' if r['validated'].lower() in ('oui', 'true', '1') else 'en attente (anticipé)'}"
              f"{', SONS DPI' if r['sons_dpi'].lower() in ('oui', 'true', '1') else ''}" for r in rows]
    lines.append("SIRET de démonstration :")
    lines += [f"  {c['siret']}  {c['name']}" for c in companies]
    from . import demo
    known = roles.current()
    lines.append(f"Comptes de démonstration (mot de passe : {demo.PASSWORD}) — se connecter sur /connexion :")
    lines += [f"  {login:<18} {known.label(role)}" for login, role, *_ in demo.ACCOUNTS]
    lines.append(f"  {demo.WAVE_1[0]:<18} {known.label(demo.WAVE_1[1])}, connu de la vague 1 (SIRET {demo.WAVE_1_SIRET}, "
                 "dépositaire, sans demande de la vague 2)")
    return "\n".join(lines)


@click.command("portal")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def portal(host, port):
    """Préparer (ressources, base, diagrammes, données de démonstration) et lancer le portail
    avec son worker."""
    if not os.environ.get("PORTAL_URL"):  # links in mails and PDFs point at this server
        # (a wildcard address is where it listens, not an address to open: this machine's then)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::", "") else f"[{host}]" if ":" in host else host
        current_app.config["PORTAL_URL"] = f"http://{shown}:{port}"
    prepare()
    from . import demo
    if demo.needed():
        click.echo("Création des données de démonstration (comptes et demandes dans chaque statut)…")
        demo.create()
        db.session.commit()
    hints = _demo_hints()  # reads the roles' labels from the package: before the session closes
    # Nothing of the set-up may stay open while the server runs: on SQLite, an open transaction
    # holds the write lock, and every page and the worker would wait for it.
    db.session.remove()
    app = current_app._get_current_object()
    app.config["DEV_MAILBOX"] = True  # development: the captured mailbox, for this machine only
    app.config["WEBHOOK_ALLOW_HTTP_LOOPBACK"] = True  # development: webhooks to a receiver on this machine

    threading.Thread(target=loop, args=(app, 5), name="worker", daemon=True).start()
    click.echo(hints)
    mails = " ; courriels visibles sur /dev/courriels" if app.config["MAIL_CAPTURE"] else ""
    click.echo(f"\nPortail : {app.config['PORTAL_URL']}/{mails}\n")
    run_simple(host, port, app, threaded=True, use_reloader=False)


def register_commands(app):
    for command in (bpmn_cli, referencing_cli, outbox_cli, drafts_cli, worker, portal):
        app.cli.add_command(command)
    from .cli_users import users_cli
    app.cli.add_command(users_cli)
    from .cli_migrate import bpmn_migrate
    bpmn_cli.add_command(bpmn_migrate)
    from .cli_simulate import simulate
    bpmn_cli.add_command(simulate)
