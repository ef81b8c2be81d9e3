"""Stream an upload's bytes into S3 without holding the file in memory.

The browser sends each file as the raw body of one request; the ASGI server hands the body over in
chunks. ``stream_to_object`` feeds those chunks through a small bounded queue to the ``minio`` SDK's
multipart upload running in a worker thread, so memory stays at a few multipart parts (5 MiB each) per
file whatever its size. Going over the size limit aborts the multipart upload: nothing half-written
becomes visible in the landing bucket (S3 publishes an object only when its upload completes).
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import tempfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO, cast

from minio import Minio

PART_SIZE = 5 * 1024 * 1024  # S3's smallest multipart part: the memory one upload holds
_END = b""
# The minio writers run in threads of their own. They used to share asyncio's default executor (cpu + 4
# threads) with the puts that feed them: from the seventh concurrent upload on, writers held every thread
# while waiting for chunks that could only be put by a thread, and the uploads hung (bench/
# portal_upload_load.py, fifty officers). Now the event loop feeds the queues without any thread, and an
# upload beyond MAX_WRITERS only waits for a writer to finish.
MAX_WRITERS = 32
_WRITERS = ThreadPoolExecutor(max_workers=MAX_WRITERS, thread_name_prefix="sohoa-s3-writer")
_POLL_S = 0.005


class TooLargeUpload(Exception):
    """The body went over the limit; the message names the limit in MB."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"vượt quá giới hạn {limit // (1024 * 1024)} MB (over the {limit // (1024 * 1024)} MB limit)")
        self.limit = limit


class _Aborted(Exception):
    """The producer gave up (size limit, client gone): the reader raises so minio aborts the upload."""


class QueueReader:
    """A file-like ``read(n)`` over chunks put in a bounded queue by another thread or the event loop."""

    def __init__(self, max_chunks: int = 8) -> None:
        self.chunks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=max_chunks)
        self._buffer = bytearray()
        self._done = False

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            item = self.chunks.get()
            if isinstance(item, BaseException):
                raise _Aborted(str(item)) from item
            if item == _END:
                self._done = True
                break
            self._buffer.extend(item)
        if size < 0:
            size = len(self._buffer)
        with memoryview(self._buffer) as view:
            out = bytes(view[:size])  # one copy, not two
        del self._buffer[:size]
        return out


async def stream_to_object(
    client: Minio,
    bucket: str,
    key: str,
    chunks: AsyncIterator[bytes],
    *,
    max_bytes: int,
    content_type: str = "application/octet-stream",
    first: bytes = b"",
) -> int:
    """Upload the chunks (after ``first``) as object ``key``; return its size. Raises TooLargeUpload."""
    reader = QueueReader()
    loop = asyncio.get_running_loop()
    writer = loop.run_in_executor(
        _WRITERS,
        lambda: client.put_object(
            bucket,
            key,
            cast(BinaryIO, reader),
            -1,
            content_type=content_type,
            part_size=PART_SIZE,
            num_parallel_uploads=1,
        ),
    )

    async def offer(item: bytes | BaseException) -> None:
        # A bounded put from the event loop, no thread needed; it notices when the writer has stopped (S3
        # unreachable), so it never waits forever.
        while True:
            if writer.done():
                writer.result()  # raises the writer's error
                return
            try:
                reader.chunks.put_nowait(item)
                return
            except queue.Full:
                await asyncio.sleep(_POLL_S)

    total = 0
    try:
        async for chunk in _prepend(first, chunks):
            if not chunk:
                continue
            total += len(chunk)
            if total > max_bytes:
                raise TooLargeUpload(max_bytes)
            await offer(chunk)
    except BaseException as exc:
        if not writer.done():
            await offer(exc)
        with contextlib.suppress(_Aborted, Exception):
            await writer
        raise
    await offer(_END)
    await writer
    return total


async def spool_to_file(chunks: AsyncIterator[bytes], directory: Path, *, max_bytes: int, first: bytes = b"") -> Path:
    """Write the chunks to a temporary file on disk (a ZIP needs random access); raises TooLargeUpload."""
    handle = tempfile.NamedTemporaryFile(dir=directory, suffix=".zip", delete=False)  # noqa: SIM115
    path = Path(handle.name)
    total = 0
    with handle:
        async for chunk in _prepend(first, chunks):
            total += len(chunk)
            if total > max_bytes:
                raise TooLargeUpload(max_bytes)
            handle.write(chunk)
    return path


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    if first:
        yield first
    async for chunk in rest:
        yield chunk


async def peek(chunks: AsyncIterator[bytes], at_least: int = 8) -> tuple[bytes, AsyncIterator[bytes]]:
    """The first bytes of a stream (to recognise a ZIP by its bytes) and the rest of it."""
    head = b""
    iterator = chunks.__aiter__()
    while len(head) < at_least:
        try:
            head += await iterator.__anext__()
        except StopAsyncIteration:
            break
    return head, iterator
