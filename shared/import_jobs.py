"""Import jobs of every service (issue #13): an upload becomes a job, run in the background with its
progress recorded; the same bytes for the same region and kind are one job (sha256), so a re-upload is
not applied twice. Each service keeps its own ``import_jobs`` and ``import_errors`` tables (the
declarative mixins below, created by its own migration) and declares its import kinds as
:class:`ImportFormat` values; :class:`ImportJobs` runs them.

A job: ``queued`` → ``validating`` (every cell; progress in ``rows_done``) → ``loading`` → ``succeeded``,
or ``rejected`` (bad cells in ``all_or_nothing`` mode: nothing written) or ``failed`` (not the file's
fault). The checks and the load happen in one transaction, so what was checked is what is written.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from openpyxl.utils import get_column_letter
from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from shared.auth import Principal
from shared.business_time import business_today
from shared.events import COMMITS_TABLE
from shared.i18n import Message
from shared.import_schemas import ImportErrorOut, ImportJobBase, ImportMode, ImportStatus
from shared.listing import Key, Listing
from shared.pagination import Page, PageAt, decode_cursor, encode_cursor, fetch_page
from shared.problems import NotFound
from shared.regions import normalise
from shared.request_context import new_request_id, request_id_var
from shared.scoping import path_filter, sees_region
from shared.spreadsheets import (
    Cell,
    CellProblem,
    Checked,
    Mark,
    SheetColumn,
    Table,
    UnreadableFile,
    column_index,
    marked,
    read_table,
    template,
)
from shared.sync import ChangeTracked

NO_SUCH_JOB = Message("导入任务不存在", "No such import job")
FIRST_ERRORS = 100
PROGRESS_EVERY = 500
PROGRESS_SECONDS = 1.0  # progress is a committed write (~16 ms on a loaded machine): at most one a second
RUNNING = (ImportStatus.queued.value, ImportStatus.validating.value, ImportStatus.loading.value)
INTERRUPTED = "interrupted: the process running it stopped (a restart or a crash); upload the file again"
QUEUE_GRACE_SECONDS = 60
Problem = tuple[int, int | None, str, str, str | None, str, str]  # row, column index, header, value, rule, zh, en
_running: set[asyncio.Task[None]] = set()  # keeps the background runs referenced until they end


class ImportJobColumns(ChangeTracked):
    """A spreadsheet upload and its background run (a declarative mixin: each service's ``import_jobs``).

    The same bytes (sha256) for the same region and kind are one job: a re-upload answers with it. A
    rejected or failed job leaves room for the same file again (after the database was put right)."""

    __tablename__ = "import_jobs"

    @declared_attr.directive
    @classmethod
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            Index(
                "import_jobs_once_idx",
                "region_code",
                "kind",
                "file_sha256",
                unique=True,
                postgresql_where=text("status NOT IN ('rejected', 'failed')"),
            ),
            Index("import_jobs_region_path_idx", "region_path", postgresql_ops={"region_path": "text_pattern_ops"}),
            CheckConstraint(
                "status IN ('queued', 'validating', 'loading', 'succeeded', 'rejected', 'failed')", name="status"
            ),
            CheckConstraint("mode IN ('all_or_nothing', 'good_rows')", name="mode"),
            Index("import_jobs_change_txid_idx", "change_txid"),
        )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, server_default=text("gen_random_uuid()"))
    kind: Mapped[str] = mapped_column(String(20), comment="workforce | regions | …")
    mode: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    region_code: Mapped[str] = mapped_column(String(12), comment="the region the upload is for (scope)")
    region_path: Mapped[str] = mapped_column(String(12), comment="12-digit form, for region scoping")
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, comment="the uploaded bytes, to mark the bad cells in")
    rows_total: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rows_done: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    rows_loaded: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    error_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    failure: Mapped[str | None] = mapped_column(String(500), comment="why a failed job failed (not bad cells)")
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ImportErrorColumns:
    """One bad cell of an import job: sheet row, column, value, reason in both languages, rule id (a
    declarative mixin: each service's ``import_errors``)."""

    __tablename__ = "import_errors"

    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("import_jobs.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    row: Mapped[int] = mapped_column(Integer, comment="sheet row number (headers are rows 1–2)")
    column: Mapped[str] = mapped_column(String(3), comment="the column letter, A …")
    header: Mapped[str] = mapped_column(String(60))
    value: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str | None] = mapped_column(String(10))
    detail_zh: Mapped[str] = mapped_column(String(300))
    detail_en: Mapped[str] = mapped_column(String(300))


@dataclass(frozen=True)
class ImportFormat:
    """What an import kind is: its columns, its pure row reader, its database checks and its loader.

    ``check_rows(session, principal, region, rows, secret, today)`` checks what needs the database (the
    same rule functions as the API) and answers the good rows and the bad cells; ``load(session, good,
    today)`` writes the good rows set-based (COPY or one multi-row INSERT) with the API's events."""

    title: str
    columns: tuple[SheetColumn, ...]
    notes: tuple[str, ...]
    read_row: Callable[[int, Mapping[str, Cell], date], tuple[Any | None, list[CellProblem]]]
    check_rows: Callable[[AsyncSession, Principal, str, Sequence[Any], bytes, date], Awaitable[Checked]]
    load: Callable[[AsyncSession, Sequence[Any], date], Awaitable[int]]

    @classmethod
    def of(cls, title: str, reading: SheetReading, loading: Loading) -> ImportFormat:
        """The kind its modules describe: the sheet and row reader in ``reading``, the checks and loader in
        ``loading`` (one module for both, or the format kept apart as the roster's are)."""
        return cls(title, reading.COLUMNS, reading.NOTES, reading.read_row, loading.check_rows, loading.load)


class SheetReading(Protocol):
    """A module describing an import's sheet: ``COLUMNS``, ``NOTES`` and the pure ``read_row``."""

    @property
    def COLUMNS(self) -> tuple[SheetColumn, ...]: ...

    @property
    def NOTES(self) -> tuple[str, ...]: ...

    @property
    def read_row(self) -> Callable[[int, Mapping[str, Cell], date], tuple[Any | None, list[CellProblem]]]: ...


class Loading(Protocol):
    """A module checking an import's rows against the database (``check_rows``) and loading them (``load``)."""

    @property
    def check_rows(
        self,
    ) -> Callable[[AsyncSession, Principal, str, Sequence[Any], bytes, date], Awaitable[Checked]]: ...

    @property
    def load(self) -> Callable[[AsyncSession, Sequence[Any], date], Awaitable[int]]: ...


def error_out(e: ImportErrorColumns) -> ImportErrorOut:
    return ImportErrorOut.model_validate(e, from_attributes=True)


def run_lock_key(job_id: uuid.UUID) -> int:
    """The advisory lock a job's run holds while it is alive (a signed 64-bit number from the job id)."""
    return int.from_bytes(hashlib.sha256(b"shegong.import." + job_id.bytes).digest()[:8], "big", signed=True)


async def drain() -> None:
    """Wait for the runs this process started (shutdown; tests that read a job once it has finished)."""
    while _running:
        await asyncio.gather(*list(_running), return_exceptions=True)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


@dataclass(kw_only=True)
class ImportJobs:
    """One service's imports: its job and error tables, its kinds, its answer model and its business day.
    The service is the schema of its job table (its log: ``shegong.<service>.imports``)."""

    job: type[ImportJobColumns]
    error: type[ImportErrorColumns]
    formats: Mapping[str, ImportFormat]
    out: type[ImportJobBase]
    today: Callable[[], date] = business_today

    def __post_init__(self) -> None:
        self.log = logging.getLogger(f"shegong.{inspect(self.job).local_table.schema}.imports")

    @property
    def commits(self) -> sa.Table:
        """The service's ``event_commits`` (the outbox's commit order, which the job list syncs in)."""
        table = inspect(self.job).local_table
        commits: sa.Table = table.metadata.tables[f"{table.schema}.{COMMITS_TABLE}"]
        return commits

    @property
    def jobs(self) -> Listing:
        """The job list's paging: newest first; pull sync in the outbox's commit order."""
        order = (Key(self.job.created_at, datetime, descending=True), Key(self.job.id, uuid.UUID, descending=True))
        return Listing(self.job, order, self.commits)

    def template_of(self, kind: str) -> bytes:
        """The kind's empty workbook (two header rows, dropdowns, formats, notes)."""
        spec = self.formats[kind]
        return template(spec.columns, spec.title, spec.notes)

    def job_out(self, job: ImportJobColumns, errors: Sequence[ImportErrorColumns], duplicate: bool = False) -> Any:
        eta: float | None = None
        if job.finished_at is not None:
            eta = 0.0
        elif job.started_at is not None and job.rows_done and job.rows_total:
            elapsed = (datetime.now(UTC) - job.started_at).total_seconds()
            eta = round(elapsed / job.rows_done * (job.rows_total - job.rows_done), 1)
        return self.out.model_validate(
            {
                "id": job.id,
                "kind": job.kind,
                "mode": job.mode,
                "status": job.status,
                "region_code": job.region_code,
                "file_name": job.file_name,
                "file_sha256": job.file_sha256,
                "rows_total": job.rows_total,
                "rows_done": job.rows_done,
                "rows_loaded": job.rows_loaded,
                "error_count": job.error_count,
                "errors": [error_out(e) for e in errors],
                "eta_seconds": eta,
                "failure": job.failure,
                "duplicate_of": job.id if duplicate else None,
                "created_at": job.created_at,
                "finished_at": job.finished_at,
                "created_by": job.created_by,
            }
        )

    async def first_errors(self, session: AsyncSession, job: ImportJobColumns) -> list[ImportErrorColumns]:
        query = select(self.error).where(self.error.job_id == job.id).order_by(self.error.seq)
        return list((await session.scalars(query.limit(FIRST_ERRORS))).all())

    async def visible_job(self, session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> ImportJobColumns:
        job = await session.scalar(select(self.job).where(self.job.id == job_id))
        if job is None or not sees_region(principal, job.region_code):
            raise NotFound(NO_SUCH_JOB)
        return job

    async def read_job(self, session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> Any:
        """A job the caller may see, with its first bad cells."""
        job = await self.visible_job(session, principal, job_id)
        return self.job_out(job, await self.first_errors(session, job))

    async def _reap(self, session: AsyncSession, jobs: Sequence[ImportJobColumns]) -> None:
        """Jobs said to be running whose run holds no lock (its process died) are failed, so that the same
        file can be uploaded again. A job queued in the last minute is left alone (its run may not have
        taken its lock yet)."""
        now = datetime.now(UTC)
        for job in jobs:
            if job.status not in RUNNING:
                continue
            if job.status == ImportStatus.queued.value and (now - job.created_at).total_seconds() < QUEUE_GRACE_SECONDS:
                continue
            if await session.scalar(select(func.pg_try_advisory_xact_lock(run_lock_key(job.id)))):
                job.status = ImportStatus.failed.value
                job.failure = INTERRUPTED
                job.finished_at = now
                await session.flush()

    async def submit(
        self,
        session: AsyncSession,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        principal: Principal,
        *,
        kind: str,
        mode: ImportMode,
        region: str,
        file_name: str,
        content: bytes,
        secret: bytes,
    ) -> tuple[Any, bool]:
        """The job for these bytes (region and kind): the existing one (True), or a new one, committed and
        started in the background (False). The caller has been authorised to write in ``region``."""
        digest = hashlib.sha256(content).hexdigest()
        model = self.job
        once = (
            model.region_code == region,
            model.kind == kind,
            model.file_sha256 == digest,
            model.status.not_in([ImportStatus.rejected.value, ImportStatus.failed.value]),
        )
        existing = await session.scalar(select(model).where(*once).with_for_update())
        if existing is not None:
            await self._reap(session, [existing])
            if existing.status not in (ImportStatus.failed.value, ImportStatus.rejected.value):
                return self.job_out(existing, await self.first_errors(session, existing), duplicate=True), True
        job = model()
        job.kind, job.mode, job.status = kind, mode.value, ImportStatus.queued.value
        job.region_code, job.region_path = region, normalise(region)
        job.file_name, job.file_sha256, job.content = file_name[:255], digest, content
        job.created_by = principal.subject
        session.add(job)
        try:
            await session.commit()  # the background run reads the job: it must be there first
        except IntegrityError:  # the same bytes uploaded twice at once: the unique index decides
            await session.rollback()
            existing = await session.scalar(select(model).where(*once))
            if existing is None:
                raise
            return self.job_out(existing, await self.first_errors(session, existing), duplicate=True), True
        answer = self.job_out(job, [])
        # Nothing more on this session from here: the run has the database to itself until it ends.
        task = asyncio.create_task(self.run(engine, sessionmaker, job.id, principal, secret))
        _running.add(task)
        task.add_done_callback(_running.discard)
        return answer, False

    async def _set(self, sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, **values: object) -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(update(self.job).where(self.job.id == job_id).values(**values))

    async def run(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        job_id: uuid.UUID,
        principal: Principal,
        secret: bytes,
    ) -> None:
        """Check every cell, then (all good, or ``good_rows``) load; errors recorded; never raises. The run
        holds its job's advisory lock on a connection of its own while alive (see ``_reap``)."""
        token = request_id_var.set("import-" + new_request_id())
        key = run_lock_key(job_id)
        try:
            async with engine.connect() as holder:
                await holder.execute(select(func.pg_advisory_lock(key)))
                await holder.commit()
                try:
                    await self._run(sessionmaker, job_id, principal, secret)
                finally:
                    await holder.execute(select(func.pg_advisory_unlock(key)))
                    await holder.commit()
        except Exception as exc:
            self.log.exception("import job %s failed", job_id)
            await self._set(
                sessionmaker,
                job_id,
                status=ImportStatus.failed.value,
                failure=f"{type(exc).__name__}: {exc}"[:500],
                finished_at=datetime.now(UTC),
            )
        finally:
            request_id_var.reset(token)

    async def _run(
        self, sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, principal: Principal, secret: bytes
    ) -> None:
        async with sessionmaker() as session, session.begin():
            job = await session.get_one(self.job, job_id)
            job.status = ImportStatus.validating.value
            job.started_at = datetime.now(UTC)
            content, mode, region, kind = job.content, job.mode, job.region_code, job.kind
        today = self.today()
        spec = self.formats[kind]
        columns = spec.columns
        try:
            table = await asyncio.to_thread(read_table, content, columns)
        except UnreadableFile as exc:
            unreadable: list[Problem] = [(1, None, "", "", None, exc.zh, exc.en)]
            await self._reject(sessionmaker, job_id, unreadable, 0)
            return
        places = {c.key: column_index(table.headers, c) for c in columns}
        missing = [c for c in columns if c.required and places[c.key] is None]
        if missing:
            absent: list[Problem] = [
                (1, None, c.zh, "", None, f"缺少必填列“{c.zh}”", f"required column {c.en!r} is missing")
                for c in missing
            ]
            await self._reject(sessionmaker, job_id, absent, len(table.rows))
            return
        total = len(table.rows)
        await self._set(sessionmaker, job_id, rows_total=total)
        rows, problems = await self._read_rows(sessionmaker, job_id, spec, table, places, today)
        if rows and not (problems and mode == ImportMode.all_or_nothing.value):
            await self._set(sessionmaker, job_id, status=ImportStatus.loading.value, rows_done=total)
        async with sessionmaker() as session, session.begin():
            checked = await spec.check_rows(session, principal, region, rows, secret, today)
            for line, cells in checked.problems.items():
                problems.extend(_located(table, places, spec, line, cells))
            problems.sort(key=lambda p: (p[0], p[1] if p[1] is not None else -1))
            loaded = 0
            if not (problems and mode == ImportMode.all_or_nothing.value):
                loaded = await spec.load(session, checked.good, today)
            await self._record(session, job_id, problems, total, loaded, rejected=bool(problems) and not loaded)

    async def _read_rows(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        job_id: uuid.UUID,
        spec: ImportFormat,
        table: Table,
        places: dict[str, int | None],
        today: date,
    ) -> tuple[list[Any], list[Problem]]:
        """Every row's cells, checked (pure); progress recorded every ``PROGRESS_EVERY`` rows, at most once in
        ``PROGRESS_SECONDS`` (each record is a transaction of its own: 40 took 0.65 s of a 20,000-row run).
        The table's rows are let go of as they are read (``table.rows`` is empty afterwards): a file's cells
        and its checked rows are not held at once."""
        rows: list[Any] = []
        problems: list[Problem] = []
        last = recorded = time.monotonic()
        sheet, table.rows = table.rows, []
        sheet.reverse()
        done = 0
        while sheet:
            line, values = sheet.pop()
            done += 1
            cells = {key: values[i] if i is not None and i < len(values) else None for key, i in places.items()}
            row, cell_problems = spec.read_row(line, cells, today)
            if row is not None:
                rows.append(row)
            problems.extend(_located(table, places, spec, line, cell_problems))
            if done % PROGRESS_EVERY == 0:
                if time.monotonic() - recorded >= PROGRESS_SECONDS:
                    await self._set(sessionmaker, job_id, rows_done=done)
                    recorded = time.monotonic()
                if time.monotonic() - last > 0.05:
                    await asyncio.sleep(0)  # let requests (progress reads) in
                    last = time.monotonic()
        return rows, problems

    async def _reject(
        self, sessionmaker: async_sessionmaker[AsyncSession], job_id: uuid.UUID, problems: list[Problem], total: int
    ) -> None:
        """The job rejected before any row was checked (a file unreadable, a required column missing)."""
        async with sessionmaker() as session, session.begin():
            await self._record(session, job_id, problems, total, 0, rejected=True)

    async def _record(
        self,
        session: AsyncSession,
        job_id: uuid.UUID,
        problems: list[Problem],
        total: int,
        loaded: int,
        *,
        rejected: bool,
    ) -> None:
        if problems:
            await session.execute(
                insert(self.error),
                [
                    {
                        "job_id": job_id,
                        "seq": seq,
                        "row": row,
                        "column": get_column_letter(index + 1) if index is not None else "A",
                        "header": header[:60],
                        "value": value[:200],
                        "rule": rule,
                        "detail_zh": zh[:300],
                        "detail_en": en[:300],
                    }
                    for seq, (row, index, header, value, rule, zh, en) in enumerate(problems, start=1)
                ],
            )
        await session.execute(
            update(self.job)
            .where(self.job.id == job_id)
            .values(
                status=(ImportStatus.rejected if rejected else ImportStatus.succeeded).value,
                rows_total=total,
                rows_done=total,
                rows_loaded=loaded,
                error_count=len(problems),
                finished_at=func.clock_timestamp(),
            )
        )

    async def marked_workbook(self, session: AsyncSession, principal: Principal, job_id: uuid.UUID) -> bytes:
        """The uploaded workbook (an ``.xlsx`` of an uploaded CSV) with every bad cell filled and commented."""
        job = await self.visible_job(session, principal, job_id)
        errors = (await session.scalars(select(self.error).where(self.error.job_id == job.id))).all()
        marks = [
            Mark(
                e.row,
                _column_number(e.column) - 1,
                f"{e.detail_zh}\n{e.detail_en}" + (f"（{e.rule}）" if e.rule else ""),
            )
            for e in errors
        ]
        return await asyncio.to_thread(marked, job.content, marks)

    async def list_jobs(self, at: PageAt, principal: Principal, updated_since: datetime | None) -> Page[Any]:
        """Import jobs of the caller's regions, newest first (keyset pages); with ``updated_since``, the
        jobs whose last change committed since then, in commit order (pull sync, ``shared.sync``)."""
        query = select(self.job).where(path_filter(principal, self.job.region_path))
        rows, next_cursor = await self.jobs.rows(
            at.session, query, filters={}, cursor=at.cursor, limit=at.limit, updated_since=updated_since
        )
        return Page[self.out](items=[self.job_out(j, []) for j in rows], next_cursor=next_cursor)  # type: ignore[name-defined]

    async def list_errors(self, at: PageAt, principal: Principal, job_id: uuid.UUID) -> Page[ImportErrorOut]:
        """Every bad cell of a job the caller may see, in the order found (keyset pages)."""
        job = await self.visible_job(at.session, principal, job_id)
        filters = {"job": str(job.id)}
        query = select(self.error).where(self.error.job_id == job.id)
        if at.cursor:
            (after,) = decode_cursor(at.cursor, filters, (int,))
            query = query.where(self.error.seq > int(after))
        rows, more = await fetch_page(at.session, query.order_by(self.error.seq), at.limit)
        return Page[ImportErrorOut](
            items=[error_out(e) for e in rows],
            next_cursor=encode_cursor([rows[-1].seq], filters) if more else None,
        )


def _located(
    table: Table, places: dict[str, int | None], spec: ImportFormat, line: int, cells: Sequence[CellProblem]
) -> list[Problem]:
    out: list[Problem] = []
    for cell in cells:
        index = places.get(cell.column)
        header = table.headers[index] if index is not None else next(c.zh for c in spec.columns if c.key == cell.column)
        out.append((line, index, header, cell.value, cell.rule, cell.zh, cell.en))
    return out
