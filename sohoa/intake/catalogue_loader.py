"""Load a catalogue upload (agencies or procedures); a new upload replaces the previous version.

Rows that cannot be read are reported in ``quality.issues`` (source ``catalogue``) with their line
number and the rest of the file loads.
"""

from __future__ import annotations

import hashlib
from dataclasses import astuple
from typing import Literal

import psycopg2.extras
from minio import Minio

from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.intake import landing
from sohoa.quality.issues import Issue, record_issues
from sohoa.records.catalogue import read_agencies_csv, read_procedures_csv
from sohoa.storage.s3 import LandingObject, get_bytes

CatalogueKind = Literal["agencies", "procedures"]


def load_catalogue_object(conn: Connection, client: Minio, settings: Settings, obj: LandingObject) -> int:
    """Replace one catalogue with the uploaded file; return the number of rows loaded. The caller commits."""
    kind: CatalogueKind = "agencies" if obj.key.endswith("agencies.csv") else "procedures"
    data = get_bytes(client, settings.bucket_landing, obj.key)
    sha = hashlib.sha256(data).hexdigest()
    with conn.cursor() as cur:
        if kind == "agencies":
            agencies, problems = read_agencies_csv(data)
            cur.execute("DELETE FROM sohoa.agency")
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO sohoa.agency (ma_co_quan, ten_co_quan, cap, ma_co_quan_cha) VALUES %s "
                "ON CONFLICT (ma_co_quan) DO NOTHING",
                [astuple(a) for a in agencies],
            )
            count = len(agencies)
        else:
            procedures, problems = read_procedures_csv(data)
            cur.execute("DELETE FROM sohoa.procedure")
            psycopg2.extras.execute_values(
                cur,
                "INSERT INTO sohoa.procedure (ma_tthc, ten_tthc, ma_linh_vuc, ten_linh_vuc, "
                "thoi_han_giai_quyet, co_phi_le_phi, co_ket_qua_giay, toan_trinh) VALUES %s "
                "ON CONFLICT (ma_tthc) DO NOTHING",
                [astuple(p) for p in procedures],
            )
            count = len(procedures)
        cur.execute(
            "INSERT INTO sohoa.catalogue_upload (kind, object_key, sha256, row_count) VALUES (%s, %s, %s, %s)",
            (kind, obj.key, sha, count),
        )
    record_issues(
        conn,
        [
            Issue("catalogue", p.rule, p.severity, p.detail, object_key=obj.key, line_no=p.line_no, scope=sha)
            for p in problems
        ],
    )
    landing.mark(conn, obj, "catalogue", "done", sha256=sha, detail=f"{count} rows")
    return count
