-- Per-dossier facts of ../shared/domain/kpi.md (version 766-2026.1), one row per accepted dossier, from the
-- flat inputs of its winning record state (kpi.dau_vao, kept by migration 0014's triggers: no jsonb is read
-- here), the catalogue, the documents sohoa holds and the working-day calendar.
--
-- Run by sohoa/kpi/build.py as INSERT INTO {target} <this>; {dossiers} narrows the dossiers (an incremental
-- build passes the changed ones). Reads the working-day calendar kpi.lich, which the build refreshes first,
-- and the series numbers kpi.chuoi, to which the build adds the dossiers' new series first (migration 0020:
-- the facts carry the series number, not the two codes, and are keyed by (khoa, ma_ho_so)).
--
-- Vietnam time is UTC+7 without daylight saving (kpi.md); since 1975 Asia/Ho_Chi_Minh has had no other offset,
-- so local dates are taken with the fixed offset (AT TIME ZONE interval '+07:00'), which is plain arithmetic,
-- where the zone's name costs a time-zone lookup per value (0.18 us each here, 80M values in a 10M build).
--
-- Decisions where kpi.md leaves room (see docs/kpi.md):
-- * a finish time before NgayTiepNhan (record.finish_before_receipt, an error kept and counted) is read as
--   NgayTiepNhan: a dossier is never finished before it is received, so it always belongs to the base set of
--   the period it is finished in;
-- * ThoiHanGiaiQuyet = 0 makes the day of receipt the deadline day; a negative value is an unknown deadline.
WITH hs AS (
    SELECT x.*,
           c.id                                                           AS chuoi,
           p.thoi_han_giai_quyet,
           coalesce(p.co_ket_qua_giay, false)                             AS can_kq_giay,
           coalesce(p.toan_trinh, false)                                  AS toan_trinh
    FROM kpi.dau_vao x
    JOIN kpi.chuoi c ON c.ma_co_quan = x.ma_co_quan AND c.ma_tthc = x.ma_tthc
    LEFT JOIN sohoa.procedure p ON p.ma_tthc = x.ma_tthc
    WHERE ({dossiers})
),
tai_lieu AS (
    SELECT x.ma_ho_so,
           bool_or(x.loai = 'thanh_phan') AS thanh_phan,
           bool_or(x.loai = 'ket_qua')    AS ket_qua
    FROM sohoa.document x
    WHERE x.ma_ho_so IS NOT NULL AND ({dossiers})
    GROUP BY x.ma_ho_so
),
han AS (
    SELECT hs.*,
           coalesce(hs.ngay_hen_tra, han_lich.han)                        AS han,
           hs.ngay_hen_tra IS NULL AND han_lich.han IS NOT NULL           AS han_tu_lich
    FROM hs
    -- the counted deadline: the last instant of the ThoiHanGiaiQuyet-th working day after the receipt day
    -- (kpi.lich numbers the working days: one join, no counting)
    LEFT JOIN kpi.lich l1 ON l1.ngay = hs.d_nhan AND hs.ngay_hen_tra IS NULL AND hs.thoi_han_giai_quyet > 0
    LEFT JOIN kpi.lich l2 ON l2.stt = l1.stt + hs.thoi_han_giai_quyet AND l2.lam_viec
    CROSS JOIN LATERAL (
        SELECT ((CASE WHEN hs.ngay_hen_tra IS NULL AND hs.thoi_han_giai_quyet = 0 THEN hs.d_nhan ELSE l2.ngay END
                 + 1)::timestamp AT TIME ZONE interval '+07:00') - interval '1 microsecond' AS han
    ) han_lich
),
xet AS (
    SELECT han.*,
           CASE WHEN han.trang_thai IN (8, 9, 10) THEN 'G' WHEN han.trang_thai = 7 THEN 'R' END AS loai_ket_thuc,
           -- the instant after which an open dossier is overdue (t > X); null: never
           CASE WHEN han.a2 IS NOT NULL AND (x1.x IS NULL OR han.a2 < x1.x) THEN han.a2 ELSE x1.x END AS qua_han_sau,
           coalesce(tl.thanh_phan, false) OR han.tp_so_ban_ghi            AS co_thanh_phan_so,
           coalesce(tl.ket_qua, false) OR han.kq_dien_tu_ban_ghi          AS co_kq_dien_tu,
           han.can_kq_giay AND han.trang_thai IN (9, 10)                  AS can_kq_giay_gq
    FROM han
    LEFT JOIN tai_lieu tl ON tl.ma_ho_so = han.ma_ho_so
    CROSS JOIN LATERAL (
        SELECT CASE WHEN han.han IS NULL THEN NULL
                    WHEN han.a1 IS NULL OR han.han < han.a1 THEN han.han
                    WHEN han.b1 IS NULL THEN NULL
                    ELSE greatest(han.a1, han.han + (han.b1 - han.a1))
               END AS x
    ) x1
)
SELECT kpi.khoa(ma_ho_so)                                              AS khoa,
       ma_ho_so,
       chuoi,
       kenh,
       trang_thai,
       d_nhan,
       (ket_thuc AT TIME ZONE interval '+07:00')::date                 AS d_ket_thuc,
       coalesce((ket_thuc AT TIME ZONE interval '+07:00')::date + 1, 'infinity'::date) AS d_het,
       loai_ket_thuc,
       CASE WHEN loai_ket_thuc = 'G' THEN
            CASE WHEN n_f > 1 THEN 'Q'
                 WHEN han IS NULL THEN 'D'
                 WHEN ket_thuc > han + w_f THEN 'Q'
                 WHEN (ket_thuc AT TIME ZONE interval '+07:00')::date
                    < ((han + w_f) AT TIME ZONE interval '+07:00')::date THEN 'S'
                 ELSE 'D' END
       END                                                              AS ket_qua_han,
       (qua_han_sau AT TIME ZONE interval '+07:00')::date              AS d_qua_han,
       han_tu_lich,
       (han AT TIME ZONE interval '+07:00')::date                      AS d_han,
       co_thanh_phan_so AND (NOT can_kq_giay_gq OR co_kq_dien_tu)       AS da_so_hoa,
       can_kq_giay_gq,
       co_kq_dien_tu,
       co_phi,
       tt_truc_tuyen,
       tt_khong_tien_mat,
       toan_trinh,
       kenh = 2 AND NOT (can_kq_giay_gq AND NOT co_kq_dien_tu)          AS truc_tuyen_dat,
       tai_su_dung,
       kho_dmqg,
       danh_gia
FROM xet
