"""The check that the KPI inputs kept by the loader's trigger are the rows of their definition, the view
``kpi.dau_vao_tinh`` (migrations 0014 and 0016): used after loading test feeds."""

from __future__ import annotations

import psycopg2


def assert_kept_inputs_match_view(dsn: str) -> int:
    """Assert that ``kpi.dau_vao`` holds exactly the rows of ``kpi.dau_vao_tinh`` and that no loader flags
    are left behind; return the number of rows compared."""
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            # As text: equal values of another form (an interval of '1 day' and one of '24:00:00') differ.
            cur.execute("SELECT d::text FROM kpi.dau_vao d EXCEPT ALL SELECT t::text FROM kpi.dau_vao_tinh t")
            kept_only = cur.fetchall()
            cur.execute("SELECT t::text FROM kpi.dau_vao_tinh t EXCEPT ALL SELECT d::text FROM kpi.dau_vao d")
            view_only = cur.fetchall()
            cur.execute("SELECT count(*) FROM kpi.dau_vao_co")
            (flags_left,) = cur.fetchone() or (None,)
            cur.execute("SELECT count(*) FROM kpi.dau_vao")
            (rows,) = cur.fetchone() or (0,)
    finally:
        conn.close()
    # Dossier codes and KPI inputs only (no personal data), so a failure can show the rows.
    assert kept_only == [], f"kept, not in the view: {kept_only[:5]}"
    assert view_only == [], f"in the view, not kept: {view_only[:5]}"
    assert flags_left == 0
    return int(rows)
