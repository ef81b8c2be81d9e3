-- The daily table (kpi.ngay_chi_tiet, published as the view kpi.dossier_daily) for the segments of the
-- table kpi.doan (ma_co_quan, ma_tthc, tu, den): every day tu <= ngay < den of each (agency, procedure)
-- series, recomputed from all the dossier facts of that series. A full build passes every series over
-- [first receipt day, B); an incremental build passes only the series and days the changes touched, so both
-- run exactly this SQL and give the same rows.
--
-- Each dossier yields at most five events: received (N), finished (K), opens (M), becomes overdue (Q),
-- closes (D). They are counted per series and day; the stocks (open, within deadline, overdue at the end of
-- the day) are the running sums of the open/overdue/close events, carried over the days up to the next event
-- of the series. No dossier is ever expanded to one row per day.
-- Run as CREATE TABLE ... AS <this> (full build) or INSERT INTO {target} <this> (incremental).
WITH f AS (
    SELECT h.*, s.den,
           h.d_nhan >= s.tu                                            AS nhan_trong,
           h.loai_ket_thuc IS NOT NULL AND h.d_ket_thuc >= s.tu AND h.d_ket_thuc < s.den AS ket_thuc_trong,
           greatest(h.d_nhan, s.tu)                                    AS bd,  -- first open day in the segment
           least(coalesce(h.d_ket_thuc, 'infinity'::date), s.den)      AS kt,  -- first day no longer open
           greatest(coalesce(h.d_qua_han, 'infinity'::date), h.d_nhan) AS qh   -- first overdue day
    FROM {ho_so} h
    JOIN kpi.doan s ON s.ma_co_quan = h.ma_co_quan AND s.ma_tthc = h.ma_tthc
    WHERE h.d_nhan < s.den AND h.d_het > s.tu
),
su_kien AS (
    SELECT f.*, e.loai, e.ngay
    FROM f
    CROSS JOIN LATERAL (VALUES ('N', f.d_nhan), ('K', f.d_ket_thuc), ('M', f.bd), ('Q', f.qh), ('D', f.kt)) e(loai, ngay)
    WHERE CASE e.loai
              WHEN 'N' THEN f.nhan_trong
              WHEN 'K' THEN f.ket_thuc_trong
              WHEN 'M' THEN f.bd < f.kt
              WHEN 'Q' THEN f.bd < f.qh AND f.qh < f.kt
              ELSE f.bd < f.kt AND f.kt < f.den
          END
),
ngay_su_kien AS (
    SELECT ma_co_quan, ma_tthc, den, ngay,
           count(*) FILTER (WHERE loai = 'N' AND true) AS tiep_nhan,
           count(*) FILTER (WHERE loai = 'N' AND kenh = 1) AS tiep_nhan_truc_tiep,
           count(*) FILTER (WHERE loai = 'N' AND kenh = 2) AS tiep_nhan_truc_tuyen,
           count(*) FILTER (WHERE loai = 'N' AND kenh = 3) AS tiep_nhan_buu_chinh,
           count(*) FILTER (WHERE loai = 'K' AND loai_ket_thuc = 'G') AS giai_quyet,
           count(*) FILTER (WHERE loai = 'K' AND ket_qua_han = 'S') AS giai_quyet_truoc_han,
           count(*) FILTER (WHERE loai = 'K' AND ket_qua_han = 'D') AS giai_quyet_dung_han,
           count(*) FILTER (WHERE loai = 'K' AND ket_qua_han = 'Q') AS giai_quyet_qua_han,
           count(*) FILTER (WHERE loai = 'K' AND loai_ket_thuc = 'R') AS rut_ho_so,
           count(*) FILTER (WHERE loai = 'N' AND da_so_hoa) AS da_so_hoa,
           count(*) FILTER (WHERE loai = 'K' AND loai_ket_thuc = 'G' AND can_kq_giay_gq) AS giai_quyet_can_ket_qua_giay,
           count(*) FILTER (WHERE loai = 'K' AND loai_ket_thuc = 'G' AND can_kq_giay_gq AND co_kq_dien_tu) AS co_ket_qua_dien_tu,
           count(*) FILTER (WHERE loai = 'N' AND co_phi) AS co_phi,
           count(*) FILTER (WHERE loai = 'N' AND co_phi AND tt_truc_tuyen) AS thanh_toan_truc_tuyen,
           count(*) FILTER (WHERE loai = 'N' AND co_phi AND tt_khong_tien_mat) AS thanh_toan_khong_tien_mat,
           count(*) FILTER (WHERE loai = 'N' AND danh_gia IS NOT NULL) AS danh_gia,
           count(*) FILTER (WHERE loai = 'N' AND danh_gia = 3) AS khong_hai_long,
           count(*) FILTER (WHERE loai = 'N' AND toan_trinh) AS tn_toan_trinh,
           count(*) FILTER (WHERE loai = 'N' AND toan_trinh AND truc_tuyen_dat) AS tn_truc_tuyen_dat,
           count(*) FILTER (WHERE loai = 'N' AND tai_su_dung) AS tn_tai_su_dung,
           count(*) FILTER (WHERE loai = 'N' AND kho_dmqg) AS tn_kho_dmqg,
           count(*) FILTER (WHERE loai = 'K' AND ket_qua_han = 'Q' AND danh_gia = 3) AS gq_qua_han_hl3,
           count(*) FILTER (WHERE loai = 'K' AND loai_ket_thuc = 'R' AND danh_gia = 3) AS rut_hl3,
           sum(CASE WHEN loai = 'M' THEN 1 WHEN loai = 'D' THEN -1 ELSE 0 END) AS d_mo,
           sum(CASE WHEN loai = 'M' AND bd < qh THEN 1 WHEN loai = 'Q' THEN -1
                    WHEN loai = 'D' AND kt <= qh THEN -1 ELSE 0 END) AS d_th,
           sum(CASE WHEN loai = 'M' AND bd >= qh THEN 1 WHEN loai = 'Q' THEN 1
                    WHEN loai = 'D' AND kt > qh THEN -1 ELSE 0 END) AS d_qh,
           sum(CASE WHEN danh_gia IS DISTINCT FROM 3 THEN 0 WHEN loai = 'M' THEN 1 WHEN loai = 'D' THEN -1
                    ELSE 0 END) AS d_mo3,
           sum(CASE WHEN danh_gia IS DISTINCT FROM 3 THEN 0 WHEN loai = 'M' AND bd >= qh THEN 1
                    WHEN loai = 'Q' THEN 1 WHEN loai = 'D' AND kt > qh THEN -1 ELSE 0 END) AS d_qh3
    FROM su_kien
    GROUP BY ma_co_quan, ma_tthc, den, ngay
),
ton AS (
    SELECT n.*,
           lead(n.ngay, 1, n.den) OVER w AS ngay_sau,
           sum(n.d_mo) OVER w AS mo, sum(n.d_th) OVER w AS th, sum(n.d_qh) OVER w AS qh,
           sum(n.d_mo3) OVER w AS mo3, sum(n.d_qh3) OVER w AS qh3
    FROM ngay_su_kien n
    WINDOW w AS (PARTITION BY n.ma_co_quan, n.ma_tthc ORDER BY n.ngay)
)
-- the days with events: their flows and their end-of-day stocks
SELECT ngay, ma_co_quan, ma_tthc,
       tiep_nhan::integer AS tiep_nhan,
       tiep_nhan_truc_tiep::integer AS tiep_nhan_truc_tiep,
       tiep_nhan_truc_tuyen::integer AS tiep_nhan_truc_tuyen,
       tiep_nhan_buu_chinh::integer AS tiep_nhan_buu_chinh,
       giai_quyet::integer AS giai_quyet,
       giai_quyet_truoc_han::integer AS giai_quyet_truoc_han,
       giai_quyet_dung_han::integer AS giai_quyet_dung_han,
       giai_quyet_qua_han::integer AS giai_quyet_qua_han,
       rut_ho_so::integer AS rut_ho_so,
       mo::integer AS dang_giai_quyet,
       th::integer AS dang_giai_quyet_trong_han,
       qh::integer AS dang_giai_quyet_qua_han,
       da_so_hoa::integer AS da_so_hoa,
       giai_quyet_can_ket_qua_giay::integer AS giai_quyet_can_ket_qua_giay,
       co_ket_qua_dien_tu::integer AS co_ket_qua_dien_tu,
       co_phi::integer AS co_phi,
       thanh_toan_truc_tuyen::integer AS thanh_toan_truc_tuyen,
       thanh_toan_khong_tien_mat::integer AS thanh_toan_khong_tien_mat,
       danh_gia::integer AS danh_gia,
       khong_hai_long::integer AS khong_hai_long,
       tn_toan_trinh::integer AS tn_toan_trinh,
       tn_truc_tuyen_dat::integer AS tn_truc_tuyen_dat,
       tn_tai_su_dung::integer AS tn_tai_su_dung,
       tn_kho_dmqg::integer AS tn_kho_dmqg,
       gq_qua_han_hl3::integer AS gq_qua_han_hl3,
       rut_hl3::integer AS rut_hl3,
       mo3::integer AS dang_gq_hl3,
       qh3::integer AS dang_gq_qua_han_hl3
FROM ton
WHERE mo <> 0 OR tiep_nhan > 0 OR giai_quyet > 0 OR rut_ho_so > 0
UNION ALL
-- the days between two events of a series: the stocks carried over
SELECT g::date, t.ma_co_quan, t.ma_tthc,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       t.mo::integer,
       t.th::integer,
       t.qh::integer,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       0,
       t.mo3::integer,
       t.qh3::integer
FROM ton t
CROSS JOIN LATERAL generate_series((t.ngay + 1)::timestamp, (t.ngay_sau - 1)::timestamp, interval '1 day') g
WHERE t.mo <> 0 AND t.ngay_sau > t.ngay + 1
