"""The evaluation service's imports (issue #13): training attendance (E5) and assessment scores (E1, E2),
run as background jobs by ``shared.import_jobs`` on the evaluation service's own ``import_jobs`` table."""

from __future__ import annotations

from services.evaluation import score_import, training_import
from services.evaluation.models import ImportCellError, ImportJob
from services.evaluation.schemas import ImportJobOut, ImportKind
from shared.import_jobs import ImportFormat, ImportJobs

IMPORTS = ImportJobs(
    job=ImportJob,
    error=ImportCellError,
    formats={
        ImportKind.training.value: ImportFormat.of("培训学时 training", training_import, training_import),
        ImportKind.scores.value: ImportFormat.of("考核评分 scores", score_import, score_import),
    },
    out=ImportJobOut,
)
