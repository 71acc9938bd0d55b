"""Service-task handlers. Importing this package registers them all."""
from . import enrolment, lookups, mail  # noqa: F401
