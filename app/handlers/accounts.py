"""The account-opening service task: on a request's first validation, its account holder gets
access to its SIRET (a new account, or an « ouverture des accès » for a person already known)."""
from ..engine.registry import handler
from ..services import accounts


@handler("accounts.open", "Ouverture des accès du titulaire du compte")
def open_access(ctx):
    opening = accounts.open_access(ctx.request)
    return {"account": opening.outcome, "login": opening.user.login}
