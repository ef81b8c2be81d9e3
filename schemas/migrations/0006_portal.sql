-- The records officers' web portal (sohoa/portal): users, sessions, audit log, uploads.
-- depends: 0002_views
--
-- Passwords are stored as argon2id hashes only. Session cookies are random tokens; the table keeps their
-- SHA-256, so a copy of the database does not give anyone a live session. The audit log says who did what
-- and when, by user id and by codes (dossier code, document id, upload id): never names, ID numbers,
-- file names or text. Original file names of uploads (which may carry a name) stay in portal.upload_file,
-- never in an object key.

CREATE SCHEMA IF NOT EXISTS portal;

CREATE TABLE portal.user_account (
    id                  bigserial PRIMARY KEY,
    username            text        NOT NULL,
    display_name        text        NOT NULL DEFAULT '',
    role                text        NOT NULL CHECK (role IN ('can_bo', 'kiem_tra', 'quan_tri')),
    ma_co_quan          text,       -- the officer's agency; required for can_bo
    password_hash       text        NOT NULL,
    active              boolean     NOT NULL DEFAULT true,
    failed_logins       integer     NOT NULL DEFAULT 0,
    locked_until        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at       timestamptz,
    CHECK (role <> 'can_bo' OR ma_co_quan IS NOT NULL)
);
CREATE UNIQUE INDEX user_account_username ON portal.user_account (lower(username));

CREATE TABLE portal.session (
    token_sha256 text PRIMARY KEY,
    user_id      bigint      NOT NULL REFERENCES portal.user_account (id) ON DELETE CASCADE,
    csrf_token   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX session_by_user ON portal.session (user_id);

CREATE TABLE portal.audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    user_id bigint REFERENCES portal.user_account (id),
    action  text        NOT NULL,
    target  text,
    outcome text        NOT NULL DEFAULT 'ok'
);
CREATE INDEX audit_log_at ON portal.audit_log (at);
CREATE INDEX audit_log_user ON portal.audit_log (user_id, at);

-- One upload session (one dossier or the inbox) and its files, so the officer can follow each file's fate.
CREATE TABLE portal.upload (
    id             bigserial PRIMARY KEY,
    public_id      text        NOT NULL UNIQUE,  -- random, part of the object keys
    user_id        bigint      NOT NULL REFERENCES portal.user_account (id),
    ma_co_quan     text,
    target         text        NOT NULL CHECK (target IN ('dossier', 'inbox')),
    ma_ho_so       text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    trigger_status text,       -- triggered, deferred (Airflow unreachable: the scheduled run picks it up)
    CHECK (target <> 'dossier' OR ma_ho_so IS NOT NULL)
);
CREATE INDEX upload_user ON portal.upload (user_id, created_at);

CREATE TABLE portal.upload_file (
    id            bigserial PRIMARY KEY,
    upload_id     bigint      NOT NULL REFERENCES portal.upload (id) ON DELETE CASCADE,
    object_key    text        NOT NULL UNIQUE,
    original_name text        NOT NULL,  -- may be personal data: shown to authorised users only
    size_bytes    bigint,
    status        text        NOT NULL CHECK (status IN ('uploading', 'stored', 'rejected')),
    error         text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX upload_file_upload ON portal.upload_file (upload_id, id);

-- Indexes for the portal's dossier search over 100,000+ dossiers.
-- Newest receipt first, as the search lists them (DESC NULLS LAST: a backward scan would put nulls first).
CREATE INDEX IF NOT EXISTS record_version_portal_agency
    ON sohoa.record_version (ma_co_quan, ngay_tiep_nhan DESC NULLS LAST);
CREATE INDEX IF NOT EXISTS record_version_portal_received ON sohoa.record_version (ngay_tiep_nhan DESC NULLS LAST);
CREATE INDEX IF NOT EXISTS document_landing_key ON sohoa.document (landing_key);
CREATE INDEX IF NOT EXISTS landing_object_key ON sohoa.landing_object (object_key);
-- Code search by beginning (agency, date) or end (date and number) of a dossier code.
CREATE INDEX IF NOT EXISTS dossier_code_prefix ON sohoa.dossier (ma_ho_so text_pattern_ops);
CREATE INDEX IF NOT EXISTS dossier_code_suffix ON sohoa.dossier (reverse(ma_ho_so) text_pattern_ops);
-- The search walks record versions in receipt order and keeps the winning ones: probe sohoa.dossier by version.
CREATE INDEX IF NOT EXISTS dossier_portal_version ON sohoa.dossier (batch_id, line_no);
