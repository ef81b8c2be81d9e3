-- A dossier's link to its record line checked once per statement instead of row by row (issue 4, "Records at
-- volume").
--
-- The foreign key sohoa.dossier (batch_id, line_no) -> sohoa.record_version was checked for every upserted
-- dossier with a row lock (SELECT ... FOR KEY SHARE), which writes the lock into the winning line's heap tuple:
-- every page the COPY had just written is dirtied and WAL-logged again. Loading the 219,760-line batch of
-- bench/records_load_phases.py, the upsert took 10.4-11.4 s with the key and 6.0 s without it (2026-12-07).
--
-- The same guarantee, set-based:
-- - after every statement that inserts or updates dossiers, each new (batch_id, line_no) must be a line of
--   sohoa.record_version: one anti-join over the statement's transition table, by index probes (the plan is
--   pinned: a hash join would read the whole of sohoa.record_version);
-- - sohoa.record_version is append-only: no line is deleted and a line's key never changes (nothing that
--   arrives is ever lost), so the line a dossier points at cannot go away later, which is what the key's lock
--   guarded against. TRUNCATE, an owner's operation, is outside both checks, as it was outside the key's with
--   CASCADE (the test suite resets the tables with it).
-- depends: 0016_kpi_inputs_flags

ALTER TABLE sohoa.dossier DROP CONSTRAINT dossier_batch_id_line_no_fkey;

CREATE FUNCTION sohoa.dossier_line_kept() RETURNS trigger LANGUAGE plpgsql
    SET enable_hashjoin = off SET enable_mergejoin = off SET jit = off AS $$
DECLARE
    first_missing record;
BEGIN
    SELECT n.batch_id, n.line_no, count(*) OVER () AS missing INTO first_missing
      FROM moi n
     WHERE NOT EXISTS (SELECT 1 FROM sohoa.record_version r WHERE r.batch_id = n.batch_id AND r.line_no = n.line_no)
     ORDER BY n.batch_id, n.line_no
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'sohoa.dossier: % row(s) point at no line of sohoa.record_version (first: batch %, line %)',
            first_missing.missing, first_missing.batch_id, first_missing.line_no
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;

-- Named to fire before kpi_dau_vao_* (same timing, alphabetical order): a bad statement fails before the KPI work.
CREATE TRIGGER dossier_line_kept_insert AFTER INSERT ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION sohoa.dossier_line_kept();
CREATE TRIGGER dossier_line_kept_update AFTER UPDATE ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION sohoa.dossier_line_kept();

CREATE FUNCTION sohoa.record_version_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'sohoa.record_version is append-only: % of batch %, line % refused', lower(TG_OP),
        OLD.batch_id, OLD.line_no
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE TRIGGER record_version_append_only BEFORE DELETE OR UPDATE OF batch_id, line_no ON sohoa.record_version
    FOR EACH ROW EXECUTE FUNCTION sohoa.record_version_append_only();
