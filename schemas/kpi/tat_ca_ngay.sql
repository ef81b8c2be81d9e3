-- The all-agencies rows ('*') of the per-(day, agency) table {cqn}, for every day of the '*' range of the
-- temporary table cq (zeros included, so that every period has its '*' row), summed from the agencies' rows
-- of {cqn} (which must be up to date for those days). Run as INSERT INTO {cqn} <this>.
SELECT g.ngay, '*',
       coalesce(sum(c.tiep_nhan), 0)::integer,
       coalesce(sum(c.tiep_nhan_truc_tiep), 0)::integer,
       coalesce(sum(c.tiep_nhan_truc_tuyen), 0)::integer,
       coalesce(sum(c.tiep_nhan_buu_chinh), 0)::integer,
       coalesce(sum(c.giai_quyet), 0)::integer,
       coalesce(sum(c.giai_quyet_truoc_han), 0)::integer,
       coalesce(sum(c.giai_quyet_dung_han), 0)::integer,
       coalesce(sum(c.giai_quyet_qua_han), 0)::integer,
       coalesce(sum(c.rut_ho_so), 0)::integer,
       coalesce(sum(c.dang_giai_quyet), 0)::integer,
       coalesce(sum(c.dang_giai_quyet_trong_han), 0)::integer,
       coalesce(sum(c.dang_giai_quyet_qua_han), 0)::integer,
       coalesce(sum(c.da_so_hoa), 0)::integer,
       coalesce(sum(c.giai_quyet_can_ket_qua_giay), 0)::integer,
       coalesce(sum(c.co_ket_qua_dien_tu), 0)::integer,
       coalesce(sum(c.co_phi), 0)::integer,
       coalesce(sum(c.thanh_toan_truc_tuyen), 0)::integer,
       coalesce(sum(c.thanh_toan_khong_tien_mat), 0)::integer,
       coalesce(sum(c.danh_gia), 0)::integer,
       coalesce(sum(c.khong_hai_long), 0)::integer,
       coalesce(sum(c.tn_toan_trinh), 0)::integer,
       coalesce(sum(c.tn_truc_tuyen_dat), 0)::integer,
       coalesce(sum(c.tn_tai_su_dung), 0)::integer,
       coalesce(sum(c.tn_kho_dmqg), 0)::integer,
       coalesce(sum(c.gq_qua_han_hl3), 0)::integer,
       coalesce(sum(c.rut_hl3), 0)::integer,
       coalesce(sum(c.dang_gq_hl3), 0)::integer,
       coalesce(sum(c.dang_gq_qua_han_hl3), 0)::integer
FROM (SELECT day::date AS ngay
      FROM cq CROSS JOIN LATERAL generate_series(cq.tu::timestamp, (cq.den - 1)::timestamp, interval '1 day') day
      WHERE cq.ma_co_quan = '*') g
LEFT JOIN {cqn} c ON c.ngay = g.ngay AND c.ma_co_quan <> '*'
GROUP BY g.ngay
