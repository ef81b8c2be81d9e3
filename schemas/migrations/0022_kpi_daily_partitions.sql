-- The daily table kpi.ngay_chi_tiet is partitioned by range of its series number (issue 7, full rebuild time).
--
-- A full build computes the daily table in lanes, one per core, each over a range of the series numbers: each
-- lane now writes its range into a table of its own with CREATE TABLE AS (faster than INSERT), builds that
-- table's key and day index on its own core and attaches it as a partition (sohoa/kpi/daily_parts.py). The
-- key (chuoi, ngay) and the index on ngay are the parent's, adopted from the partitions; readers and the
-- incremental build use the parent as they used the table.
--
-- Here the existing table becomes the one partition of every series number, rows, key and index kept; the
-- next full build replaces it with one partition per lane. The public view kpi.dossier_daily is replaced in
-- place (same columns), so the privileges granted on it stay.
-- depends: 0021_kpi_facts_no_finish_index

ALTER TABLE kpi.ngay_chi_tiet RENAME TO ngay_chi_tiet_0;
ALTER INDEX kpi.ngay_chi_tiet_pkey RENAME TO ngay_chi_tiet_0_pkey;
ALTER INDEX kpi.ngay_chi_tiet_ngay RENAME TO ngay_chi_tiet_0_ngay;

CREATE TABLE kpi.ngay_chi_tiet (LIKE kpi.ngay_chi_tiet_0 INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
PARTITION BY RANGE (chuoi);
-- (chuoi is NOT NULL: attaching the partition of every value scans nothing)
ALTER TABLE kpi.ngay_chi_tiet ATTACH PARTITION kpi.ngay_chi_tiet_0 FOR VALUES FROM (MINVALUE) TO (MAXVALUE);
ALTER TABLE kpi.ngay_chi_tiet ADD CONSTRAINT ngay_chi_tiet_pkey PRIMARY KEY (chuoi, ngay);
CREATE INDEX ngay_chi_tiet_ngay ON kpi.ngay_chi_tiet (ngay);

CREATE OR REPLACE VIEW kpi.dossier_daily AS
SELECT d.ngay, c.ma_co_quan, c.ma_tthc, d.tiep_nhan, d.tiep_nhan_truc_tiep, d.tiep_nhan_truc_tuyen,
       d.tiep_nhan_buu_chinh, d.giai_quyet, d.giai_quyet_truoc_han, d.giai_quyet_dung_han, d.giai_quyet_qua_han,
       d.rut_ho_so, d.dang_giai_quyet, d.dang_giai_quyet_trong_han, d.dang_giai_quyet_qua_han, d.da_so_hoa,
       d.giai_quyet_can_ket_qua_giay, d.co_ket_qua_dien_tu, d.co_phi, d.thanh_toan_truc_tuyen,
       d.thanh_toan_khong_tien_mat, d.danh_gia, d.khong_hai_long,
       '766-2026.1'::text AS phien_ban
FROM kpi.ngay_chi_tiet d
JOIN kpi.chuoi c ON c.id = d.chuoi;
