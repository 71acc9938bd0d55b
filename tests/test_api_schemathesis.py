"""Schemathesis against the OpenAPI document the portal serves: every operation, called through the
WSGI app with a valid read token, with generated (valid and invalid) parameters and with real request
numbers and document ids, must never answer 5xx and must answer what the document says (status
codes, content types, headers, bodies). SQLite only: the API's database behaviour is covered on both
databases by test_api.py; this one is about the document and the answers' shapes (and takes ~20 s)."""
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, ignored_auth, response_headers_conformance,
                                               response_schema_conformance, status_code_conformance)

from app.extensions import db
from app.models import Document, EnrolmentRequest
from test_api import Admin
import test_agent_queue
from test_agent_queue import file_requests

quick_recap_pdf = test_agent_queue.quick_recap_pdf  # its autouse fixture: a quick recap PDF

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance, ignored_auth]
SETTINGS = settings(max_examples=12, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


def test_every_operation_answers_as_documented(portal):
    if not portal.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("schemathesis runs on SQLite only (the API's database behaviour: test_api.py, both databases)")
    numbers = file_requests(portal, 1)
    number = next(iter(numbers))
    with portal.app_context():
        document_id = db.session.scalar(db.select(Document.id).join(EnrolmentRequest)
                                        .where(EnrolmentRequest.number == number, Document.state == "filed"))
    headers = {"Authorization": f"Bearer {Admin(portal).create('Schemathesis')}"}
    portal.config["API_RATE_LIMIT"] = "100000 per minute"
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", portal)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 6
    real = {"number": number, "document_id": document_id}
    for operation in operations:
        known = {name: value for name, value in real.items() if f"{{{name}}}" in operation.path}
        strategies = [operation.as_strategy(mode) for mode in schemathesis.GenerationMode]
        if known:
            strategies.append(operation.as_strategy(path_parameters=known))
        for strategy in strategies:
            @given(case=strategy)
            @SETTINGS
            def run(case):
                case.call_and_validate(headers=headers, checks=CHECKS)
            run()
