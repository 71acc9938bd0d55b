"""The portal's logs: one line per record on the standard error, as text (development) or as JSON
(``LOG_FORMAT=json``, for a log collector), each carrying the id of the HTTP request it belongs to.

The request id is the ``X-Request-Id`` the reverse proxy or load balancer sent (letters, digits,
« - », « _ », « . », 64 characters at most), otherwise a new one; every response sends it back in
``X-Request-Id``, so that a person's report (« the page said… ») and the proxy's, gunicorn's and
the portal's lines can be put together.
"""
import json
import logging
import re
import sys
import uuid
from datetime import datetime, timezone

from flask import Flask, g, has_request_context, request

HEADER = "X-Request-Id"
_VALID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname, "logger": record.name, "message": record.getMessage(),
                "request_id": getattr(record, "request_id", "-")}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


#: Libraries that log each of their steps at INFO (a PDF rendering writes dozens of lines).
QUIET = ("weasyprint", "fontTools")

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def _handler(log_format: str) -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT))
    handler.set_name("segur")
    return handler


def install(app: Flask) -> None:
    """The root logger's handler (once per process, whatever the number of apps) and the request id
    of every request."""
    root = logging.getLogger()
    if not any(h.get_name() == "segur" for h in root.handlers):
        root.addHandler(_handler(app.config["LOG_FORMAT"]))
        root.setLevel(app.config["LOG_LEVEL"])
        for chatty in QUIET:
            logging.getLogger(chatty).setLevel(logging.WARNING)

    @app.before_request
    def _request_id():
        given = request.headers.get(HEADER, "")
        g.request_id = given if _VALID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _send_request_id(response):
        response.headers[HEADER] = g.get("request_id", "")
        return response
