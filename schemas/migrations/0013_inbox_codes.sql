-- The dossier codes an original's OCR text names, with their counts ({"<MaHoSo>": n}), kept when it is read:
-- an inbox scan whose code names no dossier on record yet is linked when that record arrives, without
-- reading its text again. Dossier codes are not personal data.
ALTER TABLE sohoa.original ADD COLUMN ocr_codes jsonb;
CREATE INDEX document_unlinked ON sohoa.document (id) WHERE ma_ho_so IS NULL;
