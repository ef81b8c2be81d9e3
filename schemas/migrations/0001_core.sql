-- sohoa core schema: landing objects, record batches and versions, dossiers, catalogues, originals,
-- documents, OCR results and quality findings. The public views live in 0002_views.sql.
--
-- Conventions: every timestamp is timestamptz (stored in UTC, shown in the session's time zone);
-- personal data (chu_ho_so, so_giay_to, raw, raw_text) stays in the sohoa schema and never reaches a
-- publish.* view, which carries the keyed pseudonym instead.

CREATE SCHEMA IF NOT EXISTS sohoa;
CREATE SCHEMA IF NOT EXISTS quality;
CREATE SCHEMA IF NOT EXISTS publish;
CREATE SCHEMA IF NOT EXISTS kpi;

-- Every landing object sohoa has dealt with. A row is written in the same transaction as the data it
-- produced, so "done" is never recorded before the commit. (key, etag) identifies one upload: the same
-- key uploaded again with other bytes is a new object.
CREATE TABLE sohoa.landing_object (
    id           bigserial PRIMARY KEY,
    object_key   text        NOT NULL,
    etag         text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    kind         text        NOT NULL CHECK (kind IN ('records', 'catalogue', 'scan', 'result', 'inbox', 'unknown')),
    status       text        NOT NULL CHECK (status IN ('done', 'duplicate', 'quarantined', 'waiting')),
    sha256       text,
    detail       text,
    processed_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (object_key, etag)
);

-- One row per distinct batch content: the same bytes under another key or uploaded again load once.
-- The id orders batches by first sight, which breaks ties between equal CapNhatLuc.
CREATE TABLE sohoa.record_batch (
    id             bigserial PRIMARY KEY,
    object_key     text        NOT NULL,
    sha256         text        NOT NULL UNIQUE,
    format         text        NOT NULL CHECK (format IN ('jsonl', 'jsonl.gz', 'csv')),
    line_count     integer     NOT NULL DEFAULT 0,
    usable_count   integer     NOT NULL DEFAULT 0,
    unusable_count integer     NOT NULL DEFAULT 0,
    loaded_at      timestamptz NOT NULL DEFAULT now()
);

-- Every line of every batch, usable or not: nothing a one-stop system sends is lost.
CREATE TABLE sohoa.record_version (
    batch_id                   bigint      NOT NULL REFERENCES sohoa.record_batch (id),
    line_no                    integer     NOT NULL,
    usable                     boolean     NOT NULL,
    ma_ho_so                   text,
    ma_tthc                    text,
    ma_tthc_quoc_gia           text,
    ten_tthc                   text,
    ma_linh_vuc                text,
    ma_co_quan                 text,
    kenh_thuc_hien             smallint,
    loai_doi_tuong             smallint,
    chu_ho_so                  text,   -- personal data
    so_giay_to                 text,   -- personal data
    chu_ho_so_ma_hoa           text,   -- HMAC-SHA256 pseudonym of so_giay_to (key from configuration)
    ngay_nop                   timestamptz,
    ngay_tiep_nhan             timestamptz,
    ngay_hen_tra               timestamptz,
    ngay_ket_thuc_xu_ly        timestamptz,
    ngay_tra                   timestamptz,
    trang_thai                 smallint,
    duoc_thanh_toan_truc_tuyen smallint,
    hinh_thuc_thanh_toan       text,
    danh_gia_hai_long          smallint,
    cap_nhat_luc               timestamptz,
    ho_so_bo_sung              jsonb       NOT NULL DEFAULT '[]',
    le_phi                     jsonb       NOT NULL DEFAULT '[]',
    tai_lieu_nop               jsonb       NOT NULL DEFAULT '[]',
    giay_to_ket_qua            jsonb       NOT NULL DEFAULT '[]',
    raw_text                   text        NOT NULL,  -- personal data: the line as received
    PRIMARY KEY (batch_id, line_no)
);
CREATE INDEX record_version_ma_ho_so ON sohoa.record_version (ma_ho_so);

-- The winning state per dossier: the usable line with the greatest (cap_nhat_luc, batch_id, line_no).
CREATE TABLE sohoa.dossier (
    ma_ho_so     text PRIMARY KEY,
    batch_id     bigint      NOT NULL,
    line_no      integer     NOT NULL,
    cap_nhat_luc timestamptz NOT NULL,
    changed_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (batch_id, line_no) REFERENCES sohoa.record_version (batch_id, line_no)
);

-- Catalogues: a new upload replaces the previous version; each upload is recorded.
CREATE TABLE sohoa.catalogue_upload (
    id         bigserial PRIMARY KEY,
    kind       text        NOT NULL CHECK (kind IN ('agencies', 'procedures')),
    object_key text        NOT NULL,
    sha256     text        NOT NULL,
    row_count  integer     NOT NULL,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sohoa.agency (
    ma_co_quan     text PRIMARY KEY,
    ten_co_quan    text,
    cap            text,
    ma_co_quan_cha text
);

CREATE TABLE sohoa.procedure (
    ma_tthc             text PRIMARY KEY,  -- national code, first 8 characters
    ten_tthc            text,
    ma_linh_vuc         text,
    ten_linh_vuc        text,
    thoi_han_giai_quyet integer,
    co_phi_le_phi       boolean NOT NULL DEFAULT false,
    co_ket_qua_giay     boolean NOT NULL DEFAULT false,
    toan_trinh          boolean NOT NULL DEFAULT false
);

-- One row per distinct original (content-addressed, immutable in the raw bucket).
CREATE TABLE sohoa.original (
    sha256     text PRIMARY KEY,
    raw_uri    text        NOT NULL,
    size_bytes bigint      NOT NULL,
    mime_type  text        NOT NULL,
    page_count integer,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- A document of a dossier: identical bytes for the same dossier are one document (the first to arrive);
-- identical bytes in two dossiers are two documents linked to one original.
CREATE TABLE sohoa.document (
    id          bigserial PRIMARY KEY,
    ma_ho_so    text,
    loai        text        NOT NULL CHECK (loai IN ('thanh_phan', 'ket_qua')),
    ten_giay_to text        NOT NULL,
    landing_key text        NOT NULL,
    sha256      text        NOT NULL REFERENCES sohoa.original (sha256),
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ma_ho_so, sha256)
);
CREATE INDEX document_sha256 ON sohoa.document (sha256);

-- OCR of an original (derived artefacts are rebuildable from it).
CREATE TABLE sohoa.ocr_result (
    sha256          text PRIMARY KEY REFERENCES sohoa.original (sha256),
    status          text        NOT NULL CHECK (status IN ('done', 'failed')),
    text_uri        text,
    searchable_uri  text,
    pages_uri       text,
    page_count      integer,
    min_dpi         integer,
    mean_confidence numeric(5, 2),
    extracted       jsonb       NOT NULL DEFAULT '{}',
    engine          text,
    seconds         numeric(10, 3),
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sohoa.ocr_page (
    sha256     text    NOT NULL REFERENCES sohoa.ocr_result (sha256) ON DELETE CASCADE,
    page_no    integer NOT NULL,
    source     text    NOT NULL,
    rotation   integer NOT NULL DEFAULT 0,
    skew       numeric(6, 2),
    dpi        integer,
    confidence numeric(5, 2),
    blank      boolean NOT NULL DEFAULT false,
    seconds    numeric(10, 3),
    PRIMARY KEY (sha256, page_no)
);

-- Everything sohoa found wrong. The fingerprint makes re-detection idempotent.
CREATE TABLE sohoa.issue (
    id          bigserial PRIMARY KEY,
    source      text        NOT NULL CHECK (source IN ('record', 'document', 'catalogue')),
    ma_ho_so    text,
    object_key  text,
    line_no     integer,
    rule        text        NOT NULL,
    severity    text        NOT NULL CHECK (severity IN ('error', 'warning', 'info')),
    detail      text        NOT NULL,
    detected_at timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    fingerprint text        NOT NULL UNIQUE
);
CREATE INDEX issue_ma_ho_so ON sohoa.issue (ma_ho_so);
CREATE INDEX issue_rule ON sohoa.issue (rule);
