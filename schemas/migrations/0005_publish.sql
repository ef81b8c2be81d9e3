-- Publishing the "1 có" dataset: privacy masking in the public views, the snapshot register, and the
-- read API's tokens and access log (contracts/outputs.md, issue 6).
-- depends: 0002_views

-- Identity numbers (CCCD 12 digits, legacy ID 9, tax codes 10/13) must never leave sohoa. File names
-- and extracted fields are free text that may carry one, so every run of 9 or more digits is masked.
-- Dossier codes (groups of at most 6 digits), dates (8) and amounts below a billion are untouched.
CREATE FUNCTION publish.mask_identity_numbers(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT regexp_replace(t, '[0-9]{9,}', '***', 'g') $$;

-- The same, through a JSON document: strings are masked inside; a number that long becomes "***".
CREATE FUNCTION publish.mask_identity_numbers(j jsonb) RETURNS jsonb
    LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
    AS $$
BEGIN
    IF j IS NULL OR j::text !~ '[0-9]{9,}' THEN
        RETURN j;
    END IF;
    CASE jsonb_typeof(j)
        WHEN 'object' THEN
            RETURN (SELECT jsonb_object_agg(publish.mask_identity_numbers(k), publish.mask_identity_numbers(v))
                      FROM jsonb_each(j) AS e(k, v));
        WHEN 'array' THEN
            RETURN (SELECT jsonb_agg(publish.mask_identity_numbers(v) ORDER BY n)
                      FROM jsonb_array_elements(j) WITH ORDINALITY AS a(v, n));
        WHEN 'string' THEN
            RETURN to_jsonb(publish.mask_identity_numbers(j #>> '{}'));
        WHEN 'number' THEN
            RETURN to_jsonb('***'::text);
        ELSE
            RETURN j;
    END CASE;
END
$$;

-- Same columns, names and types as 0002_views (CREATE OR REPLACE keeps dependants valid); only the two
-- free-text columns are masked. The digitised flags of publish.ho_so already follow domain/kpi.md.
CREATE OR REPLACE VIEW publish.giay_to AS
SELECT d.ma_ho_so,
       d.loai,
       publish.mask_identity_numbers(d.ten_giay_to) AS ten_giay_to,
       o.raw_uri          AS object_uri,
       o.sha256,
       o.mime_type,
       COALESCE(r.page_count, o.page_count) AS so_trang,
       r.min_dpi          AS dpi_toi_thieu,
       r.searchable_uri   AS searchable_pdf_uri,
       r.text_uri,
       r.mean_confidence  AS do_tin_cay_ocr,
       publish.mask_identity_numbers(r.extracted) AS truong_trich_xuat,
       d.received_at      AS so_hoa_luc
FROM sohoa.document d
JOIN sohoa.original o ON o.sha256 = d.sha256
LEFT JOIN sohoa.ocr_result r ON r.sha256 = d.sha256 AND r.status = 'done';

-- Every snapshot written to the published bucket: what the API lists and the retention rule reads.
CREATE TABLE sohoa.publish_snapshot (
    snapshot_id    text PRIMARY KEY,            -- YYYYMMDDTHHMMSSZ, the object prefix 1co/snapshot=<id>/
    created_at     timestamptz NOT NULL,
    schema_version text        NOT NULL,
    manifest       jsonb       NOT NULL,
    total_bytes    bigint      NOT NULL,
    seconds        numeric(10, 3) NOT NULL,
    deleted_at     timestamptz                  -- set by the retention rule
);

-- Read-API tokens: only the SHA-256 of a token is stored (tokens are 256-bit random strings, so a fast
-- hash is enough: there is nothing to brute-force), shown once at creation.
CREATE TABLE sohoa.api_token (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL UNIQUE,
    token_sha256 text        NOT NULL UNIQUE,
    agencies     text[],                         -- agency codes (MaCoQuan) it may read; NULL = all
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);

-- Every request to the read API, allowed or not. Holds codes and hashes, never personal data.
CREATE TABLE sohoa.api_access_log (
    id        bigserial PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    token_id  bigint REFERENCES sohoa.api_token (id),
    method    text        NOT NULL,
    path      text        NOT NULL,
    query     text,
    status    integer     NOT NULL,
    ma_ho_so  text,
    sha256    text,
    client    text
);
CREATE INDEX api_access_log_at ON sohoa.api_access_log (at);
CREATE INDEX api_access_log_token ON sohoa.api_access_log (token_id, at);
