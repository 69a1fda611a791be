"""Bulk import of the evaluation service (issue #13): templates, uploads of training attendance (E5) and
assessment scores (E1, E2) run as background jobs, their errors (listed, or the uploaded workbook with
the bad cells marked). The operations are ``shared.import_routes``'s."""

from __future__ import annotations

from fastapi import APIRouter

from services.evaluation.imports import IMPORTS
from services.evaluation.schemas import ImportJobOut, ImportKind
from shared.import_routes import add_import_routes
from shared.problems import problem_responses

router = APIRouter(prefix="/v1", tags=["imports"], responses=problem_responses(401, 403, 404))
add_import_routes(
    router,
    IMPORTS,
    ImportKind,
    ImportKind.training,
    ImportJobOut,
    checks="training: E5 hours, dates, the worker in the caller's region; scores: E2 groups and scores, "
    "E1 the township's cycle open",
)
