"""People of the portal for tests: accounts created through the real service, logged in through
the real « Accéder à mon espace personnel » form.

    login, password = make_user(app, "agent")                       # staff
    login, password = make_user(app, "supplier", sirets=["34866299000038"])
    browser = Browser(client)
    landing = log_in(browser, login, password)  # asserts success; "/espace" or "/gestion/demandes"
    browser.get(landing)

``make_user`` opens its own app context (it works whether or not the caller already has one), creates
and commits the user, and returns ``(login, password)``. ``password=None`` leaves the account
without a password (as a freshly opened one, waiting for its « mot de passe » link).
"""
from itertools import count
from urllib.parse import quote, urlsplit

from browser import Browser

PASSWORD = "Mot-de-passe-solide-2026"
_serial = count(1)


def make_user(app, role: str, email: str | None = None, sirets=(), password: str | None = PASSWORD,
              login: str | None = None, first_name: str = "Camille", last_name: str = "Martin",
              depositary: bool = False) -> tuple[str, str | None]:
    """Create (and commit) a user of ``role`` who may see the requests of ``sirets`` (suppliers),
    as their dépositaire when ``depositary``. Returns ``(login, password)``."""
    from app.extensions import db
    from app.services import accounts

    email = email or f"{role}.{next(_serial)}@exemple.fr"
    with app.app_context():
        user = accounts.create_user(role, email, first_name, last_name, login=login, password=password)
        for siret in sirets:
            accounts.grant_siret(user, siret, depositary=depositary)
        db.session.commit()
        return user.login, password


def log_in(browser_or_client, login: str, password: str, next_url: str | None = None) -> str:
    """Log in through the /connexion form (the browser keeps the session) and assert that it
    worked. Returns where the portal redirects (``next_url`` or the role's landing page), without
    loading it."""
    browser = browser_or_client if isinstance(browser_or_client, Browser) else Browser(browser_or_client)
    url = "/connexion" + (f"?next={quote(next_url)}" if next_url else "")
    page = browser.get(url).form().fill(login=login, password=password).submit("Valider", follow=False)
    assert page.status == 302, f"login failed for {login}: {page.status} {page.alerts()} {page.errors()}"
    location = urlsplit(page.response.headers["Location"])
    return location.path + (f"?{location.query}" if location.query else "")
