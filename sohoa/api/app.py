"""The read API of the "1 có" dataset for downstream systems (FastAPI; OpenAPI at ``/docs`` and
``/openapi.json``).

- Authentication: ``Authorization: Bearer <token>`` (tokens from ``sohoa api token create``, stored hashed,
  see :mod:`sohoa.api.tokens`); a missing, unknown, expired or revoked token gets 401.
- ``GET /v1/ho-so``: dossiers (the columns of ``publish.ho_so``) with filters ``ma_co_quan``, ``ma_tthc``
  (matched on the national code, its first 8 characters), ``tu_ngay``/``den_ngay`` (local receipt dates
  in Vietnam time, ``den_ngay`` exclusive as in the KPI build), ``da_so_hoa``; ordered by ``ma_ho_so``
  with keyset cursor pagination (``limit``, ``cursor`` -> ``next_cursor``). A cursor is bound to its
  filters: reusing it with other filters is a 400, never a silently wrong page.
- ``GET /v1/ho-so/{ma_ho_so}``: one dossier with its documents (``publish.giay_to`` less the storage URIs).
- ``GET /v1/ho-so/{ma_ho_so}/giay-to/{sha256}/link``: a presigned download URL of the original, valid
  ``SOHOA_API_LINK_TTL_S`` seconds (default 300); ``?redirect=1`` answers 307 to it instead.
- ``GET /v1/snapshots/latest``: the manifest of the newest snapshot.

A token limited to some agencies sees only their dossiers; another agency's dossier is a 404, as if it did
not exist (no existence leak). Every request, allowed or not, is written to ``sohoa.api_access_log``
(token id, method, path, query, status, dossier code, document hash, client address): never a token,
never personal data. Responses carry the keyed pseudonym and masked names only, like the views.
"""

# No "from __future__ import annotations": FastAPI reads the endpoint annotations at runtime, and they
# refer to values local to create_app (the page-size cap, the Caller dependency).

import base64
import binascii
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, HTTPException, Path, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from sohoa.api.tokens import Token, authenticate
from sohoa.config import Settings
from sohoa.db.connection import Connection
from sohoa.db.pool import WaitingPool
from sohoa.publish import contract
from sohoa.publish.options import ApiOptions
from sohoa.storage import s3

HO_SO_COLUMNS = [c.name for c in contract.columns("ho_so")]
GIAY_TO_FIELDS = [
    "loai",
    "ten_giay_to",
    "sha256",
    "mime_type",
    "so_trang",
    "dpi_toi_thieu",
    "do_tin_cay_ocr",
    "truong_trich_xuat",
    "so_hoa_luc",
]
SHA256 = r"^[0-9a-f]{64}$"
POOL_SIZE = 8


class GiayTo(BaseModel):
    """A stored document of a dossier (``publish.giay_to`` without storage URIs)."""

    loai: str = Field(description="thanh_phan (component) or ket_qua (result)")
    ten_giay_to: str
    sha256: str
    mime_type: str
    so_trang: int | None
    dpi_toi_thieu: int | None
    do_tin_cay_ocr: float | None
    truong_trich_xuat: dict[str, Any] | None
    so_hoa_luc: datetime
    link: str = Field(description="path of the download-link endpoint for this document")


class HoSo(BaseModel):
    """A dossier: the columns of ``publish.ho_so`` (schemas/dataset/1co.schema.json)."""

    ma_ho_so: str
    ma_tthc: str
    ma_co_quan: str
    ma_linh_vuc: str | None
    kenh_thuc_hien: int
    trang_thai: int
    ngay_tiep_nhan: datetime | None
    ngay_hen_tra: datetime | None
    ngay_ket_thuc_xu_ly: datetime | None
    ngay_tra: datetime | None
    chu_ho_so_ma_hoa: str | None = Field(description="keyed pseudonym of the applicant's identity number")
    so_thanh_phan_so_hoa: int
    co_ket_qua_dien_tu: bool
    da_so_hoa: bool
    cap_nhat_luc: datetime


class HoSoChiTiet(HoSo):
    giay_to: list[GiayTo]


class HoSoPage(BaseModel):
    items: list[HoSo]
    next_cursor: str | None = Field(description="pass as ?cursor= for the next page; null on the last page")


class DownloadLink(BaseModel):
    url: str
    expires_at: datetime


bearer = HTTPBearer(auto_error=False, description="a token from `sohoa api token create`")


def create_app(settings: Settings, options: ApiOptions | None = None) -> FastAPI:
    """The API over ``settings``' database and S3 store."""
    options = options or ApiOptions()
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        state["pool"] = WaitingPool(settings.dsn(), POOL_SIZE, application_name="sohoa-api")
        state["s3"] = s3.make_presigning_client(settings, options.s3_public_endpoint)
        try:
            yield
        finally:
            state["pool"].closeall()

    app = FastAPI(
        title="sohoa read API",
        version=contract.schema_version(),
        lifespan=lifespan,
        description="Read access to the '1 có' dataset of digitised dossiers. See docs/publish.md.",
    )

    @contextmanager
    def db() -> Iterator[Connection]:
        pool: WaitingPool = state["pool"]
        with pool.connection() as conn:
            yield conn

    @app.middleware("http")
    async def access_log(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        if request.url.path.startswith("/v1/"):
            await run_in_threadpool(_log_access, request, response.status_code)
        return response

    def _log_access(request: Request, status: int) -> None:
        token: Token | None = getattr(request.state, "token", None)
        with db() as conn, conn.cursor() as cur:
            cur.execute(
                """INSERT INTO sohoa.api_access_log (token_id, method, path, query, status, ma_ho_so, sha256, client)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    token.id if token else None,
                    request.method,
                    request.url.path,
                    request.url.query or None,
                    status,
                    request.path_params.get("ma_ho_so"),
                    request.path_params.get("sha256"),
                    request.client.host if request.client else None,
                ),
            )

    def caller(request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Token:
        if credentials is None or credentials.scheme.lower() != "bearer":
            raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
        with db() as conn:
            token = authenticate(conn, credentials.credentials)
        if token is None:
            raise HTTPException(
                401, "unknown, expired or revoked token", headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
            )
        request.state.token = token
        return token

    Caller = Annotated[Token, Depends(caller)]
    default_page = min(100, options.page_size_max)

    @app.get("/health", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/v1/ho-so", response_model=HoSoPage, summary="List dossiers")
    def list_ho_so(
        token: Caller,
        ma_co_quan: Annotated[str | None, Query(description="agency code (MaCoQuan)")] = None,
        ma_tthc: Annotated[str | None, Query(description="procedure code; its national part is matched")] = None,
        tu_ngay: Annotated[date | None, Query(description="received on or after this local date")] = None,
        den_ngay: Annotated[date | None, Query(description="received before this local date (exclusive)")] = None,
        da_so_hoa: Annotated[bool | None, Query(description="digitised (indicator 4.2)")] = None,
        limit: Annotated[int, Query(ge=1, le=options.page_size_max)] = default_page,
        cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
    ) -> HoSoPage:
        filters = {
            "ma_co_quan": ma_co_quan,
            "ma_tthc": ma_tthc,
            "tu_ngay": tu_ngay and tu_ngay.isoformat(),
            "den_ngay": den_ngay and den_ngay.isoformat(),
            "da_so_hoa": da_so_hoa,
        }
        fingerprint = hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]
        after = _decode_cursor(cursor, fingerprint) if cursor else None
        where: list[str] = ["TRUE"]
        args: list[object] = []
        if after is not None:
            where.append("ma_ho_so > %s")
            args.append(after)
        if token.agencies is not None:
            where.append("ma_co_quan = ANY(%s)")
            args.append(list(token.agencies))
        if ma_co_quan:
            where.append("ma_co_quan = %s")
            args.append(ma_co_quan)
        if ma_tthc:
            where.append("left(ma_tthc, 8) = left(%s, 8)")
            args.append(ma_tthc)
        if tu_ngay:
            where.append("ngay_tiep_nhan >= (%s::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')")
            args.append(tu_ngay)
        if den_ngay:
            where.append("ngay_tiep_nhan < (%s::date::timestamp AT TIME ZONE 'Asia/Ho_Chi_Minh')")
            args.append(den_ngay)
        if da_so_hoa is not None:
            where.append("da_so_hoa = %s")
            args.append(da_so_hoa)
        sql = (
            f"SELECT {', '.join(HO_SO_COLUMNS)} FROM publish.ho_so WHERE {' AND '.join(where)} "  # noqa: S608
            "ORDER BY ma_ho_so LIMIT %s"
        )
        with db() as conn, conn.cursor() as cur:
            cur.execute(sql, [*args, limit + 1])
            rows = cur.fetchall()
        items = [HoSo(**dict(zip(HO_SO_COLUMNS, row, strict=True))) for row in rows[:limit]]
        next_cursor = _encode_cursor(items[-1].ma_ho_so, fingerprint) if len(rows) > limit else None
        return HoSoPage(items=items, next_cursor=next_cursor)

    def _one(conn: Connection, token: Token, ma_ho_so: str) -> dict[str, Any]:
        with conn.cursor() as cur:
            cur.execute(
                f"SELECT {', '.join(HO_SO_COLUMNS)} FROM publish.ho_so WHERE ma_ho_so = %s",  # noqa: S608
                (ma_ho_so,),
            )
            row = cur.fetchone()
        if row is None or not token.may_read(row[HO_SO_COLUMNS.index("ma_co_quan")]):
            raise HTTPException(404, "no such dossier (or not readable with this token)")
        return dict(zip(HO_SO_COLUMNS, row, strict=True))

    # Dossier codes of sector systems may hold "/" (the national pattern does not): both routes take the code
    # as a path, and the link route is declared first so that ".../giay-to/<sha>/link" is never read as a code.
    @app.get(
        "/v1/ho-so/{ma_ho_so:path}/giay-to/{sha256}/link",
        response_model=DownloadLink,
        summary="A short-lived download link of a document's original",
        responses={307: {"description": "with redirect=1: redirect to the link"}},
    )
    def document_link(
        token: Caller,
        ma_ho_so: Annotated[str, Path(max_length=200)],
        sha256: Annotated[str, Path(pattern=SHA256)],
        redirect: Annotated[bool, Query(description="answer 307 to the link")] = False,
    ) -> Any:
        with db() as conn:
            _one(conn, token, ma_ho_so)
            with conn.cursor() as cur:
                cur.execute(
                    "SELECT object_uri FROM publish.giay_to WHERE ma_ho_so = %s AND sha256 = %s LIMIT 1",
                    (ma_ho_so, sha256),
                )
                row = cur.fetchone()
        if row is None:
            raise HTTPException(404, "no such document in this dossier")
        bucket, _, key = str(row[0]).removeprefix("s3://").partition("/")
        ttl = timedelta(seconds=options.link_ttl_s)
        url = state["s3"].presigned_get_object(bucket, key, expires=ttl)
        if redirect:
            return RedirectResponse(url, status_code=307)
        return DownloadLink(url=url, expires_at=datetime.now(UTC) + ttl)

    @app.get("/v1/ho-so/{ma_ho_so:path}", response_model=HoSoChiTiet, summary="One dossier with its documents")
    def get_ho_so(token: Caller, ma_ho_so: Annotated[str, Path(max_length=200)]) -> HoSoChiTiet:
        with db() as conn:
            dossier = _one(conn, token, ma_ho_so)
            with conn.cursor() as cur:
                cur.execute(
                    f"SELECT {', '.join(GIAY_TO_FIELDS)} FROM publish.giay_to "  # noqa: S608
                    "WHERE ma_ho_so = %s ORDER BY loai DESC, so_hoa_luc, sha256",
                    (ma_ho_so,),
                )
                documents = [dict(zip(GIAY_TO_FIELDS, r, strict=True)) for r in cur.fetchall()]
        for d in documents:
            d["link"] = f"/v1/ho-so/{quote(ma_ho_so, safe='/')}/giay-to/{d['sha256']}/link"
        return HoSoChiTiet(**dossier, giay_to=[GiayTo(**d) for d in documents])

    @app.get("/v1/snapshots/latest", summary="Manifest of the newest published snapshot")
    def latest_snapshot(_token: Caller) -> JSONResponse:
        with db() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT manifest FROM sohoa.publish_snapshot WHERE deleted_at IS NULL ORDER BY snapshot_id DESC LIMIT 1"
            )
            row = cur.fetchone()
        if row is None:
            raise HTTPException(404, "nothing published yet")
        return JSONResponse(row[0])

    return app


def _encode_cursor(after: str, fingerprint: str) -> str:
    raw = json.dumps({"a": after, "f": fingerprint}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, fingerprint: str) -> str:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        after, bound = data["a"], data["f"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise HTTPException(400, "cursor is not one this API issued") from None
    if bound != fingerprint or not isinstance(after, str):
        raise HTTPException(400, "cursor belongs to a query with other filters; start again without it")
    return after


def serve(settings: Settings, options: ApiOptions | None = None) -> None:
    """Run the API with uvicorn until interrupted (``sohoa api``)."""
    import uvicorn

    options = options or ApiOptions()
    uvicorn.run(
        create_app(settings, options), host=options.host, port=options.port, log_level="warning", access_log=False
    )  # the access log is in PostgreSQL, without query noise in stdout
