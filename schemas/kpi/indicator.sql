-- The period table kpi.indicator of ../shared/domain/kpi.md for the periods of the temporary table
-- kt (ky, tu_ngay, den_ngay, ma_co_quan), read from the per-(day, agency) sums {cqn}. {agency_match} is
-- "p.ma_co_quan IS NULL" (every agency and '*' of those periods) or "c.ma_co_quan = p.ma_co_quan".
-- Run as INSERT INTO {target} <this>.
--
-- With S = tu_ngay and T = den_ngay (exclusive), stocks at S are the end-of-day counts of S - 1, stocks at T
-- those of T - 1. Because a dossier is never finished before it is received (ho_so.sql), a dossier resolved
-- or withdrawn in P belongs to the base set B(P), which therefore counts
--   |B(P)| = received in P + open at S - withdrawn in P,
-- and the rated-3 dossiers of B(P) likewise; HAI_LONG's numerator is |B| - |late ∪ overdue ∪ rated 3|,
-- by inclusion-exclusion (late-resolved and overdue-at-T are disjoint).
-- Ratios and points are exact numerics rounded half up (half away from zero, on non-negative values).
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
SELECT so.ky, so.tu_ngay, so.den_ngay, so.ma_co_quan, i.chi_so, i.tu_so, i.mau_so,
       CASE WHEN i.mau_so > 0 THEN round((100 * i.tu_so)::numeric / i.mau_so, 2) END          AS ty_le,
       CASE WHEN i.mau_so > 0 AND i.diem_toi_da IS NOT NULL
            THEN round(least(i.diem_toi_da, (i.a * i.tu_so)::numeric / (i.b * i.mau_so)), 2) END AS diem,
       i.diem_toi_da,
       '766-2026.1'                                                                             AS phien_ban
FROM so
CROSS JOIN LATERAL (
    -- one row per indicator: its constants from a constant list, its numerator and denominator picked by
    -- number (a VALUES list referring to so would rebuild its expressions for every row of so)
    SELECT k.chi_so, k.diem_toi_da, k.a, k.b,
           CASE k.n
                WHEN 1 THEN so.giai_quyet_truoc_han + so.giai_quyet_dung_han + so.trong_han_cuoi
                WHEN 2 THEN so.tn_truc_tuyen_dat
                WHEN 3 THEN so.thanh_toan_truc_tuyen
                WHEN 4 THEN so.co_ket_qua_dien_tu
                WHEN 5 THEN so.da_so_hoa
                WHEN 6 THEN so.tn_tai_su_dung
                WHEN 7 THEN so.tn_kho_dmqg
                WHEN 8 THEN so.co_so - (so.giai_quyet_qua_han + so.qua_han_cuoi + so.hl3_co_so - so.gq_qua_han_hl3 - so.qua_han_hl3_cuoi)
                WHEN 9 THEN so.giai_quyet_truoc_han + so.giai_quyet_dung_han
                WHEN 10 THEN so.tiep_nhan_truc_tuyen
                WHEN 11 THEN so.thanh_toan_khong_tien_mat
           END AS tu_so,
           CASE k.n
                WHEN 1 THEN so.co_so
                WHEN 2 THEN so.tn_toan_trinh
                WHEN 3 THEN so.co_phi
                WHEN 4 THEN so.giai_quyet_can_ket_qua_giay
                WHEN 5 THEN so.tiep_nhan
                WHEN 6 THEN so.tiep_nhan
                WHEN 7 THEN so.tiep_nhan
                WHEN 8 THEN so.co_so
                WHEN 9 THEN so.giai_quyet
                WHEN 10 THEN so.tiep_nhan
                WHEN 11 THEN so.co_phi
           END AS mau_so
    -- n, chi_so, maximum points, points = min(max, a * r / b)
    FROM (VALUES
        (1, 'TIEN_DO', 20::numeric, 20, 1),
        (2, 'TRUC_TUYEN', 12, 24, 1),
        (3, 'THANH_TOAN_TRUC_TUYEN', 6, 6, 1),
        (4, 'KET_QUA_DIEN_TU', 6, 6, 1),
        (5, 'SO_HOA', 4, 5, 1),
        (6, 'TAI_SU_DUNG', 2, 5, 2),
        (7, 'KHO_DMQG', 4, 4, 1),
        (8, 'HAI_LONG', 6, 20, 3),
        (9, 'TY_LE_DUNG_HAN', NULL, 1, 1),
        (10, 'TY_LE_TRUC_TUYEN', NULL, 1, 1),
        (11, 'TY_LE_KHONG_TIEN_MAT', NULL, 1, 1)
    ) k(n, chi_so, diem_toi_da, a, b)
) i
WHERE so.ma_co_quan = '*' OR so.co_so > 0 OR so.giai_quyet > 0 OR so.rut_ho_so > 0
