"""Configuration, read once from the environment.

Embedded default (nothing set): SQLite under ``instance/``, mails captured in the database and
viewable at ``/dev/courriels``, demo company directory. Production sets ``DATABASE_URL``
(PostgreSQL), ``MAIL_SERVER`` (real SMTP) and ``COMPANY_DIRECTORY=api``.
"""
import os
import secrets
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def database_url(url: str) -> str:
    """Normalise a PostgreSQL URL to the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _secret_key(instance: Path) -> str:
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    instance.mkdir(parents=True, exist_ok=True)
    path = instance / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment(instance_path: str) -> dict:
    instance = Path(instance_path)
    mail_server = os.environ.get("MAIL_SERVER")
    # Links are written « PORTAL_URL + path »: no trailing slash.
    portal_url = os.environ.get("PORTAL_URL", "http://127.0.0.1:5000").rstrip("/")
    # Cookies travel over HTTPS only when the public address is HTTPS (overridable).
    secure_cookies = _bool("SESSION_COOKIE_SECURE", portal_url.lower().startswith("https://"))
    return {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url(
            os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'portal.sqlite3'}")),
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(instance / "documents")),
        # Documents in an S3-compatible bucket instead of UPLOAD_FOLDER when S3_BUCKET is set
        # (app/services/storage.py); without keys, boto3's own chain (environment, instance role).
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION") or None,
        "S3_ACCESS_KEY_ID": os.environ.get("AWS_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("AWS_SECRET_ACCESS_KEY") or None,
        "S3_ADDRESSING_STYLE": os.environ.get("S3_ADDRESSING_STYLE", "auto"),
        "LOG_FORMAT": os.environ.get("LOG_FORMAT", "text").strip().lower(),  # app/logs.py
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO").strip().upper(),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", ""),  # /sante/metriques (app/web/health.py)
        # Restored workflows a process keeps for the next request on the same state (app/engine/cache.py).
        "WORKFLOW_CACHE_SIZE": int(os.environ.get("WORKFLOW_CACHE_SIZE", "200")),
        # The process package's files (app/package): diagrams and data, and the mail templates.
        "BPMN_FOLDER": os.environ.get("BPMN_FOLDER", str(ROOT / "bpmn")),
        "MAIL_TEMPLATES_FOLDER": os.environ.get("MAIL_TEMPLATES_FOLDER", str(ROOT / "mail_templates")),
        "ASSETS_FOLDER": os.environ.get("ASSETS_FOLDER", str(ROOT / "node_modules")),
        # Mail: captured in the database unless a real SMTP server is configured. Capture without
        # MAIL_SERVER is for development; a server that runs it must be told so (MAIL_CAPTURE=1),
        # see ``check_mail_transport``.
        "MAIL_CAPTURE": _bool("MAIL_CAPTURE", not mail_server),
        "MAIL_CAPTURE_CONFIRMED": _bool("MAIL_CAPTURE", False),
        # The captured mailbox (/dev/courriels): only under the ``portal`` command, which sets it.
        "DEV_MAILBOX": False,
        "MAIL_SERVER": mail_server or "localhost",
        "MAIL_PORT": int(os.environ.get("MAIL_PORT", "25")),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", False),
        "MAIL_USE_SSL": _bool("MAIL_USE_SSL", False),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME"),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD"),
        "MAIL_DEFAULT_SENDER": os.environ.get(
            "MAIL_DEFAULT_SENDER", "Portail Ségur Numérique <ne-pas-repondre@segurnum.asp-public.fr>"),
        "MAIL_SUPPRESS_SEND": False,  # capture is ours (MAIL_CAPTURE), not Flask-Mail's
        "MAIL_TIMEOUT": float(os.environ.get("MAIL_TIMEOUT", "10")),
        # Outbox: a failed attempt is retried after 2, 4, 8… minutes, at most this many minutes apart,
        # until this many hours after the mail was queued (or put back by « Renvoyer »).
        "OUTBOX_MAX_BACKOFF_MINUTES": float(os.environ.get("OUTBOX_MAX_BACKOFF_MINUTES", "15")),
        "OUTBOX_GIVE_UP_HOURS": float(os.environ.get("OUTBOX_GIVE_UP_HOURS", "168")),
        # Webhooks (app/services/webhooks.py): each attempt waits at most WEBHOOK_TIMEOUT seconds; a failed
        # one is retried after 30 s, 1 min, 2 min… at most WEBHOOK_MAX_BACKOFF_MINUTES apart, and the
        # delivery fails after WEBHOOK_MAX_ATTEMPTS attempts. http:// endpoints are refused, except to
        # this machine when WEBHOOK_ALLOW_HTTP_LOOPBACK is on (development: the ``portal`` command).
        "WEBHOOK_TIMEOUT": float(os.environ.get("WEBHOOK_TIMEOUT", "5")),
        "WEBHOOK_MAX_ATTEMPTS": int(os.environ.get("WEBHOOK_MAX_ATTEMPTS", "10")),
        "WEBHOOK_MAX_BACKOFF_MINUTES": float(os.environ.get("WEBHOOK_MAX_BACKOFF_MINUTES", "60")),
        "WEBHOOK_ALLOW_HTTP_LOOPBACK": _bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", False),
        # Rate limits of the « J'ai oublié » forms (Flask-Limiter), in Redis when REDIS_URL is set
        # (shared by every process), in memory otherwise (per process); memory if Redis goes away.
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "segur"),
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "FORGOTTEN_LIMIT_PER_ACCOUNT": os.environ.get("FORGOTTEN_LIMIT_PER_ACCOUNT", "5 per 15 minutes"),
        "FORGOTTEN_LIMIT_PER_ADDRESS": os.environ.get("FORGOTTEN_LIMIT_PER_ADDRESS", "20 per hour"),
        # Calls of the REST API (/api/v1), per token.
        "API_RATE_LIMIT": os.environ.get("API_RATE_LIMIT", "600 per minute"),
        # Look-up adapters.
        "COMPANY_DIRECTORY": os.environ.get("COMPANY_DIRECTORY", "csv"),
        "COMPANY_CSV": os.environ.get("COMPANY_CSV", str(ROOT / "app" / "data" / "companies.csv")),
        "COMPANY_API_URL": os.environ.get("COMPANY_API_URL", "https://recherche-entreprises.api.gouv.fr"),
        "COMPANY_API_TIMEOUT": float(os.environ.get("COMPANY_API_TIMEOUT", "5")),
        # Antivirus: ``clamd`` scans every uploaded file (ClamAV's daemon at CLAMD_ADDRESS,
        # ``host:port`` or a unix socket path); anything else turns it off.
        "ANTIVIRUS": os.environ.get("ANTIVIRUS", "off").strip().lower(),
        "CLAMD_ADDRESS": os.environ.get("CLAMD_ADDRESS", "127.0.0.1:3310"),
        "CLAMD_TIMEOUT": float(os.environ.get("CLAMD_TIMEOUT", "5")),
        # Drafts of anonymous initial enrolments are purged after this many hours without activity.
        "DRAFT_MAX_AGE_HOURS": float(os.environ.get("DRAFT_MAX_AGE_HOURS", "72")),
        # « Mot de passe » links (account opening, forgotten password) are valid this many hours.
        "PASSWORD_LINK_HOURS": float(os.environ.get("PASSWORD_LINK_HOURS", "72")),
        # Personal deposit links (documents asked of a holder without an account) are valid this many
        # days: the reminder comes after 15 days, the link lasts 15 more.
        "DEPOSIT_LINK_DAYS": float(os.environ.get("DEPOSIT_LINK_DAYS", "30")),
        # Captcha (ALTCHA proof of work, no third party).
        "CAPTCHA_ENABLED": _bool("CAPTCHA_ENABLED", True),
        "ALTCHA_COST": int(os.environ.get("ALTCHA_COST", "5000")),  # PBKDF2 iterations per attempt
        "ALTCHA_EXPIRES_SECONDS": int(os.environ.get("ALTCHA_EXPIRES_SECONDS", "1200")),
        "MAX_CONTENT_LENGTH": 40 * 1024 * 1024,
        "ASSISTANCE_URL": "https://segurnum.asp-public.fr/segurnum/contacter-assistance",
        "PORTAL_URL": portal_url,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_I18N_ENABLED": False,  # use WTForms' own French messages (Meta.locales)
    }


CAPTURE_REFUSED = (
    "Aucun serveur SMTP n'est configuré (MAIL_SERVER) : les courriels seraient conservés dans la base "
    "au lieu d'être envoyés, et personne ne recevrait ses liens de mot de passe ni ses notifications. "
    "Définissez MAIL_SERVER (et MAIL_PORT, MAIL_USERNAME…) pour la production, ou MAIL_CAPTURE=1 pour "
    "démarrer sciemment sans envoi (recette). En développement, utilisez la commande « flask --app wsgi portal ».")


def check_mail_transport(config) -> None:
    """A server or worker that would capture mails without being told to refuses to start."""
    if config["MAIL_CAPTURE"] and not config["MAIL_CAPTURE_CONFIRMED"] and not config.get("TESTING"):
        raise RuntimeError(CAPTURE_REFUSED)
