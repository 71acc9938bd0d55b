"""``flask users``: create and list accounts (staff accounts are only created here), give and
remove roles (also on the admins' « Comptes » page)."""
import click
from flask.cli import AppGroup

from .extensions import db
from . import roles
from .roles import SUPPLIER
from .services import accounts

users_cli = AppGroup("users", help="Comptes : créer, lister, donner et retirer des rôles.")


@users_cli.command("create")
@click.option("--role", required=True, help="Rôle du compte (code : supplier, agent, analyst, admin ou un rôle du paquet).")
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
    click.echo(f"Compte créé : identifiant {user.login} ({roles.current().label(role)}, {user.email}).")
    if link:
        click.echo(f"Lien pour choisir le mot de passe (valable {accounts.link_hours():g} heures, "
                   f"envoyé par courriel avec l'identifiant) : {link}")


@users_cli.command("list")
def list_users():
    """Lister les comptes."""
    for user in accounts.list_users():
        state = "actif" if user.active else "désactivé"
        sirets = f" SIRET {', '.join(user.siret_list)}" if user.siret_list else ""
        click.echo(f"{user.login}\t{','.join(user.roles)}\t{user.email}\t{user.display_name}\t{state}{sirets}")


def _change_role(login: str, role: str, change) -> None:
    user = accounts.find_by_login(login)
    if user is None:
        raise click.ClickException(f"Aucun compte avec l'identifiant {login}.")
    try:
        change(user, role)
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    known = roles.current()
    click.echo(f"Rôles de {user.login} : {', '.join(known.label(r) for r in user.roles)}.")


@users_cli.command("add-role")
@click.argument("login")
@click.argument("role")
def add_role(login, role):
    """Donner au compte LOGIN le rôle ROLE (en plus des siens)."""
    _change_role(login, role, accounts.give_role)


@users_cli.command("remove-role")
@click.argument("login")
@click.argument("role")
def remove_role(login, role):
    """Retirer au compte LOGIN le rôle ROLE (il en garde au moins un)."""
    _change_role(login, role, accounts.remove_role)
