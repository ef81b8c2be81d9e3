-- The daily table (kpi.ngay_chi_tiet, published as the view kpi.dossier_daily) for the segments {doan} (the
-- table kpi.doan (id, tu, den), id the series number of kpi.chuoi, or a part of its series when a full build
-- computes the series in several lanes at once): every day tu <= ngay < den of each (agency, procedure)
-- series, recomputed from all the dossier facts of that series. A full build passes every series over
-- [first receipt day, B); an incremental build passes only the series and days the changes touched, so both
-- run exactly this SQL and give the same rows.
--
-- Each dossier yields at most three events, each one narrow row of its flags keyed by the series' number and
-- a day (sorting on them is cheap, unlike on the text codes):
--   S, on bd (its receipt day, or the segment's first day when received before): the receipt flows when
--      received in the segment, and the opening of the stocks when it is still open at the end of bd;
--   E, on its finish day: the resolution/withdrawal flows, and the closing of the stocks;
--   Q, on the first day at whose end it is overdue while still open: within deadline -1, overdue +1.
-- Each count of a (series, day) is the number of its events of one kind with some flags (count(*) FILTER:
-- an event that does not count costs one boolean test, not a call of sum(); 10M dossiers, one of the two
-- halves of the series: 51-56 s instead of 59.5 s, the same rows). The stocks (open, within deadline,
-- overdue at the end of the day) are running sums of their daily deltas per series, carried over the days up
-- to the next event of the series. No dossier is ever expanded to one row per day.
-- Run as INSERT INTO {target} <this>.
WITH f AS (
    SELECT s.id, s.den, h.d_ket_thuc,
           h.kenh = 1 AS kenh1, h.kenh = 2 AS kenh2, h.kenh = 3 AS kenh3,
           h.loai_ket_thuc = 'G' AS g, h.loai_ket_thuc = 'R' AS r,
           h.ket_qua_han = 'S' AS kqh_s, h.ket_qua_han = 'D' AS kqh_d, h.ket_qua_han = 'Q' AS kqh_q,
           h.da_so_hoa, h.can_kq_giay_gq, h.co_kq_dien_tu, h.co_phi, h.tt_truc_tuyen, h.tt_khong_tien_mat,
           h.danh_gia IS NOT NULL AS co_danh_gia, h.toan_trinh, h.truc_tuyen_dat, h.tai_su_dung, h.kho_dmqg,
           coalesce(h.danh_gia = 3, false) AS hl3,
           h.d_nhan >= s.tu AS nhan_trong,
           h.loai_ket_thuc IS NOT NULL AND h.d_ket_thuc >= s.tu AND h.d_ket_thuc < s.den AS ket_thuc_trong,
           b.bd, b.kt, b.qh
    FROM {ho_so} h
    JOIN {doan} s ON s.id = h.chuoi
    CROSS JOIN LATERAL (SELECT greatest(h.d_nhan, s.tu) AS bd,
                               least(coalesce(h.d_ket_thuc, 'infinity'::date), s.den) AS kt,
                               greatest(coalesce(h.d_qua_han, 'infinity'::date), h.d_nhan) AS qh) b
    WHERE h.d_nhan < s.den AND h.d_het > s.tu
    -- OFFSET 0 keeps f a subquery of its own: bd, kt, qh... are computed once per dossier, not at each of
    -- their many uses below (measured: most of the step's time when inlined)
    OFFSET 0
),
f2 AS (
    -- whether the dossier is open at the end of bd (mo), and then within deadline or overdue, and at its
    -- finish day whether it closes a within-deadline or an overdue stock
    SELECT f.*, f.bd < f.kt AS mo, f.bd < f.kt AND f.bd < f.qh AS mo_th, f.bd < f.kt AND f.bd >= f.qh AS mo_qh,
           f.bd < f.kt AND f.kt <= f.qh AS dong_th, f.bd < f.kt AND f.kt > f.qh AS dong_qh
    FROM f
    OFFSET 0
),
su_kien AS (
    -- the events of each dossier: f times a constant three-row table (a VALUES list that refers to f would
    -- rebuild its expressions for every dossier: measured 25 us each); s, e, q say which event it is
    SELECT f.*, e.s, e.e, e.q, CASE WHEN e.s THEN f.bd WHEN e.e THEN f.d_ket_thuc ELSE f.qh END AS ngay
    FROM f2 f
    CROSS JOIN (VALUES (true, false, false), (false, true, false), (false, false, true)) e(s, e, q)
    WHERE CASE WHEN e.s THEN f.nhan_trong OR f.mo
               WHEN e.e THEN f.ket_thuc_trong
               ELSE f.bd < f.qh AND f.qh < f.kt END
),
ngay_su_kien AS (
    SELECT id, ngay,
           count(*) FILTER (WHERE s AND nhan_trong)::integer AS tiep_nhan,
           count(*) FILTER (WHERE s AND nhan_trong AND kenh1)::integer AS tiep_nhan_truc_tiep,
           count(*) FILTER (WHERE s AND nhan_trong AND kenh2)::integer AS tiep_nhan_truc_tuyen,
           count(*) FILTER (WHERE s AND nhan_trong AND kenh3)::integer AS tiep_nhan_buu_chinh,
           count(*) FILTER (WHERE e AND g)::integer AS giai_quyet,
           count(*) FILTER (WHERE e AND kqh_s)::integer AS giai_quyet_truoc_han,
           count(*) FILTER (WHERE e AND kqh_d)::integer AS giai_quyet_dung_han,
           count(*) FILTER (WHERE e AND kqh_q)::integer AS giai_quyet_qua_han,
           count(*) FILTER (WHERE e AND r)::integer AS rut_ho_so,
           count(*) FILTER (WHERE s AND nhan_trong AND da_so_hoa)::integer AS da_so_hoa,
           count(*) FILTER (WHERE e AND g AND can_kq_giay_gq)::integer AS giai_quyet_can_ket_qua_giay,
           count(*) FILTER (WHERE e AND g AND can_kq_giay_gq AND co_kq_dien_tu)::integer AS co_ket_qua_dien_tu,
           count(*) FILTER (WHERE s AND nhan_trong AND co_phi)::integer AS co_phi,
           count(*) FILTER (WHERE s AND nhan_trong AND co_phi AND tt_truc_tuyen)::integer AS thanh_toan_truc_tuyen,
           count(*) FILTER (WHERE s AND nhan_trong AND co_phi AND tt_khong_tien_mat)::integer
               AS thanh_toan_khong_tien_mat,
           count(*) FILTER (WHERE s AND nhan_trong AND co_danh_gia)::integer AS danh_gia,
           count(*) FILTER (WHERE s AND nhan_trong AND hl3)::integer AS khong_hai_long,
           count(*) FILTER (WHERE s AND nhan_trong AND toan_trinh)::integer AS tn_toan_trinh,
           count(*) FILTER (WHERE s AND nhan_trong AND toan_trinh AND truc_tuyen_dat)::integer AS tn_truc_tuyen_dat,
           count(*) FILTER (WHERE s AND nhan_trong AND tai_su_dung)::integer AS tn_tai_su_dung,
           count(*) FILTER (WHERE s AND nhan_trong AND kho_dmqg)::integer AS tn_kho_dmqg,
           count(*) FILTER (WHERE e AND kqh_q AND hl3)::integer AS gq_qua_han_hl3,
           count(*) FILTER (WHERE e AND r AND hl3)::integer AS rut_hl3,
           (count(*) FILTER (WHERE s AND mo) - count(*) FILTER (WHERE e AND mo))::integer AS d_mo,
           (count(*) FILTER (WHERE s AND mo_th) - count(*) FILTER (WHERE e AND dong_th)
            - count(*) FILTER (WHERE q))::integer AS d_th,
           (count(*) FILTER (WHERE s AND mo_qh) - count(*) FILTER (WHERE e AND dong_qh)
            + count(*) FILTER (WHERE q))::integer AS d_qh,
           (count(*) FILTER (WHERE s AND mo AND hl3) - count(*) FILTER (WHERE e AND mo AND hl3))::integer AS d_mo3,
           (count(*) FILTER (WHERE s AND mo_qh AND hl3) - count(*) FILTER (WHERE e AND dong_qh AND hl3)
            + count(*) FILTER (WHERE q AND hl3))::integer AS d_qh3
    FROM su_kien
    GROUP BY id, ngay
),
chay AS (
    -- running sums per series, straight over the grouped events (already in (id, ngay) order: no sort; a join
    -- before the window would lose that order and sort 10M rows again)
    SELECT n.*,
           lead(n.ngay) OVER w AS ngay_sau,
           sum(n.d_mo) OVER w AS mo, sum(n.d_th) OVER w AS th, sum(n.d_qh) OVER w AS qh,
           sum(n.d_mo3) OVER w AS mo3, sum(n.d_qh3) OVER w AS qh3
    FROM ngay_su_kien n
    WINDOW w AS (PARTITION BY n.id ORDER BY n.ngay)
),
ton AS (
    SELECT c.*,
           coalesce(c.ngay_sau, s.den) - c.ngay AS buoc  -- days up to the next event (or the segment's end)
    FROM chay c
    JOIN {doan} s ON s.id = c.id
)
-- each event day with its flows and end-of-day stocks (i = 0), then the days up to the next event of the
-- series with the stocks carried over (i > 0, only while some dossier is open)
SELECT t.ngay + g.i AS ngay, t.id AS chuoi,
       CASE WHEN g.i = 0 THEN t.tiep_nhan ELSE 0 END AS tiep_nhan,
       CASE WHEN g.i = 0 THEN t.tiep_nhan_truc_tiep ELSE 0 END AS tiep_nhan_truc_tiep,
       CASE WHEN g.i = 0 THEN t.tiep_nhan_truc_tuyen ELSE 0 END AS tiep_nhan_truc_tuyen,
       CASE WHEN g.i = 0 THEN t.tiep_nhan_buu_chinh ELSE 0 END AS tiep_nhan_buu_chinh,
       CASE WHEN g.i = 0 THEN t.giai_quyet ELSE 0 END AS giai_quyet,
       CASE WHEN g.i = 0 THEN t.giai_quyet_truoc_han ELSE 0 END AS giai_quyet_truoc_han,
       CASE WHEN g.i = 0 THEN t.giai_quyet_dung_han ELSE 0 END AS giai_quyet_dung_han,
       CASE WHEN g.i = 0 THEN t.giai_quyet_qua_han ELSE 0 END AS giai_quyet_qua_han,
       CASE WHEN g.i = 0 THEN t.rut_ho_so ELSE 0 END AS rut_ho_so,
       t.mo::integer AS dang_giai_quyet,
       t.th::integer AS dang_giai_quyet_trong_han,
       t.qh::integer AS dang_giai_quyet_qua_han,
       CASE WHEN g.i = 0 THEN t.da_so_hoa ELSE 0 END AS da_so_hoa,
       CASE WHEN g.i = 0 THEN t.giai_quyet_can_ket_qua_giay ELSE 0 END AS giai_quyet_can_ket_qua_giay,
       CASE WHEN g.i = 0 THEN t.co_ket_qua_dien_tu ELSE 0 END AS co_ket_qua_dien_tu,
       CASE WHEN g.i = 0 THEN t.co_phi ELSE 0 END AS co_phi,
       CASE WHEN g.i = 0 THEN t.thanh_toan_truc_tuyen ELSE 0 END AS thanh_toan_truc_tuyen,
       CASE WHEN g.i = 0 THEN t.thanh_toan_khong_tien_mat ELSE 0 END AS thanh_toan_khong_tien_mat,
       CASE WHEN g.i = 0 THEN t.danh_gia ELSE 0 END AS danh_gia,
       CASE WHEN g.i = 0 THEN t.khong_hai_long ELSE 0 END AS khong_hai_long,
       CASE WHEN g.i = 0 THEN t.tn_toan_trinh ELSE 0 END AS tn_toan_trinh,
       CASE WHEN g.i = 0 THEN t.tn_truc_tuyen_dat ELSE 0 END AS tn_truc_tuyen_dat,
       CASE WHEN g.i = 0 THEN t.tn_tai_su_dung ELSE 0 END AS tn_tai_su_dung,
       CASE WHEN g.i = 0 THEN t.tn_kho_dmqg ELSE 0 END AS tn_kho_dmqg,
       CASE WHEN g.i = 0 THEN t.gq_qua_han_hl3 ELSE 0 END AS gq_qua_han_hl3,
       CASE WHEN g.i = 0 THEN t.rut_hl3 ELSE 0 END AS rut_hl3,
       t.mo3::integer AS dang_gq_hl3,
       t.qh3::integer AS dang_gq_qua_han_hl3
FROM ton t
CROSS JOIN LATERAL generate_series(0, CASE WHEN t.mo <> 0 THEN t.buoc - 1 ELSE 0 END) g(i)
WHERE g.i > 0 OR t.mo <> 0 OR t.tiep_nhan > 0 OR t.giai_quyet > 0 OR t.rut_ho_so > 0
