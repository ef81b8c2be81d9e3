-- The KPI input trigger made cheap for the records loader (issue 4, "Records at volume"); kpi.dau_vao keeps
-- exactly the rows of the view kpi.dau_vao_tinh (migration 0014), which stays their single definition.
--
-- Measured per 40,000 dossiers upserted by the loader (backend CPU): the trigger cost about 1.0 s, twice the
-- insert itself. Where it went: JIT compilation of its statement (its estimated cost crosses every JIT
-- threshold; 0.2-0.7 s per statement, for a plan that runs a few microseconds a row), the five
-- jsonb_path_exists (each decompresses its list again: ~13 us a dossier), and the supplement lateral, whose
-- ordered aggregates set up a sort for every dossier although only a few have supplement requests. Now:
-- - the trigger runs without JIT;
-- - the five list booleans come from the loader, which computes them from the parsed line
--   (sohoa/intake/kpi_flags.py) and writes them, for the lines of the batch it loads, into kpi.dau_vao_co
--   before it upserts sohoa.dossier, and deletes them after; for a line without such a row (any other writer
--   of sohoa.dossier) the trigger evaluates the view's jsonpath as before. A row of kpi.dau_vao_co is a
--   function of the record_version line it names, which never changes, so using it is never wrong;
-- - the supplement aggregates run only for lines that have supplement requests (the view's result for an
--   empty list is the same: no requests, n_f 0, w_f 0);
-- - the new rows are joined to their record line directly rather than through sohoa.dossier.
-- tests/integration/test_kpi_inputs_kept.py checks that the rows kept this way equal the view's.
-- depends: 0014_kpi_inputs

-- The list booleans of the lines of a batch being loaded, as bits in the order of sohoa/intake/kpi_flags.py:
-- 1 tp_so_ban_ghi, 2 kq_dien_tu_ban_ghi, 4 co_phi, 8 tai_su_dung, 16 kho_dmqg. Rows live only inside the
-- loader's transaction: unlogged (nothing to recover after a crash) and without an index (read whole, by a
-- hash join, in the statement that upserts the batch).
CREATE UNLOGGED TABLE kpi.dau_vao_co (
    batch_id bigint   NOT NULL,
    line_no  integer  NOT NULL,
    co       smallint NOT NULL
);

-- What the supplement lateral of kpi.dau_vao_tinh returns for one line.
CREATE TYPE kpi.bo_sung_tom AS (a1 timestamptz, b1 timestamptz, a2 timestamptz, n_f bigint, w_f interval);

CREATE OR REPLACE FUNCTION kpi.dau_vao_moi() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM kpi.dau_vao d USING moi WHERE d.ma_ho_so = moi.ma_ho_so;
    END IF;
    -- kpi.dau_vao_tinh restricted to the new rows: the same columns, computed the same way.
    INSERT INTO kpi.dau_vao
    SELECT moi.ma_ho_so,
           v.ma_co_quan,
           left(v.ma_tthc, 8),
           CASE WHEN v.kenh_thuc_hien IN (2, 3) THEN v.kenh_thuc_hien ELSE 1 END::smallint,
           v.trang_thai,
           (v.ngay_tiep_nhan AT TIME ZONE 'Asia/Ho_Chi_Minh')::date,
           k.ket_thuc,
           v.ngay_hen_tra,
           (bs.t).a1, (bs.t).b1, (bs.t).a2,
           coalesce((bs.t).n_f, 0)::integer,
           coalesce((bs.t).w_f, interval '0'),
           CASE WHEN c.co IS NOT NULL THEN c.co & 1 <> 0
                ELSE jsonb_path_exists(v.tai_lieu_nop, '$[*] ? ((@.DuocSoHoa == 1 || @.DuocSoHoa == "1")
                                        && @.DuongDanTaiTepTin != null && @.DuongDanTaiTepTin != "")') END,
           CASE WHEN c.co IS NOT NULL THEN c.co & 2 <> 0
                ELSE jsonb_path_exists(v.giay_to_ket_qua,
                                       '$[*] ? (@.DuongDanTepTinKetQua != null && @.DuongDanTepTinKetQua != "")') END,
           CASE WHEN c.co IS NOT NULL THEN c.co & 4 <> 0
                ELSE jsonb_path_exists(v.le_phi, '$[*] ? (@.Gia.double() > 0)') END,
           coalesce(v.duoc_thanh_toan_truc_tuyen IN (1, 2), false),
           coalesce(v.duoc_thanh_toan_truc_tuyen IN (1, 2), false)
             OR coalesce(v.hinh_thuc_thanh_toan IN ('QR', 'POS', 'CHUYEN_KHOAN', 'TRUC_TUYEN'), false),
           CASE WHEN c.co IS NOT NULL THEN c.co & 8 <> 0
                ELSE jsonb_path_exists(v.tai_lieu_nop, '$[*] ? (@.DuocTaiSuDung == 1 || @.DuocTaiSuDung == "1")') END,
           CASE WHEN c.co IS NOT NULL THEN c.co & 16 <> 0
                ELSE jsonb_path_exists(v.tai_lieu_nop,
                                       '$[*] ? (@.DuocLayTuKhoDMQG == 1 || @.DuocLayTuKhoDMQG == "1")') END,
           v.danh_gia_hai_long
    FROM moi
    JOIN sohoa.record_version v ON v.batch_id = moi.batch_id AND v.line_no = moi.line_no
    LEFT JOIN kpi.dau_vao_co c ON c.batch_id = moi.batch_id AND c.line_no = moi.line_no
    CROSS JOIN LATERAL (
        SELECT CASE WHEN v.trang_thai IN (7, 8, 9, 10) THEN
                    greatest(coalesce(v.ngay_ket_thuc_xu_ly, v.ngay_tra, v.cap_nhat_luc), v.ngay_tiep_nhan)
               END AS ket_thuc
    ) k
    -- OFFSET 0 keeps the subquery from being expanded once per field of its row.
    CROSS JOIN LATERAL (
        SELECT CASE WHEN v.ho_so_bo_sung <> '[]'::jsonb THEN (
                   SELECT ROW(min(r.a),
                              (array_agg(r.b ORDER BY r.a, r.b))[1],
                              (array_agg(r.a ORDER BY r.a, r.b))[2],
                              count(*) FILTER (WHERE r.a < k.ket_thuc),
                              sum(least(coalesce(r.b, k.ket_thuc), k.ket_thuc) - r.a) FILTER (WHERE r.a < k.ket_thuc)
                          )::kpi.bo_sung_tom
                   FROM kpi.bo_sung(v.ho_so_bo_sung) r)
               END AS t
        OFFSET 0
    ) bs
    WHERE v.trang_thai NOT IN (1, 3)
      AND v.ngay_tiep_nhan IS NOT NULL;
    RETURN NULL;
END $$;
