"""``flask bpmn migrate``: move running requests to another version of their process, as the
studio's « Demandes en cours sur une version antérieure » does (app/services/migration.py)."""
import click
from flask.cli import with_appcontext

from .services import migration

ACTOR = "ligne de commande"


@click.command("migrate")
@with_appcontext
@click.argument("process_id")
@click.option("--to", "number", type=int, help="Version cible (par défaut : celle en service).")
@click.option("--request", "references", multiple=True,
              help="Numéro ou identifiant public d'une demande (répétable ; par défaut : toutes celles qui peuvent l'être).")
@click.option("--dry-run", is_flag=True, help="Dire ce qui serait fait, sans rien changer.")
@click.option("--author", default=ACTOR, help="Qui déplace (inscrit dans l'historique des demandes).")
def bpmn_migrate(process_id, number, references, dry_run, author):
    """Déplacer les demandes en cours d'un processus vers sa version en service (ou --to N)."""
    try:
        target = migration.target_version(process_id, number)
        chosen = (migration.find_requests(process_id, target, references) if references
                  else migration.candidates(process_id, target))
    except migration.MigrationError as exc:
        raise click.ClickException(str(exc)) from None
    if not chosen:
        click.echo(f"Aucune demande en cours sur une version antérieure à la version {target.version}.")
        return
    for outcome in migration.move_all(chosen, target, author, dry_run=dry_run):
        label = outcome.candidate.label
        if outcome.reason:
            click.echo(f"✗ {label} : refusée, {outcome.reason}")
        elif dry_run:
            click.echo(f"· {label} : déplaçable vers la version {target.version} (rien n'est changé : --dry-run)")
        else:
            click.echo(f"✓ {label} : déplacée vers la version {target.version}")
