-- The KPI facts (kpi.ho_so) lose their index on ma_tthc: only a catalogue change reads them by procedure,
-- and the build now asks first which procedures changed and scans the facts only on the nights some did
-- (sohoa/kpi/build.py), while the index cost 11 s of every full build of 10M dossiers. Full builds create
-- the table without it; this drops the one the first migration created.
DROP INDEX IF EXISTS kpi.ho_so_ma_tthc;
