-- The public views of contracts/outputs.md. Their names and columns are a contract.
-- depends: 0001_core

-- The current state of each dossier, with catalogue attributes; internal helper of the public views.
CREATE VIEW sohoa.dossier_current AS
SELECT v.*,
       COALESCE(p.ma_linh_vuc, v.ma_linh_vuc)  AS ma_linh_vuc_hieu_luc,
       COALESCE(p.co_ket_qua_giay, false)      AS can_ket_qua_giay,
       EXISTS (SELECT 1 FROM sohoa.document d WHERE d.ma_ho_so = v.ma_ho_so AND d.loai = 'thanh_phan')
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(v.tai_lieu_nop) t
                  WHERE (t ->> 'DuocSoHoa') = '1' AND COALESCE(t ->> 'DuongDanTaiTepTin', '') <> '')
                                                AS co_thanh_phan_so_hoa,
       EXISTS (SELECT 1 FROM sohoa.document d WHERE d.ma_ho_so = v.ma_ho_so AND d.loai = 'ket_qua')
       OR EXISTS (SELECT 1 FROM jsonb_array_elements(v.giay_to_ket_qua) g
                  WHERE COALESCE(g ->> 'DuongDanTepTinKetQua', '') <> '')
                                                AS co_ket_qua_dien_tu
FROM sohoa.dossier x
JOIN sohoa.record_version v ON v.batch_id = x.batch_id AND v.line_no = x.line_no
LEFT JOIN sohoa.procedure p ON p.ma_tthc = v.ma_tthc_quoc_gia;

CREATE VIEW publish.ho_so AS
SELECT c.ma_ho_so,
       c.ma_tthc,
       c.ma_co_quan,
       c.ma_linh_vuc_hieu_luc AS ma_linh_vuc,
       COALESCE(c.kenh_thuc_hien, 1)::smallint AS kenh_thuc_hien,
       c.trang_thai,
       c.ngay_tiep_nhan,
       c.ngay_hen_tra,
       c.ngay_ket_thuc_xu_ly,
       c.ngay_tra,
       c.chu_ho_so_ma_hoa,
       (SELECT count(*) FROM sohoa.document d
         WHERE d.ma_ho_so = c.ma_ho_so AND d.loai = 'thanh_phan')::integer AS so_thanh_phan_so_hoa,
       c.co_ket_qua_dien_tu,
       (c.co_thanh_phan_so_hoa
        AND (NOT (c.can_ket_qua_giay AND c.trang_thai IN (9, 10)) OR c.co_ket_qua_dien_tu)) AS da_so_hoa,
       c.cap_nhat_luc
FROM sohoa.dossier_current c;

CREATE VIEW publish.giay_to AS
SELECT d.ma_ho_so,
       d.loai,
       d.ten_giay_to,
       o.raw_uri          AS object_uri,
       o.sha256,
       o.mime_type,
       COALESCE(r.page_count, o.page_count) AS so_trang,
       r.min_dpi          AS dpi_toi_thieu,
       r.searchable_uri   AS searchable_pdf_uri,
       r.text_uri,
       r.mean_confidence  AS do_tin_cay_ocr,
       r.extracted        AS truong_trich_xuat,
       d.received_at      AS so_hoa_luc
FROM sohoa.document d
JOIN sohoa.original o ON o.sha256 = d.sha256
LEFT JOIN sohoa.ocr_result r ON r.sha256 = d.sha256 AND r.status = 'done';

CREATE VIEW quality.issues AS
SELECT source, ma_ho_so, object_key, line_no, rule, severity, detail, detected_at, resolved_at
FROM sohoa.issue;
