-- The period table kpi.indicator becomes a view over one row per (period, agency) (issue 7, full rebuild time).
--
-- kpi.indicator held one row per (period, agency, indicator): 11 rows for each of the ~385,000 (period, agency)
-- pairs of five years and 200 agencies, 4.2 million rows (792 MB with their two indexes) that a full build wrote,
-- indexed twice and WAL-logged, whatever the number of dossiers. Their numerators and denominators are 17 counts
-- of the (period, agency), and ratio, points and constants follow from them. So the build now writes those counts
-- once per (period, agency) into kpi.ky_co_quan (385,000 rows, 82 MB with its indexes) and kpi.indicator shows
-- the same rows, computed as they are read: on the 1,000,000-dossier benchmark database (2026-12-07), the
-- statement and the indexes took 4.3 + 1.0 s instead of 14.9 + 9.0 s, and reading the whole view takes 1.3 s;
-- one agency's month (the report's and the portal's reads) is one index probe and 11 rows, as before.
--
-- The view has exactly the columns, types and rows of the table it replaces (kpi.md, "Period table"); rounding
-- is the table's (half away from zero, to 2 decimals, from the unrounded ratio). The rows already built are
-- kept: each (period, agency)'s 11 rows fold into one row of counts (the denominators the indicators share are
-- the same count: B(P) for TIEN_DO and HAI_LONG, receipts in P for SO_HOA, TAI_SU_DUNG, KHO_DMQG and
-- TY_LE_TRUC_TUYEN, receipts with a fee for THANH_TOAN_TRUC_TUYEN and TY_LE_KHONG_TIEN_MAT), so a nightly
-- incremental build goes on from them.
-- depends: 0017_dossier_line_check

CREATE TABLE kpi.ky_co_quan (
    ky                   text    NOT NULL CHECK (ky IN ('ngay', 'thang', 'quy', 'nam')),
    tu_ngay              date    NOT NULL,
    den_ngay             date    NOT NULL,
    ma_co_quan           text    NOT NULL,
    -- numerators, one per indicator (kpi.md, "Period table")
    tien_do              integer NOT NULL,  -- TIEN_DO: in B(P), resolved early or on time, or open at T within deadline
    truc_tuyen           integer NOT NULL,  -- TRUC_TUYEN
    thanh_toan_truc_tuyen integer NOT NULL, -- THANH_TOAN_TRUC_TUYEN
    ket_qua_dien_tu      integer NOT NULL,  -- KET_QUA_DIEN_TU
    so_hoa               integer NOT NULL,  -- SO_HOA
    tai_su_dung          integer NOT NULL,  -- TAI_SU_DUNG
    kho_dmqg             integer NOT NULL,  -- KHO_DMQG
    hai_long             integer NOT NULL,  -- HAI_LONG
    dung_han             integer NOT NULL,  -- TY_LE_DUNG_HAN
    tiep_nhan_truc_tuyen integer NOT NULL,  -- TY_LE_TRUC_TUYEN
    khong_tien_mat       integer NOT NULL,  -- TY_LE_KHONG_TIEN_MAT
    -- denominators
    co_so                integer NOT NULL,  -- |B(P)|: TIEN_DO, HAI_LONG
    toan_trinh           integer NOT NULL,  -- received in P, procedure fully online: TRUC_TUYEN
    co_phi               integer NOT NULL,  -- received in P with a fee: THANH_TOAN_TRUC_TUYEN, TY_LE_KHONG_TIEN_MAT
    can_ket_qua_giay     integer NOT NULL,  -- resolved in P, status 9 or 10, paper result needed: KET_QUA_DIEN_TU
    tiep_nhan            integer NOT NULL,  -- received in P: SO_HOA, TAI_SU_DUNG, KHO_DMQG, TY_LE_TRUC_TUYEN
    giai_quyet           integer NOT NULL,  -- resolved in P: TY_LE_DUNG_HAN
    CONSTRAINT ky_co_quan_pkey PRIMARY KEY (ky, tu_ngay, ma_co_quan)
);
CREATE INDEX ky_co_quan_co_quan ON kpi.ky_co_quan (ma_co_quan, ky, tu_ngay);

INSERT INTO kpi.ky_co_quan
SELECT ky, tu_ngay, den_ngay, ma_co_quan,
       max(tu_so) FILTER (WHERE chi_so = 'TIEN_DO'),
       max(tu_so) FILTER (WHERE chi_so = 'TRUC_TUYEN'),
       max(tu_so) FILTER (WHERE chi_so = 'THANH_TOAN_TRUC_TUYEN'),
       max(tu_so) FILTER (WHERE chi_so = 'KET_QUA_DIEN_TU'),
       max(tu_so) FILTER (WHERE chi_so = 'SO_HOA'),
       max(tu_so) FILTER (WHERE chi_so = 'TAI_SU_DUNG'),
       max(tu_so) FILTER (WHERE chi_so = 'KHO_DMQG'),
       max(tu_so) FILTER (WHERE chi_so = 'HAI_LONG'),
       max(tu_so) FILTER (WHERE chi_so = 'TY_LE_DUNG_HAN'),
       max(tu_so) FILTER (WHERE chi_so = 'TY_LE_TRUC_TUYEN'),
       max(tu_so) FILTER (WHERE chi_so = 'TY_LE_KHONG_TIEN_MAT'),
       max(mau_so) FILTER (WHERE chi_so = 'TIEN_DO'),
       max(mau_so) FILTER (WHERE chi_so = 'TRUC_TUYEN'),
       max(mau_so) FILTER (WHERE chi_so = 'THANH_TOAN_TRUC_TUYEN'),
       max(mau_so) FILTER (WHERE chi_so = 'KET_QUA_DIEN_TU'),
       max(mau_so) FILTER (WHERE chi_so = 'SO_HOA'),
       max(mau_so) FILTER (WHERE chi_so = 'TY_LE_DUNG_HAN')
FROM kpi.indicator
GROUP BY ky, tu_ngay, den_ngay, ma_co_quan;

DROP TABLE kpi.indicator;

-- The period table of kpi.md: 11 rows per (period, agency), in the order of kpi.md's table. Ratios and points
-- are exact numerics rounded half up (half away from zero, on non-negative values); points from the unrounded
-- ratio r = tu_so / mau_so: min(maximum, a * r / b).
CREATE VIEW kpi.indicator AS
SELECT k.ky, k.tu_ngay, k.den_ngay, k.ma_co_quan, i.chi_so,
       i.tu_so::bigint                                                                         AS tu_so,
       i.mau_so::bigint                                                                        AS mau_so,
       (CASE WHEN i.mau_so > 0 THEN round((100 * i.tu_so)::numeric / i.mau_so, 2) END)::numeric(7, 2) AS ty_le,
       (CASE WHEN i.mau_so > 0 AND i.diem_toi_da IS NOT NULL
             THEN round(least(i.diem_toi_da, (i.a * i.tu_so)::numeric / (i.b * i.mau_so)), 2) END)::numeric(6, 2)
                                                                                               AS diem,
       i.diem_toi_da::numeric(6, 2)                                                            AS diem_toi_da,
       '766-2026.1'::text                                                                      AS phien_ban
FROM kpi.ky_co_quan k
CROSS JOIN LATERAL (VALUES
    -- chi_so, maximum points, a, b, numerator, denominator
    ('TIEN_DO', 20::numeric, 20, 1, k.tien_do, k.co_so),
    ('TRUC_TUYEN', 12, 24, 1, k.truc_tuyen, k.toan_trinh),
    ('THANH_TOAN_TRUC_TUYEN', 6, 6, 1, k.thanh_toan_truc_tuyen, k.co_phi),
    ('KET_QUA_DIEN_TU', 6, 6, 1, k.ket_qua_dien_tu, k.can_ket_qua_giay),
    ('SO_HOA', 4, 5, 1, k.so_hoa, k.tiep_nhan),
    ('TAI_SU_DUNG', 2, 5, 2, k.tai_su_dung, k.tiep_nhan),
    ('KHO_DMQG', 4, 4, 1, k.kho_dmqg, k.tiep_nhan),
    ('HAI_LONG', 6, 20, 3, k.hai_long, k.co_so),
    ('TY_LE_DUNG_HAN', NULL, 1, 1, k.dung_han, k.giai_quyet),
    ('TY_LE_TRUC_TUYEN', NULL, 1, 1, k.tiep_nhan_truc_tuyen, k.tiep_nhan),
    ('TY_LE_KHONG_TIEN_MAT', NULL, 1, 1, k.khong_tien_mat, k.co_phi)
) i(chi_so, diem_toi_da, a, b, tu_so, mau_so);
