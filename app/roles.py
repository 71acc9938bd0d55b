"""Who acts in the diagrams. The roles, their lanes and what each may do are package data (the
« roles » section, app/package/roles.py: analysts add a role and its lane, e.g. a supervisor); only
the codes of the roles the code itself names live here."""

SUPPLIER = "supplier"
AGENT = "agent"
ANALYST = "analyst"
ADMIN = "admin"


def current():
    """The roles of the current package (names outlive a request: never a request's own version)."""
    from . import package
    return package.current()["roles"]


def lane_of(code: str) -> str | None:
    """The (first) lane whose tasks holders of role ``code`` complete."""
    return next(iter(current().lanes_of([code])), None)
