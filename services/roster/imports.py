"""The roster's imports (issue #13): workforce and regions, run as background jobs by
``shared.import_jobs`` (one job per file's bytes, progress, bad cells with their rules, the marked
workbook) on the roster's own ``import_jobs`` table."""

from __future__ import annotations

from services.roster import regions_format, regions_import, workforce_format, workforce_import
from services.roster.models import ImportCellError, ImportJob
from services.roster.schemas import ImportJobOut, ImportKind
from shared.import_jobs import INTERRUPTED, ImportFormat, ImportJobs, drain

__all__ = ["IMPORTS", "INTERRUPTED", "drain"]

IMPORTS = ImportJobs(
    job=ImportJob,
    error=ImportCellError,
    formats={
        ImportKind.workforce.value: ImportFormat.of("社区工作者 workforce", workforce_format, workforce_import),
        ImportKind.regions.value: ImportFormat.of("区划 regions", regions_format, regions_import),
    },
    out=ImportJobOut,
)
