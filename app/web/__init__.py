"""Blueprints: parse, authorise, call one engine/service function, render."""


def register_web(app):
    pass
