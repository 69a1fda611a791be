"""Bulk import of the compensation service (issue #13): the template, uploads of reference statistics
(C2, C3) run as background jobs, their errors (listed, or the uploaded workbook with the bad cells
marked). The operations are ``shared.import_routes``'s."""

from __future__ import annotations

from fastapi import APIRouter

from services.compensation.imports import IMPORTS
from services.compensation.schemas import ImportJobOut, ImportKind
from shared.import_routes import add_import_routes
from shared.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(401, 403, 404))
add_import_routes(
    router,
    IMPORTS,
    ImportKind,
    ImportKind.statistics,
    ImportJobOut,
    checks="statistics: GB/T 2260 region codes, years, C2/C3 statistic kinds, amounts exact to the cent, "
    "the caller administering the region",
)
