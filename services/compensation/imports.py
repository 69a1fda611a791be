"""The compensation service's imports (issue #13): reference statistics (C2, C3), run as background jobs
by ``shared.import_jobs`` on the compensation service's own ``import_jobs`` table."""

from __future__ import annotations

from services.compensation import statistic_import
from services.compensation.models import ImportCellError, ImportJob
from services.compensation.schemas import ImportJobOut, ImportKind
from shared.import_jobs import ImportFormat, ImportJobs

IMPORTS = ImportJobs(
    service="compensation",
    job=ImportJob,
    error=ImportCellError,
    formats={
        ImportKind.statistics.value: ImportFormat(
            "统计数据 statistics",
            statistic_import.COLUMNS,
            statistic_import.NOTES,
            statistic_import.read_row,
            statistic_import.check_rows,
            statistic_import.load,
        ),
    },
    out=ImportJobOut,
)
