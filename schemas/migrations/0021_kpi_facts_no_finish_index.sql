-- The facts (kpi.ho_so) lose their index on d_het (issue 7, full rebuild time).
--
-- It served one question of the incremental build: which series have a dossier active on the new days (open
-- at the end of the day before, or received since). The daily table answers the first part (its stock of open
-- dossiers on that day, through its index on ngay) and the index on d_nhan the second, while building the
-- index cost 11 s of one core in every full build of 10,000,000 dossiers (sohoa/kpi/build.py).
-- depends: 0020_kpi_series_ids

DROP INDEX kpi.ho_so_d_het;
