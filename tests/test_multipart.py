"""Streaming multipart reception: content on disk, the byte limit, and refusal of bad bodies."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import pathlib
import tempfile
from collections.abc import AsyncIterator, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nemo_fake.errors import ApiError, Code
from nemo_fake.http import multipart
from nemo_fake.http.multipart import ReceivedFile, receive_files

LIMIT = 10 * 1024 * 1024
CHUNK_SIZES = [1, 2, 3, 7, 64, 1000, 65536]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def build(
    files: Sequence[tuple[str, Any]], data: dict[str, str] | None = None
) -> tuple[bytes, str]:
    """A real multipart body as httpx sends it, and its Content-Type."""
    request = httpx.Request("POST", "http://x/", files=list(files), data=data)
    return request.read(), request.headers["content-type"]


class Feed:
    """A request body as an async generator that records how far it was read."""

    def __init__(self, body: bytes, sizes: Sequence[int] = (65536,)) -> None:
        self.chunks: list[bytes] = []
        cuts = itertools.cycle(sizes)
        i = 0
        while i < len(body):
            n = next(cuts)
            self.chunks.append(body[i : i + n])
            i += n
        self.yielded = 0
        self.closed = False

    @property
    def drained(self) -> bool:
        return self.yielded == len(self.chunks)

    async def stream(self) -> AsyncIterator[bytes]:
        try:
            for chunk in self.chunks:
                self.yielded += 1
                yield chunk
        finally:
            self.closed = True


async def receive(
    body: bytes,
    content_type: str,
    dest: pathlib.Path,
    *,
    sizes: Sequence[int] = (65536,),
    max_bytes: int = LIMIT,
) -> list[ReceivedFile]:
    return await receive_files(
        Feed(body, sizes).stream(), content_type, field="files", dest_dir=dest, max_bytes=max_bytes
    )


def assert_stored(got: ReceivedFile, dest: pathlib.Path, content: bytes) -> None:
    assert got.path.parent == dest
    assert got.path.read_bytes() == content
    assert got.size == len(content)
    assert got.sha256 == hashlib.sha256(content).hexdigest()


# --- files that arrive -------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("size", CHUNK_SIZES)
async def test_one_file_any_chunking(tmp_path: pathlib.Path, size: int) -> None:
    content = bytes(range(256)) * 40 + b"\r\n--not-the-boundary\r\n"
    body, ctype = build([("files", ("clip.mp4", content, "video/mp4"))])
    [got] = await receive(body, ctype, tmp_path, sizes=[size])
    assert got.filename == "clip.mp4"
    assert got.content_type == "video/mp4"
    assert got.path.suffix == ".mp4"
    assert_stored(got, tmp_path, content)
    assert list(tmp_path.iterdir()) == [got.path]


@pytest.mark.anyio
async def test_several_files_other_fields_ignored(tmp_path: pathlib.Path) -> None:
    contents = [b"first", b"", b"third" * 5000]
    body, ctype = build(
        [
            ("files", ("a.mp4", contents[0], "video/mp4")),
            ("thumbnail", ("t.png", b"PNG", "image/png")),
            ("files", ("b.wav", contents[1], "audio/wav")),
            ("files", ("c.jpg", contents[2], "image/jpeg")),
        ],
        data={"note": "hello", "files": "a plain field named files is not a file"},
    )
    got = await receive(body, ctype, tmp_path, sizes=[1, 5, 300])
    assert [g.filename for g in got] == ["a.mp4", "b.wav", "c.jpg"]
    for g, content in zip(got, contents, strict=True):
        assert_stored(g, tmp_path, content)
    assert sorted(tmp_path.iterdir()) == sorted(g.path for g in got)
    assert len({g.path for g in got}) == 3


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("dir/sub/clip.mp4", "clip.mp4"),
        ("C:\\Users\\me\\clip.MOV", "clip.MOV"),
        ("../../etc/passwd", "passwd"),
        ("naïve clip.mkv", "naïve clip.mkv"),
        ("a\x00b.mp4", "ab.mp4"),
    ],
)
async def test_filename_reduced_to_base_name(tmp_path: pathlib.Path, sent: str, kept: str) -> None:
    body, ctype = build([("files", ("PLACEHOLDER", b"x"))])
    body = body.replace(b"PLACEHOLDER", sent.encode("utf-8"))
    [got] = await receive(body, ctype, tmp_path)
    assert got.filename == kept
    assert got.path.parent == tmp_path


@pytest.mark.anyio
async def test_odd_suffix_not_kept_on_disk(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("clip." + "x" * 300, b"x"))])
    [got] = await receive(body, ctype, tmp_path)
    assert got.filename == "clip." + "x" * 300
    assert got.path.suffix == ""


@pytest.mark.anyio
async def test_missing_part_content_type_is_none(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.bin", b"x"))])
    body = body.replace(b"Content-Type: application/octet-stream\r\n", b"")
    [got] = await receive(body, ctype, tmp_path)
    assert got.content_type is None


@pytest.mark.anyio
async def test_epilogue_ignored_and_dest_dir_created(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.bin", b"x"))])
    dest = tmp_path / "new" / "dir"
    [got] = await receive(body + b"epilogue\r\n", ctype, dest)
    assert_stored(got, dest, b"x")


# --- the limit ---------------------------------------------------------------------------


@pytest.mark.anyio
async def test_too_large_stops_reading_and_cleans_up(tmp_path: pathlib.Path) -> None:
    first = b"a" * 5000
    body, ctype = build([("files", ("a.mp4", first)), ("files", ("b.mp4", b"b" * 100_000))])
    feed = Feed(body, [1000])
    with pytest.raises(ApiError) as info:
        await receive_files(
            feed.stream(), ctype, field="files", dest_dir=tmp_path, max_bytes=20_000
        )
    assert info.value.code is Code.FILE_TOO_LARGE
    assert info.value.http_status == 413
    assert "MB" in info.value.message
    # The first file was complete and the second under way when the limit was hit.
    assert list(tmp_path.iterdir()) == []
    assert feed.yielded == 21
    assert not feed.drained
    assert feed.closed


@pytest.mark.anyio
async def test_limit_is_inclusive_and_counts_ignored_parts(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"x"))], data={"padding": "p" * 10_000})
    [got] = await receive(body, ctype, tmp_path, max_bytes=len(body))
    assert got.size == 1
    for path in tmp_path.iterdir():
        path.unlink()
    with pytest.raises(ApiError) as info:
        await receive(body, ctype, tmp_path, max_bytes=len(body) - 1, sizes=[1])
    assert info.value.code is Code.FILE_TOO_LARGE
    assert list(tmp_path.iterdir()) == []


def test_limit_message_in_megabytes() -> None:
    assert multipart._megabytes(500 * 1024 * 1024) == "500 MB"
    assert "20000 bytes" in multipart._megabytes(20_000)


# --- bad requests ------------------------------------------------------------------------


async def expect_bad_request(body: bytes, ctype: str, dest: pathlib.Path) -> str:
    with pytest.raises(ApiError) as info:
        await receive(body, ctype, dest, sizes=[7])
    assert info.value.code is Code.BAD_REQUEST
    assert list(dest.iterdir()) == []
    return info.value.message


@pytest.mark.anyio
@pytest.mark.parametrize(
    "ctype",
    [
        "application/json",
        "multipart/mixed; boundary=abc",
        "multipart/form-data",
        'multipart/form-data; boundary=""',
        "multipart/form-data; boundary=" + "b" * 300,
        "multipart/form-data; boundary=\u20ac",
        "",
    ],
)
async def test_bad_content_type(tmp_path: pathlib.Path, ctype: str) -> None:
    body, _ = build([("files", ("a.mp4", b"x"))])
    await expect_bad_request(body, ctype, tmp_path)


@pytest.mark.anyio
async def test_garbage_body(tmp_path: pathlib.Path) -> None:
    _, ctype = build([("files", ("a.mp4", b"x"))])
    message = await expect_bad_request(b"this is not multipart at all", ctype, tmp_path)
    assert "malformed" in message


@pytest.mark.anyio
async def test_empty_body(tmp_path: pathlib.Path) -> None:
    _, ctype = build([("files", ("a.mp4", b"x"))])
    await expect_bad_request(b"", ctype, tmp_path)


@pytest.mark.anyio
@pytest.mark.parametrize("cut", [10, 200, -30, -3])
async def test_truncated_body_removes_partial_files(tmp_path: pathlib.Path, cut: int) -> None:
    body, ctype = build([("files", ("a.mp4", b"a" * 100)), ("files", ("b.mp4", b"b" * 100))])
    message = await expect_bad_request(body[:cut], ctype, tmp_path)
    assert "malformed" in message


@pytest.mark.anyio
async def test_error_in_second_part_removes_first_file(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"a" * 100)), ("files", ("PLACEHOLDER", b"b"))])
    await expect_bad_request(body.replace(b"PLACEHOLDER", b"\xff.mp4"), ctype, tmp_path)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("files", "data"),
    [
        ([("note", (None, b"hi"))], None),
        ([("files", (None, b"not a file"))], {"note": "hi"}),
        ([("other", ("a.mp4", b"x"))], None),
    ],
)
async def test_no_file_in_field(
    tmp_path: pathlib.Path, files: list[tuple[str, Any]], data: dict[str, str] | None
) -> None:
    body, ctype = build(files, data)
    message = await expect_bad_request(body, ctype, tmp_path)
    assert message == "no file in field 'files'"


@pytest.mark.anyio
@pytest.mark.parametrize("raw", [b"", b"dir/", b"..", b"\x00", b"\xff\xfe.mp4", b"a\xc3.mp4"])
async def test_bad_filename(tmp_path: pathlib.Path, raw: bytes) -> None:
    body, ctype = build([("files", ("PLACEHOLDER", b"x"))])
    message = await expect_bad_request(body.replace(b"PLACEHOLDER", raw), ctype, tmp_path)
    assert "filename" in message


@pytest.mark.anyio
async def test_part_without_content_disposition(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"x"))])
    body = body.replace(b"Content-Disposition", b"X-Something")
    await expect_bad_request(body, ctype, tmp_path)


@pytest.mark.anyio
async def test_part_without_name(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"x"))])
    await expect_bad_request(body.replace(b'name="files"; ', b""), ctype, tmp_path)


@pytest.mark.anyio
async def test_oversized_header(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"x"))])
    body = body.replace(b"Content-Type:", b"X-Pad: " + b"p" * 20_000 + b"\r\nContent-Type:")
    await expect_bad_request(body, ctype, tmp_path)


@pytest.mark.anyio
async def test_too_many_headers(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"x"))])
    body = body.replace(b"Content-Type:", b"X-Pad: p\r\n" * 20 + b"Content-Type:")
    await expect_bad_request(body, ctype, tmp_path)


@pytest.mark.anyio
async def test_too_many_files(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multipart, "MAX_FILES", 2)
    body, ctype = build([("files", (f"{i}.mp4", b"x")) for i in range(3)])
    message = await expect_bad_request(body, ctype, tmp_path)
    assert "too many files" in message


@pytest.mark.anyio
async def test_too_many_parts(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(multipart, "MAX_PARTS", 5)
    body, ctype = build([("files", ("a.mp4", b"x"))], data={f"f{i}": "v" for i in range(10)})
    message = await expect_bad_request(body, ctype, tmp_path)
    assert "too many parts" in message


# --- other failures ----------------------------------------------------------------------


class Disconnected(Exception):
    pass


@pytest.mark.anyio
async def test_stream_failure_propagates_and_cleans_up(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"a" * 1000)), ("files", ("b.mp4", b"b" * 1000))])

    async def stream() -> AsyncIterator[bytes]:
        yield body[:1500]
        raise Disconnected

    with pytest.raises(Disconnected):
        await receive_files(stream(), ctype, field="files", dest_dir=tmp_path, max_bytes=LIMIT)
    assert list(tmp_path.iterdir()) == []


def test_cancellation_cleans_up(tmp_path: pathlib.Path) -> None:
    body, ctype = build([("files", ("a.mp4", b"a" * 1000))])

    async def main() -> None:
        started = asyncio.Event()

        async def stream() -> AsyncIterator[bytes]:
            yield body[:500]
            started.set()
            await asyncio.Event().wait()  # the client stalls
            yield body[500:]

        task = asyncio.create_task(
            receive_files(stream(), ctype, field="files", dest_dir=tmp_path, max_bytes=LIMIT)
        )
        await started.wait()
        assert len(list(tmp_path.iterdir())) == 1  # the part is being written
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert list(tmp_path.iterdir()) == []


# --- properties --------------------------------------------------------------------------


@settings(deadline=None)
@given(
    contents=st.lists(st.binary(max_size=3000), min_size=1, max_size=3),
    sizes=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=8),
)
def test_stored_bytes_equal_input(contents: list[bytes], sizes: list[int]) -> None:
    body, ctype = build([("files", (f"f{i}.bin", c)) for i, c in enumerate(contents)])
    with tempfile.TemporaryDirectory() as tmp:
        dest = pathlib.Path(tmp)
        got = asyncio.run(receive(body, ctype, dest, sizes=sizes))
        assert len(got) == len(contents)
        for g, content in zip(got, contents, strict=True):
            assert_stored(g, dest, content)


BOUNDARY = "b0und"
FRAGMENTS = [
    b"--" + BOUNDARY.encode(),
    b"\r\n--" + BOUNDARY.encode(),
    b"--",
    b"\r\n",
    b"\r",
    b"\n",
    b" ",
    b":",
    b"Content-Disposition: form-data; ",
    b'name="files"; ',
    b'filename="a.mp4"',
    b'filename=""',
    b"Content-Type: video/mp4",
    b"\x00\xff",
]


VALID_BODY = (
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="note"\r\n\r\nhi\r\n'
    f"--{BOUNDARY}\r\n"
    'Content-Disposition: form-data; name="files"; filename="a.mp4"\r\n'
    "Content-Type: video/mp4\r\n\r\n"
    f"data\r\n--{BOUNDARY}--\r\n"
).encode()

soups = st.lists(st.sampled_from(FRAGMENTS) | st.binary(max_size=20), max_size=40).map(b"".join)
# Small edits of a valid body reach the parser states that random soup rarely gets to.
edits = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=len(VALID_BODY)),
        st.integers(min_value=0, max_value=4),
        st.binary(max_size=4),
    ),
    max_size=3,
)


def apply_edits(body: bytes, changes: list[tuple[int, int, bytes]]) -> bytes:
    for at, cut, insert in changes:
        body = body[:at] + insert + body[at + cut :]
    return body


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=soups | edits.map(lambda changes: apply_edits(VALID_BODY, changes)),
    sizes=st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=4),
    max_bytes=st.integers(min_value=1, max_value=400),
)
def test_garbage_only_raises_api_errors(body: bytes, sizes: list[int], max_bytes: int) -> None:
    ctype = f"multipart/form-data; boundary={BOUNDARY}"
    with tempfile.TemporaryDirectory() as tmp:
        dest = pathlib.Path(tmp)
        try:
            got = asyncio.run(receive(body, ctype, dest, sizes=sizes, max_bytes=max_bytes))
        except ApiError as exc:
            assert exc.code in (Code.BAD_REQUEST, Code.FILE_TOO_LARGE)
            assert list(dest.iterdir()) == []
        else:
            # Edits can leave a valid upload; then what is on disk must match what is reported.
            assert got
            assert sorted(dest.iterdir()) == sorted(g.path for g in got)
            for g in got:
                assert_stored(g, dest, g.path.read_bytes())
