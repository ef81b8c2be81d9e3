-- The portal's review queue (issue 8, items 4 and 5).
-- depends: 0003_extraction 0006_portal 0007_intake
--
-- 1. A person may ask for a document's OCR to run again ("request_ocr"): the review trail records it like the
--    other decisions (who and when; the detail never carries personal data).
-- 2. Indexes for the review page and the queue: a document's findings and its review trail are looked up by the
--    document's landing key and id; without them each review page read the whole of sohoa.issue.

ALTER TABLE sohoa.review_action DROP CONSTRAINT IF EXISTS review_action_action_check;
ALTER TABLE sohoa.review_action ADD CONSTRAINT review_action_action_check
    CHECK (action IN ('correct_field', 'resolve_issue', 'assign_dossier', 'mark_reviewed', 'request_ocr'));

CREATE INDEX IF NOT EXISTS issue_object_key ON sohoa.issue (object_key);
CREATE INDEX IF NOT EXISTS review_action_document ON sohoa.review_action (document_id, acted_at);
-- The queue walks the documents waiting for a person in the order they were flagged.
CREATE INDEX IF NOT EXISTS document_review_waiting ON sohoa.document_review (flagged_at, document_id)
    WHERE state = 'needs_review';

-- 3. The agency a waiting document belongs to, kept on its review row so an officer's queue (and the header's
--    count) walks an index of their agency instead of joining every waiting document to its dossier.
--    The rule (the portal's, see sohoa/portal/review.py): the agency of the dossier's current record; before
--    the record arrives, the agency code that starts the dossier code; for an unassigned inbox scan, the agency
--    of the officer who uploaded it through the portal (NULL when it came another way).
--    sohoa.review.state.refresh_review_state keeps it up to date (the quality DAG's sync_review_states runs it
--    over every flagged document); the portal re-checks the live rule on every row it shows, so a stale value
--    can only hide a row until the next refresh, never show one to another agency.
CREATE OR REPLACE FUNCTION sohoa.document_agency(doc_id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN d.ma_ho_so IS NULL THEN
                    (SELECT u.ma_co_quan FROM portal.upload_file f JOIN portal.upload u ON u.id = f.upload_id
                      WHERE f.object_key = d.landing_key)
                ELSE COALESCE((SELECT v.ma_co_quan FROM sohoa.dossier x
                                 JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
                                WHERE x.ma_ho_so = d.ma_ho_so),
                              split_part(d.ma_ho_so, '-', 1)) END
      FROM sohoa.document d WHERE d.id = doc_id
$$;

ALTER TABLE sohoa.document_review ADD COLUMN IF NOT EXISTS ma_co_quan text;
UPDATE sohoa.document_review SET ma_co_quan = sohoa.document_agency(document_id);
CREATE INDEX IF NOT EXISTS document_review_waiting_agency
    ON sohoa.document_review (ma_co_quan, flagged_at, document_id) WHERE state = 'needs_review';
