"""``sohoa demo`` (what ``make demo`` runs): services up, a generated sample batch, a run, a summary.

The batch is laid out as the landing contract says, in ``<home>/demo/<stamp>/``: the two catalogues, one
JSON Lines export of a few hundred dossiers over the last four months (with planted defects), and
scans of components and results of some of them in every accepted format, plus bad files that must
be quarantined (an empty file, a text file named .pdf, a key outside the contract) and a duplicate
upload, and receipts scanned into the inbox (found by QR code or printed code, or left for a person). The
ground truth of each generated scan stays on disk, so the summary can report OCR accuracy.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from rich.console import Console

from sohoa.config import Settings
from sohoa.sample.catalogues import agencies_csv, procedures_csv
from sohoa.sample.documents import DocFields, render_blank_page, render_document, write_scan
from sohoa.sample.records import GeneratedBatch, generate_records

FORMATS = ("pdf", "jpeg", "tiff", "png")
SUFFIX = {"pdf": "pdf", "jpeg": "jpg", "tiff": "tif", "png": "png"}


def build_batch(root: Path, *, dossiers: int, scanned_dossiers: int, seed: int, today: dt.date) -> dict[str, str]:
    """Write a landing batch under ``root``; return {landing key: ground-truth text} of the scans."""
    (root / "catalogue").mkdir(parents=True, exist_ok=True)
    (root / "records").mkdir(exist_ok=True)
    (root / "catalogue" / "agencies.csv").write_bytes(agencies_csv())
    (root / "catalogue" / "procedures.csv").write_bytes(procedures_csv())
    batch = generate_records(
        dossiers, seed=seed, start=today - dt.timedelta(days=120), end=today - dt.timedelta(days=1)
    )
    (root / "records" / f"demo-{seed}.jsonl").write_bytes(batch.jsonl_bytes())
    truths = _scans(root, batch, scanned_dossiers, seed)
    _inbox(root, batch, scanned_dossiers, seed)
    first = next(iter(truths))
    # The same bytes uploaded again under another name: one document, a document.duplicate finding.
    stem, _, suffix = first.rpartition(".")
    again = root / f"{stem}-lai-lan-2.{suffix}"
    again.write_bytes((root / first).read_bytes())
    code = first.split("/")[1]
    (root / "scans" / code / "trong.pdf").write_bytes(b"")
    (root / "scans" / code / "ghi-chu.pdf").write_text("không phải PDF\n", encoding="utf-8")
    (root / "ghi-chu").mkdir(exist_ok=True)
    (root / "ghi-chu" / "doc-truoc.txt").write_text("tệp ngoài hợp đồng nhập liệu\n", encoding="utf-8")
    (root / "truth.json").write_text(json.dumps(truths, ensure_ascii=False), encoding="utf-8")
    return truths


def _scans(root: Path, batch: GeneratedBatch, count: int, seed: int) -> dict[str, str]:
    chosen = [d for d in batch.dossiers if d.expect_usable and not d.defects][:count]
    truths: dict[str, str] = {}
    for i, dossier in enumerate(chosen):
        record = dossier.record
        fields = dataclasses.replace(DocFields.fake(seed + i), ma_ho_so=dossier.ma_ho_so)
        fmt = FORMATS[i % len(FORMATS)]
        dpi = 150 if i == 1 else 200  # one low-resolution scan: document.low_dpi
        images, truth = render_document("don_de_nghi", fields, dpi=dpi, seed=seed + i)
        if fmt == "tiff" and i == 2:
            images.append(render_blank_page(dpi=dpi, seed=seed + i))  # a blank page left in the feeder
            truth += "\f"
        key = f"scans/{dossier.ma_ho_so}/don-de-nghi.{SUFFIX[fmt]}"
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        write_scan(images, path, fmt, dpi=dpi)
        truths[key] = truth
        if record.get("TrangThaiHoSo") in (9, 10):
            images, truth = render_document("giay_phep", fields, dpi=200, seed=seed + 1000 + i)
            key = f"results/{dossier.ma_ho_so}/ket-qua.pdf"
            path = root / key
            path.parent.mkdir(parents=True, exist_ok=True)
            write_scan(images, path, "pdf", dpi=200)
            truths[key] = truth
    return truths


def _inbox(root: Path, batch: GeneratedBatch, skip: int, seed: int) -> None:
    """Three receipts scanned into the inbox: one with a QR code, one whose dossier code is only printed,
    and one that names no dossier (a person assigns it in the portal)."""
    from sohoa.sample.barcodes import with_qr

    spare = [d for d in batch.dossiers if d.expect_usable and not d.defects][skip : skip + 2]
    (root / "inbox").mkdir(exist_ok=True)
    for i, dossier in enumerate(spare):
        fields = dataclasses.replace(DocFields.fake(seed + 500 + i), ma_ho_so=dossier.ma_ho_so)
        page = render_document("bien_nhan", fields, dpi=200, seed=seed + 500 + i)[0][0]
        if i == 0:
            page = with_qr(page, dossier.ma_ho_so, dpi=200)
        write_scan([page], root / "inbox" / f"bien-nhan-{i + 1}.jpg", "jpeg", dpi=200)
    write_scan([render_blank_page(dpi=200, seed=seed + 599)], root / "inbox" / "khong-ro.png", "png", dpi=200)


def ocr_accuracy(settings: Settings, truths: dict[str, str]) -> tuple[float, int] | None:
    """Character error rate of the stored OCR text against the generated ground truth, over all scans."""
    from ocr.metrics import cer
    from sohoa.db.connection import connect
    from sohoa.storage import s3

    client = s3.make_client(settings)
    errors = 0.0
    chars = 0
    with connect(settings) as conn, conn.cursor() as cur:
        for key, truth in truths.items():
            cur.execute(
                """SELECT r.text_uri FROM sohoa.document d JOIN sohoa.ocr_result r USING (sha256)
                            WHERE d.landing_key = %s AND r.status = 'done'""",
                (key,),
            )
            row = cur.fetchone()
            if row is None:
                continue
            text = s3.get_bytes(client, settings.bucket_derived, row[0].split("/", 3)[3]).decode()
            errors += cer(text, truth) * len(truth)
            chars += len(truth)
    if not chars:
        return None
    return errors / chars, len(truths)


def run_demo(console: Console, settings: Settings, *, dossiers: int, scanned_dossiers: int) -> int:
    """The whole demo; returns the exit status."""
    from sohoa.intake.upload import plan_upload, upload
    from sohoa.orchestration.airflow_client import AirflowError, run_chain
    from sohoa.reporting.summary import print_summary
    from sohoa.services import manager
    from sohoa.services.processes import ServiceError

    console.print("[bold]1/4[/bold] starting the local services (PostgreSQL, S3, Airflow, the portal)")
    try:
        with console.status("starting services") as status:
            manager.up(settings, with_portal=True, report=lambda m: status.update(m))
    except ServiceError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    root = settings.home / "demo" / stamp
    seed = int(dt.datetime.now(dt.UTC).timestamp()) % 100_000
    console.print(f"[bold]2/4[/bold] generating a sample batch in {root}")
    with console.status("drawing scans"):
        truths = build_batch(
            root, dossiers=dossiers, scanned_dossiers=scanned_dossiers, seed=seed, today=dt.date.today()
        )
    plan = [(p, k) for p, k in plan_upload([root]) if k != "truth.json"]
    console.print(f"[bold]3/4[/bold] putting {len(plan)} files in the landing bucket")
    for path, key in plan:
        upload(settings, path, key)
    console.print(
        "[bold]4/4[/bold] running the ingestion through Airflow, then what it sets off (quality checks, "
        "KPI build, publishing)"
    )
    try:
        outcomes = run_chain(settings, timeout_s=1800, report=lambda m: console.print(f"  {m}", highlight=False))
    except AirflowError as exc:
        console.print(f"[red]error:[/red] {exc}")
        return 1
    print_summary(console, settings)
    accuracy = ocr_accuracy(settings, truths)
    if accuracy is not None:
        rate, n = accuracy
        console.print(
            f"  OCR accuracy: character error rate {rate:.1%} over {n} generated scans (against their ground truth)"
        )
    failed = [o for o in outcomes if not o.succeeded]
    for outcome in failed:
        console.print(
            f"[red]{outcome.dag_id} run ended {outcome.state}[/red]; failed tasks: {', '.join(outcome.failed)}"
        )
    if failed:
        return 1
    console.print(
        "[green]demo done.[/green] `sohoa status <MaHoSo>` shows one dossier; `make down` stops the services."
    )
    return 0
