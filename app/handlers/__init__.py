"""Service-task handlers. Importing this package registers them all."""
from . import registry  # noqa: F401
