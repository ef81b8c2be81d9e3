-- Extraction, review and data-quality validation (issue 5).
-- depends: 0002_views
--
-- Personal data (the values of CCCD, names, birth dates read from scans, and people's corrections) stays
-- in these sohoa.* tables; sohoa.ocr_result.extracted, which feeds publish.giay_to.truong_trich_xuat,
-- carries the non-personal values and keyed pseudonyms only (see sohoa/extract/store.py).

-- Every field read from the OCR text of an original, with where it was read and how sure the reader is.
-- Rebuilt whole for an original when it is extracted again (idempotent).
CREATE TABLE sohoa.extracted_field (
    sha256      text         NOT NULL REFERENCES sohoa.ocr_result (sha256) ON DELETE CASCADE,
    name        text         NOT NULL,
    ordinal     integer      NOT NULL,       -- 0 for the best candidate, then the others in reading order
    value       text         NOT NULL,       -- personal data for personal fields
    page_no     integer      NOT NULL,
    line_no     integer      NOT NULL,
    char_start  integer      NOT NULL,       -- offsets in the page's text
    char_end    integer      NOT NULL,
    confidence  numeric(4, 3) NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    personal    boolean      NOT NULL,
    extractor   text         NOT NULL,       -- version of the rules that read it
    PRIMARY KEY (sha256, name, ordinal)
);

-- A person's correction of a field of an original: the newest one per (sha256, name) wins over the machine.
-- Kept forever (who and when) as the audit trail; value NULL means "the field is not on the document".
CREATE TABLE sohoa.field_correction (
    id           bigserial PRIMARY KEY,
    sha256       text        NOT NULL REFERENCES sohoa.original (sha256),
    document_id  bigint      REFERENCES sohoa.document (id),
    name         text        NOT NULL,
    value        text,                        -- personal data for personal fields
    corrected_by text        NOT NULL,
    corrected_at timestamptz NOT NULL DEFAULT now(),
    note         text
);
CREATE INDEX field_correction_sha_name ON sohoa.field_correction (sha256, name, corrected_at DESC, id DESC);

-- The review state of a document, for the portal's queue. One row per document that needed a look:
-- needs_review (open reasons), reviewed (a person marked it so), cleared (every reason was closed, by a
-- correction, a resolved finding or an assignment, without an explicit "reviewed").
CREATE TABLE sohoa.document_review (
    document_id  bigint      PRIMARY KEY REFERENCES sohoa.document (id) ON DELETE CASCADE,
    state        text        NOT NULL CHECK (state IN ('needs_review', 'reviewed', 'cleared')),
    reasons      text[]      NOT NULL DEFAULT '{}',
    flagged_at   timestamptz NOT NULL DEFAULT now(),
    reviewed_by  text,
    reviewed_at  timestamptz
);
CREATE INDEX document_review_state ON sohoa.document_review (state, flagged_at);

-- What people did in the review (audit trail): corrections, resolved findings, assignments.
CREATE TABLE sohoa.review_action (
    id          bigserial PRIMARY KEY,
    document_id bigint      REFERENCES sohoa.document (id) ON DELETE SET NULL,
    issue_id    bigint      REFERENCES sohoa.issue (id),
    action      text        NOT NULL CHECK (action IN ('correct_field', 'resolve_issue', 'assign_dossier',
                                                       'mark_reviewed')),
    actor       text        NOT NULL,
    acted_at    timestamptz NOT NULL DEFAULT now(),
    detail      text        NOT NULL DEFAULT ''   -- without personal data
);

-- One Great Expectations validation run of one suite over one target (a record batch, a set of documents).
CREATE TABLE sohoa.gx_validation (
    id             bigserial PRIMARY KEY,
    suite          text        NOT NULL,
    target         text        NOT NULL,       -- e.g. "record_batch:12", "ocr:2026-11-21T20:00:00Z"
    record_batch_id bigint     REFERENCES sohoa.record_batch (id),
    success        boolean     NOT NULL,
    critical_failed boolean    NOT NULL DEFAULT false,
    evaluated      integer     NOT NULL,
    failed         integer     NOT NULL,
    rows_checked   integer     NOT NULL,
    data_docs_uri  text,
    statistics     jsonb       NOT NULL DEFAULT '{}',
    result         jsonb       NOT NULL DEFAULT '{}',   -- the GX result without unexpected values
    run_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gx_validation_suite_target ON sohoa.gx_validation (suite, target);
