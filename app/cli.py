"""``flask`` commands."""


def register_commands(app):
    pass
