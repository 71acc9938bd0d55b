"""The uploaded-file pipeline: every rule with its exact message, storage, transactions, serving.

Size rule: it is checked before the content, so « 4 Mo + 1 octet » is rejected whatever the bytes;
the tests also build valid PNG, JPEG and PDF files of exactly 4 Mo (accepted) and 4 Mo + 1 byte
(rejected) by padding them in ways that keep them valid.
"""
import hashlib
import io
import os
import re
import unicodedata
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from flask import current_app
from PIL import Image
from pypdf import PdfReader
from sqlalchemy.exc import IntegrityError

import files
from journey import Journey
from app import clock
from app.extensions import db
from app.models import Document, EnrolmentRequest, ProcessVersion, WorkflowInstance
from app.services import documents
from app.web import files as files_view
from app.services.documents import MAX_SIZE, UploadRejected, check_upload

POLYGLOT = ("Le fichier contient des données cachées ou de plusieurs types (fichier polyglotte) : "
            "il n'est pas accepté.")
UNKNOWN = "Le contenu du fichier ne correspond pas à un document PDF, PNG ou JPEG."
PDF_UNREADABLE = "Le PDF est illisible ou endommagé."
IMAGE_UNREADABLE = "L'image est illisible ou endommagée."
TOO_BIG = "Le fichier dépasse la taille maximale de 4 Mo."
SPECIAL = "Le nom du fichier contient des caractères spéciaux non autorisés : "
JAVASCRIPT = "Le PDF contient du JavaScript : ce type de document n'est pas accepté."
EMBEDDED = "Le PDF contient des fichiers joints : ce type de document n'est pas accepté."
LAUNCH = "Le PDF contient une action qui lance un programme : ce type de document n'est pas accepté."
DATA_EXCHANGE = ("Le PDF contient une action qui envoie ou importe des données : ce type de document "
                 "n'est pas accepté.")
AUTOMATIC_URI = "Le PDF ouvre automatiquement une adresse internet : ce type de document n'est pas accepté."
AUTOMATIC_OTHER_FILE = ("Le PDF ouvre automatiquement un autre fichier : ce type de document n'est pas "
                        "accepté.")
XFA = "Le PDF contient un formulaire dynamique (XFA) : ce type de document n'est pas accepté."
MEDIA = ("Le PDF contient du contenu multimédia (vidéo, son, 3D) : ce type de document n'est pas "
         "accepté.")
ENCRYPTED = ("Le PDF est protégé par un mot de passe ou chiffré : déposez une version non "
             "protégée.")


def listed(*chars) -> str:
    return ", ".join(f"« {c} »" for c in chars) + "."


# --- fixtures -----------------------------------------------------------------------------------

@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


@pytest.fixture
def enrolment(ctx):
    """A minimal request row (its workflow instance and process version hold dummy JSON)."""
    now = clock.now()
    version = ProcessVersion(process_id="test", version=1, name="Test", sha256="0" * 64,
                             spec_json="{}", sources_json="{}", created_at=now, author="test")
    instance = WorkflowInstance(process_version=version, state_json="{}", created_at=now,
                                updated_at=now)
    request = EnrolmentRequest(public_id=str(uuid.uuid4()), instance=instance, created_at=now,
                               updated_at=now, data={})
    db.session.add(request)
    db.session.commit()
    return request


@pytest.fixture
def accept(enrolment):
    """Upload through the pipeline and commit; return the stored document."""
    def accept(filename, data) -> Document:
        document = upload(enrolment, filename, data)
        db.session.commit()
        assert documents.path_of(document).read_bytes() == data
        return document
    return accept


@pytest.fixture
def reject(enrolment):
    """Upload through the pipeline; return the rejection message (nothing must be stored)."""
    def reject(filename, data) -> str:
        with pytest.raises(UploadRejected) as info:
            upload(enrolment, filename, data)
        db.session.commit()
        folder = Path(current_app.config["UPLOAD_FOLDER"])
        assert stored_count() == 0 and not (folder.exists() and any(folder.rglob("*.*")))
        return str(info.value)
    return reject


def upload(request, name="kbis.pdf", data=None, **kwargs) -> Document:
    checked = check_upload(name, data if data is not None else files.pdf_bytes())
    return documents.store(request, "kbis", checked, **kwargs)


def stored_count() -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(Document))


# --- accepted files -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, build, content_type, extension", [
    ("photo.png", files.png_bytes, "image/png", ".png"),
    ("photo.jpg", files.jpeg_bytes, "image/jpeg", ".jpg"),
    ("photo.jpeg", files.jpeg_bytes, "image/jpeg", ".jpg"),
    ("SCAN.JPG", files.jpeg_bytes, "image/jpeg", ".jpg"),
    ("kbis.pdf", files.pdf_bytes, "application/pdf", ".pdf"),
    ("KBIS.PDF", files.pdf_bytes, "application/pdf", ".pdf"),
])
def test_accepts_png_jpeg_and_pdf(name, build, content_type, extension, accept):
    data = build()
    checked = check_upload(name, data)
    assert (checked.original_name, checked.content_type, checked.extension) == (name, content_type, extension)
    assert (checked.data, checked.size) == (data, len(data))
    assert checked.sha256 == hashlib.sha256(data).hexdigest()
    document = accept(name, data)
    assert (document.original_name, document.content_type) == (name, content_type)
    assert document.storage_name.endswith(extension)


@pytest.mark.parametrize("name", [
    "x" * 46 + ".pdf",                               # exactly 50 characters
    "Attestation hébergement données santé.pdf",
    "Pièce identité à jour.pdf",
    "ÇA Œuvre Ñandú ß ÿ.pdf",
    "RIB 01.02.2024.pdf",                             # dots inside the name
    "scan_recto-verso 2.pdf",
])
def test_accepts_names_with_letters_digits_space_dash_underscore_dot(name, accept):
    assert accept(name, files.pdf_bytes()).original_name == name


def test_decomposed_accents_are_normalised_not_rejected(accept):
    decomposed = unicodedata.normalize("NFD", "Relevé bancaire.pdf")
    assert len(decomposed) == 20
    assert accept(decomposed, files.pdf_bytes()).original_name == "Relevé bancaire.pdf"


def test_a_font_called_js_is_not_javascript(accept):
    """Resource names are chosen by the author: /JS may be a font, not a script."""
    data = files.raw_pdf(files.pdf_objects(font="JS"))
    assert b"/JS 12 Tf" in data
    assert accept("police.pdf", data).content_type == "application/pdf"


@pytest.mark.parametrize("name, options", [
    ("photo.jpg", {"quality": 95}),
    ("photo.jpg", {"progressive": True, "optimize": True}),
    ("photo.jpg", {"exif": b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\x00\x00\x00\x00\x00\x00"}),
    ("photo.png", {}),
])
def test_accepts_photo_like_images(name, options, accept):
    image_format = "PNG" if name.endswith(".png") else "JPEG"
    assert accept(name, files.photo_bytes(image_format, **options)).size > 10_000


def test_generated_pdf_is_readable_with_its_text():
    text = PdfReader(io.BytesIO(files.pdf_bytes("Société Générale\nSIRET 123"))).pages[0].extract_text()
    assert "Société Générale" in text and "SIRET 123" in text


# --- name -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("x" * 47 + ".pdf",
     "Le nom du fichier ne doit pas excéder 50 caractères (51 actuellement)."),
    ("x" * 59 + ".pdf",
     "Le nom du fichier ne doit pas excéder 50 caractères (63 actuellement)."),
    ("", "Le fichier n'a pas de nom."),
    ("../x.pdf", SPECIAL + listed('/')),
    ("a/b.pdf", SPECIAL + listed('/')),
    ("a\\b.pdf", SPECIAL + listed("\\")),
    ("C:\\Documents\\kbis.pdf", SPECIAL + listed(':', "\\")),
    ('a<b>c:d"e|f?g*.pdf', SPECIAL + listed('<', '>', ':', '"', '|', '?', '*')),
    ("facture (1).pdf", SPECIAL + listed('(', ')')),
    ("l'attestation.pdf", SPECIAL + listed("'")),
    ("ΑΒΓ.pdf", SPECIAL + listed('Α', 'Β', 'Γ')),
    ("a\u00a0b.pdf", SPECIAL + listed('U+00A0')),
    ("a\x00b.pdf",
     "Le nom du fichier contient des caractères de contrôle ou invisibles non autorisés : « U+0000 »."),
    ("a\nb.pdf",
     "Le nom du fichier contient des caractères de contrôle ou invisibles non autorisés : « U+000A »."),
    ("facture\u202efdp.pdf",
     "Le nom du fichier contient des caractères de contrôle ou invisibles non autorisés : « U+202E »."),
    ("rapport..pdf", "Le nom du fichier ne doit pas contenir deux « . » à la suite."),
    ("..kbis.pdf", "Le nom du fichier ne doit pas contenir deux « . » à la suite."),
    (".kbis.pdf", "Le nom du fichier ne doit pas commencer par un point."),
    ("kbis", "Le nom du fichier doit se terminer par l'extension .pdf, .png, .jpg ou .jpeg."),
    ("kbis.pdf.", "Le nom du fichier doit se terminer par l'extension .pdf, .png, .jpg ou .jpeg."),
    ("kbis.docx", "L'extension .docx n'est pas acceptée : formats supportés : pdf, png, jpg, jpeg."),
    ("kbis.pdf.exe", "L'extension .exe n'est pas acceptée : formats supportés : pdf, png, jpg, jpeg."),
])
def test_rejects_names_saying_why(name, message, reject):
    assert reject(name, files.pdf_bytes()) == message


# --- size ---------------------------------------------------------------------------------------

BUILDERS = [("scan.png", files.png_bytes), ("scan.jpg", files.jpeg_bytes), ("scan.pdf", files.pdf_bytes)]


@pytest.mark.parametrize("name, build", BUILDERS)
def test_accepts_exactly_4_mo(name, build, accept):
    data = build(size=MAX_SIZE)
    assert len(data) == 4 * 1024 * 1024
    assert accept(name, data).size == MAX_SIZE


@pytest.mark.parametrize("name, build", BUILDERS)
def test_rejects_4_mo_plus_one_byte(name, build, reject):
    assert reject(name, build(size=MAX_SIZE + 1)) == TOO_BIG


def test_size_is_checked_before_the_content(reject):
    assert reject("scan.pdf", b"\x00" * (MAX_SIZE + 1)) == TOO_BIG


def test_rejects_an_empty_file(reject):
    assert reject("scan.pdf", b"") == "Le fichier est vide."


# --- type by content ----------------------------------------------------------------------------

@pytest.mark.parametrize("data", [
    b"Bonjour, ceci est un texte.",
    files.zip_bytes(),
    b"<html><body>page</body></html>",
    b"GIF89a" + bytes(40),
    b"%PDF1.7 no dash" + files.pdf_bytes()[8:],       # not the full %PDF- signature
    b" " + files.pdf_bytes(),                         # %PDF- must be at offset 0
    b"\x89PNG\r\n" + files.png_bytes()[6:].replace(b"\x1a\n", b"", 1),  # broken PNG signature
], ids=["text", "zip", "html", "gif", "pdf-without-dash", "pdf-not-at-0", "png-broken-signature"])
def test_rejects_content_that_is_not_pdf_png_or_jpeg(data, reject):
    assert reject("document.pdf", data) == UNKNOWN


@pytest.mark.parametrize("name, data, message", [
    (*files.png_named_pdf(),
     "L'extension .pdf ne correspond pas au contenu du fichier (image PNG)."),
    ("photo.png", files.jpeg_bytes(),
     "L'extension .png ne correspond pas au contenu du fichier (image JPEG)."),
    ("kbis.jpg", files.pdf_bytes(),
     "L'extension .jpg ne correspond pas au contenu du fichier (document PDF)."),
    ("photo.JPEG", files.png_bytes(),
     "L'extension .jpeg ne correspond pas au contenu du fichier (image PNG)."),
], ids=["png-as-pdf", "jpeg-as-png", "pdf-as-jpg", "png-as-jpeg"])
def test_rejects_an_extension_that_disagrees_with_the_content(name, data, message, reject):
    assert reject(name, data) == message


# --- polyglots ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, build", [
    ("photo.jpg", files.polyglot_jpeg_zip_bytes),       # ZIP after EOI
    ("photo.jpg", files.polyglot_jpeg_pdf_bytes),       # PDF after EOI
    ("kbis.pdf", files.pdf_with_png_header_bytes),      # a PDF that starts with a PNG
    ("image.png", files.pdf_with_png_header_bytes),
    ("image.png", files.png_with_pdf_chunk_bytes),      # %PDF- inside a valid PNG
    ("image.png", files.png_with_html_chunk_bytes),     # HTML inside a valid PNG
    ("photo.jpg", files.jpeg_with_zip_comment_bytes),   # ZIP directory inside a valid JPEG
    ("image.png", files.png_with_tar_header_bytes),     # puremagic sees a tar archive too
    ("image.png", files.png_with_trailing_data_bytes),  # anything after IEND
    ("photo.jpg", files.jpeg_with_trailing_data_bytes),  # anything after EOI
    ("kbis.pdf", files.pdf_with_trailing_data_bytes),   # anything but white space after %%EOF
])
def test_rejects_polyglots(name, build, reject):
    assert reject(name, build()) == POLYGLOT


def test_white_space_after_pdf_end_is_fine(accept):
    assert accept("kbis.pdf", files.pdf_bytes() + b"\r\n\x00 ").content_type == "application/pdf"


# --- PDF ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("user_password", ["secret", ""])
def test_rejects_encrypted_pdf(user_password, reject):
    assert reject("kbis.pdf", files.encrypted_pdf_bytes(user_password)) == ENCRYPTED


@pytest.mark.parametrize("where", ["names", "open_action", "page_aa", "annotation", "stream",
                                   "escaped", "orphan"])
def test_rejects_pdf_with_javascript(where, reject):
    assert reject("kbis.pdf", files.pdf_with_javascript_bytes(where)) == JAVASCRIPT


@pytest.mark.parametrize("where", ["names", "annotation", "escaped"])
def test_rejects_pdf_with_embedded_file(where, reject):
    assert reject("kbis.pdf", files.pdf_with_embedded_file_bytes(where)) == EMBEDDED


AUTOMATIC = ["open_action", "document_aa", "page_aa", "annotation_aa", "field_aa", "next"]


@pytest.mark.parametrize("where", AUTOMATIC + ["link", "orphan"])
@pytest.mark.parametrize("kind, message", [
    ("launch", LAUNCH), ("submit_form", DATA_EXCHANGE), ("import_data", DATA_EXCHANGE),
    ("rendition", MEDIA),
])
def test_rejects_pdf_actions_that_are_never_needed_wherever_they_are(kind, message, where, reject):
    assert reject("kbis.pdf", files.pdf_with_action_bytes(kind, where)) == message


@pytest.mark.parametrize("where", AUTOMATIC)
@pytest.mark.parametrize("kind, message", [
    ("uri", AUTOMATIC_URI), ("gotor", AUTOMATIC_OTHER_FILE), ("gotoe", AUTOMATIC_OTHER_FILE),
])
def test_rejects_pdf_opening_an_address_or_another_file_by_itself(kind, message, where, reject):
    assert reject("kbis.pdf", files.pdf_with_action_bytes(kind, where)) == message


@pytest.mark.parametrize("kind", ["uri", "gotor", "gotoe"])
def test_accepts_a_link_that_the_reader_clicks(kind, accept):
    accept("kbis.pdf", files.pdf_with_action_bytes(kind, "link"))


@pytest.mark.parametrize("where", AUTOMATIC)
def test_accepts_an_automatic_jump_inside_the_document(where, accept):
    accept("kbis.pdf", files.pdf_with_action_bytes("goto", where))


def test_rejects_pdf_with_xfa_form(reject):
    assert reject("kbis.pdf", files.pdf_with_xfa_bytes()) == XFA


@pytest.mark.parametrize("subtype", ["RichMedia", "3D", "Movie", "Sound", "Screen"])
def test_rejects_pdf_with_media(subtype, reject):
    assert reject("kbis.pdf", files.pdf_with_media_bytes(subtype)) == MEDIA


@pytest.mark.parametrize("build, message", [
    (lambda: files.pdf_with_action_bytes("launch", "page_aa"), LAUNCH),
    (lambda: files.pdf_with_action_bytes("uri", "open_action"), AUTOMATIC_URI),
    (files.pdf_with_xfa_bytes, XFA),
])
def test_pdf_with_automatic_actions_is_refused_in_the_step_form(portal, client, build, message):
    journey = Journey(client)
    journey.start()
    journey.until("bank_details")
    page = journey.fill().attach("doc_rib", "rib.pdf", build()).submit("Etape suivante")
    assert page.status == 422
    assert page.errors()["doc_rib"] == [f"rib.pdf : {message}"]
    with portal.app_context():
        assert db.session.scalar(db.select(Document).where(Document.kind == "rib")) is None


@pytest.mark.parametrize("build", [files.corrupt_pdf_bytes, files.truncated_pdf_bytes,
                                   files.pdf_without_pages_bytes])
def test_rejects_unreadable_pdf(build, reject):
    assert reject("kbis.pdf", build()) == PDF_UNREADABLE


# --- images -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, build", [
    ("image.png", files.truncated_png_bytes),
    ("image.png", files.png_with_bad_crc_bytes),
    ("photo.jpg", files.truncated_jpeg_bytes),
    ("photo.jpg", files.jpeg_with_broken_scan_bytes),
])
def test_rejects_corrupt_images(name, build, reject):
    assert reject(name, build()) == IMAGE_UNREADABLE


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("limit", [200, 100])  # 256 pixels: above the limit, above twice the limit
def test_rejects_images_with_too_many_pixels(monkeypatch, limit, reject):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", limit)
    assert reject("image.png", files.png_bytes(16, 16)) == (
        "Les dimensions de l'image sont trop grandes : réduisez sa résolution.")


# --- storage ------------------------------------------------------------------------------------

def test_store_writes_the_file_under_a_generated_name(ctx, enrolment):
    clock.freeze(datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc))
    folder = Path(ctx.config["UPLOAD_FOLDER"])
    assert not folder.exists()  # created on demand
    data = files.pdf_bytes("Kbis de la société")
    document = upload(enrolment, "Kbis société.pdf", data, field="doc_kbis", uploaded_by="a@b.fr")
    db.session.commit()

    document = db.session.get(Document, document.id)
    path = documents.path_of(document)
    assert path.read_bytes() == data
    assert path.is_relative_to(folder.resolve())
    assert not path.is_relative_to(Path(ctx.static_folder).resolve())
    assert re.fullmatch(r"[0-9a-f]{32}\.pdf", path.name) and path.parent.name == path.name[:2]
    assert "Kbis" not in str(path) and document.storage_name == path.name
    assert document.sha256 == hashlib.sha256(data).hexdigest() == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (document.size, document.content_type) == (len(data), "application/pdf")
    assert (document.original_name, document.kind, document.field) == ("Kbis société.pdf", "kbis", "doc_kbis")
    assert (document.state, document.uploaded_by) == ("draft", "a@b.fr")
    assert document.uploaded_at == datetime(2025, 3, 14, 9, 30, tzinfo=timezone.utc)
    assert document.request_id == enrolment.id


def test_same_file_twice_gets_two_names(ctx, enrolment):
    first, second = upload(enrolment), upload(enrolment)
    db.session.commit()
    assert first.storage_name != second.storage_name
    assert documents.path_of(first).exists() and documents.path_of(second).exists()


def test_store_generated_files_the_document(ctx, enrolment):
    data = files.pdf_bytes("Récapitulatif")
    document = documents.store_generated(enrolment, "recap_pdf", "ENR0001_20250314.pdf", data)
    db.session.commit()
    assert (document.state, document.uploaded_by, document.field) == ("filed", "système", None)
    assert (document.original_name, document.content_type) == ("ENR0001_20250314.pdf", "application/pdf")
    assert documents.path_of(document).read_bytes() == data
    assert document.storage_name.endswith(".pdf")


def test_failed_write_leaves_neither_file_nor_row(ctx, enrolment, monkeypatch):
    def disk_full(_descriptor):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError):
        upload(enrolment)
    monkeypatch.undo()
    db.session.commit()  # even a caller that carries on commits nothing
    assert stored_count() == 0
    assert not any(Path(ctx.config["UPLOAD_FOLDER"]).rglob("*.*"))


def test_upload_folder_inside_the_static_folder_is_refused(ctx, enrolment):
    ctx.config["UPLOAD_FOLDER"] = str(Path(ctx.static_folder) / "documents")
    with pytest.raises(RuntimeError):
        upload(enrolment)


def test_path_of_refuses_a_tampered_storage_name(ctx):
    with pytest.raises(ValueError):
        documents.path_of(Document(storage_name="../../etc/passwd"))


# --- transactions -------------------------------------------------------------------------------

def test_file_is_on_disk_before_commit_and_kept_after(ctx, enrolment):
    path = documents.path_of(upload(enrolment))
    assert path.exists()
    db.session.commit()
    db.session.rollback()  # a later transaction that rolls back does not touch it
    assert path.exists()


def test_rollback_removes_the_new_file(ctx, enrolment):
    path = documents.path_of(upload(enrolment))
    db.session.rollback()
    assert not path.exists()
    assert stored_count() == 0


def test_closing_the_session_without_commit_removes_the_new_file(ctx, enrolment):
    path = documents.path_of(upload(enrolment))
    db.session.remove()  # end of request without commit (e.g. an exception in a view)
    assert not path.exists()


def test_failed_commit_removes_the_new_file(ctx, enrolment):
    path = documents.path_of(upload(enrolment))
    now = clock.now()
    db.session.add(EnrolmentRequest(public_id=enrolment.public_id, instance_id=enrolment.instance_id,
                                    created_at=now, updated_at=now, data={}))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert not path.exists()


def test_rolled_back_savepoint_removes_only_its_files(ctx, enrolment):
    before = documents.path_of(upload(enrolment, "avant.pdf"))
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            inside = documents.path_of(upload(enrolment, "dedans.pdf"))
            raise RuntimeError("step failed")
    assert before.exists() and not inside.exists()
    after = documents.path_of(upload(enrolment, "apres.pdf"))
    db.session.commit()
    assert before.exists() and after.exists()
    assert sorted(d.original_name for d in db.session.scalars(db.select(Document))) == ["apres.pdf", "avant.pdf"]


def test_released_savepoint_files_follow_the_outer_transaction(ctx, enrolment):
    with db.session.begin_nested():
        path = documents.path_of(upload(enrolment))
    assert path.exists()
    db.session.rollback()
    assert not path.exists()


def test_released_inner_savepoint_files_go_with_a_rolled_back_outer_savepoint(ctx, enrolment):
    kept = documents.path_of(upload(enrolment))
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            with db.session.begin_nested():
                inner = documents.path_of(upload(enrolment))
            assert inner.exists()
            raise RuntimeError
    assert not inner.exists() and kept.exists()
    db.session.commit()
    assert kept.exists()


def test_delete_removes_the_file_only_after_commit(ctx, enrolment):
    document = upload(enrolment)
    db.session.commit()
    path = documents.path_of(document)
    documents.delete(document)
    db.session.flush()
    assert path.exists()  # the row is gone in this transaction, not yet for everybody
    db.session.commit()
    assert not path.exists()
    assert stored_count() == 0


def test_rolled_back_delete_keeps_the_file(ctx, enrolment):
    document = upload(enrolment)
    db.session.commit()
    path = documents.path_of(document)
    documents.delete(document)
    db.session.flush()
    db.session.rollback()
    db.session.commit()
    assert path.exists() and stored_count() == 1


def test_delete_in_a_rolled_back_savepoint_keeps_the_file(ctx, enrolment):
    document = upload(enrolment)
    db.session.commit()
    path = documents.path_of(document)
    with pytest.raises(RuntimeError):
        with db.session.begin_nested():
            documents.delete(document)
            db.session.flush()
            raise RuntimeError
    db.session.commit()
    assert path.exists() and stored_count() == 1


def test_delete_in_a_released_savepoint_waits_for_the_outer_commit(ctx, enrolment):
    document = upload(enrolment)
    db.session.commit()
    path = documents.path_of(document)
    with db.session.begin_nested():
        documents.delete(document)
    assert path.exists()
    db.session.commit()
    assert not path.exists()


def test_upload_then_delete_in_one_transaction_leaves_nothing(ctx, enrolment):
    document = upload(enrolment)
    path = documents.path_of(document)
    documents.delete(document)
    db.session.commit()
    assert not path.exists() and stored_count() == 0


def test_deleting_the_request_removes_its_files_after_commit(ctx, enrolment):
    paths = [documents.path_of(upload(enrolment)) for _ in range(2)]
    db.session.commit()
    request = db.session.get(EnrolmentRequest, enrolment.id)
    assert len(request.documents) == 2  # loaded: the ORM deletes them (and sees it)
    db.session.delete(request)
    db.session.flush()
    assert all(path.exists() for path in paths)
    db.session.commit()
    assert not any(path.exists() for path in paths)


# --- serving ------------------------------------------------------------------------------------

def test_send_as_attachment(ctx, enrolment):
    data = files.pdf_bytes()
    document = upload(enrolment, "Relevé bancaire.pdf", data)
    db.session.commit()
    with ctx.test_request_context():
        response = files_view.send(document)
        response.direct_passthrough = False
        body = response.get_data()
        response.close()
    assert body == data
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=\"Releve bancaire.pdf\"; filename*=UTF-8''Relev%C3%A9%20bancaire.pdf")
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_send_inline(ctx, enrolment):
    document = upload(enrolment, "photo.png", files.png_bytes())
    db.session.commit()
    with ctx.test_request_context():
        response = files_view.send(document, inline=True)
        response.close()
    assert response.headers["Content-Disposition"] == "inline; filename=photo.png"
    assert response.headers["Content-Type"] == "image/png"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
