"""A sample agency and procedure catalogue for one province (Đồng Nai, H19).

The structure is real (the provincial committee ``000.00.00.H19``, departments, districts and communes
under it; national procedure codes ``d.dddddd``, field codes ``Gnn-XXnn``), the codes and names only look
real. Besides the contract's columns each sample procedure carries what the record generator needs: which
agencies receive it, its fee lines, its component documents and its result.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sohoa.records.catalogue import AGENCY_COLUMNS, PROCEDURE_COLUMNS

PROVINCE = "000.00.00.H19"


@dataclass(frozen=True)
class SampleAgency:
    ma_co_quan: str
    ten_co_quan: str
    cap: str
    ma_co_quan_cha: str | None


@dataclass(frozen=True)
class SampleProcedure:
    """A catalogue procedure plus what the record generator draws from.

    Attributes:
        fees: (TenPhiLePhi, possible amounts in VND) per fee line; an amount 0 is a waived fee.
        agencies: the agencies that receive this procedure.
        components: the component documents (thành phần hồ sơ) an applicant submits.
        result: the name of the result document; ``result_code`` its catalogued type code.
        organisation_share: the share of applicants that are organisations.
        weight: relative volume of dossiers.
    """

    ma_tthc: str
    ten_tthc: str
    ma_linh_vuc: str
    ten_linh_vuc: str
    thoi_han_giai_quyet: int
    fees: tuple[tuple[str, tuple[int, ...]], ...]
    co_ket_qua_giay: bool
    toan_trinh: bool
    agencies: tuple[str, ...]
    components: tuple[str, ...]
    result: str
    result_code: str
    organisation_share: float
    weight: float

    @property
    def co_phi_le_phi(self) -> bool:
        return any(amount > 0 for _, amounts in self.fees for amount in amounts)


SO_TU_PHAP = "000.00.03.H19"
SO_KHDT = "000.00.04.H19"
SO_GTVT = "000.00.06.H19"
SO_XAY_DUNG = "000.00.07.H19"
SO_TNMT = "000.00.10.H19"
SO_LDTBXH = "000.00.13.H19"
BIEN_HOA = "000.00.32.H19"
LONG_KHANH = "000.00.33.H19"
TRANG_BOM = "000.00.38.H19"
NHON_TRACH = "000.00.41.H19"

AGENCIES: tuple[SampleAgency, ...] = (
    SampleAgency(PROVINCE, "Ủy ban nhân dân tỉnh Đồng Nai", "TINH", None),
    SampleAgency(SO_TU_PHAP, "Sở Tư pháp tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(SO_KHDT, "Sở Kế hoạch và Đầu tư tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(SO_GTVT, "Sở Giao thông vận tải tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(SO_XAY_DUNG, "Sở Xây dựng tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(SO_TNMT, "Sở Tài nguyên và Môi trường tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(SO_LDTBXH, "Sở Lao động - Thương binh và Xã hội tỉnh Đồng Nai", "TINH", PROVINCE),
    SampleAgency(BIEN_HOA, "Ủy ban nhân dân thành phố Biên Hòa", "HUYEN", PROVINCE),
    SampleAgency(LONG_KHANH, "Ủy ban nhân dân thành phố Long Khánh", "HUYEN", PROVINCE),
    SampleAgency(TRANG_BOM, "Ủy ban nhân dân huyện Trảng Bom", "HUYEN", PROVINCE),
    SampleAgency(NHON_TRACH, "Ủy ban nhân dân huyện Nhơn Trạch", "HUYEN", PROVINCE),
    SampleAgency("000.25.32.H19", "Ủy ban nhân dân phường Tân Phong", "XA", BIEN_HOA),
    SampleAgency("000.26.32.H19", "Ủy ban nhân dân phường Trảng Dài", "XA", BIEN_HOA),
    SampleAgency("000.20.33.H19", "Ủy ban nhân dân phường Xuân An", "XA", LONG_KHANH),
    SampleAgency("000.20.38.H19", "Ủy ban nhân dân thị trấn Trảng Bom", "XA", TRANG_BOM),
    SampleAgency("000.21.38.H19", "Ủy ban nhân dân xã Bắc Sơn", "XA", TRANG_BOM),
    SampleAgency("000.20.41.H19", "Ủy ban nhân dân xã Phước Thiền", "XA", NHON_TRACH),
)

DISTRICTS = tuple(a.ma_co_quan for a in AGENCIES if a.cap == "HUYEN")
COMMUNES = tuple(a.ma_co_quan for a in AGENCIES if a.cap == "XA")

PROCEDURES: tuple[SampleProcedure, ...] = (
    SampleProcedure(
        "2.000815",
        "Chứng thực bản sao từ bản chính giấy tờ, văn bản do cơ quan, tổ chức có thẩm quyền của Việt Nam cấp "
        "hoặc chứng nhận",
        "G09-CT01",
        "Chứng thực",
        1,
        (("Lệ phí chứng thực bản sao từ bản chính", (2000, 4000, 6000, 10000)),),
        True,
        False,
        DISTRICTS + COMMUNES,
        ("Bản chính giấy tờ, văn bản làm cơ sở để chứng thực bản sao", "Bản sao cần chứng thực"),
        "Bản sao được chứng thực từ bản chính",
        "KQ.G09.000031",
        0.05,
        3.0,
    ),
    SampleProcedure(
        "1.001193",
        "Thủ tục đăng ký khai sinh",
        "G09-HT01",
        "Hộ tịch",
        1,
        (("Lệ phí đăng ký khai sinh (miễn)", (0,)),),
        True,
        True,
        COMMUNES,
        ("Tờ khai đăng ký khai sinh", "Giấy chứng sinh", "Giấy tờ tùy thân của người đi đăng ký"),
        "Giấy khai sinh (bản chính)",
        "KQ.G09.000004",
        0.0,
        2.5,
    ),
    SampleProcedure(
        "1.000894",
        "Thủ tục đăng ký kết hôn",
        "G09-HT01",
        "Hộ tịch",
        3,
        (("Lệ phí đăng ký kết hôn (miễn)", (0,)),),
        True,
        False,
        COMMUNES,
        ("Tờ khai đăng ký kết hôn", "Giấy xác nhận tình trạng hôn nhân", "Giấy tờ tùy thân của hai bên nam, nữ"),
        "Giấy chứng nhận kết hôn",
        "KQ.G09.000007",
        0.0,
        0.8,
    ),
    SampleProcedure(
        "1.004873",
        "Thủ tục cấp Giấy xác nhận tình trạng hôn nhân",
        "G09-HT01",
        "Hộ tịch",
        3,
        (("Lệ phí cấp Giấy xác nhận tình trạng hôn nhân", (3000,)),),
        True,
        True,
        COMMUNES,
        ("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân",),
        "Giấy xác nhận tình trạng hôn nhân",
        "KQ.G09.000012",
        0.0,
        1.2,
    ),
    SampleProcedure(
        "2.001680",
        "Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam, người nước ngoài đang cư trú tại Việt Nam",
        "G09-LL01",
        "Lý lịch tư pháp",
        10,
        (("Phí cung cấp thông tin lý lịch tư pháp", (200000, 100000)),),
        True,
        True,
        (SO_TU_PHAP,),
        ("Tờ khai yêu cầu cấp Phiếu lý lịch tư pháp", "Bản chụp thẻ Căn cước công dân"),
        "Phiếu lý lịch tư pháp số 1",
        "KQ.G09.000020",
        0.0,
        1.2,
    ),
    SampleProcedure(
        "1.001612",
        "Đăng ký thành lập hộ kinh doanh",
        "G05-KD01",
        "Thành lập và hoạt động của hộ kinh doanh",
        3,
        (("Lệ phí đăng ký hộ kinh doanh", (100000,)),),
        True,
        True,
        DISTRICTS,
        (
            "Giấy đề nghị đăng ký hộ kinh doanh",
            "Bản sao giấy tờ pháp lý của cá nhân",
            "Biên bản họp thành viên hộ gia đình",
        ),
        "Giấy chứng nhận đăng ký hộ kinh doanh",
        "KQ.G05.000002",
        0.0,
        1.2,
    ),
    SampleProcedure(
        "2.001199",
        "Đăng ký thay đổi nội dung đăng ký doanh nghiệp đối với công ty trách nhiệm hữu hạn hai thành viên trở lên",
        "G05-DN01",
        "Thành lập và hoạt động doanh nghiệp",
        3,
        (("Lệ phí đăng ký doanh nghiệp", (50000,)), ("Phí công bố nội dung đăng ký doanh nghiệp", (100000,))),
        True,
        True,
        (SO_KHDT,),
        (
            "Thông báo thay đổi nội dung đăng ký doanh nghiệp",
            "Nghị quyết của Hội đồng thành viên",
            "Biên bản họp Hội đồng thành viên",
        ),
        "Giấy chứng nhận đăng ký doanh nghiệp",
        "KQ.G05.000011",
        1.0,
        1.0,
    ),
    SampleProcedure(
        "1.009794",
        "Cấp giấy phép xây dựng mới đối với nhà ở riêng lẻ",
        "G11-XD02",
        "Hoạt động xây dựng",
        15,
        (("Lệ phí cấp giấy phép xây dựng nhà ở riêng lẻ", (75000,)),),
        True,
        True,
        DISTRICTS,
        ("Đơn đề nghị cấp giấy phép xây dựng", "Bản sao Giấy chứng nhận quyền sử dụng đất", "Bản vẽ thiết kế xây dựng"),
        "Giấy phép xây dựng",
        "KQ.G11.000003",
        0.1,
        1.0,
    ),
    SampleProcedure(
        "1.009972",
        "Cấp giấy phép xây dựng mới đối với công trình cấp đặc biệt, cấp I, cấp II",
        "G11-XD02",
        "Hoạt động xây dựng",
        20,
        (("Lệ phí cấp giấy phép xây dựng công trình", (150000,)),),
        True,
        False,
        (SO_XAY_DUNG,),
        (
            "Đơn đề nghị cấp giấy phép xây dựng",
            "Quyết định phê duyệt dự án",
            "Bản vẽ thiết kế xây dựng",
            "Văn bản thông báo kết quả thẩm định thiết kế",
        ),
        "Giấy phép xây dựng",
        "KQ.G11.000004",
        1.0,
        0.3,
    ),
    SampleProcedure(
        "1.004227",
        "Đăng ký biến động quyền sử dụng đất, quyền sở hữu tài sản gắn liền với đất do thay đổi thông tin về "
        "người được cấp Giấy chứng nhận",
        "G13-DD01",
        "Đất đai",
        10,
        (("Lệ phí cấp Giấy chứng nhận quyền sử dụng đất", (20000, 28000)),),
        True,
        False,
        DISTRICTS + (SO_TNMT,),
        (
            "Đơn đăng ký biến động đất đai, tài sản gắn liền với đất",
            "Bản gốc Giấy chứng nhận đã cấp",
            "Bản sao giấy tờ chứng minh nội dung biến động",
        ),
        "Giấy chứng nhận quyền sử dụng đất (xác nhận thay đổi)",
        "KQ.G13.000017",
        0.1,
        1.5,
    ),
    SampleProcedure(
        "1.002804",
        "Đổi giấy phép lái xe do ngành Giao thông vận tải cấp",
        "G12-DB03",
        "Đường bộ",
        5,
        (("Lệ phí cấp đổi giấy phép lái xe", (135000,)),),
        True,
        True,
        (SO_GTVT,),
        ("Đơn đề nghị đổi giấy phép lái xe", "Giấy khám sức khỏe của người lái xe", "Bản sao giấy phép lái xe"),
        "Giấy phép lái xe",
        "KQ.G12.000009",
        0.0,
        1.5,
    ),
    SampleProcedure(
        "1.000401",
        "Giải quyết hưởng trợ cấp thất nghiệp",
        "G16-VL01",
        "Việc làm",
        20,
        (),
        True,
        False,
        (SO_LDTBXH,),
        ("Đề nghị hưởng trợ cấp thất nghiệp", "Bản sao quyết định thôi việc", "Sổ bảo hiểm xã hội"),
        "Quyết định về việc hưởng trợ cấp thất nghiệp",
        "KQ.G16.000001",
        0.0,
        0.8,
    ),
    SampleProcedure(
        "1.005010",
        "Chuyển trường đối với học sinh trung học cơ sở",
        "G03-GD10",
        "Giáo dục trung học",
        3,
        (),
        False,
        True,
        DISTRICTS,
        ("Đơn xin chuyển trường", "Học bạ", "Giấy giới thiệu chuyển trường"),
        "Giấy tiếp nhận học sinh chuyển trường",
        "KQ.G03.000006",
        0.0,
        0.6,
    ),
)


def _csv(header: tuple[str, ...], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def agencies_csv() -> bytes:
    """``catalogue/agencies.csv`` of the sample province."""
    return _csv(AGENCY_COLUMNS, [[a.ma_co_quan, a.ten_co_quan, a.cap, a.ma_co_quan_cha or ""] for a in AGENCIES])


def procedures_csv() -> bytes:
    """``catalogue/procedures.csv`` of the sample procedures."""
    return _csv(
        PROCEDURE_COLUMNS,
        [
            [
                p.ma_tthc,
                p.ten_tthc,
                p.ma_linh_vuc,
                p.ten_linh_vuc,
                str(p.thoi_han_giai_quyet),
                str(int(p.co_phi_le_phi)),
                str(int(p.co_ket_qua_giay)),
                str(int(p.toan_trinh)),
            ]
            for p in PROCEDURES
        ],
    )
