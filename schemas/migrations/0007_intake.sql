-- Intake completion: how a document found its dossier, fixity checks of originals, reconciliation runs.
-- depends: 0002_views

-- How a document is linked to its dossier: its landing folder, a barcode on its first page, the dossier code
-- printed in its OCR text, or a person in the portal. NULL ma_ho_so (an unassigned inbox scan) has no link.
ALTER TABLE sohoa.document
    ADD COLUMN linked_by text CHECK (linked_by IN ('folder', 'barcode', 'ocr_text', 'person')),
    ADD COLUMN linked_at timestamptz;
UPDATE sohoa.document SET linked_by = 'folder', linked_at = received_at WHERE ma_ho_so IS NOT NULL;
CREATE INDEX document_unassigned ON sohoa.document (id) WHERE ma_ho_so IS NULL;

-- When the SHA-256 of a stored original was last re-computed from the raw bucket, and what it gave; and the
-- dossier codes carried by barcodes on its first page (a property of the bytes, read once at intake).
ALTER TABLE sohoa.original
    ADD COLUMN fixity_checked_at timestamptz,
    ADD COLUMN fixity_ok boolean,
    ADD COLUMN barcode_codes text[] NOT NULL DEFAULT '{}';

-- One row per reconciliation of the landing and raw buckets with the database.
CREATE TABLE sohoa.reconciliation_run (
    id               bigserial PRIMARY KEY,
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    landing_objects  integer,
    raw_objects      integer,
    originals        integer,
    repaired         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    problems         jsonb       NOT NULL DEFAULT '{}'::jsonb,
    fixity_checked   integer     NOT NULL DEFAULT 0,
    fixity_failed    integer     NOT NULL DEFAULT 0
);
