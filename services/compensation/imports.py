"""The compensation service's imports (issue #13): reference statistics (C2, C3), run as background jobs
by ``shared.import_jobs`` on the compensation service's own ``import_jobs`` table."""

from __future__ import annotations

from services.compensation import statistic_import
from services.compensation.models import ImportCellError, ImportJob
from services.compensation.schemas import ImportJobOut, ImportKind
from shared.import_jobs import ImportFormat, ImportJobs

IMPORTS = ImportJobs(
    job=ImportJob,
    error=ImportCellError,
    formats={
        ImportKind.statistics.value: ImportFormat.of("统计数据 statistics", statistic_import, statistic_import),
    },
    out=ImportJobOut,
)
