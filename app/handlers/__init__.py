"""Service-task handlers. Importing this package registers them all."""
from . import enrolment, lookups, mail  # noqa: F401
from . import accounts, eligibility  # noqa: F401,E402
