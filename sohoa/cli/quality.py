"""``sohoa quality ...`` and ``sohoa review ...``: data-quality validation and the review queue from a terminal.

The same functions run in the ``sohoa_quality`` DAG and behind the portal; these commands are for operators
and for runs without Airflow. Output never carries personal data (field values are not printed).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from sohoa.config import get_settings

quality_app = typer.Typer(help="Great Expectations validation and extraction.", no_args_is_help=True)
review_app = typer.Typer(help="The review queue of documents a person must look at.", no_args_is_help=True)


@quality_app.command("validate")
def validate(
    records_only: Annotated[bool, typer.Option("--records-only", help="Validate record batches only.")] = False,
    everything: Annotated[
        bool, typer.Option("--all", help="Validate every document and OCR page, not only the new or changed ones.")
    ] = False,
) -> None:
    """Run the GX suites of schemas/gx over new record batches and the extracted fields and OCR pages of new
    or changed originals (``--all``: of every original).

    Exit status 1 when a critical expectation failed (everything is stored and reported all the same)."""
    from sohoa.extract.stage import recheck_documents
    from sohoa.quality.gx_stage import QualityGateFailed, validate_documents, validate_record_batches

    settings = get_settings()
    failed: list[str] = []
    results = []
    for step in (validate_record_batches,) if records_only else (validate_record_batches, validate_documents):
        if step is validate_documents:
            recheck_documents(settings)
        try:
            results.extend(
                validate_documents(settings, everything=everything) if step is validate_documents else step(settings)
            )
        except QualityGateFailed as exc:
            failed.append(str(exc))
    for r in results:
        state = "passed" if r["success"] else "FAILED" if r["critical_failed"] else "warnings"
        typer.echo(
            f"{r['suite']:16s} {r['target']:22s} {state:8s} {', '.join(r['failed_rules']) or '-'}  "
            f"{r['data_docs_uri'] or ''}"
        )
    for message in failed:
        typer.echo(message, err=True)
    if failed:
        raise typer.Exit(1)


@quality_app.command("reextract")
def reextract() -> None:
    """Read the stored OCR text of every original again (after the extraction rules changed)."""
    from sohoa.db.connection import connect
    from sohoa.extract.stage import reextract_original
    from sohoa.storage import s3

    settings = get_settings()
    client = s3.make_client(settings)
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute("SELECT sha256 FROM sohoa.ocr_result WHERE status = 'done' ORDER BY created_at")
        shas = [r[0] for r in cur.fetchall()]
    done = 0
    for sha in shas:
        with connect(settings) as conn:
            done += reextract_original(conn, client, settings, sha) is not None
    typer.echo(f"{done} original(s) extracted again")


@review_app.command("queue")
def queue(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many documents.")] = 50,
) -> None:
    """Documents waiting for a person, oldest first, with the reasons."""
    from sohoa.db.connection import connect
    from sohoa.review.actions import review_queue

    with connect(get_settings()) as conn:
        items = review_queue(conn, limit=limit)
    if as_json:
        typer.echo(
            json.dumps(
                [
                    {
                        "document_id": i.document_id,
                        "ma_ho_so": i.ma_ho_so,
                        "loai": i.loai,
                        "reasons": list(i.reasons),
                        "flagged_at": i.flagged_at.isoformat(),
                        "suggested_ma_ho_so": i.suggested_ma_ho_so,
                    }
                    for i in items
                ],
                ensure_ascii=False,
            )
        )
        return
    for i in items:
        typer.echo(f"{i.document_id:8d}  {i.ma_ho_so or '(inbox)':28s} {', '.join(i.reasons)}")
    typer.echo(f"{len(items)} document(s) to review")
