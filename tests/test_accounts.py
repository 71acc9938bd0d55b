"""Accounts through HTTP: logging in and out, lockout after repeated failures, forgotten identifiant
and password, single-use password links, the account opening on a request's first validation (mails
received over SMTP), the users CLI, and CSRF on every form of these pages."""
import os
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from sqlalchemy import event

from app import clock
from app.engine.registry import ServiceContext, call
from app.extensions import db, limiter
from app.models import EnrolmentRequest, ForgottenRequest, LoginAttempt, OutboxMail, User
from app.services import accounts, eligibility
from browser import Browser
from conftest import Mailbox
from journey import DEPOSITARY, REPRESENTATIVE, Journey, Supplier
from people import PASSWORD, log_in, make_user

NOW = datetime(2026, 3, 5, 9, 0, tzinfo=timezone.utc)
NEW_PASSWORD = "Une nouvelle phrase de passe"
BAD = "Identifiant ou mot de passe incorrect."


@pytest.fixture(autouse=True)
def frozen(app):
    clock.freeze(NOW)


def login_page(browser, login, password, next_url=None):
    url = "/connexion" + (f"?next={next_url}" if next_url else "")
    return browser.get(url).form().fill(login=login, password=password).submit("Valider")


def user(app, login) -> User:
    with app.app_context():
        found = accounts.find_by_login(login)
        db.session.expunge(found)
        return found


def link_path(message) -> str:
    [link] = re.findall(r"http://\S+/mot-de-passe/\S+", outbox_text(message))
    return urlsplit(link).path


def outbox_text(message) -> str:
    """The plain-text body of a received mail, whitespace-normalised."""
    return " ".join(Mailbox.text(message).split())


# --- logging in and out --------------------------------------------------------------------------

def test_the_login_page_has_the_guide_labels_and_links(app, client):
    page = Browser(client).get("/")
    assert "Se connecter" in page.texts("//header//a")
    page = page.follow("Se connecter")
    assert page.h1 == "Accéder à mon espace personnel"
    assert {"Votre identifiant *", "Votre mot de passe *"} <= set(page.texts("//label"))
    assert page.form().buttons()[0][0] == "Valider"
    assert page.follow("J'ai oublié mon identifiant").h1 == "J'ai oublié mon identifiant"
    assert page.follow("J'ai oublié mon mot de passe").h1 == "J'ai oublié mon mot de passe"


@pytest.mark.parametrize("role, landing", [("supplier", "/espace"), ("agent", "/gestion/demandes"),
                                           ("analyst", "/gestion/demandes"), ("admin", "/gestion/demandes")])
def test_each_role_lands_on_its_page_with_its_name_in_the_header(app, client, role, landing):
    login, password = make_user(app, role, first_name="Alix", last_name="Durand")
    browser = Browser(client)
    assert log_in(browser, login.lower(), password) == landing      # identifiants are not case-sensitive
    assert user(app, login).last_login_at == NOW
    header = browser.get("/").texts("//header//li")
    assert "Alix Durand" in header and "Se déconnecter" in header and "Se connecter" not in header


def test_a_wrong_password_or_identifiant_gets_one_message(app, client):
    login, _ = make_user(app, "agent")
    make_user(app, "supplier", login="F0000001", password=None)      # no password chosen yet
    browser = Browser(client)
    for who, password in ((login, "pas le bon mot de passe"), ("AG999999", PASSWORD), ("F0000001", PASSWORD)):
        page = login_page(browser, who, password)
        assert page.url.startswith("/connexion") and page.alerts() == [BAD]
    page = login_page(browser, "", "")
    assert page.errors() == {"login": ["Veuillez saisir votre identifiant."],
                             "password": ["Veuillez saisir votre mot de passe."]}


def test_a_deactivated_account_cannot_log_in(app, client):
    login, password = make_user(app, "agent")
    with app.app_context():
        accounts.find_by_login(login).active = False
        db.session.commit()
    assert login_page(Browser(client), login, password).alerts() == [BAD]


def test_logging_in_starts_a_new_session(app, client):
    login, password = make_user(app, "agent")
    browser = Browser(client)
    browser.get("/connexion")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    before = client.get_cookie("session").value
    log_in(browser, login, password)
    assert client.get_cookie("session").value != before
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"] == str(user(app, login).id)


def test_logging_out_ends_the_session(app, client):
    login, password = make_user(app, "supplier")
    browser = Browser(client)
    log_in(browser, login, password)
    page = browser.get("/").form("form-deconnexion").submit("Se déconnecter")
    assert page.url == "/" and "Vous êtes déconnecté." in page.alerts()
    assert "Se connecter" in page.texts("//header//a")
    with client.session_transaction() as session:
        assert "_user_id" not in session
    assert client.get("/deconnexion").status_code == 405   # only a form button logs out


def test_a_logged_in_session_taken_to_another_browser_is_not_logged_in(app, client):
    login, password = make_user(app, "agent")
    log_in(Browser(client), login, password)
    stolen = app.test_client()
    stolen.environ_base["HTTP_USER_AGENT"] = "un autre navigateur"
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert Browser(stolen).get("/gestion/demandes").url.startswith("/connexion")
    assert Browser(client).get("/gestion/demandes").status == 200  # still logged in where it was opened


def test_an_anonymous_suppliers_pages_leave_the_session_cookie_alone(portal, client):
    # A supplier filling a request without an account has a session (their drafts): reading the
    # step page neither rewrites it nor clears a « remember me » cookie (the portal sets none).
    journey = Journey(client)
    journey.start()
    response = client.get(journey.page.url)
    assert response.status_code == 200 and "Set-Cookie" not in response.headers


def test_a_hash_made_with_older_parameters_is_upgraded_at_login(app, client):
    login, password = make_user(app, "agent")
    with app.app_context():
        accounts.find_by_login(login).password_hash = PasswordHasher(time_cost=1, memory_cost=8192).hash(password)
        db.session.commit()
    log_in(Browser(client), login, password)
    assert user(app, login).password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    log_in(Browser(app.test_client()), login, password)


@pytest.mark.parametrize("next_url, landing", [
    ("/demandes/abc?onglet=pieces", "/demandes/abc?onglet=pieces"),
    ("//evil.example/phish", "/gestion/demandes"),
    ("https://evil.example/phish", "/gestion/demandes"),
    ("/\\evil.example", "/gestion/demandes"),
    ("/\t/evil.example", "/gestion/demandes"),              # browsers drop the tab: //evil.example
    ("javascript:alert(1)", "/gestion/demandes"),
])
def test_next_only_leads_to_a_page_of_the_portal(app, client, next_url, landing):
    login, password = make_user(app, "agent")
    assert log_in(Browser(client), login, password, next_url=next_url) == landing


def test_an_already_logged_in_person_skips_the_login_page(app, client):
    login, password = make_user(app, "agent")
    browser = Browser(client)
    log_in(browser, login, password)
    response = client.get("/connexion")
    assert response.status_code == 302 and response.headers["Location"] == "/gestion/demandes"


# --- lockout ------------------------------------------------------------------------------------

def test_five_failures_lock_the_identifiant_for_fifteen_minutes(app, client):
    login, password = make_user(app, "supplier")
    browser = Browser(client)
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN):
        assert login_page(browser, login, "mauvais mot de passe").alerts() == [BAD]
    locked = login_page(browser, login, password)                     # even the right password
    assert locked.url.startswith("/connexion") and locked.alerts() == [accounts.LOCKED]
    assert "15 minutes" in accounts.LOCKED
    clock.advance(timedelta(minutes=14, seconds=59))
    assert login_page(browser, login, password).alerts() == [accounts.LOCKED]
    clock.advance(timedelta(seconds=2))
    log_in(browser, login, password)
    with app.app_context():                                       # success cleared the failures
        assert not accounts.is_locked(login, "127.0.0.1")


def test_a_success_clears_the_failures_of_the_identifiant(app, client):
    login, password = make_user(app, "agent")
    browser = Browser(client)
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN - 1):
        login_page(browser, login, "mauvais mot de passe")
    log_in(browser, login, password)
    browser.get("/").form("form-deconnexion").submit("Se déconnecter")
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN - 1):
        login_page(browser, login, "mauvais mot de passe")
    log_in(browser, login, password)


def test_twenty_failures_from_one_address_lock_it(app, client):
    login, password = make_user(app, "agent")
    attacker = Browser(app.test_client())
    for n in range(accounts.MAX_FAILURES_PER_ADDRESS):
        login_page(attacker, f"F{n:07d}", "devine")
    assert login_page(attacker, login, password).alerts() == [accounts.LOCKED]
    elsewhere = app.test_client()
    elsewhere.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    log_in(elsewhere, login, password)                          # another address is not locked
    clock.advance(accounts.LOCK_WINDOW + timedelta(seconds=1))
    log_in(attacker, login, password)


# --- forgotten identifiant and password -----------------------------------------------------------

def test_a_forgotten_identifiant_is_mailed_without_revealing_who_has_an_account(app, client, mailbox):
    login, _ = make_user(app, "supplier", email="titulaire@fournisseur-sante.fr")
    answers = []
    for email in ("Titulaire@Fournisseur-Sante.fr", "inconnu@fournisseur-sante.fr"):
        page = Browser(client).get("/connexion").follow("J'ai oublié mon identifiant")
        page = page.form().fill(email=email).submit("Valider")
        answers.append((page.url, page.content))
    assert answers[0] == answers[1] and answers[0][0] == "/connexion"
    assert "Si un compte correspond à l'adresse électronique saisie" in answers[0][1]
    assert mailbox.received == []                     # nothing sent in the request: the worker mails
    assert mailbox.to("inconnu@fournisseur-sante.fr") == []
    [mail] = mailbox.to("titulaire@fournisseur-sante.fr")
    assert mail["Subject"] == "Rappel de votre identifiant de connexion - Ségur numérique"
    text = outbox_text(mail)
    assert f"Votre identifiant de connexion est : {login}" in text
    assert "Ce message a été généré automatiquement, merci de ne pas y répondre." in text
    assert login in mailbox.html(mail)


def ask_password_link(client, who) -> str:
    page = Browser(client).get("/mot-de-passe-oublie").form().fill(login=who).submit("Valider")
    assert "Si un compte correspond à l'identifiant saisi" in page.content
    return page.content


def choose(browser, path, password, confirmation=None):
    return browser.get(path).form().fill(password=password, confirmation=confirmation or password).submit("Valider")


def test_a_password_link_sets_the_password_once(app, client, mailbox):
    login, old_password = make_user(app, "supplier", email="titulaire@fournisseur-sante.fr")
    assert ask_password_link(client, login) == ask_password_link(client, "F9999999")   # unknown: same answer
    [mail] = mailbox.to("titulaire@fournisseur-sante.fr")
    assert mail["Subject"] == "Choisissez un nouveau mot de passe - Ségur numérique"
    text = outbox_text(mail)
    assert f"identifiant {login}" in text
    assert "valable 72 heures, jusqu'au 08/03/2026 à 10:00" in text      # 9:00 UTC + 72 h, Paris time
    path = link_path(mail)
    assert path in mailbox.html(mail)

    browser = Browser(client)
    page = choose(browser, path, NEW_PASSWORD)
    assert page.url == "/connexion"
    assert f"Votre mot de passe a été enregistré. Vous pouvez vous connecter avec votre identifiant {login}." \
        in page.alerts()
    log_in(browser, login, NEW_PASSWORD)
    assert login_page(Browser(app.test_client()), login, old_password).alerts() == [BAD]

    again = Browser(app.test_client()).get(path)
    assert again.status == 410 and again.h1 == "Ce lien n'est plus valide"
    assert again.follow("Demander un nouveau lien").h1 == "J'ai oublié mon mot de passe"


def test_a_password_link_expires(app, client, mailbox):
    login, _ = make_user(app, "agent", email="agent@asp-public.fr", password=None)
    ask_password_link(client, "agent@asp-public.fr")                  # the email works too
    path = link_path(mailbox.to("agent@asp-public.fr")[0])
    clock.advance(timedelta(hours=72))
    page = Browser(client).get(path)
    assert page.status == 410 and "a expiré, a déjà été utilisé ou a été remplacé" in page.content


def test_the_link_expiry_is_configurable(app, client, mailbox):
    app.config["PASSWORD_LINK_HOURS"] = 2
    make_user(app, "agent", email="agent@asp-public.fr")
    ask_password_link(client, "agent@asp-public.fr")
    [mail] = mailbox.to("agent@asp-public.fr")
    assert "valable 2 heures, jusqu'au 05/03/2026 à 12:00" in outbox_text(mail)
    clock.advance(timedelta(hours=1, minutes=59))
    assert Browser(client).get(link_path(mail)).status == 200
    clock.advance(timedelta(minutes=1))
    assert Browser(client).get(link_path(mail)).status == 410


def test_a_newer_link_cancels_the_older_one(app, client, mailbox):
    login, _ = make_user(app, "supplier", email="titulaire@fournisseur-sante.fr")
    ask_password_link(client, login)
    clock.advance(timedelta(minutes=5))
    ask_password_link(client, login)
    older, newer = (link_path(m) for m in mailbox.to("titulaire@fournisseur-sante.fr"))
    assert Browser(client).get(older).status == 410
    assert choose(Browser(client), newer, NEW_PASSWORD).url == "/connexion"
    log_in(Browser(app.test_client()), login, NEW_PASSWORD)


def test_a_new_password_clears_the_lockout(app, client, mailbox):
    login, _ = make_user(app, "supplier", email="titulaire@fournisseur-sante.fr")
    browser = Browser(client)
    for _ in range(accounts.MAX_FAILURES_PER_LOGIN):
        login_page(browser, login, "mauvais mot de passe")
    ask_password_link(client, login)
    choose(browser, link_path(mailbox.to("titulaire@fournisseur-sante.fr")[0]), NEW_PASSWORD)
    log_in(browser, login, NEW_PASSWORD)


def test_password_rules(app, client, mailbox):
    login, _ = make_user(app, "supplier", email="titulaire.compte@fournisseur-sante.fr")
    ask_password_link(client, login)
    path = link_path(mailbox.to("titulaire.compte@fournisseur-sante.fr")[0])
    browser = Browser(client)
    assert browser.get(path).content.startswith(f"Choisir mon mot de passe Identifiant : {login}")
    cases = [
        ("court-11car", None, "Le mot de passe doit contenir au moins 12 caractères."),
        ("TITULAIRE.COMPTE@fournisseur-sante.fr", None,
         "Le mot de passe ne doit être ni votre identifiant ni votre adresse électronique."),
        (NEW_PASSWORD, NEW_PASSWORD + "!", "Les deux mots de passe saisis ne sont pas identiques."),
    ]
    for password, confirmation, message in cases:
        page = choose(browser, path, password, confirmation)
        assert page.url == path and message in str(page.errors()), page.errors()
    chosen = User(login="Titulaire-Compte", email="t@fournisseur-sante.fr")       # a chosen identifiant
    assert accounts.password_problems(" titulaire-compte", chosen) == [
        "Le mot de passe ne doit être ni votre identifiant ni votre adresse électronique."]
    with app.app_context():
        with pytest.raises(accounts.AccountError, match="au moins 12 caractères"):
            accounts.create_user("agent", "x@asp-public.fr", password="trop court")
    assert choose(browser, path, NEW_PASSWORD).url == "/connexion"    # the link survived the refusals


# --- account opening on a request's first validation -----------------------------------------------

def file_request(client, supplier=None) -> Journey:
    journey = Journey(client, supplier)
    journey.complete()
    return journey


def open_access(app) -> dict:
    """What the diagram's « accounts.open » service task does on the first validation."""
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest))
        result = call("accounts.open", ServiceContext(request, "open_access", clock.now()), {})
        db.session.commit()
        return result


def mails_of_request(app) -> list[str]:
    with app.app_context():
        request = db.session.scalar(db.select(EnrolmentRequest))
        return [m.event for m in request.mails]


@pytest.mark.parametrize("supplier, holder", [(Supplier(), REPRESENTATIVE),
                                              (Supplier(legal_representative="non"), DEPOSITARY)],
                         ids=["legal representative", "depositary"])
def test_a_new_person_gets_an_account_and_two_mails(portal, client, mailbox, supplier, holder):
    file_request(client, supplier)
    mailbox.clear()
    result = open_access(portal)
    login = result["login"]
    assert result == {"account": "created", "login": login} and re.fullmatch(r"F\d{7}", login)
    with portal.app_context():
        created = accounts.find_by_login(login)
        assert (created.role, created.email, created.first_name, created.last_name, created.password_hash) == \
            ("supplier", holder["email"], holder["first_name"], holder["last_name"], None)
        assert [(a.siret, a.request_id is not None) for a in created.sirets] == [(supplier.siret, True)]
    received = mailbox.to(holder["email"])
    assert [m["Subject"] for m in received] == ["Votre identifiant de connexion au portail - Ségur numérique",
                                                "Choisissez le mot de passe de votre compte - Ségur numérique"]
    identifiant, password_mail = (outbox_text(m) for m in received)
    assert identifiant.startswith("Bonjour, Votre demande d'enrôlement ENR0001M0 pour le SIRET "
                                  f"{supplier.siret} a été validée : un compte vous a été ouvert")
    assert f"Votre identifiant de connexion est : {login}" in identifiant
    assert "Cordialement. L'Agence de services et de paiement." in identifiant
    assert login not in password_mail                                  # identifiant and link travel apart
    assert "ne peut servir qu'une seule fois et est valable 72 heures" in password_mail
    assert mails_of_request(portal)[-2:] == ["identifiant", "mot_de_passe_initialisation"]

    browser = Browser(client)
    assert choose(browser, link_path(received[1]), NEW_PASSWORD).url == "/connexion"
    assert log_in(browser, login, NEW_PASSWORD) == "/espace"


def test_a_known_person_keeps_their_credentials_and_gets_one_mail(portal, client, mailbox):
    supplier = Supplier()
    login, password = make_user(portal, "supplier", email=supplier.holder_email.upper(),
                                sirets=["81245367800029"])
    file_request(client, supplier)
    mailbox.clear()
    assert open_access(portal) == {"account": "access_opened", "login": login}
    [mail] = mailbox.to(supplier.holder_email)
    assert mail["Subject"] == f"Ouverture de vos accès au portail Ségur Numérique pour le SIRET {supplier.siret} " \
                              "- Ségur numérique"
    text = outbox_text(mail)
    assert "Vous êtes déjà connu des services de l'Agence de services et de paiement" in text
    assert f"l'identifiant qui vous a déjà été attribué ({login}) et le mot de passe que vous avez déjà créé" in text
    assert mails_of_request(portal)[-1] == "ouverture_acces"
    with portal.app_context():
        assert accounts.find_by_login(login).siret_list == ["81245367800029", supplier.siret]
    log_in(Browser(client), login, password)


def test_opening_twice_does_nothing_more(portal, client, mailbox):
    file_request(client)
    first = open_access(portal)
    mailbox.clear()
    with portal.app_context():
        mails = db.session.scalar(db.select(db.func.count()).select_from(OutboxMail))
    assert open_access(portal) == {"account": "already_open", "login": first["login"]}
    with portal.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxMail)) == mails
        assert db.session.scalar(db.select(db.func.count()).select_from(User)) == 1
    assert mailbox.messages == []


@pytest.mark.parametrize("url, field, known, unknown", [
    ("/identifiant-oublie", "email", "titulaire@fournisseur-sante.fr", "inconnu@fournisseur-sante.fr"),
    ("/mot-de-passe-oublie", "login", "F1234567", "F7654321"),
])
def test_the_forgotten_forms_do_the_same_work_whatever_the_account(app, client, mailbox, url, field, known, unknown):
    """Same SQL statements for a known and an unknown account, so the same time: the answer's delay
    tells nothing (bench/forgotten.py measures it)."""
    make_user(app, "supplier", email="titulaire@fournisseur-sante.fr", login="F1234567")

    def statements(value) -> list[str]:
        form = Browser(client).get(url).form().fill(**{field: value})
        seen = []
        with app.app_context():
            listen = lambda conn, cursor, statement, *rest: seen.append(statement)  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listen)
            try:
                page = form.submit("Valider")
            finally:
                event.remove(db.engine, "before_cursor_execute", listen)
        assert page.url == "/connexion" and "Si un compte correspond" in page.content
        return seen

    known_statements, unknown_statements = statements(known), statements(unknown)
    assert known_statements == unknown_statements and any("INSERT" in s for s in known_statements)
    assert mailbox.received == []
    [mail] = mailbox.to("titulaire@fournisseur-sante.fr")      # once the worker has run
    assert "F1234567" in outbox_text(mail)


def forgotten(client, value, address="127.0.0.1"):
    client.environ_base["REMOTE_ADDR"] = address
    return Browser(client).get("/mot-de-passe-oublie").form().fill(login=value).submit("Valider")


def recorded(app) -> int:
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(ForgottenRequest))


def assert_limited_per_account(app, client, mailbox):
    make_user(app, "supplier", email="titulaire@fournisseur-sante.fr", login="F1234567")
    for value in ("F1234567", " f1234567 ", "F1234567", "f1234567", "F1234567"):   # normalised: one account
        assert forgotten(client, value).url == "/connexion"
    refused = forgotten(client, "F1234567")
    assert refused.status == 429 and refused.h1 == "Trop de demandes"
    assert "n'a pas été prise en compte : réessayez plus tard" in refused.content
    assert recorded(app) == 5                                     # the refused one was not recorded
    assert forgotten(client, "F1234567", address="192.0.2.7").status == 429   # per account, from anywhere
    assert forgotten(client, "F7654321").url == "/connexion"      # another account is not limited
    assert len(mailbox.to("titulaire@fournisseur-sante.fr")) == 5


def test_the_forgotten_forms_are_limited_per_account(app, client, mailbox):
    assert_limited_per_account(app, client, mailbox)


def test_the_forgotten_forms_are_limited_per_address(app, client, mailbox):
    app.config["FORGOTTEN_LIMIT_PER_ADDRESS"] = "3 per hour"
    for n in range(3):
        assert forgotten(client, f"F000000{n}").url == "/connexion"
    page = Browser(client).get("/identifiant-oublie").form().fill(email="a@fournisseur-sante.fr").submit("Valider")
    assert page.url == "/connexion"                                # each form counts on its own
    assert forgotten(client, "F0000009").status == 429
    assert forgotten(client, "F0000009", address="192.0.2.7").url == "/connexion"
    assert recorded(app) == 5


@pytest.fixture
def redis_limits(app):
    """The limits kept in the Redis server of this machine (as with REDIS_URL), under a key prefix of
    this test only, removed afterwards."""
    import uuid

    import redis
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    server = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        server.ping()
    except redis.ConnectionError as exc:
        pytest.skip(f"Redis injoignable ({url}) : test du stockage Redis ignoré — {exc}")
    prefix = f"segur-test-{uuid.uuid4().hex}"
    app.config.update(RATELIMIT_STORAGE_URI=url, RATELIMIT_STORAGE_OPTIONS={"key_prefix": prefix})
    limiter.init_app(app)
    try:
        yield server, prefix
    finally:
        limiter.reset()                                  # deletes this prefix's keys only
        app.config.update(RATELIMIT_STORAGE_URI="memory://")
        limiter.init_app(app)
        assert server.keys(f"{prefix}:*") == []


def test_the_limits_are_kept_in_redis_when_it_is_configured(app, client, mailbox, redis_limits):
    server, prefix = redis_limits
    assert_limited_per_account(app, client, mailbox)
    assert any(b"compte:f1234567" in key for key in server.keys(f"{prefix}:*"))


def test_redis_url_chooses_the_storage(monkeypatch, tmp_path):
    from app import config
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/2")
    assert config.from_environment(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/2"
    monkeypatch.delenv("REDIS_URL")
    assert config.from_environment(str(tmp_path))["RATELIMIT_STORAGE_URI"] == "memory://"


def test_the_worker_purges_failed_logins_that_no_longer_count(app, client):
    login, _ = make_user(app, "supplier")
    browser = Browser(client)
    for _ in range(3):
        login_page(browser, login, "mauvais mot de passe")
    clock.advance(accounts.LOCK_WINDOW)
    login_page(browser, login, "mauvais mot de passe")
    result = app.test_cli_runner().invoke(args=["worker", "--once"])
    assert result.exit_code == 0 and "login_attempts : 3" in result.output
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(LoginAttempt)) == 1


# --- CLI ----------------------------------------------------------------------------------------

def test_users_create_with_a_password(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--role", "agent", "--email", "Agent@ASP-public.fr",
                                 "--first-name", "Annie", "--last-name", "Gestion", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    [login] = re.findall(r"identifiant (AG\d{6}) \(Gestionnaire ASP, agent@asp-public\.fr\)", result.output)
    assert log_in(Browser(client), login, PASSWORD) == "/gestion/demandes"

    again = runner.invoke(args=["users", "create", "--role", "admin", "--email", "agent@asp-public.fr"])
    assert again.exit_code == 1 and "Un compte existe déjà pour l'adresse agent@asp-public.fr." in again.output
    short = runner.invoke(args=["users", "create", "--role", "admin", "--email", "a@asp-public.fr", "--password", "x"])
    assert short.exit_code == 1 and "au moins 12 caractères" in short.output
    wrong = runner.invoke(args=["users", "create", "--role", "agent", "--email", "b@asp-public.fr",
                                "--siret", "34866299000038"])
    assert wrong.exit_code == 2 and "ne concerne que les comptes fournisseur" in wrong.output


def test_users_create_without_a_password_mails_a_link(app, client, mailbox):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["users", "create", "--role", "supplier", "--email", "editeur@fournisseur-sante.fr",
                                 "--login", "EDITEUR1", "--siret", "34866299000038", "--siret", "81245367800029",
                                 "--depositaire"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert eligibility.signature_mandate_required("81245367800029", "Editeur@fournisseur-sante.fr")
    assert "identifiant EDITEUR1 (Fournisseur" in result.output
    [link] = re.findall(r"valable 72 heures, envoyé par courriel avec l'identifiant\) : (\S+)", result.output)
    identifiant, password_mail = mailbox.to("editeur@fournisseur-sante.fr")
    assert outbox_text(identifiant).startswith("Bonjour, Un compte vous a été ouvert sur le portail Ségur Numérique")
    assert link in outbox_text(password_mail)
    choose(Browser(client), urlsplit(link).path, NEW_PASSWORD)
    log_in(Browser(client), "EDITEUR1", NEW_PASSWORD)

    listing = runner.invoke(args=["users", "list"])
    assert listing.exit_code == 0
    assert "EDITEUR1\tsupplier\tediteur@fournisseur-sante.fr\tEDITEUR1\tactif SIRET 34866299000038, 81245367800029" \
        in listing.output


# --- CSRF and cookies -----------------------------------------------------------------------------

def test_every_form_of_these_pages_needs_its_csrf_token(app, client, mailbox):
    app.config["WTF_CSRF_ENABLED"] = True
    login, password = make_user(app, "supplier", email="titulaire@fournisseur-sante.fr")
    ask_password_link(client, login)
    link = link_path(mailbox.to("titulaire@fournisseur-sante.fr")[0])
    mailbox.clear()
    forms = {"/connexion": {"login": login, "password": password},
             "/identifiant-oublie": {"email": "titulaire@fournisseur-sante.fr"},
             "/mot-de-passe-oublie": {"login": login},
             link: {"password": NEW_PASSWORD, "confirmation": NEW_PASSWORD}}
    for url, data in forms.items():
        response = client.post(url, data=data)
        assert response.status_code == 400 and "Session expirée" in response.get_data(as_text=True), url
    assert mailbox.messages == [] and Browser(client).get(link).status == 200
    browser = Browser(client)
    log_in(browser, login, password)
    assert client.post("/deconnexion").status_code == 400
    assert "Se déconnecter" in browser.get("/").texts("//header//button")   # still logged in


def test_session_cookies_are_http_only_and_same_site(app, client):
    login, password = make_user(app, "agent")
    client.get("/connexion")
    response = client.post("/connexion", data={"login": login, "password": password,
                                               "csrf_token": csrf_token(client)})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"


def csrf_token(client) -> str:
    return Browser(client).get("/connexion").form().values["csrf_token"][0]
