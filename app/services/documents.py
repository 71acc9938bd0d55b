"""The uploaded-file pipeline: every uploaded (or generated) document goes through here.

``check_upload`` applies the rules of the spec and raises ``UploadRejected`` with a French message
saying exactly why. The checks run in this order, so the message names the first rule broken:

1. the name (length, characters, dots, accepted extension);
2. the size (empty, more than the document type's maximum, 4 Mo by default) — before any content
   check, so that an oversized file is never parsed;
3. the type, from the content's magic bytes (puremagic): PNG, JPEG or PDF, signature at offset 0;
4. one type only (polyglots): no other format recognised by puremagic, no PDF or HTML inside an
   image, no ZIP central directory at the end;
5. the extension agrees with the content (after 4, so a disguised polyglot is reported as such);
6. the format itself: PDFs parse with pypdf and carry no encryption, JavaScript, embedded file,
   program launch, data submission or import, XFA form or media, and nothing that opens a web
   address or another file by itself (object tree walk, then a byte-level search as a second
   line), and nothing after ``%%EOF``;
   images end exactly at their last chunk / EOI marker and decode fully with Pillow;
7. with the antivirus on (``ANTIVIRUS=clamd``), clamd's verdict: a virus is refused; when clamd
   does not answer, the file is accepted « analyse en cours » and nobody can download it until
   the worker has scanned it (``scan_next_pending``: an infected file's bytes are then removed,
   the request's history and its account holder told).

Each document type (process package, ``app/package/document_types.py``) narrows rules 1 and 2: the
formats it accepts among those checked here (``FORMATS``) and its maximum size (at most
``SIZE_CEILING``); ``check_upload(name, data, kind)`` applies them and names the type in its message.

``store`` writes the file under a random name in the document storage (``storage``: the
``UPLOAD_FOLDER`` folder, or an S3 bucket) before the row is flushed.
Session events keep the storage in step with the database: a file written in a transaction (or in a
savepoint) that rolls back is removed; the file of a deleted ``Document`` is removed only once the
outermost transaction has committed (a rolled-back savepoint cancels the deletion).
"""
import hashlib
import io
import logging
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import puremagic
from flask import current_app
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject
from sqlalchemy import event

from .. import clock
from ..extensions import db
from ..models.document import DRAFT, FILED, SCAN_INFECTED, SCAN_PENDING, Document
from . import antivirus, audit, outbox, storage

log = logging.getLogger(__name__)

MAX_SIZE = 4 * 1024 * 1024
#: The largest maximum size a document type may set (a PDF is parsed whole).
SIZE_CEILING = 10 * 1024 * 1024
MAX_NAME_LENGTH = 50

PDF, PNG, JPEG = "application/pdf", "image/png", "image/jpeg"
#: Signature each accepted type must start with (offset 0).
SIGNATURES = {PDF: b"%PDF-", PNG: b"\x89PNG\r\n\x1a\n", JPEG: b"\xff\xd8\xff"}
#: Extension a name may end with → content type it announces.
EXTENSIONS = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG}
#: The formats a document type may accept (the ones checked here), in the order hints list them.
FORMATS = {"jpg": JPEG, "png": PNG, "pdf": PDF}
#: Extension of the stored file for each content type.
STORED_EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg"}
LABELS = {PDF: "document PDF", PNG: "image PNG", JPEG: "image JPEG"}

UNKNOWN_TYPE = "Le contenu du fichier ne correspond pas à un document PDF, PNG ou JPEG."
POLYGLOT = ("Le fichier contient des données cachées ou de plusieurs types (fichier polyglotte) : "
            "il n'est pas accepté.")
PDF_UNREADABLE = "Le PDF est illisible ou endommagé."
IMAGE_UNREADABLE = "L'image est illisible ou endommagée."
TOO_MANY_PIXELS = "Les dimensions de l'image sont trop grandes : réduisez sa résolution."


class Rules(Protocol):
    """What a document type says about its files (``document_types.DocumentType``)."""

    label: str
    formats: tuple[str, ...]   # keys of FORMATS
    max_size: int              # bytes


def _extensions(formats) -> list[str]:
    return [e for e, content_type in EXTENSIONS.items() if any(FORMATS[f] == content_type for f in formats)]


def size_fr(size: int) -> str:
    """« 4 Mo », « 2,5 Mo »."""
    megabytes = round(size / (1024 * 1024), 1)
    return f"{megabytes:g} Mo".replace(".", ",")


def hint(rules: Rules | None = None) -> str:
    """The limits shown under a file input (the type's, or the portal's without a type)."""
    formats = rules.formats if rules else tuple(FORMATS)
    listed = ", ".join(e.lstrip(".") for f in FORMATS if f in formats for e in _extensions([f]))
    return (f"Taille maximale : {size_fr(rules.max_size if rules else MAX_SIZE)}. Formats supportés : {listed}. "
            f"Le nom du fichier ne doit pas excéder {MAX_NAME_LENGTH} caractères et ne doit pas contenir de "
            "caractères spéciaux.")


def accept(rules: Rules | None = None) -> str:
    """The file input's ``accept`` attribute."""
    return ",".join(e for e in (".png", ".jpg", ".jpeg", ".pdf") if rules is None or e in _extensions(rules.formats))


class UploadRejected(ValueError):
    """An uploaded file breaks a rule; ``str(exc)`` is the message to show to the user."""


@dataclass(frozen=True)
class CheckedFile:
    original_name: str   # the name as uploaded (Unicode NFC), already validated
    content_type: str    # from the content: application/pdf, image/png or image/jpeg
    extension: str       # canonical extension of the content type: .pdf, .png or .jpg
    data: bytes
    sha256: str
    size: int
    scan_status: str | None = None  # the antivirus verdict (None: not scanned)


# --- checks -------------------------------------------------------------------------------------

def check_upload(filename: str, data: bytes, kind: Rules | None = None) -> CheckedFile:
    """Apply every rule to an uploaded file, with the formats and maximum size of its document type
    ``kind`` when given; raise ``UploadRejected`` at the first one broken."""
    name = unicodedata.normalize("NFC", filename or "")  # macOS sends accents decomposed
    extension = _check_name(name)
    _check_type_format(extension, kind)
    _check_size(data, kind)
    content_type = _content_type(data)
    _check_extension_matches(extension, content_type)
    FORMAT_CHECKS[content_type](data)
    return CheckedFile(original_name=name, content_type=content_type,
                       extension=STORED_EXTENSIONS[content_type], data=data,
                       sha256=hashlib.sha256(data).hexdigest(), size=len(data),
                       scan_status=_scan(data))


def _check_name(name: str) -> str:
    """The name rules; return the name's extension (lower case)."""
    if not name:
        raise UploadRejected("Le fichier n'a pas de nom.")
    _check_name_length(name)
    _check_name_characters(name)
    _check_name_dots(name)
    return _name_extension(name)


def _check_name_length(name: str) -> None:
    if len(name) > MAX_NAME_LENGTH:
        raise UploadRejected(f"Le nom du fichier ne doit pas excéder {MAX_NAME_LENGTH} caractères "
                             f"({len(name)} actuellement).")


def _allowed_character(char: str) -> bool:
    """Letters (Latin, accented or not), digits, space, « - », « _ » and « . »."""
    if char.isascii():
        return char.isalnum() or char in " -_."
    return char.isalpha() and unicodedata.name(char, "").startswith("LATIN ")


def _shown(char: str) -> str:
    return char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


def _listed(chars) -> str:
    return ", ".join(f"« {_shown(c)} »" for c in chars)


def _check_name_characters(name: str) -> None:
    invisible = [c for c in dict.fromkeys(name) if unicodedata.category(c) in ("Cc", "Cf")]
    if invisible:
        raise UploadRejected("Le nom du fichier contient des caractères de contrôle ou invisibles "
                             f"non autorisés : {_listed(invisible)}.")
    special = [c for c in dict.fromkeys(name) if not _allowed_character(c)]
    if special:
        raise UploadRejected(f"Le nom du fichier contient des caractères spéciaux non autorisés : {_listed(special)}.")


def _check_name_dots(name: str) -> None:
    if ".." in name:
        raise UploadRejected("Le nom du fichier ne doit pas contenir deux « . » à la suite.")
    if name.startswith("."):
        raise UploadRejected("Le nom du fichier ne doit pas commencer par un point.")


def _name_extension(name: str) -> str:
    stem, dot, extension = name.rpartition(".")
    if not dot or not extension:
        raise UploadRejected("Le nom du fichier doit se terminer par l'extension .pdf, .png, .jpg "
                             "ou .jpeg.")
    if "." + extension.lower() not in EXTENSIONS:
        raise UploadRejected(f"L'extension .{extension} n'est pas acceptée : formats supportés : "
                             "pdf, png, jpg, jpeg.")
    return "." + extension.lower()


def _check_type_format(extension: str, kind: Rules | None) -> None:
    if kind is not None and extension not in _extensions(kind.formats):
        accepted = ", ".join(e.lstrip(".") for e in _extensions(kind.formats))
        raise UploadRejected(f"L'extension {extension} n'est pas acceptée pour « {kind.label} » : "
                             f"formats acceptés : {accepted}.")


def _check_size(data: bytes, kind: Rules | None = None) -> None:
    if not data:
        raise UploadRejected("Le fichier est vide.")
    if kind is None and len(data) > MAX_SIZE:
        raise UploadRejected(f"Le fichier dépasse la taille maximale de {size_fr(MAX_SIZE)}.")
    if kind is not None and len(data) > min(kind.max_size, SIZE_CEILING):
        raise UploadRejected(f"Le fichier dépasse la taille maximale de {size_fr(kind.max_size)} "
                             f"acceptée pour « {kind.label} ».")


def _content_type(data: bytes) -> str:
    """The content type, from the magic bytes; the content must be of that type only."""
    try:
        matches = puremagic.magic_string(data)
    except puremagic.PureError:
        matches = []
    content_type = _detected_type(data, matches)
    _check_no_other_magic(matches, content_type)
    if content_type != PDF:
        _check_no_document_in_image(data)
    _check_no_zip_directory(data)
    return content_type


def _detected_type(data: bytes, matches) -> str:
    """PNG, JPEG or PDF when puremagic says so and the full signature is at offset 0."""
    found = {match.mime_type for match in matches if match.offset == 0}
    for content_type, signature in SIGNATURES.items():
        if content_type in found and data.startswith(signature):
            return content_type
    raise UploadRejected(UNKNOWN_TYPE)


def _check_no_other_magic(matches, content_type: str) -> None:
    """Polyglot: puremagic also recognises another format further in or at the end of the file
    (e.g. a tar header at offset 257, an ISO 9660 volume, an SVG closing tag).
    Other matches at offset 0 only share our signature's first bytes (e.g. FDF for ``%PDF``)."""
    if any(match.offset != 0 and match.mime_type != content_type for match in matches):
        raise UploadRejected(POLYGLOT)


#: Markers of documents a browser or a PDF reader would find inside an image.
DOCUMENT_MARKERS = re.compile(rb"%PDF-|<html|<script|<!doctype html|<svg|<\?php", re.IGNORECASE)


def _check_no_document_in_image(data: bytes) -> None:
    if DOCUMENT_MARKERS.search(data):
        raise UploadRejected(POLYGLOT)


def _check_no_zip_directory(data: bytes) -> None:
    """Polyglot: a ZIP reader looks for its end-of-central-directory record in the last
    64 KiB + 22 bytes, wherever the file claims to start."""
    if b"PK\x05\x06" in data[-(65535 + 22):]:
        raise UploadRejected(POLYGLOT)


def _check_extension_matches(extension: str, content_type: str) -> None:
    if EXTENSIONS[extension] != content_type:
        raise UploadRejected(f"L'extension {extension} ne correspond pas au contenu du fichier "
                             f"({LABELS[content_type]}).")


# --- PDF ----------------------------------------------------------------------------------------

#: Keys whose dictionary holds names chosen by the author (fonts, destinations…), not PDF keys.
USER_NAMED = {"/Font", "/XObject", "/ExtGState", "/ColorSpace", "/Pattern", "/Shading",
              "/Properties", "/Dests", "/RoleMap", "/ClassMap"}
JAVASCRIPT = "javascript"
EMBEDDED_FILE = "embedded file"
LAUNCH = "launch"
DATA_EXCHANGE = "data exchange"
AUTOMATIC_URI = "automatic uri"
AUTOMATIC_OTHER_FILE = "automatic other file"
XFA = "xfa"
RICH_MEDIA = "rich media"
_REFUSED = "ce type de document n'est pas accepté."
#: One reason per kind of active content, in the order they are reported.
PDF_REJECTIONS = {
    JAVASCRIPT: f"Le PDF contient du JavaScript : {_REFUSED}",
    EMBEDDED_FILE: f"Le PDF contient des fichiers joints : {_REFUSED}",
    LAUNCH: f"Le PDF contient une action qui lance un programme : {_REFUSED}",
    DATA_EXCHANGE: f"Le PDF contient une action qui envoie ou importe des données : {_REFUSED}",
    AUTOMATIC_URI: f"Le PDF ouvre automatiquement une adresse internet : {_REFUSED}",
    AUTOMATIC_OTHER_FILE: f"Le PDF ouvre automatiquement un autre fichier : {_REFUSED}",
    XFA: f"Le PDF contient un formulaire dynamique (XFA) : {_REFUSED}",
    RICH_MEDIA: f"Le PDF contient du contenu multimédia (vidéo, son, 3D) : {_REFUSED}",
}
#: Action types (/S) refused wherever they are, even behind a link the reader clicks.
ACTIONS_REFUSED = {"/JavaScript": JAVASCRIPT, "/Launch": LAUNCH, "/SubmitForm": DATA_EXCHANGE,
                   "/ImportData": DATA_EXCHANGE, "/Rendition": RICH_MEDIA}
#: Action types refused when they run by themselves (the catalog's /OpenAction, any /AA, and
#: their /Next chains); a link annotation opening a web address when clicked stays accepted.
AUTOMATIC_ACTIONS_REFUSED = {"/URI": AUTOMATIC_URI, "/GoToR": AUTOMATIC_OTHER_FILE,
                             "/GoToE": AUTOMATIC_OTHER_FILE}
#: Annotation types that play media or interactive content.
MEDIA_ANNOTATIONS = {"/RichMedia", "/3D", "/Movie", "/Sound", "/Screen"}
_NAME_END = rb"(?=[\s\x00()<>\[\]{}/%]|\Z)"
#: Second line, on the raw bytes (objects that the tree walk cannot reach, e.g. orphans that a
#: viewer may still find when it rebuilds a damaged cross-reference table).
RAW_NAMES = {
    JAVASCRIPT: re.compile(rb"/JavaScript" + _NAME_END + rb"|/JS\s*[(<]"),
    EMBEDDED_FILE: re.compile(rb"/(?:EmbeddedFiles?|FileAttachment)" + _NAME_END),
    LAUNCH: re.compile(rb"/Launch" + _NAME_END),
    DATA_EXCHANGE: re.compile(rb"/(?:SubmitForm|ImportData)" + _NAME_END),
    XFA: re.compile(rb"/XFA" + _NAME_END),
    RICH_MEDIA: re.compile(rb"/(?:RichMedia|Rendition)" + _NAME_END),
}


def _check_pdf(data: bytes) -> None:
    reader = _read_pdf(data)
    if reader.is_encrypted:
        raise UploadRejected("Le PDF est protégé par un mot de passe ou chiffré : déposez une "
                             "version non protégée.")
    found = _pdf_active_content(reader) | _pdf_raw_active_content(data)
    for kind, message in PDF_REJECTIONS.items():
        if kind in found:
            raise UploadRejected(message)
    _check_nothing_after_pdf_end(data)


def _read_pdf(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        if not reader.is_encrypted and len(reader.pages) == 0:
            raise ValueError("no page")
    except Exception as exc:  # pypdf raises many kinds of errors on malformed input
        log.info("PDF rejected as unreadable: %r", exc)
        raise UploadRejected(PDF_UNREADABLE) from exc
    return reader


def _pdf_active_content(reader: PdfReader) -> set[str]:
    """Walk every object reachable from the trailer; return the kinds of PDF_REJECTIONS found:
    JavaScript (``/S /JavaScript``, ``/JS``, the /JavaScript name tree), embedded files
    (/EmbeddedFiles name tree, file specifications with /EF, /FileAttachment annotations), the
    actions of ACTIONS_REFUSED anywhere, XFA forms, media annotations; then the actions that run
    by themselves (catalog /OpenAction, every /AA of the document, pages, annotations and fields,
    following /Next), checked against AUTOMATIC_ACTIONS_REFUSED."""
    found: set[str] = set()
    automatic: list[object] = []
    try:
        for obj, user_named in _pdf_objects(reader.trailer):
            if isinstance(obj, DictionaryObject) and not user_named:
                found |= _pdf_dictionary_findings(obj)
                automatic += _automatic_actions(obj)
        for action, _ in _pdf_objects(*automatic, follow=("/Next",)):
            if isinstance(action, DictionaryObject) and _name(action, "/S") in AUTOMATIC_ACTIONS_REFUSED:
                found.add(AUTOMATIC_ACTIONS_REFUSED[_name(action, "/S")])
    except Exception as exc:
        log.info("PDF rejected: object tree unreadable: %r", exc)
        raise UploadRejected(PDF_UNREADABLE) from exc
    return found


def _pdf_objects(*roots, follow: tuple[str, ...] | None = None):
    """Every object reachable from ``roots`` (each indirect object once), with whether it is a
    dictionary of author-chosen names; with ``follow``, only through those dictionary keys (and
    the arrays they hold)."""
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[object, bool]] = [(root, False) for root in roots]
    while stack:
        obj, user_named = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        yield obj, user_named
        if isinstance(obj, DictionaryObject):
            stack.extend((value, key in USER_NAMED) for key, value in dict.items(obj)
                         if follow is None or key in follow)
        elif isinstance(obj, ArrayObject):
            stack.extend((item, False) for item in list.__iter__(obj))


def _pdf_dictionary_findings(obj: DictionaryObject) -> set[str]:
    found = set()
    keys = set(dict.keys(obj))
    if keys & {"/JS", "/JavaScript"}:
        found.add(JAVASCRIPT)
    if (keys & {"/EmbeddedFiles", "/EF"} or _name(obj, "/Type") == "/EmbeddedFile"
            or _name(obj, "/Subtype") == "/FileAttachment"):
        found.add(EMBEDDED_FILE)
    if _name(obj, "/S") in ACTIONS_REFUSED:
        found.add(ACTIONS_REFUSED[_name(obj, "/S")])
    if "/XFA" in keys:
        found.add(XFA)
    if _name(obj, "/Subtype") in MEDIA_ANNOTATIONS:
        found.add(RICH_MEDIA)
    return found


def _automatic_actions(obj: DictionaryObject) -> list[object]:
    """The actions that ``obj`` runs without a click: its /OpenAction (the catalog's; an array
    there is a destination, not an action) and every entry of its /AA (additional actions)."""
    actions = []
    if "/OpenAction" in obj and isinstance(obj["/OpenAction"], DictionaryObject):
        actions.append(obj["/OpenAction"])
    if "/AA" in obj and isinstance(obj["/AA"], DictionaryObject):
        actions += dict.values(obj["/AA"])
    return actions


def _name(obj: DictionaryObject, key: str) -> str | None:
    value = obj[key] if key in obj else None  # [] resolves an indirect reference
    return str(value) if isinstance(value, NameObject) else None


def _pdf_raw_active_content(data: bytes) -> set[str]:
    return {kind for kind, pattern in RAW_NAMES.items() if pattern.search(data)}


def _check_nothing_after_pdf_end(data: bytes) -> None:
    """Polyglot: only white space may follow the last ``%%EOF``."""
    end = data.rfind(b"%%EOF")
    if end < 0:
        raise UploadRejected(PDF_UNREADABLE)
    if data[end + 5:].strip(b" \t\r\n\f\x00"):
        raise UploadRejected(POLYGLOT)


# --- images -------------------------------------------------------------------------------------

def _check_png(data: bytes) -> None:
    _check_nothing_after(_png_end(data), data)
    _decode_image(data, "PNG")


def _check_jpeg(data: bytes) -> None:
    _check_nothing_after(_jpeg_end(data), data)
    _decode_image(data, "JPEG")


def _png_end(data: bytes) -> int:
    """Offset just after the IEND chunk, walking the chunks from the signature."""
    position = 8
    while position + 12 <= len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        chunk_type = data[position + 4:position + 8]
        position += 12 + length
        if chunk_type == b"IEND" and position <= len(data):
            return position
    raise UploadRejected(IMAGE_UNREADABLE)


def _jpeg_end(data: bytes) -> int:
    """Offset just after the EOI marker (FFD9) that closes the image, walking its segments
    (the entropy-coded data after each SOS is skipped up to the next real marker)."""
    position = 2  # after SOI
    while position + 2 <= len(data):
        if data[position] != 0xFF:
            break
        marker = data[position + 1]
        position += 2
        if marker == 0xFF:          # fill byte before a marker
            position -= 1
        elif marker == 0xD9:        # EOI
            return position
        elif not (0xD0 <= marker <= 0xD7 or marker == 0x01):  # markers with a length
            length = int.from_bytes(data[position:position + 2], "big")
            if length < 2:
                break
            position += length
            if marker == 0xDA:      # SOS: skip the scan data
                position = _jpeg_scan_end(data, position)
    raise UploadRejected(IMAGE_UNREADABLE)


def _jpeg_scan_end(data: bytes, position: int) -> int:
    """Offset of the first marker after entropy-coded data (FF00 is a stuffed byte, FFD0-FFD7
    restart markers belong to the scan)."""
    while True:
        position = data.find(b"\xff", position)
        if position < 0 or position + 1 >= len(data):
            return len(data)
        following = data[position + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            position += 2
        elif following == 0xFF:
            position += 1
        else:
            return position


def _check_nothing_after(end: int, data: bytes) -> None:
    if end != len(data):
        raise UploadRejected(POLYGLOT)


def _decode_image(data: bytes, image_format: str) -> None:
    """Pillow checks the structure (verify), then decodes every pixel (load)."""
    try:
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            _check_pixel_count(image)
            image.verify()
        with Image.open(io.BytesIO(data), formats=[image_format]) as image:
            image.load()
    except Image.DecompressionBombError as exc:
        raise UploadRejected(TOO_MANY_PIXELS) from exc
    except UploadRejected:
        raise
    except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError… on bad input
        log.info("Image rejected as unreadable: %r", exc)
        raise UploadRejected(IMAGE_UNREADABLE) from exc


def _check_pixel_count(image) -> None:
    """Decompression bomb: a few Ko may decode into gigabytes."""
    limit = Image.MAX_IMAGE_PIXELS
    if limit and image.width * image.height > limit:
        raise UploadRejected(TOO_MANY_PIXELS)


FORMAT_CHECKS = {PDF: _check_pdf, PNG: _check_png, JPEG: _check_jpeg}


# --- antivirus ----------------------------------------------------------------------------------

def _scan(data: bytes) -> str | None:
    """The antivirus verdict to store (None when it is off); a virus is refused at once."""
    if not antivirus.enabled():
        return None
    verdict = antivirus.scan(data)
    if verdict.status == SCAN_INFECTED:
        raise UploadRejected(_infected_message(verdict.threat))
    return verdict.status


def _infected_message(threat: str | None) -> str:
    return f"Le fichier contient un virus ({threat}) : il n'est pas accepté."


def scan_next_pending() -> Document | None:
    """Scan the document left « analyse en cours » that the antivirus tried longest ago (so that
    a file that clamd keeps failing on does not hold the others back), locked and skipped by
    other workers; flush, the caller commits. Returns the scanned document, or None when there
    is nothing more to do now: none pending, the antivirus off, or clamd still not answering
    (the document stays pending, at the back of the queue)."""
    if not antivirus.enabled():
        return None
    document = db.session.scalars(
        db.select(Document).where(Document.scan_status == SCAN_PENDING)
        .order_by(Document.scanned_at, Document.id).limit(1).with_for_update(skip_locked=True)).first()
    if document is None:
        return None
    verdict = antivirus.scan(read(document))
    document.scan_status, document.scanned_at = verdict.status, clock.now()
    if verdict.status == SCAN_INFECTED:
        _set_aside(document, verdict.threat)
    db.session.flush()
    return None if verdict.status == SCAN_PENDING else document


def _set_aside(document: Document, threat: str | None) -> None:
    """An infected file: its bytes are removed once the transaction commits (the row stays, so
    that the request shows what was removed and why), the request's history and its account
    holder are told."""
    document.scan_threat = (threat or "")[:200]
    _remember(db.session(), DOOMED_FILES, document.storage_name)
    request = document.request
    detail = f"« {document.original_name} » ({document.label}) : {threat}"
    audit.record("Fichier infecté écarté par l'antivirus", request, detail)
    if request.holder_email:
        outbox.enqueue("fichier_infecte", request.holder_email, {
            "number": request.number, "file_name": document.original_name,
            "document_type": document.label, "uploaded_at": document.uploaded_at, "threat": threat,
            "portal_url": current_app.config["PORTAL_URL"],
            "assistance_url": current_app.config["ASSISTANCE_URL"]}, request=request)


DOWNLOAD_REFUSALS = {
    SCAN_PENDING: ("Ce fichier est en cours d'analyse par l'antivirus : il pourra être consulté "
                   "dès que l'analyse l'aura déclaré sain. Réessayez dans quelques minutes."),
    SCAN_INFECTED: ("L'antivirus a détecté un virus dans ce fichier : il a été écarté et ne peut "
                    "être consulté par personne."),
}


def download_refusal(document: Document) -> str | None:
    """Why nobody may download ``document`` (pending or infected), or None."""
    return None if document.downloadable else DOWNLOAD_REFUSALS[document.scan_status]


# --- storage ------------------------------------------------------------------------------------

def path_of(document: Document) -> Path:
    """Where the document's bytes are with the local folder storage (the embedded default):
    ``UPLOAD_FOLDER/<2 first chars>/<storage name>``. Code that reads or writes documents goes
    through ``read``/``open_stored``; this is for inspecting the folder (tests, operators)."""
    backend = storage.current()
    if not isinstance(backend, storage.LocalStorage):
        raise RuntimeError("documents are not stored in a local folder (S3_BUCKET is set)")
    return backend.path(document.storage_name)


def read(document: Document) -> bytes:
    """The document's bytes (the antivirus pass; a 10 Mo file at most)."""
    return storage.current().read(document.storage_name)


def open_stored(document: Document) -> storage.Stored:
    """The document's bytes to stream (downloads); the caller closes ``file``."""
    return storage.current().open(document.storage_name)


#: How the ``field`` of a document imported in a deposit round begins (then the round's task id).
ROUND_MARKER = "deposit:"


def store(request, kind: str, checked: CheckedFile, *, field: str | None = None,
          uploaded_by: str = "", state: str = DRAFT) -> Document:
    """Write the checked file under a random name, add its ``Document`` row and flush.
    If the transaction (or the savepoint) rolls back, the file is removed."""
    storage_name = secrets.token_hex(16) + checked.extension
    storage.current().put(storage_name, checked.data)
    _remember(db.session(), NEW_FILES, storage_name)
    # The row exists only once the file does (it joins request.documents here).
    now = clock.now()
    document = Document(
        request=request, kind=kind, field=field, state=state, filed_at=now if state == FILED else None,
        original_name=checked.original_name, storage_name=storage_name,
        content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
        uploaded_at=now, uploaded_by=uploaded_by, scan_status=checked.scan_status,
        scanned_at=now if checked.scan_status else None)
    db.session.add(document)
    db.session.flush()
    return document


def store_generated(request, kind: str, filename: str, data: bytes,
                    content_type: str = PDF, *, uploaded_by: str = "système") -> Document:
    """Store a document produced by the portal (no upload checks), filed at once."""
    if content_type not in STORED_EXTENSIONS:
        raise ValueError(f"unsupported content type: {content_type}")
    if not filename or len(filename) > 100 or any(unicodedata.category(c) == "Cc" for c in filename):
        raise ValueError(f"invalid file name: {filename!r}")
    checked = CheckedFile(original_name=filename, content_type=content_type,
                          extension=STORED_EXTENSIONS[content_type], data=data,
                          sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    return store(request, kind, checked, uploaded_by=uploaded_by, state=FILED)


def filed(request) -> list[Document]:
    """The request's filed documents (its drafts left out)."""
    return [document for document in request.documents if document.state == FILED]


def filed_one(request, document_id: int) -> Document | None:
    """The request's filed document ``document_id``; None when the request has no such one."""
    return next((document for document in filed(request) if document.id == document_id), None)


def uploaded_through(request, fields) -> list[Document]:
    """The request's documents uploaded through the given form fields (or deposit rounds' markers),
    oldest first: one query, whatever the number of the request's other documents."""
    if not fields:
        return []
    if request.id is None:  # not flushed yet: what it holds in memory
        return [document for document in request.documents if document.field in fields]
    return db.session.scalars(db.select(Document).where(
        Document.request_id == request.id, Document.field.in_(fields)).order_by(Document.id)).all()


def by_field(request, fields) -> dict:
    """{field name: the request's latest document uploaded through it}, for the given form fields."""
    return {document.field: document for document in uploaded_through(request, fields)}


def file_drafts(request, data: dict) -> int:
    """File the request's draft documents that ``data`` names (its ``doc_*`` values); delete the
    other drafts (replaced, or uploaded for a field that no longer applies). Returns how many."""
    used = {value for key, value in data.items() if key.startswith("doc_") and value}
    filed, now = 0, clock.now()
    for document in list(request.documents):
        if document.state == DRAFT:
            if document.id in used:
                document.state, document.filed_at = FILED, now
                filed += 1
            else:
                delete(document)
    return filed


def file_named(request, ids: set[int]) -> None:
    """File the request's draft documents whose ids are given (the others stay as they are)."""
    now = clock.now()
    for document in request.documents:
        if document.state == DRAFT and document.id in ids:
            document.state, document.filed_at = FILED, now


def delete(document: Document) -> None:
    """Delete the row; its file is removed once the transaction has committed."""
    db.session.delete(document)


def _remove(key: str) -> None:
    try:
        storage.current().delete(key)
    except Exception:  # a disk or S3 error: the orphan is logged, the committed work stands
        log.exception("Could not remove document file %s", key)


# --- keeping files and transactions in step -------------------------------------------------------
#
# session.info[NEW_FILES] / [DOOMED_FILES] hold (storage key, savepoint) pairs: the innermost savepoint
# open when the file was written / the row deleted, None for the outermost transaction.
# - A savepoint released: its pairs move to the enclosing savepoint (or the outermost).
# - A savepoint rolled back: its new files are removed, its deletions forgotten.
# - The outermost transaction committed: deleted documents' files are removed, new files kept.
# - The outermost transaction ended without commit (rollback, close): new files are removed.

NEW_FILES = "documents.new_files"
DOOMED_FILES = "documents.doomed_files"


def _remember(session, key: str, storage_key: str) -> None:
    session.info.setdefault(key, []).append((storage_key, session.get_nested_transaction()))


def _enclosing_savepoint(transaction):
    parent = transaction.parent
    while parent is not None and not parent.nested:
        parent = parent.parent
    return parent


def _take(session, key: str, savepoint) -> list[str]:
    """Remove and return the storage keys of ``key`` recorded in ``savepoint`` (all when None)."""
    pairs = session.info.get(key, [])
    taken = [stored for stored, owner in pairs if savepoint is None or owner is savepoint]
    session.info[key] = [(k, o) for k, o in pairs if not (savepoint is None or o is savepoint)]
    return taken


def _on_persistent_to_deleted(session, instance) -> None:
    if isinstance(instance, Document):
        try:
            storage_key = storage.checked_key(instance.storage_name)
        except ValueError:  # not a name we generated: nothing of ours to remove
            log.error("Document %s has an invalid storage name", instance.id)
            return
        _remember(session, DOOMED_FILES, storage_key)


def _on_after_commit(session) -> None:
    savepoint = session.get_nested_transaction()
    if savepoint is not None:  # RELEASE SAVEPOINT: hand over to the enclosing level
        enclosing = _enclosing_savepoint(savepoint)
        for key in (NEW_FILES, DOOMED_FILES):
            session.info[key] = [(k, enclosing if o is savepoint else o)
                                 for k, o in session.info.get(key, [])]
        return
    _take(session, NEW_FILES, None)
    for storage_key in _take(session, DOOMED_FILES, None):
        _remove(storage_key)


def _on_after_transaction_end(session, transaction) -> None:
    """Whatever is still recorded for a savepoint or outermost transaction that ends was not
    committed: remove the new files, forget the deletions."""
    if transaction.nested:
        scope = transaction
    elif transaction.parent is None:
        scope = None
    else:  # internal subtransaction of a flush
        return
    _take(session, DOOMED_FILES, scope)
    for storage_key in _take(session, NEW_FILES, scope):
        _remove(storage_key)


def _listen(identifier: str, listener) -> None:
    if not event.contains(db.session, identifier, listener):
        event.listen(db.session, identifier, listener)


_listen("persistent_to_deleted", _on_persistent_to_deleted)
_listen("after_commit", _on_after_commit)
_listen("after_transaction_end", _on_after_transaction_end)
