-- The per-(period, agency) counts kpi.ky_co_quan (migration 0018: the view kpi.indicator shows each row as the 11
-- indicators of ../shared/domain/kpi.md) for the periods of the temporary table kt (ky, tu_ngay, den_ngay,
-- ma_co_quan), read from the per-(day, agency) sums {cqn}. {agency_match} is "p.ma_co_quan IS NULL" (every
-- agency and '*' of those periods) or "c.ma_co_quan = p.ma_co_quan".
-- Run as INSERT INTO {target} <this>.
--
-- With S = tu_ngay and T = den_ngay (exclusive), stocks at S are the end-of-day counts of S - 1, stocks at T
-- those of T - 1. Because a dossier is never finished before it is received (ho_so.sql), a dossier resolved
-- or withdrawn in P belongs to the base set B(P), which therefore counts
--   |B(P)| = received in P + open at S - withdrawn in P,
-- and the rated-3 dossiers of B(P) likewise; HAI_LONG's numerator is |B| - |late ∪ overdue ∪ rated 3|,
-- by inclusion-exclusion (late-resolved and overdue-at-T are disjoint).
-- A row exists for '*' always, and for an agency with a dossier in B(P) or resolved or withdrawn in P.
WITH dong AS (
    SELECT p.ky, p.tu_ngay, p.den_ngay, c.ma_co_quan,
           sum(c.tiep_nhan)                   AS tiep_nhan,
           sum(c.tiep_nhan_truc_tuyen)        AS tiep_nhan_truc_tuyen,
           sum(c.giai_quyet)                  AS giai_quyet,
           sum(c.giai_quyet_truoc_han)        AS giai_quyet_truoc_han,
           sum(c.giai_quyet_dung_han)         AS giai_quyet_dung_han,
           sum(c.giai_quyet_qua_han)          AS giai_quyet_qua_han,
           sum(c.rut_ho_so)                   AS rut_ho_so,
           sum(c.da_so_hoa)                   AS da_so_hoa,
           sum(c.giai_quyet_can_ket_qua_giay) AS giai_quyet_can_ket_qua_giay,
           sum(c.co_ket_qua_dien_tu)          AS co_ket_qua_dien_tu,
           sum(c.co_phi)                      AS co_phi,
           sum(c.thanh_toan_truc_tuyen)       AS thanh_toan_truc_tuyen,
           sum(c.thanh_toan_khong_tien_mat)   AS thanh_toan_khong_tien_mat,
           sum(c.khong_hai_long)              AS khong_hai_long,
           sum(c.tn_toan_trinh)               AS tn_toan_trinh,
           sum(c.tn_truc_tuyen_dat)           AS tn_truc_tuyen_dat,
           sum(c.tn_tai_su_dung)              AS tn_tai_su_dung,
           sum(c.tn_kho_dmqg)                 AS tn_kho_dmqg,
           sum(c.gq_qua_han_hl3)              AS gq_qua_han_hl3,
           sum(c.rut_hl3)                     AS rut_hl3
    FROM kt p
    JOIN {cqn} c ON c.ngay >= p.tu_ngay AND c.ngay < p.den_ngay AND {agency_match}
    GROUP BY p.ky, p.tu_ngay, p.den_ngay, c.ma_co_quan
),
so AS (
    SELECT d.*,
           d.tiep_nhan + coalesce(s.dang_giai_quyet, 0) - d.rut_ho_so            AS co_so,
           d.khong_hai_long + coalesce(s.dang_gq_hl3, 0) - d.rut_hl3             AS hl3_co_so,
           coalesce(e.dang_giai_quyet_trong_han, 0)                              AS trong_han_cuoi,
           coalesce(e.dang_giai_quyet_qua_han, 0)                                AS qua_han_cuoi,
           coalesce(e.dang_gq_qua_han_hl3, 0)                                    AS qua_han_hl3_cuoi
    FROM dong d
    LEFT JOIN {cqn} s ON s.ma_co_quan = d.ma_co_quan AND s.ngay = d.tu_ngay - 1
    LEFT JOIN {cqn} e ON e.ma_co_quan = d.ma_co_quan AND e.ngay = d.den_ngay - 1
)
SELECT so.ky, so.tu_ngay, so.den_ngay, so.ma_co_quan,
       so.giai_quyet_truoc_han + so.giai_quyet_dung_han + so.trong_han_cuoi,                     -- tien_do
       so.tn_truc_tuyen_dat,                                                                     -- truc_tuyen
       so.thanh_toan_truc_tuyen,
       so.co_ket_qua_dien_tu,                                                                    -- ket_qua_dien_tu
       so.da_so_hoa,                                                                             -- so_hoa
       so.tn_tai_su_dung,                                                                        -- tai_su_dung
       so.tn_kho_dmqg,                                                                           -- kho_dmqg
       so.co_so - (so.giai_quyet_qua_han + so.qua_han_cuoi
                   + so.hl3_co_so - so.gq_qua_han_hl3 - so.qua_han_hl3_cuoi),                    -- hai_long
       so.giai_quyet_truoc_han + so.giai_quyet_dung_han,                                         -- dung_han
       so.tiep_nhan_truc_tuyen,
       so.thanh_toan_khong_tien_mat,                                                             -- khong_tien_mat
       so.co_so,
       so.tn_toan_trinh,                                                                         -- toan_trinh
       so.co_phi,
       so.giai_quyet_can_ket_qua_giay,                                                           -- can_ket_qua_giay
       so.tiep_nhan,
       so.giai_quyet
FROM so
WHERE so.ma_co_quan = '*' OR so.co_so > 0 OR so.giai_quyet > 0 OR so.rut_ho_so > 0
