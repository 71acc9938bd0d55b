"""SQLAlchemy models, one module per aggregate."""
from .api_token import ApiToken
from .account import AccountToken, AuditEntry, ForgottenRequest, LoginAttempt, SupplierAccess, User, UserRole
from .document import Document, DocumentVerdict
from .history import PassedElement, PastMilestone, TaskSpan
from .incident import Incident
from .mail import OutboxMail
from .migration import InstanceMove
from .process import PackageDraft, ProcessDraft, ProcessPackage, ProcessVersion, WaitingLane, WorkflowInstance
from .reference import Counter, Referencing, UsedCaptcha
from .request import STATUS_LINE, TYPES, EnrolmentRequest, RequestEvent, is_status_line
from .simulation import Simulation
from .webhook import WebhookDelivery, WebhookEndpoint

__all__ = [
    "AccountToken", "ApiToken", "AuditEntry", "ForgottenRequest", "LoginAttempt", "SupplierAccess", "User", "UserRole",
    "Counter", "Document", "DocumentVerdict", "EnrolmentRequest", "Incident", "InstanceMove", "OutboxMail", "PackageDraft", "PassedElement", "PastMilestone", "ProcessDraft", "ProcessPackage",
    "ProcessVersion",
    "Referencing", "RequestEvent", "STATUS_LINE", "Simulation", "TaskSpan", "TYPES", "is_status_line", "UsedCaptcha", "WaitingLane", "WebhookDelivery",
    "WebhookEndpoint", "WorkflowInstance",
]
