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

from typing import Any

from sqlalchemy import Date, Integer, Select, Text, and_, case, cast, false, func, literal, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY, aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement

from services.roster.domain import lifecycle
from services.roster.models import Employment, PostAssignment, Secondment, Worker
from services.roster.worker_access import held_on
from services.roster.worker_lists import WorkerFilters, _visible
from shared.auth import Principal


def _text(value: Any) -> ColumnElement[str]:
    """The value as text, an empty string as NULL (written as nothing, as the Python CSV writes "")."""
    return func.nullif(cast(value, Text), literal(""))


def _iso(day: Any) -> ColumnElement[str]:
    """A date as ISO 8601 (``date.isoformat``), whatever the session's DateStyle."""
    return func.to_char(day, literal("YYYY-MM-DD"), type_=Text)


def _iso_or_null(day: Any) -> ColumnElement[str]:
    """A date as a JSON value inside JSON text: ``"2024-01-05"`` or ``null``."""
    return func.coalesce(literal('"').concat(_iso(day)).concat(literal('"')), literal("null"))


def _bool(flag: Any) -> ColumnElement[str]:
    return case((flag, literal("true")), else_=literal("false"))


def _masked(value: Any, keep_head: int, hidden_over: int) -> ColumnElement[str]:
    """``shared.masking``: the first ``keep_head`` and last 4 characters kept, the rest starred; a value of at
    most ``hidden_over`` characters all stars (ID numbers: 6 + 4 of more than 10; phones: 3 + 4 of 8 or more)."""
    length = func.length(value, type_=Integer)
    return _text(
        case(
            (length <= hidden_over, func.repeat(literal("*"), length, type_=Text)),
            else_=func.left(value, keep_head, type_=Text)
            .concat(func.repeat(literal("*"), length - (keep_head + 4), type_=Text))
            .concat(func.right(value, 4, type_=Text)),
        )
    )


def _utc_timestamp(moment: Any) -> ColumnElement[str]:
    """pydantic's JSON of an aware datetime in UTC: ``2024-01-05T01:02:03Z``, ``…03.120000Z`` with microseconds."""
    utc = func.timezone(literal("UTC"), moment)
    return (
        func.to_char(utc, literal('YYYY-MM-DD"T"HH24:MI:SS'), type_=Text)
        .concat(
            case(
                (func.date_trunc(literal("second"), utc) == utc, literal("")),
                else_=literal(".").concat(func.to_char(utc, literal("US"), type_=Text)),
            )
        )
        .concat(literal("Z"))
    )


def workers_csv_statement(principal: Principal, f: WorkerFilters) -> Select[Any]:
    """The export's rows, one text cell per column of ``columns_of(WorkerOut)``, in id order (masked)."""
    assert f.updated_since is None  # pull sync pages in commit order, batch by batch
    day = f.day
    covers = and_(Employment.hire_date <= day, or_(Employment.left_date.is_(None), Employment.left_date >= day))
    employment_json = (
        literal('{"hire_date":"')
        .concat(_iso(Employment.hire_date))
        .concat(literal('","left_date":'))
        .concat(_iso_or_null(Employment.left_date))
        .concat(literal(',"probation_end":"'))
        .concat(_iso(Employment.probation_end))
        .concat(literal('"}'))
    )
    employments = (
        select(
            func.string_agg(employment_json, aggregate_order_by(literal(","), Employment.hire_date)).label("periods"),
            func.array_agg(aggregate_order_by(Employment.probation_end, Employment.hire_date.desc()), type_=ARRAY(Date))[
                1
            ].label("probation_end"),
            func.bool_or(Employment.hire_date <= day).label("hired"),
            func.bool_or(covers).label("employed"),
            func.bool_or(and_(covers, Employment.probation_end >= day)).label("probation"),
        )
        .where(Employment.worker_id == Worker.id)
        .lateral("e")
    )
    seconded = (
        select(Secondment.id)
        .where(Secondment.worker_id == Worker.id, Secondment.start_date <= day, Secondment.end_date > day)
        .exists()
    )
    # domain.lifecycle.status_on, rule by rule in its order
    status = case(
        (~func.coalesce(employments.c.hired, false()), literal(lifecycle.PENDING)),
        (~employments.c.employed, literal(lifecycle.LEFT)),
        (seconded, literal(lifecycle.ON_LOAN)),
        (employments.c.probation, literal(lifecycle.PROBATION)),
        else_=literal(lifecycle.ACTIVE),
    )
    post = (
        select(PostAssignment).where(PostAssignment.worker_id == Worker.id, held_on(day)).limit(1).lateral("p")
    )
    duty = func.jsonb_array_elements_text(post.c.duties).table_valued("value", with_ordinality="n").render_derived()
    duties = (
        select(
            literal("[").concat(
                func.coalesce(
                    func.string_agg(cast(func.to_json(duty.c.value), Text), aggregate_order_by(literal(","), duty.c.n)),
                    literal(""),
                )
            ).concat(literal("]"))
        )
        .select_from(duty)
        .scalar_subquery()
    )
    columns = [
        _text(Worker.id),
        _masked(Worker.id_number, 6, 10),
        _text(Worker.name),
        _text(Worker.sex),
        _iso(Worker.birth_date),
        _masked(Worker.phone, 3, 7),
        _text(Worker.education),
        _text(Worker.political_status),
        _text(Worker.community_code),
        _bool(Worker.lives_in_community),
        _bool(Worker.generalist),
        _bool(Worker.grid_duties),
        _text(Worker.certificate_level),
        _iso(Worker.certificate_date),
        status,
        literal(day.isoformat()),
        _iso(Worker.hire_date),
        _iso(Worker.left_date),
        _iso(employments.c.probation_end),
        literal("[").concat(func.coalesce(employments.c.periods, literal(""))).concat(literal("]")),
        _iso(Worker.career_staff_date),
        _text(Worker.career_staff_document),
        _text(post.c.id),
        _text(post.c.worker_id),
        _text(post.c.community_code),
        _text(post.c.post),
        _text(post.c.grade),
        _iso(post.c.start_date),
        _iso(post.c.end_date),
        _text(post.c.approval),
        case((post.c.id.is_(None), None), else_=duties),
        _text(Worker.version),
        _utc_timestamp(Worker.updated_at),
    ]
    return (
        _visible(principal, f)
        .with_only_columns(*columns)
        .select_from(Worker)
        .join(employments, true(), isouter=True)
        .join(post, true(), isouter=True)
        .order_by(Worker.id)
    )
