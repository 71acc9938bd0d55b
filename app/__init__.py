"""Portail d'enrôlement Ségur du numérique en santé (vague 2)."""
import os
import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from . import config
from .extensions import csrf, db, limiter, login_manager, mail, migrate


@event.listens_for(Engine, "connect")
def _sqlite_connect(dbapi_connection, _record):
    """SQLite: foreign keys on, WAL, wait for locks; transactions are begun by us (see below)."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent; fsync at checkpoints
        cursor.close()


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn):
    """SQLite: take the write lock when a transaction starts, so that concurrent steps queue up
    instead of failing on a lock upgrade (PostgreSQL relies on row versions instead)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_app(overrides: dict | None = None) -> Flask:
    instance_path = os.environ.get("INSTANCE_PATH", str(config.ROOT / "instance"))
    app = Flask(__name__, instance_path=instance_path)
    app.config.update(config.from_environment(app.instance_path))
    app.config.update(overrides or {})
    app.config["SQLALCHEMY_DATABASE_URI"] = config.database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if os.environ.get("FLASK_RUN_FROM_CLI") != "true":  # served by a WSGI server: production rules
        config.check_mail_transport(app.config)

    from . import logs
    logs.install(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.ROOT / "migrations"))
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from . import handlers, models  # noqa: F401  (register handlers and models)
    from .cli import register_commands
    from .web import register_web

    register_web(app)
    from . import api
    api.install(app)
    register_commands(app)

    from .engine import setup
    setup.install()  # the engine's process-wide effects (its clock)
    return app
