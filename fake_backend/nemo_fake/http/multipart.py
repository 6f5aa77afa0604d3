"""Streaming reception of multipart/form-data file uploads, with a hard limit on body size.

Starlette's ``request.form()`` spools file parts with no size limit, so the upload endpoint
parses the body itself: every byte is counted as it is read, the request is refused the moment
the limit is passed, and file parts go straight to disk chunk by chunk.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import pathlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from nemo_fake.config import MB
from nemo_fake.errors import ApiError, Code

# Each file part becomes a file on disk, so their number is bounded separately from parts in
# general; ignored parts cost only parsing time, which MAX_PARTS keeps in check.
MAX_FILES = 100
MAX_PARTS = 1000
# Per part. Real clients send two or three headers, each well under a kilobyte; the limits only
# exist so that the header buffers below cannot grow with the body.
MAX_HEADERS_PER_PART = 8
MAX_HEADER_LINE = 8 * 1024

# The stored name keeps the client's extension so media probing by suffix still works, but only
# a short alphanumeric one: anything else could exceed the filesystem's name limit.
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,16}")
# Control characters (NUL above all) have no place in a filename and would corrupt logs,
# headers and C-level path handling downstream.
_CONTROL_CHARS = dict.fromkeys([*range(0x20), 0x7F])


@dataclass(frozen=True)
class ReceivedFile:
    filename: str  # the client's filename reduced to its base name
    path: pathlib.Path  # where the bytes were written, inside dest_dir
    size: int
    sha256: str  # hex digest
    content_type: str | None


async def receive_files(
    chunks: AsyncIterator[bytes],
    content_type: str,
    *,
    field: str,
    dest_dir: pathlib.Path,
    max_bytes: int,
) -> list[ReceivedFile]:
    """Stream a multipart body to disk and return the file parts named ``field``, in order.

    Raises ApiError FILE_TOO_LARGE as soon as more than ``max_bytes`` body bytes have been read
    (without reading further), and BAD_REQUEST for anything that is not a well-formed upload.
    On any failure, every file this call wrote is deleted.
    """
    boundary = _boundary(content_type)
    receiver = _Receiver(field.encode("utf-8"), dest_dir)
    try:
        parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": receiver.on_part_begin,
                "on_header_field": receiver.on_header_field,
                "on_header_value": receiver.on_header_value,
                "on_header_end": receiver.on_header_end,
                "on_headers_finished": receiver.on_headers_finished,
                "on_part_data": receiver.on_part_data,
                "on_part_end": receiver.on_part_end,
                "on_end": receiver.on_end,
            },
            max_header_count=MAX_HEADERS_PER_PART,
            max_header_size=MAX_HEADER_LINE,
        )
    except FormParserError as exc:  # the boundary itself is unacceptable (too long)
        raise _bad_request(f"invalid multipart boundary: {exc}") from exc

    dest_dir.mkdir(parents=True, exist_ok=True)
    read = 0
    try:
        async for chunk in chunks:
            read += len(chunk)
            if read > max_bytes:
                raise ApiError(
                    Code.FILE_TOO_LARGE,
                    f"File too large: the limit is {_megabytes(max_bytes)} per upload request",
                )
            # Bytes after the closing boundary still go through the loop: the limit is on the
            # whole body, and the parser discards an epilogue by itself.
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise _bad_request(f"malformed multipart body: {exc}") from exc
        if not receiver.finished:
            raise _bad_request("malformed multipart body: it ends before the closing boundary")
        if not receiver.received:
            raise _bad_request(f"no file in field {field!r}")
    except BaseException as exc:
        # BaseException too: a cancelled request (client gone) must not leave partial files.
        receiver.discard()
        if isinstance(exc, Exception):
            # Close the stream now rather than whenever it is garbage-collected, so that nothing
            # more is read from the client. Not on cancellation: awaiting there may re-raise.
            await _aclose(chunks)
        raise
    return receiver.received


class _Upload:
    """A file part being written."""

    def __init__(self, filename: str, path: pathlib.Path, content_type: str | None) -> None:
        self.filename = filename
        self.path = path
        self.content_type = content_type
        self.size = 0
        self.hash = hashlib.sha256()
        # "x": a name collision must fail loudly, never overwrite another upload.
        self.out: io.BufferedWriter = open(path, "xb")  # noqa: SIM115 - closed by _Receiver

    def write(self, data: memoryview) -> None:
        self.out.write(data)
        self.hash.update(data)
        self.size += len(data)

    def finish(self) -> ReceivedFile:
        self.out.close()
        return ReceivedFile(
            filename=self.filename,
            path=self.path,
            size=self.size,
            sha256=self.hash.hexdigest(),
            content_type=self.content_type,
        )


class _Receiver:
    """MultipartParser callbacks. They run synchronously inside parser.write(), so disk writes
    happen there too: one write per parsed slice of a network chunk, which is cheaper than a
    thread hop per chunk and never buffers more than a chunk."""

    def __init__(self, field: bytes, dest_dir: pathlib.Path) -> None:
        self.field = field
        self.dest_dir = dest_dir
        self.received: list[ReceivedFile] = []
        # Every path created, including the one being written, so that discard() misses none.
        self.written: list[pathlib.Path] = []
        self.finished = False
        self._parts = 0
        self._headers: dict[bytes, bytes] = {}
        # Header names and values may arrive split across chunks.
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._upload: _Upload | None = None

    def on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > MAX_PARTS:
            raise _bad_request(f"too many parts in the multipart body (limit {MAX_PARTS})")
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[bytes(self._header_field).lower()] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def on_headers_finished(self) -> None:
        disposition, params = parse_options_header(self._headers.get(b"content-disposition"))
        if disposition != b"form-data":
            raise _bad_request("a multipart part has no 'Content-Disposition: form-data' header")
        name = params.get(b"name")
        if name is None:
            raise _bad_request("a multipart part has no field name")
        raw_filename = params.get(b"filename")
        # A part of the right name without a filename is a plain form field, not a file.
        if name != self.field or raw_filename is None:
            return
        if len(self.received) >= MAX_FILES:
            raise _bad_request(f"too many files in one upload (limit {MAX_FILES})")
        filename = _base_name(raw_filename)
        suffix = pathlib.PurePath(filename).suffix
        if not _SAFE_SUFFIX.fullmatch(suffix):
            suffix = ""
        path = self.dest_dir / f"{uuid.uuid4().hex}{suffix}"
        part_type = self._headers.get(b"content-type", b"").decode("latin-1").strip()
        self.written.append(path)
        self._upload = _Upload(filename, path, part_type or None)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._upload is not None:
            self._upload.write(memoryview(data)[start:end])

    def on_part_end(self) -> None:
        if self._upload is not None:
            self.received.append(self._upload.finish())
            self._upload = None

    def on_end(self) -> None:
        self.finished = True

    def discard(self) -> None:
        if self._upload is not None:
            self._upload.out.close()
            self._upload = None
        for path in self.written:
            path.unlink(missing_ok=True)
        self.received.clear()


def _boundary(content_type: str) -> bytes:
    try:
        mime, params = parse_options_header(content_type)
    except UnicodeEncodeError:  # an HTTP header is latin-1; this str did not come from one
        raise _bad_request("invalid Content-Type header") from None
    if mime != b"multipart/form-data":
        raise _bad_request("expected a multipart/form-data body")
    boundary = params.get(b"boundary")
    if not boundary:
        raise _bad_request("multipart/form-data Content-Type without a boundary")
    return boundary


def _base_name(raw: bytes) -> str:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _bad_request("the filename of a file part is not valid UTF-8") from None
    # Some clients send the whole path; both separators count since the client's OS is unknown.
    name = name.replace("\\", "/").rsplit("/", 1)[-1].translate(_CONTROL_CHARS)
    if name.strip() in ("", ".", ".."):
        raise _bad_request("a file part has an empty filename")
    return name


def _megabytes(n: int) -> str:
    if n % MB == 0:
        return f"{n // MB} MB"
    return f"{n / MB:.2f} MB ({n} bytes)"


def _bad_request(message: str) -> ApiError:
    return ApiError(Code.BAD_REQUEST, message)


async def _aclose(chunks: AsyncIterator[bytes]) -> None:
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        # The error being raised matters more than any complaint from the stream on closing.
        with contextlib.suppress(Exception):
            await aclose()
