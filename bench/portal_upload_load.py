"""Fifty records officers uploading at once (issue 9: load): throughput, latency and that nothing is lost.

Serves the real portal in a process of its own (``sohoa portal``, as in production) on a fresh database and
its own nanio, creates N officers of one agency and N dossiers, then N clients at once each sign in, open an
upload for their dossier, stream F scans (``PUT /uploads/<id>/files``) and finish it. The reference measured
in the same run is the floor the portal cannot beat: the same files PUT straight into the S3 server by N
threads with the ``minio`` SDK. Prints files per second and MB per second of both and their ratio, the
per-file latency (p50/p95/max), the portal's peak memory, and checks that the landing bucket holds every
file exactly once with its exact bytes (exit status 1 otherwise).

Usage (a PostgreSQL server where it may create a database; starts its own nanio and portal):

    SOHOA_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        uv run --frozen python bench/portal_upload_load.py [--clients 50] [--files 4]
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import psutil
import psycopg2
from bench_services import bench_services, free_port, service_env  # noqa: E402

from sohoa.config import Settings  # noqa: E402

AGENCY = "000.00.32.H19"
PASSWORD = "bench-password-2026"


def scan(seed: int) -> bytes:
    """A 300 dpi A4-wide greyscale scan with a few lines of text (a few hundred kB, like a counter's scan)."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 40)
    image = Image.new("L", (2480, 1200), 255)
    draw = ImageDraw.Draw(image)
    for i in range(10):
        draw.text((150, 80 + 100 * i), f"ĐƠN ĐỀ NGHỊ số {seed}-{i} — Độc lập - Tự do - Hạnh phúc", font=font, fill=0)
    for x in range(0, 2480, 7):  # scanner noise, so each file compresses like a real scan
        draw.point((x, (x * 31 + seed) % 1200), fill=120)
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(300, 300))
    return out.getvalue()


def code(i: int) -> str:
    return f"{AGENCY}-260105-{i + 1:04d}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--files", type=int, default=4, help="scans per officer")
    args = parser.parse_args()
    from sohoa.services import processes

    with bench_services() as settings:
        prepare(settings, args.clients)
        portal_port = free_port()
        sohoa = str(Path(sys.executable).parent / "sohoa")
        record = processes.spawn(
            settings.home, "portal", [sohoa, "portal"], env=service_env(settings, SOHOA_PORTAL_PORT=str(portal_port))
        )
        try:
            processes.wait_until(lambda: processes.port_open("127.0.0.1", portal_port), what="portal", timeout_s=60)
            return measure(settings, args, f"http://127.0.0.1:{portal_port}", record.pid)
        finally:
            processes.stop(settings.home, "portal", grace_s=5)


def prepare(settings: Settings, clients: int) -> None:
    from sohoa.db.migrate import migrate
    from sohoa.intake.pipeline import run_all
    from sohoa.portal import users
    from sohoa.storage import s3

    migrate(settings.dsn())
    client = s3.make_client(settings)
    s3.ensure_buckets(client, settings)
    lines = [
        json.dumps(
            {
                "MaHoSo": code(i),
                "MaTTHC": "2.000815",
                "MaCoQuan": AGENCY,
                "TrangThaiHoSo": 2,
                "NgayTiepNhan": "2026-01-05T09:00:00+07:00",
                "CapNhatLuc": "2026-01-05T09:00:00+07:00",
            }
        )
        for i in range(clients)
    ]
    s3.put_bytes(client, settings.bucket_landing, "records/bench.jsonl", "\n".join(lines).encode(), "application/jsonl")
    run_all(settings)
    with psycopg2.connect(settings.dsn()) as conn:
        for i in range(clients):
            users.create_user(conn, f"can.bo.{i}", PASSWORD, "can_bo", ma_co_quan=AGENCY)


def sign_in(http: httpx.Client, user: str) -> str:
    page = http.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    response = http.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303, response.status_code
    upload_page = http.get("/upload").text
    return re.search(r'name="csrf_token" value="([^"]+)"', upload_page).group(1)  # type: ignore[union-attr]


def officer(
    base: str, i: int, files: list[bytes], latencies: list[float], errors: list[str], start: threading.Barrier
) -> None:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=120) as http:
        try:
            token = sign_in(http, f"can.bo.{i}")
            start.wait()
        except (AssertionError, AttributeError, httpx.HTTPError, threading.BrokenBarrierError) as exc:
            errors.append(f"officer {i}: sign-in failed ({type(exc).__name__})")
            start.abort()
            return
        opened = http.post("/uploads", data={"target": "dossier", "ma_ho_so": code(i), "csrf_token": token})
        if opened.status_code != 201:
            errors.append(f"officer {i}: open {opened.status_code}")
            return
        upload_id = opened.json()["id"]
        for n, data in enumerate(files):
            t0 = time.perf_counter()
            put = http.put(
                f"/uploads/{upload_id}/files",
                content=data,
                headers={"X-CSRF-Token": token, "X-File-Name": quote(f"trang-{n + 1}.png")},
            )
            latencies.append(time.perf_counter() - t0)
            if put.status_code >= 300:
                errors.append(f"officer {i} file {n}: {put.status_code}")
        done = http.post(f"/uploads/{upload_id}/finish", data={"csrf_token": token})
        if done.status_code != 200:
            errors.append(f"officer {i}: finish {done.status_code}")


def direct_s3(settings: Settings, clients: int, files: list[bytes]) -> float:
    """The floor: the same bytes PUT straight into S3 by as many threads (seconds)."""
    from sohoa.storage import s3

    client = s3.make_client(settings)

    def put(i: int) -> None:
        for n, data in enumerate(files):
            client.put_object(
                settings.bucket_derived, f"bench/{i}/{n}.png", io.BytesIO(data), len(data), content_type="image/png"
            )

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(put, range(clients)))
    return time.perf_counter() - started


def measure(settings: Settings, args: argparse.Namespace, base: str, portal_pid: int) -> int:
    from sohoa.storage import s3

    files = [scan(n) for n in range(args.files)]
    megabytes = args.clients * sum(len(f) for f in files) / 1e6
    count = args.clients * args.files
    print(
        f"{args.clients} officers x {args.files} scans ({sum(len(f) for f in files) / args.files / 1e3:.0f} kB "
        f"each): {count} files, {megabytes:.1f} MB"
    )
    reference = direct_s3(settings, args.clients, files)

    portal = psutil.Process(portal_pid)
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                rss = sum(p.memory_info().rss for p in [portal, *portal.children(recursive=True)])
            except psutil.Error:
                rss = 0
            peak[0] = max(peak[0], rss)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    latencies: list[float] = []
    errors: list[str] = []
    barrier = threading.Barrier(args.clients + 1)
    threads = [
        threading.Thread(target=officer, args=(base, i, files, latencies, errors, barrier)) for i in range(args.clients)
    ]
    for t in threads:
        t.start()
    try:
        barrier.wait(timeout=600)  # everyone signed in: the clock measures the uploads only
    except threading.BrokenBarrierError:
        for t in threads:
            t.join()
        print("FAILED: " + "; ".join(errors or ["the officers did not all sign in within 10 minutes"]))
        return 1
    started = time.perf_counter()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    stop.set()
    watcher.join()

    client = s3.make_client(settings)
    landed = {o.key: o for o in s3.list_objects(client, settings.bucket_landing, prefix="scans/")}
    expected = {hashlib.sha256(f).hexdigest() for f in files}
    wrong = [
        k
        for k in landed
        if hashlib.sha256(s3.get_bytes(client, settings.bucket_landing, k)).hexdigest() not in expected
    ]
    lat = sorted(latencies)
    print(f"\n{'':<34} {'files/s':>9} {'MB/s':>8} {'seconds':>9}")
    print(f"{'portal (sign-in excluded)':<34} {count / seconds:9.1f} {megabytes / seconds:8.1f} {seconds:9.1f}")
    print(
        f"{'straight into S3 (the floor)':<34} {count / reference:9.1f} {megabytes / reference:8.1f} {reference:9.1f}"
    )
    print(f"ratio portal / S3: {reference / seconds:.2f}")
    if lat:
        print(
            f"per-file PUT latency: p50 {statistics.median(lat) * 1000:.0f} ms, "
            f"p95 {lat[max(0, int(len(lat) * 0.95) - 1)] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms"
        )
    print(f"portal peak memory: {peak[0] / 2**20:.0f} MB (files are streamed, not buffered)")
    problems = list(errors)
    if len(landed) != count:
        problems.append(f"landing bucket holds {len(landed)} scans, expected {count}")
    if wrong:
        problems.append(f"{len(wrong)} landed scans differ from what was sent")
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print(f"every file landed exactly once with its bytes ({count} of {count}), no error")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
