"""Bulk import and export of the roster (issue #13): templates, uploads run as background jobs, their
errors (listed, or the uploaded workbook with the bad cells marked), and the workforce export in the
import format."""

from __future__ import annotations

from collections.abc import AsyncIterator

from fastapi import APIRouter, Request, Response

from services.roster import imports, workforce_export, workforce_format
from services.roster.schemas import ImportJobOut, ImportKind
from services.roster.state import id_number_secret, roster_state
from shared.business_time import business_today
from shared.dependencies import Reader, WithinRegion
from shared.exports import file_stream, xlsx_stream
from shared.import_routes import BINARY, FileContent, add_import_routes, file_route
from shared.problems import problem_responses
from shared.spreadsheets import CSV_TYPE, XLSX_TYPE, csv_head, csv_lines

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(401, 403, 404))
CSV: FileContent = {200: {"content": {"text/csv": BINARY}, "description": "CSV, UTF-8 with BOM"}}


add_import_routes(
    router,
    imports.IMPORTS,
    ImportKind,
    ImportKind.workforce,
    ImportJobOut,
    checks="workforce: GB11643, S1, S5 now, P2–P4, C4, H3, H4; regions: GB/T 2260, S1, S3",
    secret=id_number_secret,
)


@file_route(
    router,
    "/workforce.xlsx",
    "导出社工 the workers of the caller's region in the import format (.xlsx); ID numbers and phones "
    "masked unless the caller holds the personal-data right (then full, every worker's read audited)",
    problems=(401, 403),
)
async def export_xlsx(request: Request, principal: Reader, region: WithinRegion = None) -> Response:
    batches = await workforce_export.workforce_batches(
        roster_state(request).sessionmaker, principal, region, business_today()
    )
    headers = [[c.zh for c in workforce_format.COLUMNS], [c.en for c in workforce_format.COLUMNS]]
    return file_stream(xlsx_stream(batches, headers, "社区工作者 workforce"), XLSX_TYPE, "workforce.xlsx")


@file_route(router, "/workforce.csv", "导出社工 the same as CSV (UTF-8 with BOM)", file=CSV, problems=(401, 403))
async def export_csv(request: Request, principal: Reader, region: WithinRegion = None) -> Response:
    batches = await workforce_export.workforce_batches(
        roster_state(request).sessionmaker, principal, region, business_today()
    )

    async def body() -> AsyncIterator[bytes]:
        yield csv_head(workforce_format.COLUMNS)
        async for rows in batches:
            yield csv_lines(rows)

    return file_stream(body(), CSV_TYPE, "workforce.csv")
