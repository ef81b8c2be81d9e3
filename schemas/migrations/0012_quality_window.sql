-- Documents and OCR pages are validated by Great Expectations once each, when they are new or changed,
-- instead of all of them at every run: gx_checked_at is set by the validation that covered an original and
-- cleared whenever its OCR result or its fields change (a new OCR, a person's correction, a re-check).
ALTER TABLE sohoa.ocr_result ADD COLUMN gx_checked_at timestamptz;
CREATE INDEX ocr_result_gx_unchecked ON sohoa.ocr_result (sha256) WHERE gx_checked_at IS NULL;
