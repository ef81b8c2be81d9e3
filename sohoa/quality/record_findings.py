"""Closing record findings once a later state of the dossier supersedes the line they were made on.

Open record findings describe the dossier as it is now. After a batch loads, for every dossier it
mentions, a finding made on a line other than the current state (``sohoa.dossier``) is closed
(``resolved_at``) when that line is superseded:

- a usable line is superseded when it sorts before the current state (``CapNhatLuc``, batch, line), i.e.
  when a later state won; if that later state has the same problem, its own finding (on its own line) stays
  open, so the count of open findings is the count of problems in current states;
- an unusable line (no valid ``CapNhatLuc`` to order it by) is superseded when it arrived before the
  current state's line (earlier batch, or earlier line of the same batch).

Findings of lines that are not superseded stay open: the current state's own findings, an older state
that arrived late is closed at once, but a broken line that arrived after the current state stays open
for the operators to see. Findings without a dossier code (invalid JSON) never close this way.

A finding is tied to its line through its landing key and line number (``sohoa.record_batch.object_key``);
when one key was uploaded twice with different bytes, both uploads' lines match and the finding closes
only if every matching line is superseded.
"""

from __future__ import annotations

from sohoa.db.connection import Connection


def close_superseded_findings(conn: Connection, batch_id: int) -> int:
    """Close the open record findings that the current states supersede, for the dossiers of one batch.

    Returns:
        How many findings were closed.
    """
    with conn.cursor() as cur:
        cur.execute(
            """
            WITH touched AS (
                SELECT DISTINCT ma_ho_so FROM sohoa.record_version WHERE batch_id = %s AND ma_ho_so IS NOT NULL
            ), current AS (
                SELECT d.ma_ho_so, d.batch_id, d.line_no, d.cap_nhat_luc
                  FROM sohoa.dossier d JOIN touched t ON t.ma_ho_so = d.ma_ho_so
            )
            UPDATE sohoa.issue i SET resolved_at = now()
              FROM current c
             WHERE i.source = 'record' AND i.resolved_at IS NULL AND i.ma_ho_so = c.ma_ho_so
               AND i.line_no IS NOT NULL
               AND EXISTS (SELECT 1 FROM sohoa.record_version v JOIN sohoa.record_batch b ON b.id = v.batch_id
                            WHERE b.object_key = i.object_key AND v.line_no = i.line_no
                              AND v.ma_ho_so = i.ma_ho_so)
               AND NOT EXISTS (
                   SELECT 1 FROM sohoa.record_version v JOIN sohoa.record_batch b ON b.id = v.batch_id
                    WHERE b.object_key = i.object_key AND v.line_no = i.line_no AND v.ma_ho_so = i.ma_ho_so
                      AND NOT (
                          CASE WHEN v.usable
                               THEN (v.cap_nhat_luc, v.batch_id, v.line_no) < (c.cap_nhat_luc, c.batch_id, c.line_no)
                               ELSE (v.batch_id, v.line_no) < (c.batch_id, c.line_no)
                          END))
            """,
            (batch_id,),
        )
        return int(cur.rowcount)
