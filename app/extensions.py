"""Flask extensions, created once and bound in ``create_app``."""
from flask import session
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


class _LoginManager(LoginManager):
    def _session_protection_failed(self):
        """Only a logged-in session has something to protect. Flask-Login's « strong » mode
        otherwise takes an anonymous supplier's session (their drafts) for a stolen one on every
        request: it rewrites the session cookie and clears a remember cookie that the portal never
        sets (no « se souvenir de moi »)."""
        return "_user_id" in session and super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
mail = Mail()
csrf = CSRFProtect()
# No default limit: only the routes that say so are limited (storage: RATELIMIT_STORAGE_URI).
limiter = Limiter(get_remote_address)
login_manager = _LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = "Connectez-vous pour accéder à cette page."
login_manager.login_message_category = "info"
login_manager.session_protection = "strong"
