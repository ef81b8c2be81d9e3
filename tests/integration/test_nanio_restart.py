"""The embedded S3 server killed in the middle of a PUT and started again shows no half-written object.

nanio stages a PUT's body in a ``.tmp.<hex>`` file beside the object's path and lists such a file as an object
if it is killed before the rename; the fault test of the S3 server (tests/chaos) found one in the raw bucket as
an "orphan" original that no rerun would ever adopt. ``spawn_nanio`` removes those leftovers before it starts.
"""

from __future__ import annotations

import http.client
import io
import time
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio

from sohoa.services import processes
from sohoa.services.processes import free_port
from sohoa.services.s3 import spawn_nanio
from sohoa.storage import s3

pytestmark = pytest.mark.integration

ACCESS, SECRET = "restart-access", "restart-secret-123"
BUCKET = "raw-restart"


def _client(port: int) -> Minio:
    return Minio(f"127.0.0.1:{port}", access_key=ACCESS, secret_key=SECRET, secure=False)


def _keys(client: Minio) -> set[str]:
    return {o.key for o in s3.list_objects(client, BUCKET)}


def test_a_put_cut_by_a_killed_server_leaves_no_object_after_restart(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    home.mkdir()
    port = free_port()
    record = spawn_nanio(home, port=port, data_dir=data, access_key=ACCESS, secret_key=SECRET)
    try:
        client = _client(port)
        client.make_bucket(BUCKET)
        client.put_object(BUCKET, "sha256/aa/bb/whole", io.BytesIO(b"x" * 10), 10)
        # a real object whose name looks like nanio's staging files: it has its metadata and must survive
        lookalike = "odd/.tmp." + "0" * 32
        client.put_object(BUCKET, lookalike, io.BytesIO(b"kept"), 4)

        # half of a PUT's body, then the server dies
        url = urllib.parse.urlsplit(client.presigned_put_object(BUCKET, "sha256/6d/cb/cut", timedelta(minutes=5)))
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.putrequest("PUT", f"{url.path}?{url.query}", skip_accept_encoding=True)
        conn.putheader("Content-Length", str(1 << 20))
        conn.endheaders()
        conn.send(b"y" * (1 << 19))
        staged = data / BUCKET / "sha256" / "6d" / "cb"
        deadline = time.monotonic() + 10
        while not any(staged.glob(".tmp.*")) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(staged.glob(".tmp.*")), "nanio did not stage the PUT where expected"
        proc = record.process()
        assert proc is not None
        proc.kill()
        proc.wait(10)
        conn.close()

        spawn_nanio(home, port=port, data_dir=data, access_key=ACCESS, secret_key=SECRET)
        assert _keys(client) == {"sha256/aa/bb/whole", lookalike}
        assert client.get_object(BUCKET, lookalike).read() == b"kept"
        assert not any(staged.glob(".tmp.*"))
    finally:
        processes.stop(home, "s3", grace_s=5)
