"""Front-end assets installed from npm (DSFR, ALTCHA, bpmn-js, axe-core), served from ``ASSETS_FOLDER``.

Only the distribution folders listed in ``ALLOWED_PREFIXES`` are reachable: package manifests,
sources and anything else under ``node_modules`` answer 404.
"""
import posixpath

from flask import Blueprint, abort, current_app, send_from_directory, url_for

bp = Blueprint("assets", __name__)

ALLOWED_PREFIXES = (
    "@gouvfr/dsfr/dist/",
    "altcha/dist/",
    "bpmn-js/dist/",
    "bpmn-js-properties-panel/dist/",
    "@bpmn-io/properties-panel/dist/",
    # axe-core's engine, which the browser tests inject to check the pages' accessibility: one
    # file, served from the portal so that the pages' Content-Security-Policy allows it.
    "axe-core/axe.min.js",
)

# Types that Python's mimetypes table may not know on every system.
MIMETYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".webmanifest": "application/manifest+json",
    ".wasm": "application/wasm",
}

CACHE_SECONDS = 7 * 24 * 3600


def allowed(path: str) -> bool:
    """True when ``path`` is a plain relative path inside one of the allowed folders."""
    if not path or "\\" in path or "\x00" in path or path.startswith("/"):
        return False
    if any(part in ("", ".", "..") for part in path.split("/")):
        return False
    return posixpath.normpath(path) == path and path.startswith(ALLOWED_PREFIXES)


@bp.get("/assets/<path:path>")
def file(path):
    if not allowed(path):
        abort(404)
    extension = posixpath.splitext(path)[1].lower()
    response = send_from_directory(
        current_app.config["ASSETS_FOLDER"], path,
        mimetype=MIMETYPES.get(extension), max_age=CACHE_SECONDS)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.app_template_global()
def asset_url(path: str) -> str:
    """URL of a file of an npm package, e.g. ``asset_url('@gouvfr/dsfr/dist/dsfr.min.css')``."""
    return url_for("assets.file", path=path)
