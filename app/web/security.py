"""Security headers of every response, in one place: Content-Security-Policy (scripts from the portal
itself or carrying this request's nonce, nothing framed by another site), X-Frame-Options,
X-Content-Type-Options, Referrer-Policy, and HSTS when the public address (``PORTAL_URL``) is HTTPS.

A view that sets its own Content-Security-Policy keeps it (e.g. document previews, which the
portal's own pages may frame: ``frame-ancestors 'self'``).

An inline script, if one is ever needed, carries the nonce: ``<script nonce="{{ csp_nonce() }}">``.
Inline event handlers (``onclick=``…) and ``javascript:`` URLs are refused by the browser.
"""
import re
import secrets

from flask import Blueprint, current_app, g

bp = Blueprint("security", __name__)

HSTS_SECONDS = 365 * 24 * 3600

# Stylesheets come from the portal only (no <style> element: the ALTCHA widget's own is replaced by
# its stylesheet, see macros/captcha.html); style *attributes* stay allowed (pages and bpmn-js set
# some; an attribute cannot hold the selectors that would read a page). img-src and font-src
# data: are DSFR's icons and bpmn-js's embedded font; worker-src blob: is the ALTCHA widget's
# proof-of-work worker, built from a Blob.
POLICY = (
    "default-src 'self'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self'; "
    "style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self' data:; "
    "worker-src 'self' blob:; "
    "object-src 'none'; "
    "base-uri 'self'; "
    "form-action 'self'; "
    "frame-ancestors 'none'"
)

_FRAME_ANCESTORS_SELF = re.compile(r"frame-ancestors\s+'self'\s*(;|$)")


@bp.app_template_global()
def csp_nonce() -> str:
    """This request's script nonce (one per request, unguessable)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


@bp.after_app_request
def security_headers(response):
    headers = response.headers
    if "Content-Security-Policy" not in headers:
        headers["Content-Security-Policy"] = POLICY.format(nonce=csp_nonce())
    framable = _FRAME_ANCESTORS_SELF.search(headers["Content-Security-Policy"])
    headers.setdefault("X-Frame-Options", "SAMEORIGIN" if framable else "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if current_app.config["PORTAL_URL"].lower().startswith("https://"):
        headers.setdefault("Strict-Transport-Security", f"max-age={HSTS_SECONDS}")
    return response
