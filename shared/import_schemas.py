"""What every service's import API answers (issue #13): the job (status, progress, first bad cells) and
each bad cell. Each service subclasses :class:`ImportJobBase` with its own ``kind`` enum."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import auto

from pydantic import BaseModel, Field

from shared.labelled import LabelledEnum, labels


class ImportMode(LabelledEnum):
    """导入方式 all_or_nothing: nothing is written unless every row is good; good_rows: the good rows load."""

    all_or_nothing = auto(), "全部正确才导入"
    good_rows = auto(), "导入正确行"


class ImportStatus(LabelledEnum):
    """导入状态 of a background import job."""

    queued = auto(), "排队中"
    validating = auto(), "校验中"
    loading = auto(), "写入中"
    succeeded = auto(), "已完成"
    rejected = auto(), "未导入（有错误）"
    failed = auto(), "失败"


IMPORT_LABELS: dict[str, dict[str, str]] = {"import_mode": labels(ImportMode), "import_status": labels(ImportStatus)}


class ImportErrorOut(BaseModel):
    row: int = Field(description="行号 sheet row (headers are rows 1–2; for a CSV the line number)")
    column: str = Field(description="列 column letter, A …")
    header: str = Field(description="表头 the column's header as uploaded")
    value: str = Field(description="单元格内容 the cell as written")
    rule: str | None = Field(description="政策规则 the rule id (POLICY.md, or GB11643 for ID numbers)")
    detail_zh: str = Field(description="错误说明（中文）")
    detail_en: str = Field(description="错误说明（英文） what is wrong, in English")


class ImportJobBase(BaseModel):
    """The fields of every service's import job; a service's subclass adds ``kind`` (its own enum)."""

    id: uuid.UUID
    mode: ImportMode = Field(description="导入方式 all_or_nothing | good_rows")
    status: ImportStatus
    region_code: str = Field(description="区划 the region the upload is for")
    file_name: str = Field(description="文件名 as uploaded")
    file_sha256: str = Field(description="文件摘要 sha256 of the uploaded bytes: the same bytes are imported once")
    rows_total: int = Field(description="总行数 data rows in the file")
    rows_done: int = Field(description="已校验 rows checked so far")
    rows_loaded: int = Field(description="已导入 rows written")
    error_count: int = Field(description="错误数 bad cells")
    errors: list[ImportErrorOut] = Field(description="前100个错误 the first 100 bad cells (all: /errors)")
    eta_seconds: float | None = Field(description="预计剩余秒数 while validating; 0 once finished")
    failure: str | None = Field(None, description="失败原因 why a failed job failed (not a bad cell)")
    duplicate_of: uuid.UUID | None = Field(
        None, description="重复上传 set when these bytes were already imported: this is that job (not applied again)"
    )
    created_at: datetime
    finished_at: datetime | None = Field(description="完成时间 when the run ended (UTC)")
    created_by: str = Field(description="上传人 who uploaded it")
