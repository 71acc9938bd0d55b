"""Blueprints: parse, authorise, call one engine/service function, render. Nothing else.

Every module of this package that defines ``bp`` (a Blueprint) is registered.
"""
import importlib
import pkgutil


def register_web(app):
    from . import multipart
    multipart.install()
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        blueprint = getattr(module, "bp", None)
        if blueprint is not None:
            app.register_blueprint(blueprint)
