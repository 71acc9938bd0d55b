"""``flask bpmn simulate FILE…``: run BPMN files as the draft of the package, in the studio's
sandbox (app/services/simulation.py), and print the path taken, the statuses set and the mails
rendered. Nothing is stored: no request, no number, no mail, not even the simulation."""
import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .extensions import db
from .services import simulation


def _json(value: str | None, option: str) -> dict:
    try:
        found = json.loads(value) if value else {}
    except ValueError as exc:
        raise click.UsageError(f"{option} : JSON invalide ({exc}).") from None
    if not isinstance(found, dict):
        raise click.UsageError(f"{option} : un objet JSON est attendu.")
    return found


def _print(entry: dict) -> None:
    click.echo(f"== {entry['label']} ({entry['at']})")
    if entry["path"]:
        click.echo("   chemin : " + " → ".join(p["id"] for p in entry["path"]))
    for status in entry["statuses"]:
        click.echo(f"   statut : {status['supplier_label']} ({status['code']})")
    for mail in entry["mails"]:
        click.echo(f"   courriel à {mail['recipient']} : {mail['subject']}")
        click.echo("      " + mail["body"].strip().replace("\n", "\n      "))
    if entry["incident"]:
        click.echo(f"   ✗ incident sur « {entry['incident']['label']} » : {entry['incident']['reason']}")


@click.command("simulate")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--process", "process_id", help="Processus à simuler (par défaut : celui du premier fichier).")
@click.option("--element", help="Commencer à cet élément du processus (par défaut : à son événement de début).")
@click.option("--data", help="Données d'exemple, JSON : {\"request\": {colonnes}, \"data\": {données}} "
                             "(par défaut : la dernière demande déposée).")
@click.option("--answers", help='Réponses aux formulaires, JSON : {"id de tâche ou clé de formulaire": {champ: valeur}}.')
@click.option("--advance", "days", type=int, multiple=True, help="Avancer l'horloge de N jours (répétable, dans l'ordre).")
@with_appcontext
def simulate(files, process_id, element, data, answers, days):
    """Simuler des fichiers BPMN comme brouillons du paquet (rien n'est enregistré)."""
    drafts = {Path(f).name: Path(f).read_text(encoding="utf-8") for f in files}
    sources, package_data = simulation.draft_package()
    sources = {**sources, **drafts}
    if process_id is None:
        defined = [p for xml in drafts.values() for p in simulation.defined_processes(xml)]
        if not defined:
            raise click.UsageError("Indiquez le processus à simuler (--process) ou un fichier BPMN qui en définit un.")
        process_id = defined[0]
    replies = _json(answers, "--answers")
    with current_app.test_request_context():  # the forms' CSRF token lives in a session
        try:
            sample = simulation.parse_sample(data) if data else simulation.sample()
            found = simulation.start(process_id, sample, "ligne de commande", sources, package_data, keep=False,
                                     element=element)
            printed = _play(found, replies, 0)
            for each in days:
                simulation.advance(found, each)
                printed = _play(found, replies, printed)
        except simulation.SimulationError as exc:
            for problem in exc.problems:
                click.echo(f"✗ {problem}", err=True)
            raise click.ClickException(str(exc)) from None
        finally:
            db.session.rollback()
        standing = simulation.standing(found)
    click.echo("Processus terminé." if found.completed else f"En attente : {standing.get('turn') or 'une minuterie ou un événement'}.")


def _play(found, replies: dict, printed: int) -> int:
    """Answer the user tasks that have answers, printing every step not printed yet."""
    for _ in range(100):
        played = simulation.answer(found, replies)
        if played is not None and not played[1].done:
            _print_new(found, printed)
            raise simulation.SimulationError(f"Formulaire « {played[0]} » refusé : {played[1].message}")
        if played is None:
            break
    return _print_new(found, printed)


def _print_new(found, printed: int) -> int:
    entries = simulation.log(found)
    for entry in entries[printed:]:
        _print(entry)
    return len(entries)
