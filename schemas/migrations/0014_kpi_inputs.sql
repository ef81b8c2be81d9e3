-- Per-dossier KPI inputs, flat, kept with the dossier's winning state (issue 7's performance target).
--
-- A full KPI build used to read every winning record line's jsonb lists (supplement requests, fees, submitted
-- components, results) and join sohoa.dossier to the wide sohoa.record_version: ~60 µs per dossier, ten
-- minutes for 10M. What depends on the record line alone is now computed once, when the line becomes a
-- dossier's winning state, by statement triggers on sohoa.dossier (the loader is unchanged: it upserts
-- sohoa.dossier as before), into kpi.dau_vao; the build reads these flat columns and adds what depends on
-- the catalogue, the holiday calendar and the documents (schemas/kpi/ho_so.sql).
--
-- The view kpi.dau_vao_tinh is the single definition of these inputs (definition version 766-2026.1); a new
-- definition version refills the table with kpi.nap_lai_dau_vao().
-- depends: 0004_kpi

-- The record-line part of ../shared/domain/kpi.md's per-dossier terms, for the dossiers that take part
-- (status not 1 or 3, NgayTiepNhan set). Times are instants; d_nhan is the local receipt date.
CREATE VIEW kpi.dau_vao_tinh AS
SELECT x.ma_ho_so,
       v.ma_co_quan,
       left(v.ma_tthc, 8)                                             AS ma_tthc,
       CASE WHEN v.kenh_thuc_hien IN (2, 3) THEN v.kenh_thuc_hien ELSE 1 END::smallint AS kenh,
       v.trang_thai,
       (v.ngay_tiep_nhan AT TIME ZONE 'Asia/Ho_Chi_Minh')::date       AS d_nhan,
       -- the finish time F of a terminal status; never before the receipt (see schemas/kpi/ho_so.sql)
       k.ket_thuc,
       v.ngay_hen_tra,
       -- supplement requests: the first request (a1, answered b1), the second request's time a2, and at the
       -- finish time F: n(F) and W(F)
       bs.a1, bs.b1, bs.a2,
       coalesce(bs.n_f, 0)::integer                                   AS n_f,
       coalesce(bs.w_f, interval '0')                                 AS w_f,
       jsonb_path_exists(v.tai_lieu_nop, '$[*] ? ((@.DuocSoHoa == 1 || @.DuocSoHoa == "1")
                                         && @.DuongDanTaiTepTin != null && @.DuongDanTaiTepTin != "")')
                                                                      AS tp_so_ban_ghi,
       jsonb_path_exists(v.giay_to_ket_qua,
                         '$[*] ? (@.DuongDanTepTinKetQua != null && @.DuongDanTepTinKetQua != "")')
                                                                      AS kq_dien_tu_ban_ghi,
       jsonb_path_exists(v.le_phi, '$[*] ? (@.Gia.double() > 0)')     AS co_phi,
       coalesce(v.duoc_thanh_toan_truc_tuyen IN (1, 2), false)        AS tt_truc_tuyen,
       coalesce(v.duoc_thanh_toan_truc_tuyen IN (1, 2), false)
         OR coalesce(v.hinh_thuc_thanh_toan IN ('QR', 'POS', 'CHUYEN_KHOAN', 'TRUC_TUYEN'), false) AS tt_khong_tien_mat,
       jsonb_path_exists(v.tai_lieu_nop, '$[*] ? (@.DuocTaiSuDung == 1 || @.DuocTaiSuDung == "1")') AS tai_su_dung,
       jsonb_path_exists(v.tai_lieu_nop, '$[*] ? (@.DuocLayTuKhoDMQG == 1 || @.DuocLayTuKhoDMQG == "1")') AS kho_dmqg,
       v.danh_gia_hai_long                                            AS danh_gia
FROM sohoa.dossier x
JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
CROSS JOIN LATERAL (
    SELECT CASE WHEN v.trang_thai IN (7, 8, 9, 10) THEN
                greatest(coalesce(v.ngay_ket_thuc_xu_ly, v.ngay_tra, v.cap_nhat_luc), v.ngay_tiep_nhan)
           END AS ket_thuc
) k
LEFT JOIN LATERAL (
    SELECT min(r.a)                                                   AS a1,
           (array_agg(r.b ORDER BY r.a, r.b))[1]                      AS b1,
           (array_agg(r.a ORDER BY r.a, r.b))[2]                      AS a2,
           count(*) FILTER (WHERE r.a < k.ket_thuc)                   AS n_f,
           sum(least(coalesce(r.b, k.ket_thuc), k.ket_thuc) - r.a) FILTER (WHERE r.a < k.ket_thuc) AS w_f
    FROM kpi.bo_sung(v.ho_so_bo_sung) r
) bs ON v.ho_so_bo_sung <> '[]'::jsonb
WHERE v.trang_thai NOT IN (1, 3)
  AND v.ngay_tiep_nhan IS NOT NULL;

CREATE TABLE kpi.dau_vao (
    ma_ho_so           text PRIMARY KEY,
    ma_co_quan         text        NOT NULL,
    ma_tthc            text        NOT NULL,
    kenh               smallint    NOT NULL,
    trang_thai         smallint    NOT NULL,
    d_nhan             date        NOT NULL,
    ket_thuc           timestamptz,
    ngay_hen_tra       timestamptz,
    a1                 timestamptz,
    b1                 timestamptz,
    a2                 timestamptz,
    n_f                integer     NOT NULL,
    w_f                interval    NOT NULL,
    tp_so_ban_ghi      boolean     NOT NULL,
    kq_dien_tu_ban_ghi boolean     NOT NULL,
    co_phi             boolean     NOT NULL,
    tt_truc_tuyen      boolean     NOT NULL,
    tt_khong_tien_mat  boolean     NOT NULL,
    tai_su_dung        boolean     NOT NULL,
    kho_dmqg           boolean     NOT NULL,
    danh_gia           smallint
);

-- Refill every dossier's inputs (after a change of their definition); returns the rows written.
CREATE FUNCTION kpi.nap_lai_dau_vao() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    DELETE FROM kpi.dau_vao;
    INSERT INTO kpi.dau_vao SELECT * FROM kpi.dau_vao_tinh;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Kept in the statement that changes sohoa.dossier (one INSERT per statement, like kpi.thay_doi).
CREATE FUNCTION kpi.dau_vao_moi() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM kpi.dau_vao d USING moi WHERE d.ma_ho_so = moi.ma_ho_so;
    END IF;
    INSERT INTO kpi.dau_vao SELECT t.* FROM kpi.dau_vao_tinh t JOIN moi ON moi.ma_ho_so = t.ma_ho_so;
    RETURN NULL;
END $$;

CREATE FUNCTION kpi.dau_vao_xoa() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM kpi.dau_vao d USING cu WHERE d.ma_ho_so = cu.ma_ho_so;
    RETURN NULL;
END $$;

CREATE TRIGGER kpi_dau_vao_insert AFTER INSERT ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.dau_vao_moi();
CREATE TRIGGER kpi_dau_vao_update AFTER UPDATE ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.dau_vao_moi();
CREATE TRIGGER kpi_dau_vao_delete AFTER DELETE ON sohoa.dossier
    REFERENCING OLD TABLE AS cu FOR EACH STATEMENT EXECUTE FUNCTION kpi.dau_vao_xoa();

INSERT INTO kpi.dau_vao SELECT * FROM kpi.dau_vao_tinh;

-- The per-dossier facts are a cache of the incremental build, rebuilt by every full build: unlogged, so a
-- full build writes no WAL for them. After a crash PostgreSQL empties it, and the next build, finding no
-- facts, is a full one (sohoa/kpi/build.py).
ALTER TABLE kpi.ho_so SET UNLOGGED;

-- The daily step keys its events by an integer series id rather than the two text codes (schemas/kpi/
-- ngay_chi_tiet.sql): sorting tens of millions of rows on text is what made it slow.
ALTER TABLE kpi.doan ADD COLUMN id integer GENERATED BY DEFAULT AS IDENTITY;
