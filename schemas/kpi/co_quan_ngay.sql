-- Per (day, agency) sums of the daily rows {rows} (aliased d, with the series' ma_co_quan joined from
-- kpi.chuoi), '*' excluded (tat_ca_ngay.sql adds it from these rows). A full build passes each lane's
-- partition of the daily table (one sequential scan each, in its lane), then the lanes' sums (rows of this very
-- shape, added up per agency and day); an incremental build the (agency, day range)s of the temporary table cq, one
-- range scan of the daily key (chuoi, ngay) per series of the agency, so that it reads only the days it
-- recomputes (sohoa/kpi/build.py).
-- Run as INSERT INTO {target} <this>.
SELECT d.ngay, d.ma_co_quan,
       coalesce(sum(d.tiep_nhan), 0)::integer,
       coalesce(sum(d.tiep_nhan_truc_tiep), 0)::integer,
       coalesce(sum(d.tiep_nhan_truc_tuyen), 0)::integer,
       coalesce(sum(d.tiep_nhan_buu_chinh), 0)::integer,
       coalesce(sum(d.giai_quyet), 0)::integer,
       coalesce(sum(d.giai_quyet_truoc_han), 0)::integer,
       coalesce(sum(d.giai_quyet_dung_han), 0)::integer,
       coalesce(sum(d.giai_quyet_qua_han), 0)::integer,
       coalesce(sum(d.rut_ho_so), 0)::integer,
       coalesce(sum(d.dang_giai_quyet), 0)::integer,
       coalesce(sum(d.dang_giai_quyet_trong_han), 0)::integer,
       coalesce(sum(d.dang_giai_quyet_qua_han), 0)::integer,
       coalesce(sum(d.da_so_hoa), 0)::integer,
       coalesce(sum(d.giai_quyet_can_ket_qua_giay), 0)::integer,
       coalesce(sum(d.co_ket_qua_dien_tu), 0)::integer,
       coalesce(sum(d.co_phi), 0)::integer,
       coalesce(sum(d.thanh_toan_truc_tuyen), 0)::integer,
       coalesce(sum(d.thanh_toan_khong_tien_mat), 0)::integer,
       coalesce(sum(d.danh_gia), 0)::integer,
       coalesce(sum(d.khong_hai_long), 0)::integer,
       coalesce(sum(d.tn_toan_trinh), 0)::integer,
       coalesce(sum(d.tn_truc_tuyen_dat), 0)::integer,
       coalesce(sum(d.tn_tai_su_dung), 0)::integer,
       coalesce(sum(d.tn_kho_dmqg), 0)::integer,
       coalesce(sum(d.gq_qua_han_hl3), 0)::integer,
       coalesce(sum(d.rut_hl3), 0)::integer,
       coalesce(sum(d.dang_gq_hl3), 0)::integer,
       coalesce(sum(d.dang_gq_qua_han_hl3), 0)::integer
FROM {rows}
GROUP BY d.ngay, d.ma_co_quan
