"""Multipart form parsing without compiling two regular expressions per request.

Werkzeug's ``MultipartDecoder`` compiles two patterns that embed the request's boundary. Browsers
draw a new boundary for every submission, so Python's pattern cache never hits and each step POST
with a file field (most forms here) paid for two compilations: about as much as the rest of the
form parsing, ~10 % of a step's server time (bench/submit.py). ``Decoder`` finds the same matches
with ``bytes.find`` and one pattern compiled once; everything else is Werkzeug's.
``tests/test_multipart.py`` compares it with Werkzeug's own patterns on generated buffers.
"""
import re

from werkzeug import formparser
from werkzeug.sansio.multipart import MultipartDecoder

#: What follows ``--boundary`` in both of Werkzeug's patterns (group 1 of each).
_TAIL = re.compile(rb"(--[^\S\n\r]*(?:\r\n|\n|\r)?|[^\S\n\r]*(?:\r\n|\n|\r))")


class _Match:
    """The part of ``re.Match`` that the decoder reads."""

    __slots__ = ("_start", "_end", "_tail")

    def __init__(self, start: int, end: int, tail: bytes):
        self._start, self._end, self._tail = start, end, tail

    def start(self) -> int:
        return self._start

    def end(self) -> int:
        return self._end

    def group(self, index: int) -> bytes:
        if index != 1:
            raise IndexError(index)
        return self._tail


class _Delimiter:
    """``re.compile(LINE_BREAK? --boundary TAIL)`` (the preamble's pattern: ``optional_break``) or
    ``LINE_BREAK --boundary TAIL`` (between parts): the same leftmost match, as a ``search``."""

    def __init__(self, boundary: bytes, optional_break: bool):
        self._delimiter = b"--" + boundary
        self._optional_break = optional_break

    def search(self, buffer, pos: int = 0) -> _Match | None:
        found = buffer.find(self._delimiter, pos)
        while found != -1:
            tail = _TAIL.match(buffer, found + len(self._delimiter))
            start = self._start(buffer, found, pos) if tail is not None else None
            if start is not None:
                return _Match(start, tail.end(), tail.group(1))
            found = buffer.find(self._delimiter, found + 1)
        return None

    def _start(self, buffer, found: int, pos: int) -> int | None:
        """Where a match ending with the delimiter at ``found`` begins: at its line break (CRLF, LF
        or CR) when there is one at or after ``pos``; else at the delimiter if the break is optional."""
        if found - 2 >= pos and buffer[found - 2:found] == b"\r\n":
            return found - 2
        if found - 1 >= pos and buffer[found - 1:found] in (b"\n", b"\r"):
            return found - 1
        return found if self._optional_break else None


class Decoder(MultipartDecoder):
    def __init__(self, boundary: bytes, max_form_memory_size: int | None = None, *, max_parts: int | None = None):
        # The parent's patterns for a constant boundary come from Python's pattern cache.
        super().__init__(b"-", max_form_memory_size, max_parts=max_parts)
        self.boundary = boundary
        self.preamble_re = _Delimiter(boundary, optional_break=True)
        self.boundary_re = _Delimiter(boundary, optional_break=False)


def install() -> None:
    """Make Werkzeug's form parser use ``Decoder`` (the name it looks up when parsing)."""
    formparser.MultipartDecoder = Decoder
