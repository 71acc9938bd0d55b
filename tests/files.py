"""Test files built in memory (no binary fixture in the repository).

Valid files: ``png_bytes``, ``jpeg_bytes``, ``pdf_bytes`` (a real one-page PDF with text that
pypdf extracts); each accepts ``size=`` to pad it, staying valid, to an exact number of bytes.
Then the files each upload rule must reject: encrypted PDF, PDF with JavaScript or an embedded
file, PDF with actions (``pdf_with_action_bytes``: launch, data submission, an address or another
file opened by itself…), XFA or media, polyglots, corrupt files… And ``pdf_with_eicar_bytes``: a
valid PDF carrying the EICAR antivirus test string, for the antivirus.
"""
import io
import random
import struct
import zipfile
import zlib

from PIL import Image
from pypdf import PdfReader, PdfWriter


# --- PNG ----------------------------------------------------------------------------------------

def png_chunk(chunk_type: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + chunk_type + payload
            + struct.pack(">I", zlib.crc32(chunk_type + payload)))


def png_with_chunk(png: bytes, chunk: bytes) -> bytes:
    """The PNG with ``chunk`` inserted just before IEND (the last 12 bytes)."""
    return png[:-12] + chunk + png[-12:]


def png_bytes(width: int = 16, height: int = 16, *, size: int | None = None) -> bytes:
    """A valid PNG; with ``size``, padded with a private ancillary chunk to exactly that size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (0, 0, 145)).save(buffer, "PNG")
    png = buffer.getvalue()
    if size is not None:
        png = png_with_chunk(png, png_chunk(b"paDd", bytes(size - len(png) - 12)))
        assert len(png) == size
    return png


# --- JPEG ---------------------------------------------------------------------------------------

def jpeg_comment(payload: bytes) -> bytes:
    """A COM segment (at most 65533 bytes of payload)."""
    return b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload


def jpeg_with_segments(jpeg: bytes, segments: bytes) -> bytes:
    """The JPEG with ``segments`` inserted just after SOI."""
    return jpeg[:2] + segments + jpeg[2:]


def photo_bytes(image_format: str = "JPEG", **options) -> bytes:
    """A photo-like image (noise, so compressed data look random), e.g. ``progressive=True``."""
    pixels = random.Random(0).randbytes(320 * 240 * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (320, 240), pixels).save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg_bytes(width: int = 16, height: int = 16, *, size: int | None = None) -> bytes:
    """A valid JPEG; with ``size``, padded with comment segments to exactly that size."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (225, 0, 15)).save(buffer, "JPEG")
    jpeg = buffer.getvalue()
    if size is not None:
        missing = size - len(jpeg)
        count = -(-missing // (65533 + 4))  # segments needed, 4 bytes of header each
        payload = missing - 4 * count
        segments = b"".join(jpeg_comment(bytes(payload // count + (i < payload % count)))
                            for i in range(count))
        jpeg = jpeg_with_segments(jpeg, segments)
        assert len(jpeg) == size
    return jpeg


# --- PDF ----------------------------------------------------------------------------------------

def raw_pdf(objects: list[str | bytes], *, padding: int = 0, tail: bytes = b"",
            comment: bytes = b"") -> bytes:
    """A PDF written by hand: ``objects[i]`` is the body of object ``i + 1``; object 1 is the
    catalog. ``padding`` bytes of comment after the header (or that ``comment`` line);
    ``tail`` appended after %%EOF."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    if comment:
        out += b"%" + comment + b"\n"
    if padding:
        out += b"%" + b"0" * (padding - 2) + b"\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        body = body.encode("latin-1") if isinstance(body, str) else body
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out) + tail


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf_objects(text: str = "Document de test", *, catalog: str = "", page: str = "",
                font: str = "F1") -> list:
    """Catalog, pages, one A4 page showing ``text`` (one line per ``\\n``) in Helvetica, its
    content stream and font (resource name ``font``). ``catalog`` / ``page``: extra entries for
    those dictionaries."""
    lines = b"".join(b"%s Tj T* " % _pdf_string(line) for line in text.split("\n"))
    content = b"BT /" + font.encode() + b" 12 Tf 14 TL 72 770 Td " + lines + b"ET"
    return [
        f"<< /Type /Catalog /Pages 2 0 R {catalog} >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        f"/Resources << /Font << /{font} 5 0 R >> >> {page} >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]


def pdf_bytes(text: str = "Document de test", *, size: int | None = None) -> bytes:
    """A valid one-page PDF showing ``text``; with ``size``, padded (header comment) to exactly
    that size."""
    pdf = raw_pdf(pdf_objects(text))
    if size is not None:
        padding = size - len(pdf)
        pdf = raw_pdf(pdf_objects(text), padding=padding)
        pdf = raw_pdf(pdf_objects(text), padding=padding - (len(pdf) - size))  # startxref digits
        assert len(pdf) == size
    return pdf


def encrypted_pdf_bytes(user_password: str = "secret") -> bytes:
    """The test PDF encrypted (RC4, which pypdf writes without extra libraries). With an empty
    user password it opens without asking, but it is still encrypted."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
    writer.encrypt(user_password, "owner-secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


JS_ACTION = "<< /S /JavaScript /JS (app.alert\\('Bonjour'\\);) >>"


def pdf_with_javascript_bytes(where: str = "open_action") -> bytes:
    """A PDF running JavaScript from ``where``:
    ``names`` (document-level /JavaScript name tree), ``open_action``, ``page_aa`` (page
    additional actions), ``annotation`` (link annotation action), ``stream`` (code in a stream),
    ``escaped`` (names written with #xx escapes, which a byte search does not see),
    ``orphan`` (an object that nothing references, only a byte search sees it)."""
    extra = {
        "names": ("/Names << /JavaScript << /Names [(bonjour) 6 0 R] >> >>", "", JS_ACTION),
        "open_action": ("/OpenAction 6 0 R", "", JS_ACTION),
        "page_aa": ("", "/AA << /O 6 0 R >>", JS_ACTION),
        "annotation": ("", "/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] "
                           "/A 6 0 R >>]", JS_ACTION),
        "stream": ("/OpenAction << /S /JavaScript /JS 6 0 R >>", "",
                   b"<< /Length 23 >>\nstream\napp.alert('Bonjour');\nendstream"),
        "escaped": ("/OpenAction 6 0 R", "", "<< /S /Java#53cript /J#53 (app.alert\\(1\\);) >>"),
        "orphan": ("", "", JS_ACTION),
    }
    catalog, page, action = extra[where]
    return raw_pdf(pdf_objects(catalog=catalog, page=page) + [action])


def pdf_with_embedded_file_bytes(where: str = "names") -> bytes:
    """A PDF carrying a file: ``names`` (/EmbeddedFiles name tree, written by pypdf),
    ``annotation`` (/FileAttachment annotation), ``escaped`` (names with #xx escapes)."""
    if where == "names":
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf_bytes())))
        writer.add_attachment("note.txt", b"contenu joint")
        buffer = io.BytesIO()
        writer.write(buffer)
        return buffer.getvalue()
    file_stream = b"<< /Type /EmbeddedFile /Length 13 >>\nstream\ncontenu joint\nendstream"
    if where == "escaped":
        file_stream = file_stream.replace(b"/EmbeddedFile", b"/Embedded#46ile")
    annotation = ("/Annots [<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 20 20] "
                  "/FS << /Type /Filespec /F (note.txt) /EF << /F 6 0 R >> >> >>]")
    if where == "escaped":
        annotation = annotation.replace("/FileAttachment", "/File#41ttachment").replace("/EF", "/E#46")
    return raw_pdf(pdf_objects(page=annotation) + [file_stream])


def _action(kind: str) -> str:
    return {
        "launch": "<< /S /Launch /F (C:\\\\Windows\\\\System32\\\\calc.exe) >>",
        "uri": "<< /S /URI /URI (https://exemple.invalid/suivi) >>",
        "submit_form": "<< /S /SubmitForm /F << /FS /URL /F (https://exemple.invalid/collecte) >> >>",
        "import_data": "<< /S /ImportData /F (donnees.fdf) >>",
        "gotor": "<< /S /GoToR /F (autre.pdf) /D [0 /Fit] >>",
        "gotoe": "<< /S /GoToE /D [0 /Fit] /T << /R /C /N (joint) >> >>",
        "rendition": "<< /S /Rendition /OP 0 >>",
        "goto": "<< /S /GoTo /D [3 0 R /Fit] >>",
    }[kind]


def pdf_with_action_bytes(kind: str, where: str = "open_action") -> bytes:
    """A PDF whose action of ``kind`` (launch, uri, submit_form, import_data, gotor, gotoe,
    rendition, goto) hangs from ``where``: ``open_action`` (the catalog's /OpenAction),
    ``document_aa`` (the catalog's /AA, on close), ``page_aa`` (the page's /AA, on open),
    ``annotation_aa`` (a link annotation's /AA, when the mouse enters it), ``field_aa`` (a form
    field's /AA, on focus), ``next`` (the second action of the /OpenAction's /Next chain),
    ``link`` (a link annotation's /A: runs only when the reader clicks it), ``orphan`` (an object
    that nothing references)."""
    link = "/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 100 100] %s >>]"
    extra = {
        "open_action": ("/OpenAction 6 0 R", ""),
        "document_aa": ("/AA << /WC 6 0 R >>", ""),
        "page_aa": ("", "/AA << /O 6 0 R >>"),
        "annotation_aa": ("", link % "/AA << /E 6 0 R >>"),
        "field_aa": ("/AcroForm << /Fields [7 0 R] >>", "/Annots [7 0 R]"),
        "next": ("/OpenAction << /S /GoTo /D [3 0 R /Fit] /Next [6 0 R] >>", ""),
        "link": ("", link % "/A 6 0 R"),
        "orphan": ("", ""),
    }
    catalog, page = extra[where]
    objects = pdf_objects(catalog=catalog, page=page) + [_action(kind)]
    if where == "field_aa":
        objects.append("<< /Type /Annot /Subtype /Widget /FT /Tx /T (nom) /Rect [0 0 100 20] "
                       "/P 3 0 R /AA << /Fo 6 0 R >> >>")
    return raw_pdf(objects)


def pdf_with_xfa_bytes() -> bytes:
    """A PDF whose form is an XFA form (an XML package that the reader runs)."""
    xfa = b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"></xdp:xdp>'
    return raw_pdf(pdf_objects(catalog="/AcroForm << /Fields [] /XFA 6 0 R >>")
                   + [b"<< /Length %d >>\nstream\n" % len(xfa) + xfa + b"\nendstream"])


def pdf_with_media_bytes(subtype: str) -> bytes:
    """A PDF with a media annotation: RichMedia, 3D, Movie, Sound or Screen."""
    return raw_pdf(pdf_objects(page=f"/Annots [<< /Type /Annot /Subtype /{subtype} "
                                    "/Rect [0 0 100 100] >>]"))


EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def pdf_with_eicar_bytes() -> bytes:
    """A valid PDF (it passes our own checks) carrying the EICAR antivirus test string in a
    comment: an antivirus with a body signature for it must catch it."""
    return raw_pdf(pdf_objects("Attestation"), comment=EICAR)


def corrupt_pdf_bytes() -> bytes:
    """A PDF header followed by garbage."""
    return b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"


def truncated_pdf_bytes() -> bytes:
    """The first half of a PDF: no cross-reference table, no %%EOF."""
    pdf = pdf_bytes()
    return pdf[:len(pdf) // 2]


def pdf_without_pages_bytes() -> bytes:
    return raw_pdf(["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [] /Count 0 >>"])


# --- polyglots and other disguises ----------------------------------------------------------------

def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hidden.txt", "données cachées")
    return buffer.getvalue()


def polyglot_jpeg_zip_bytes() -> bytes:
    """A JPEG with a ZIP archive appended (opens as both)."""
    return jpeg_bytes() + zip_bytes()


def polyglot_jpeg_pdf_bytes() -> bytes:
    """A JPEG with a PDF appended."""
    return jpeg_bytes() + pdf_bytes()


def pdf_with_png_header_bytes() -> bytes:
    """A PDF that starts with a PNG (PDF readers look for %PDF- in the first kilobyte)."""
    return png_bytes() + pdf_bytes()


def png_with_pdf_chunk_bytes() -> bytes:
    """A valid PNG (nothing after IEND) carrying a whole PDF in an ancillary chunk."""
    return png_with_chunk(png_bytes(), png_chunk(b"pdFf", pdf_bytes()))


def png_with_html_chunk_bytes() -> bytes:
    """A valid PNG with an HTML page in a text chunk (rendered if a browser sniffs it)."""
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    return png_with_chunk(png_bytes(), png_chunk(b"tEXt", b"Comment\x00" + html))


def jpeg_with_zip_comment_bytes() -> bytes:
    """A valid JPEG (ends with EOI) with a ZIP in a comment segment: ZIP readers find its central
    directory near the end of the file."""
    return jpeg_with_segments(jpeg_bytes(), jpeg_comment(zip_bytes()))


def png_with_tar_header_bytes() -> bytes:
    """A valid PNG whose bytes at offset 257 read « ustar » (a tar header for puremagic)."""
    png = png_bytes()
    head = 33  # signature (8) + IHDR chunk (25)
    payload = bytes(257 - head - 8) + b"ustar\x0000" + bytes(64)
    chunk = png_chunk(b"taRr", payload)
    result = png[:head] + chunk + png[head:]
    assert result[257:262] == b"ustar"
    return result


def png_with_trailing_data_bytes() -> bytes:
    return png_bytes() + b"donnees cachees apres IEND"


def jpeg_with_trailing_data_bytes() -> bytes:
    return jpeg_bytes() + b"donnees cachees apres EOI"


def pdf_with_trailing_data_bytes() -> bytes:
    return raw_pdf(pdf_objects(), tail=b"donnees cachees apres la fin du PDF")


def png_named_pdf() -> tuple[str, bytes]:
    """A genuine PNG whose name claims it is a PDF."""
    return "attestation.pdf", png_bytes()


# --- corrupt images -----------------------------------------------------------------------------

def truncated_png_bytes() -> bytes:
    png = png_bytes(64, 64)
    return png[:len(png) - 20]


def png_with_bad_crc_bytes() -> bytes:
    """IDAT's checksum does not match its data."""
    png = bytearray(png_bytes())
    idat = png.index(b"IDAT")
    length = struct.unpack(">I", png[idat - 4:idat])[0]
    png[idat + 4 + length] ^= 0xFF
    return bytes(png)


def truncated_jpeg_bytes() -> bytes:
    jpeg = jpeg_bytes(64, 64)
    return jpeg[:len(jpeg) // 2]


def jpeg_with_broken_scan_bytes() -> bytes:
    """Well-formed segments but a frame header announcing a zero-width image."""
    jpeg = bytearray(jpeg_bytes())
    sof = jpeg.index(b"\xff\xc0")
    jpeg[sof + 7:sof + 9] = b"\x00\x00"  # width
    return bytes(jpeg)
