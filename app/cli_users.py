"""``flask users``: create and list accounts (staff accounts are only created here)."""
import click
from flask.cli import AppGroup

from .extensions import db
from .roles import ROLES, SUPPLIER
from .services import accounts

users_cli = AppGroup("users", help="Comptes : créer, lister.")


@users_cli.command("create")
@click.option("--role", required=True, type=click.Choice(list(ROLES)), help="Rôle du compte.")
@click.option("--email", required=True, help="Adresse électronique (une seule personne par adresse).")
@click.option("--login", help="Identifiant (par défaut : généré, F1234567 ou AG123456).")
@click.option("--first-name", default="", help="Prénom.")
@click.option("--last-name", default="", help="Nom.")
@click.option("--password", help="Mot de passe ; sans lui, un lien pour le choisir est envoyé par courriel.")
@click.option("--siret", "sirets", multiple=True, help="SIRET visible par un compte fournisseur (répétable).")
@click.option("--depositaire", "depositary", is_flag=True,
              help="Le titulaire agit pour ces SIRET en tant que dépositaire (tiers déclarant).")
def create(role, email, login, first_name, last_name, password, sirets, depositary):
    """Créer un compte et afficher son identifiant."""
    if sirets and role != SUPPLIER:
        raise click.UsageError("--siret ne concerne que les comptes fournisseur (--role supplier).")
    try:
        user = accounts.create_user(role, email, first_name, last_name, login=login, password=password)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    for siret in sirets:
        accounts.grant_siret(user, siret, depositary=depositary)
    link = accounts.send_welcome(user) if password is None else None
    db.session.commit()
    click.echo(f"Compte créé : identifiant {user.login} ({ROLES[role]}, {user.email}).")
    if link:
        click.echo(f"Lien pour choisir le mot de passe (valable {accounts.link_hours():g} heures, "
                   f"envoyé par courriel avec l'identifiant) : {link}")


@users_cli.command("list")
def list_users():
    """Lister les comptes."""
    for user in accounts.list_users():
        state = "actif" if user.active else "désactivé"
        sirets = f" SIRET {', '.join(user.siret_list)}" if user.siret_list else ""
        click.echo(f"{user.login}\t{user.role}\t{user.email}\t{user.display_name}\t{state}{sirets}")
