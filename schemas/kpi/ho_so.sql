-- Per-dossier facts of ../shared/domain/kpi.md (version 766-2026.1), one row per accepted dossier, from its
-- winning record state, the catalogue, the documents sohoa holds and the working-day calendar.
--
-- Run by sohoa/kpi/build.py as INSERT INTO {target} <this>; {dossiers} narrows the dossiers (an incremental
-- build passes the changed ones). Reads the working-day calendar kpi.lich, which the build refreshes first.
--
-- Decisions where kpi.md leaves room (see docs/kpi.md):
-- * a finish time before NgayTiepNhan (record.finish_before_receipt, an error kept and counted) is read as
--   NgayTiepNhan: a dossier is never finished before it is received, so it always belongs to the base set of
--   the period it is finished in;
-- * ThoiHanGiaiQuyet = 0 makes the day of receipt the deadline day; a negative value is an unknown deadline.
WITH hs AS (
    SELECT v.ma_ho_so,
           v.ma_co_quan,
           left(v.ma_tthc, 8)                                             AS ma_tthc,
           CASE WHEN v.kenh_thuc_hien IN (2, 3) THEN v.kenh_thuc_hien ELSE 1 END::smallint AS kenh,
           v.trang_thai,
           v.ngay_tiep_nhan                                               AS nhan,
           (v.ngay_tiep_nhan AT TIME ZONE 'Asia/Ho_Chi_Minh')::date       AS d_nhan,
           CASE WHEN v.trang_thai IN (7, 8, 9, 10) THEN
                greatest(coalesce(v.ngay_ket_thuc_xu_ly, v.ngay_tra, v.cap_nhat_luc), v.ngay_tiep_nhan)
           END                                                            AS ket_thuc,
           v.ngay_hen_tra,
           v.ho_so_bo_sung,
           v.ho_so_bo_sung <> '[]'::jsonb                                 AS co_bo_sung,
           v.le_phi,
           v.tai_lieu_nop,
           v.giay_to_ket_qua,
           v.duoc_thanh_toan_truc_tuyen,
           v.hinh_thuc_thanh_toan,
           v.danh_gia_hai_long,
           p.thoi_han_giai_quyet,
           coalesce(p.co_ket_qua_giay, false)                             AS can_kq_giay,
           coalesce(p.toan_trinh, false)                                  AS toan_trinh
    FROM sohoa.dossier x
    JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
    LEFT JOIN sohoa.procedure p ON p.ma_tthc = left(v.ma_tthc, 8)
    WHERE v.trang_thai NOT IN (1, 3)
      AND v.ngay_tiep_nhan IS NOT NULL
      AND ({dossiers})
),
tai_lieu AS (
    -- (not from hs: a CTE read twice is materialised, with its jsonb columns)
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
           hs.ngay_hen_tra IS NULL AND han_lich.han IS NOT NULL           AS han_tu_lich,
           -- supplement requests (only read where there are some): the first request (a1, b1), the second
           -- request's time a2, and at the finish time F: n(F) and W(F)
           CASE WHEN hs.co_bo_sung THEN (SELECT min(r.a) FROM kpi.bo_sung(hs.ho_so_bo_sung) r) END AS a1,
           CASE WHEN hs.co_bo_sung THEN (SELECT r.b FROM kpi.bo_sung(hs.ho_so_bo_sung) r ORDER BY r.a, r.b LIMIT 1) END
                                                                           AS b1,
           CASE WHEN hs.co_bo_sung THEN (SELECT r.a FROM kpi.bo_sung(hs.ho_so_bo_sung) r ORDER BY r.a, r.b
                                         OFFSET 1 LIMIT 1) END             AS a2,
           CASE WHEN hs.co_bo_sung AND hs.ket_thuc IS NOT NULL
                THEN (SELECT count(*) FROM kpi.bo_sung(hs.ho_so_bo_sung) r WHERE r.a < hs.ket_thuc) ELSE 0 END AS n_f,
           CASE WHEN hs.co_bo_sung AND hs.ket_thuc IS NOT NULL
                THEN (SELECT coalesce(sum(least(coalesce(r.b, hs.ket_thuc), hs.ket_thuc) - r.a), interval '0')
                      FROM kpi.bo_sung(hs.ho_so_bo_sung) r WHERE r.a < hs.ket_thuc)
                ELSE interval '0' END                                     AS w_f
    FROM hs
    -- the counted deadline: the last instant of the ThoiHanGiaiQuyet-th working day after the receipt day
    LEFT JOIN kpi.lich l1 ON l1.ngay = hs.d_nhan AND hs.ngay_hen_tra IS NULL AND hs.thoi_han_giai_quyet > 0
    LEFT JOIN kpi.lich l2 ON l2.stt = l1.stt + hs.thoi_han_giai_quyet AND l2.lam_viec
    CROSS JOIN LATERAL (
        SELECT ((CASE WHEN hs.ngay_hen_tra IS NULL AND hs.thoi_han_giai_quyet = 0 THEN hs.d_nhan ELSE l2.ngay END
                 + 1)::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh') - interval '1 microsecond' AS han
    ) han_lich
    -- OFFSET 0 keeps this step a subquery of its own: its columns are computed once per row, where an
    -- inlined CTE would repeat each subquery at every use of its column
    OFFSET 0
),
xet AS (
    SELECT han.*,
           CASE WHEN han.trang_thai IN (8, 9, 10) THEN 'G' WHEN han.trang_thai = 7 THEN 'R' END AS loai_ket_thuc,
           -- the instant after which an open dossier is overdue (t > X); null: never
           CASE WHEN han.a2 IS NOT NULL AND (x1.x IS NULL OR han.a2 < x1.x) THEN han.a2 ELSE x1.x END AS qua_han_sau,
           coalesce(tl.thanh_phan, false)
             OR jsonb_path_exists(han.tai_lieu_nop, '$[*] ? ((@.DuocSoHoa == 1 || @.DuocSoHoa == "1")
                                                         && @.DuongDanTaiTepTin != null && @.DuongDanTaiTepTin != "")')
                                                                           AS co_thanh_phan_so,
           coalesce(tl.ket_qua, false)
             OR jsonb_path_exists(han.giay_to_ket_qua,
                                  '$[*] ? (@.DuongDanTepTinKetQua != null && @.DuongDanTepTinKetQua != "")')
                                                                           AS co_kq_dien_tu,
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
    OFFSET 0
)
SELECT ma_ho_so,
       ma_co_quan,
       ma_tthc,
       kenh,
       trang_thai,
       d_nhan,
       (ket_thuc AT TIME ZONE 'Asia/Ho_Chi_Minh')::date                 AS d_ket_thuc,
       coalesce((ket_thuc AT TIME ZONE 'Asia/Ho_Chi_Minh')::date + 1, 'infinity'::date) AS d_het,
       loai_ket_thuc,
       CASE WHEN loai_ket_thuc = 'G' THEN
            CASE WHEN n_f > 1 THEN 'Q'
                 WHEN han IS NULL THEN 'D'
                 WHEN ket_thuc > han + w_f THEN 'Q'
                 WHEN (ket_thuc AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                    < ((han + w_f) AT TIME ZONE 'Asia/Ho_Chi_Minh')::date THEN 'S'
                 ELSE 'D' END
       END                                                              AS ket_qua_han,
       (qua_han_sau AT TIME ZONE 'Asia/Ho_Chi_Minh')::date              AS d_qua_han,
       han_tu_lich,
       (han AT TIME ZONE 'Asia/Ho_Chi_Minh')::date                      AS d_han,
       co_thanh_phan_so AND (NOT can_kq_giay_gq OR co_kq_dien_tu)       AS da_so_hoa,
       can_kq_giay_gq,
       co_kq_dien_tu,
       jsonb_path_exists(le_phi, '$[*] ? (@.Gia.double() > 0)')       AS co_phi,
       coalesce(duoc_thanh_toan_truc_tuyen IN (1, 2), false)            AS tt_truc_tuyen,
       coalesce(duoc_thanh_toan_truc_tuyen IN (1, 2), false)
         OR coalesce(hinh_thuc_thanh_toan IN ('QR', 'POS', 'CHUYEN_KHOAN', 'TRUC_TUYEN'), false) AS tt_khong_tien_mat,
       toan_trinh,
       kenh = 2 AND NOT (can_kq_giay_gq AND NOT co_kq_dien_tu)          AS truc_tuyen_dat,
       jsonb_path_exists(tai_lieu_nop, '$[*] ? (@.DuocTaiSuDung == 1 || @.DuocTaiSuDung == "1")') AS tai_su_dung,
       jsonb_path_exists(tai_lieu_nop, '$[*] ? (@.DuocLayTuKhoDMQG == 1 || @.DuocLayTuKhoDMQG == "1")') AS kho_dmqg,
       danh_gia_hai_long                                                AS danh_gia
FROM xet
