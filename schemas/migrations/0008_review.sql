-- The portal's review queue (issue 8, items 4 and 5).
-- depends: 0003_extraction 0007_intake
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
