-- KPI tables of ../shared/domain/kpi.md (definition version 766-2026.1): the holiday calendar, the per-dossier
-- facts, the daily table, the period table, the build log and the change capture of the incremental build.
-- The SQL that fills them lives in schemas/kpi/ and is run by `sohoa kpi build` (sohoa/kpi/build.py).
-- depends: 0002_views

CREATE SCHEMA IF NOT EXISTS kpi;

-- Vietnam's public holidays on which offices close (weekdays only: weekends are never working days).
-- Operators may insert, update or delete rows; the next build re-evaluates every dossier whose deadline
-- counts working days across a changed date. The seed is 0004b_kpi_holidays.sql.
CREATE TABLE kpi.ngay_nghi (
    ngay         date PRIMARY KEY,
    ten          text        NOT NULL,
    nguon        text        NOT NULL DEFAULT 'operator',
    cap_nhat_luc timestamptz NOT NULL DEFAULT now()
);

-- The working-day calendar the build derives from kpi.ngay_nghi (2000-2045): stt numbers the working days,
-- so the n-th working day after day d is the working day whose stt is stt(d) + n. A plain table, not a
-- temporary one, so that parallel workers can read it.
CREATE TABLE kpi.lich (
    ngay     date PRIMARY KEY,
    lam_viec boolean NOT NULL,
    stt      integer NOT NULL
);
CREATE UNIQUE INDEX lich_stt ON kpi.lich (stt) WHERE lam_viec;

-- The (agency, procedure, day range) segments a build recomputes; filled and emptied by each build
-- (serialised by an advisory lock). Unlogged: it never outlives a build. A plain table so that parallel
-- workers can read it.
CREATE UNLOGGED TABLE kpi.doan (
    ma_co_quan text NOT NULL,
    ma_tthc    text NOT NULL,
    tu         date NOT NULL,
    den        date NOT NULL
);

-- The holidays (and procedure attributes) the last build used: the next build diffs against them to find
-- the dossiers a calendar or catalogue change affects.
CREATE TABLE kpi.ngay_nghi_da_dung (ngay date PRIMARY KEY);
CREATE TABLE kpi.tthc_da_dung (
    ma_tthc             text PRIMARY KEY,
    thoi_han_giai_quyet integer,
    co_ket_qua_giay     boolean NOT NULL,
    toan_trinh          boolean NOT NULL
);

-- Per accepted dossier: everything the daily table needs, computed once per change (schemas/kpi/ho_so.sql).
-- Days are local dates (Asia/Ho_Chi_Minh). d_het is the first day on which the dossier no longer enters any
-- count ('infinity' while it is open); d_qua_han the first day at whose end it is overdue if still open.
CREATE TABLE kpi.ho_so (
    ma_ho_so          text PRIMARY KEY,
    ma_co_quan        text     NOT NULL,
    ma_tthc           text     NOT NULL,
    kenh              smallint NOT NULL,
    trang_thai        smallint NOT NULL,
    d_nhan            date     NOT NULL,
    d_ket_thuc        date,
    d_het             date     NOT NULL,
    loai_ket_thuc     char(1),          -- 'G' resolved (8, 9, 10), 'R' withdrawn (7), null while open
    ket_qua_han       char(1),          -- of a resolved dossier: 'S' early, 'D' on time, 'Q' late
    d_qua_han         date,
    han_tu_lich       boolean  NOT NULL, -- the deadline was counted on the working-day calendar
    d_han             date,             -- the local date of the base deadline (NgayHenTra or counted)
    da_so_hoa         boolean  NOT NULL,
    can_kq_giay_gq    boolean  NOT NULL, -- status 9 or 10 and the procedure returns a paper result
    co_kq_dien_tu     boolean  NOT NULL,
    co_phi            boolean  NOT NULL,
    tt_truc_tuyen     boolean  NOT NULL,
    tt_khong_tien_mat boolean  NOT NULL,
    toan_trinh        boolean  NOT NULL,
    truc_tuyen_dat    boolean  NOT NULL, -- counts in the numerator of TRUC_TUYEN
    tai_su_dung       boolean  NOT NULL,
    kho_dmqg          boolean  NOT NULL,
    danh_gia          smallint
);
CREATE INDEX ho_so_d_het ON kpi.ho_so (d_het);
CREATE INDEX ho_so_d_nhan ON kpi.ho_so (d_nhan);
CREATE INDEX ho_so_ma_tthc ON kpi.ho_so (ma_tthc);
CREATE INDEX ho_so_chuoi ON kpi.ho_so (ma_co_quan, ma_tthc, d_het);

-- The supplement requests of a record (DanhSachHoSoBoSung as stored by the intake): asked a, answered b.
CREATE FUNCTION kpi.bo_sung(danh_sach jsonb) RETURNS TABLE (a timestamptz, b timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT (e ->> 'NgayBoSung')::timestamptz, (e ->> 'NgayTiepNhanBoSung')::timestamptz
    FROM jsonb_array_elements(danh_sach) e
    WHERE e ->> 'NgayBoSung' IS NOT NULL
$$;

-- The daily counts per (day, agency, national procedure code): the columns of kpi.md plus the auxiliary
-- counts the period indicators need (toan_trinh, reuse, national store, rated-3 splits). The public
-- relation is the view kpi.dossier_daily below.
CREATE TABLE kpi.ngay_chi_tiet (
    ngay                        date    NOT NULL,
    ma_co_quan                  text    NOT NULL,
    ma_tthc                     text    NOT NULL,
    tiep_nhan                   integer NOT NULL,
    tiep_nhan_truc_tiep         integer NOT NULL,
    tiep_nhan_truc_tuyen        integer NOT NULL,
    tiep_nhan_buu_chinh         integer NOT NULL,
    giai_quyet                  integer NOT NULL,
    giai_quyet_truoc_han        integer NOT NULL,
    giai_quyet_dung_han         integer NOT NULL,
    giai_quyet_qua_han          integer NOT NULL,
    rut_ho_so                   integer NOT NULL,
    dang_giai_quyet             integer NOT NULL,
    dang_giai_quyet_trong_han   integer NOT NULL,
    dang_giai_quyet_qua_han     integer NOT NULL,
    da_so_hoa                   integer NOT NULL,
    giai_quyet_can_ket_qua_giay integer NOT NULL,
    co_ket_qua_dien_tu          integer NOT NULL,
    co_phi                      integer NOT NULL,
    thanh_toan_truc_tuyen       integer NOT NULL,
    thanh_toan_khong_tien_mat   integer NOT NULL,
    danh_gia                    integer NOT NULL,
    khong_hai_long              integer NOT NULL,
    tn_toan_trinh               integer NOT NULL,
    tn_truc_tuyen_dat           integer NOT NULL,
    tn_tai_su_dung              integer NOT NULL,
    tn_kho_dmqg                 integer NOT NULL,
    gq_qua_han_hl3              integer NOT NULL,
    rut_hl3                     integer NOT NULL,
    dang_gq_hl3                 integer NOT NULL,
    dang_gq_qua_han_hl3         integer NOT NULL,
    CONSTRAINT ngay_chi_tiet_pkey PRIMARY KEY (ma_co_quan, ma_tthc, ngay)
);
CREATE INDEX ngay_chi_tiet_ngay ON kpi.ngay_chi_tiet (ngay);
CREATE INDEX ngay_chi_tiet_co_quan ON kpi.ngay_chi_tiet (ma_co_quan, ngay);

-- The same counts per (day, agency), plus '*' for all agencies: what the period indicators read.
CREATE TABLE kpi.co_quan_ngay (LIKE kpi.ngay_chi_tiet);
ALTER TABLE kpi.co_quan_ngay DROP COLUMN ma_tthc;
ALTER TABLE kpi.co_quan_ngay ADD CONSTRAINT co_quan_ngay_pkey PRIMARY KEY (ma_co_quan, ngay);
CREATE INDEX co_quan_ngay_ngay ON kpi.co_quan_ngay (ngay);

-- The period table of kpi.md.
CREATE TABLE kpi.indicator (
    ky          text          NOT NULL CHECK (ky IN ('ngay', 'thang', 'quy', 'nam')),
    tu_ngay     date          NOT NULL,
    den_ngay    date          NOT NULL,
    ma_co_quan  text          NOT NULL,
    chi_so      text          NOT NULL,
    tu_so       bigint        NOT NULL,
    mau_so      bigint        NOT NULL,
    ty_le       numeric(7, 2),
    diem        numeric(6, 2),
    diem_toi_da numeric(6, 2),
    phien_ban   text          NOT NULL,
    CONSTRAINT indicator_pkey PRIMARY KEY (ky, tu_ngay, ma_co_quan, chi_so)
);
CREATE INDEX indicator_co_quan ON kpi.indicator (ma_co_quan, ky, tu_ngay);

-- The public daily table: exactly the columns of kpi.md, and the definition version.
CREATE VIEW kpi.dossier_daily AS
SELECT ngay, ma_co_quan, ma_tthc, tiep_nhan, tiep_nhan_truc_tiep, tiep_nhan_truc_tuyen, tiep_nhan_buu_chinh,
       giai_quyet, giai_quyet_truoc_han, giai_quyet_dung_han, giai_quyet_qua_han, rut_ho_so, dang_giai_quyet,
       dang_giai_quyet_trong_han, dang_giai_quyet_qua_han, da_so_hoa, giai_quyet_can_ket_qua_giay,
       co_ket_qua_dien_tu, co_phi, thanh_toan_truc_tuyen, thanh_toan_khong_tien_mat, danh_gia, khong_hai_long,
       '766-2026.1'::text AS phien_ban
FROM kpi.ngay_chi_tiet;

-- What the last successful build covered (one row) and every build, successful or not.
CREATE TABLE kpi.build_state (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    ngay_build date        NOT NULL,  -- the build date B: days < B are in the tables
    phien_ban  text        NOT NULL,
    built_at   timestamptz NOT NULL
);

CREATE TABLE kpi.build_log (
    id              bigserial PRIMARY KEY,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz,
    kind            text        NOT NULL CHECK (kind IN ('full', 'incremental', 'range')),
    tu_ngay         date,                 -- first day recomputed (null: nothing to do)
    den_ngay        date        NOT NULL, -- the build date B (exclusive)
    phien_ban       text        NOT NULL,
    ho_so_changed   integer,
    daily_rows      integer,
    indicator_rows  integer,
    duration_s      numeric(10, 3),
    status          text        NOT NULL CHECK (status IN ('ok', 'failed')),
    error           text
);

-- Change capture: every dossier whose record state or documents changed since the last build. Filled in the
-- same transaction as the change (statement triggers with transition tables: one INSERT per statement),
-- consumed by the build that reads it.
CREATE TABLE kpi.thay_doi (
    id       bigserial PRIMARY KEY,
    ma_ho_so text        NOT NULL,
    luc      timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION kpi.ghi_thay_doi_moi() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi.thay_doi (ma_ho_so) SELECT DISTINCT ma_ho_so FROM moi WHERE ma_ho_so IS NOT NULL;
    RETURN NULL;
END $$;

CREATE FUNCTION kpi.ghi_thay_doi_cu() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO kpi.thay_doi (ma_ho_so) SELECT DISTINCT ma_ho_so FROM cu WHERE ma_ho_so IS NOT NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER kpi_dossier_insert AFTER INSERT ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_moi();
CREATE TRIGGER kpi_dossier_update AFTER UPDATE ON sohoa.dossier
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_moi();
CREATE TRIGGER kpi_dossier_delete AFTER DELETE ON sohoa.dossier
    REFERENCING OLD TABLE AS cu FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_cu();
CREATE TRIGGER kpi_document_insert AFTER INSERT ON sohoa.document
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_moi();
CREATE TRIGGER kpi_document_update AFTER UPDATE ON sohoa.document
    REFERENCING OLD TABLE AS cu FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_cu();
CREATE TRIGGER kpi_document_update_new AFTER UPDATE ON sohoa.document
    REFERENCING NEW TABLE AS moi FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_moi();
CREATE TRIGGER kpi_document_delete AFTER DELETE ON sohoa.document
    REFERENCING OLD TABLE AS cu FOR EACH STATEMENT EXECUTE FUNCTION kpi.ghi_thay_doi_cu();
