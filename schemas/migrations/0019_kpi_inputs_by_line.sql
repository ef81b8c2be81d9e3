-- The KPI input trigger reads each new dossier row's record line by its key (issue 4, "Records at volume").
--
-- The loader now upserts a batch part by part, each part right after its COPY (sohoa/intake/records_loader.py),
-- so the trigger kpi.dau_vao_moi fires once per part of ~10,000 dossiers. Its join of those rows to
-- sohoa.record_version was a hash join over a sequential scan of the whole table: once per batch it cost one
-- scan of the batch's lines, but once per part it scans every line loaded so far, again and again (the 219,760-
-- line benchmark batch: 10.8 s of upserts instead of 4.7 s, measured 2026-12-07). With hash and merge joins off in
-- the trigger, each new row's line is one probe of the record_version key, whatever the table's size and its
-- statistics (a table loaded in the same transaction has none), and the loader's KPI flags the same by an index
-- of their own (the table lives inside the loader's transaction only; the index costs a few ms per part).
-- depends: 0018_kpi_period_counts

CREATE INDEX dau_vao_co_dong ON kpi.dau_vao_co (batch_id, line_no);

ALTER FUNCTION kpi.dau_vao_moi() SET enable_hashjoin = off;
ALTER FUNCTION kpi.dau_vao_moi() SET enable_mergejoin = off;
