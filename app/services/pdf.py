"""PDF documents (recap of a request, downloadable models): a Jinja template rendered by WeasyPrint.

Rendering is offline: the URL fetcher reads only files under the app's static folder and the DSFR
fonts folder, and refuses any other URL (http, https, ftp, files elsewhere), so a template or a
value that mentions an external resource can never make the server fetch it. Relative URLs
resolve into ``app/static`` (``<link rel="stylesheet" href="css/pdf.css">``).

Text is set in Marianne, the State's font, read from the DSFR package (woff2) when it is there,
and otherwise in DejaVu Sans (system font). One FontConfiguration is shared by every rendering:
building it and loading the @font-face files is done once per process.
"""
import functools
import mimetypes
import threading
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from flask import current_app, render_template
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, URLFetchingError, path2url

from .. import clock
from .declarations import DECLARATIONS

#: Marianne faces declared for the PDFs: file name → (font-weight, font-style).
MARIANNE_FACES = {
    "Marianne-Regular.woff2": (400, "normal"),
    "Marianne-Regular_Italic.woff2": (400, "italic"),
    "Marianne-Bold.woff2": (700, "normal"),
    "Marianne-Bold_Italic.woff2": (700, "italic"),
}

#: Variables every PDF template receives besides those given to ``render_pdf``.
PDF_GLOBALS = {
    "local_time": clock.local,   # UTC datetime → Europe/Paris, for display
    "declarations": DECLARATIONS,
}

# Renderings share Pango/Fontconfig state through the font configuration: one at a time.
_lock = threading.Lock()


class LocalFileFetcher(URLFetcher):
    """Serves ``file:`` URLs under the given folders (and self-contained ``data:`` URLs); refuses
    everything else with ``URLFetchingError``, which WeasyPrint reports and skips."""

    def __init__(self, *roots: Path):
        super().__init__(allowed_protocols={"file", "data"}, fail_on_errors=False)
        self.roots = tuple(Path(root).resolve() for root in roots)

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            raise URLFetchingError(f"Ressource externe refusée pour un PDF : {url}")
        path = Path(url2pathname(parts.path)).resolve()
        if not any(path.is_relative_to(root) for root in self.roots) or not path.is_file():
            raise URLFetchingError(f"Fichier hors des dossiers autorisés pour un PDF : {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(path.as_uri(), path.read_bytes(),
                                  headers={"Content-Type": content_type})


@functools.cache
def _font_config() -> FontConfiguration:
    return FontConfiguration()


@functools.cache
def _setup(static_folder: str, fonts_folder: str) -> tuple[str, LocalFileFetcher, tuple[CSS, ...]]:
    """(base URL, fetcher, stylesheets) for one app's folders, built once."""
    fetcher = LocalFileFetcher(Path(static_folder), Path(fonts_folder))
    faces = [
        f"@font-face {{ font-family: Marianne; font-weight: {weight}; font-style: {style};"
        f" src: url(\"{path2url(Path(fonts_folder) / name)}\") format('woff2'); }}"
        for name, (weight, style) in MARIANNE_FACES.items()
        if (Path(fonts_folder) / name).is_file()]
    stylesheets = (CSS(string="\n".join(faces), url_fetcher=fetcher, font_config=_font_config()),)
    return path2url(static_folder.rstrip("/") + "/"), fetcher, stylesheets


def _app_setup():
    fonts = Path(current_app.config["ASSETS_FOLDER"]) / "@gouvfr" / "dsfr" / "dist" / "fonts"
    return _setup(str(current_app.static_folder), str(fonts))


def local_fetcher() -> LocalFileFetcher:
    """The URL fetcher used for the current app's PDFs."""
    return _app_setup()[1]


def html_to_pdf(html: str) -> bytes:
    """PDF of an HTML document; relative URLs resolve into the app's static folder."""
    with _lock:
        base_url, fetcher, stylesheets = _app_setup()
        document = HTML(string=html, base_url=base_url, url_fetcher=fetcher)
        return document.write_pdf(stylesheets=list(stylesheets), font_config=_font_config())


def render_pdf(template_name: str, **context) -> bytes:
    """PDF of the app template ``template_name`` (needs an app context; templates that build URLs
    need a request context). The template also receives ``PDF_GLOBALS``."""
    return html_to_pdf(render_template(template_name, **{**PDF_GLOBALS, **context}))
