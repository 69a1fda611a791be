"""The masked workers export rendered by PostgreSQL (issue #16): ONE statement whose columns are the CSV
cells of ``GET /v1/workers?format=csv`` exactly as the Python rendering writes them (``WorkerOut`` dumped as
JSON, flattened by ``shared.exports.columns_of``), streamed with ``COPY (…) TO STDOUT`` by
``shared.exports.copy_csv_response``: no ORM rows, no pydantic, no CSV writer in Python.

Each column is the JSON value as text: dates ISO 8601, booleans ``true``/``false``, the ID number and phone
masked as ``shared.masking`` does, the status derived as of the day by ``domain.lifecycle.status_on``'s rules
(in its order), lists as compact JSON text (``employments``, ``current_post.duties``). An empty string is
written as NULL: PostgreSQL's CSV quotes an empty string (``""``) where the Python writer writes nothing.
The rows are the list's own (``worker_lists._visible``: region scoping, filters), in id order.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Date, Integer, Select, Text, and_, case, cast, false, func, literal, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by, array, distinct_on
from sqlalchemy.sql.elements import ColumnElement

from services.roster.domain import lifecycle
from services.roster.models import Employment, PostAssignment, Secondment, Worker
from services.roster.worker_access import held_on
from services.roster.worker_lists import WorkerFilters, _visible
from shared.auth import Principal


def _text(value: Any) -> ColumnElement[str]:
    """The value as text, an empty string as NULL (written as nothing, as the Python CSV writes "")."""
    return func.nullif(cast(value, Text), literal(""))


def _plain(value: Any) -> ColumnElement[str]:
    """A value that is never an empty string as text: a uuid, a number, a date (ISO 8601 like
    ``date.isoformat``: ``copy_csv_response`` runs the copy under DateStyle ISO; faster than ``to_char``)."""
    return cast(value, Text)


def _iso_or_null(day: Any) -> ColumnElement[str]:
    """A date as a JSON value inside JSON text: ``"2024-01-05"`` or ``null``."""
    return func.coalesce(literal('"').concat(_plain(day)).concat(literal('"')), literal("null"))


def _bool(flag: Any) -> ColumnElement[str]:
    return case((flag, literal("true")), else_=literal("false"))


def _masked(
    value: Any, keep_head: int, hidden_over: int, text: Callable[[Any], ColumnElement[str]]
) -> ColumnElement[str]:
    """``shared.masking``: the first ``keep_head`` and last 4 characters kept, the rest starred; a value of at
    most ``hidden_over`` characters all stars (ID numbers: 6 + 4 of more than 10; phones: 3 + 4 of 8 or more)."""
    length = func.length(value, type_=Integer)
    return text(
        case(
            (length <= hidden_over, func.repeat(literal("*"), length, type_=Text)),
            else_=func.left(value, keep_head, type_=Text)
            .concat(func.repeat(literal("*"), length - (keep_head + 4), type_=Text))
            .concat(func.right(value, 4, type_=Text)),
        )
    )


def _utc_timestamp(moment: Any) -> ColumnElement[str]:
    """pydantic's JSON of an aware datetime in UTC: ``2024-01-05T01:02:03Z``, ``…03.120000Z`` with microseconds.
    PostgreSQL's ISO text of the UTC time (``2024-01-05 01:02:03.12``, trailing zeros dropped) with the ``T``
    and the six digits put back (``to_char`` costs several times more)."""
    iso = func.replace(cast(func.timezone(literal("UTC"), moment), Text), literal(" "), literal("T"), type_=Text)
    return case((func.length(iso) == 19, iso), else_=func.rpad(iso, 26, literal("0"), type_=Text)).concat(literal("Z"))


def workers_csv_statement(principal: Principal, f: WorkerFilters, *, typed: bool = False) -> Select[Any]:
    """The export's rows, one text cell per column of ``columns_of(WorkerOut)``, in id order (masked). With
    ``typed`` (the .xlsx), the booleans and integers stay booleans and integers, as the JSON values are."""
    assert f.updated_since is None  # pull sync pages in commit order, batch by batch
    day = f.day
    # CSV: an empty string as NULL (written as nothing); .xlsx: kept, the Python path writes an empty text cell
    text = _plain if typed else _text
    covers = and_(Employment.hire_date <= day, or_(Employment.left_date.is_(None), Employment.left_date >= day))
    employment_json = (
        literal('{"hire_date":"')
        .concat(_plain(Employment.hire_date))
        .concat(literal('","left_date":'))
        .concat(_iso_or_null(Employment.left_date))
        .concat(literal(',"probation_end":"'))
        .concat(_plain(Employment.probation_end))
        .concat(literal('"}'))
    )
    # Set-based, so PostgreSQL hash-joins: each worker's employments in one aggregate row, the post held on
    # the day, the workers seconded on the day; each read for the exported workers only.
    exported = _visible(principal, f).with_only_columns(Worker.id)
    employments = (
        select(
            Employment.worker_id,
            func.string_agg(employment_json, aggregate_order_by(literal(","), Employment.hire_date)).label("periods"),
            # the latest employment's (by hire date): the greatest [hire date, probation end], no second sort
            func.max(array([Employment.hire_date, Employment.probation_end]), type_=ARRAY(Date))[2].label(
                "probation_end"
            ),
            func.bool_or(Employment.hire_date <= day).label("hired"),
            func.bool_or(covers).label("employed"),
            func.bool_or(and_(covers, Employment.probation_end >= day)).label("probation"),
        )
        .where(Employment.worker_id.in_(exported))
        .group_by(Employment.worker_id)
        .subquery("e")
    )
    seconded = select(Secondment.worker_id).where(Secondment.start_date <= day, Secondment.end_date > day)
    # domain.lifecycle.status_on, rule by rule in its order
    status = case(
        (~func.coalesce(employments.c.hired, false()), literal(lifecycle.PENDING)),
        (~employments.c.employed, literal(lifecycle.LEFT)),
        (Worker.id.in_(seconded), literal(lifecycle.ON_LOAN)),
        (employments.c.probation, literal(lifecycle.PROBATION)),
        else_=literal(lifecycle.ACTIVE),
    )
    post = (
        select(PostAssignment)
        .where(held_on(day), PostAssignment.worker_id.in_(exported))
        .ext(distinct_on(PostAssignment.worker_id))
        .order_by(PostAssignment.worker_id, PostAssignment.start_date.desc())
        .subquery("p")
    )
    # JSON text as json.dumps(separators=(",", ":")) writes it: PostgreSQL writes a jsonb array as ``["a", "b"]``
    # and escapes like json.dumps (ensure_ascii=False). In an array of strings ``", "`` only ever separates two
    # elements (a quote inside a string is ``\"``, so it cannot start that sequence), hence the one replace.
    duties_json = func.replace(cast(post.c.duties, Text), literal('", "'), literal('","'), type_=Text)
    columns = [
        _plain(Worker.id),
        _masked(Worker.id_number, 6, 10, text),
        text(Worker.name),
        text(Worker.sex),
        _plain(Worker.birth_date),
        _masked(Worker.phone, 3, 7, text),
        text(Worker.education),
        text(Worker.political_status),
        text(Worker.community_code),
        *(
            (flag if typed else _bool(flag))
            for flag in (Worker.lives_in_community, Worker.generalist, Worker.grid_duties)
        ),
        text(Worker.certificate_level),
        _plain(Worker.certificate_date),
        status,
        literal(day.isoformat()),
        _plain(Worker.hire_date),
        _plain(Worker.left_date),
        _plain(employments.c.probation_end),
        literal("[").concat(func.coalesce(employments.c.periods, literal(""))).concat(literal("]")),
        _plain(Worker.career_staff_date),
        text(Worker.career_staff_document),
        _plain(post.c.id),
        _plain(post.c.worker_id),
        text(post.c.community_code),
        text(post.c.post),
        post.c.grade if typed else _plain(post.c.grade),
        _plain(post.c.start_date),
        _plain(post.c.end_date),
        text(post.c.approval),
        duties_json,
        Worker.version if typed else _plain(Worker.version),
        _utc_timestamp(Worker.updated_at),
    ]
    return (
        _visible(principal, f)
        .with_only_columns(*(column.label(f"c{n}") for n, column in enumerate(columns)))
        .select_from(Worker)
        .outerjoin(employments, employments.c.worker_id == Worker.id)
        .outerjoin(post, post.c.worker_id == Worker.id)
        .order_by(Worker.id)
    )
