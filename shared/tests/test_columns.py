"""The shared column types declare what the tables declared one by one before (shared/columns.py); the
migrations check (tests/contract/test_migrations.py) holds the tables equal to the database's."""

from sqlalchemy import Table

from services.compensation import models as compensation
from services.evaluation import models as evaluation
from services.gateway import models as gateway
from services.roster import models as roster


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def test_generated_id_is_a_uuid_key_that_postgresql_fills() -> None:
    for model in (roster.Contract, compensation.BonusAllocation, evaluation.TrainingRecord, gateway.Grant):
        column = _table(model).c.id
        assert column.primary_key
        assert str(column.server_default.arg) == "gen_random_uuid()"  # type: ignore[union-attr]


def test_timestamp_is_the_insert_time_and_a_column_keeps_its_own_comment() -> None:
    created = _table(roster.Contract).c.created_at
    assert created.type.timezone  # type: ignore[attr-defined]
    assert str(created.server_default.arg) == "now()"  # type: ignore[union-attr]
    assert created.comment is None
    recorded = _table(compensation.PostPeriod).c.recorded_at
    assert str(recorded.server_default.arg) == "now()"  # type: ignore[union-attr]
    assert recorded.comment == "when this copy last changed (corrections)"
    # each table has a column of its own, not one shared object
    assert created is not _table(roster.Transfer).c.created_at


def test_projected_grades_are_keyed_by_worker_and_year_in_both_services() -> None:
    for model in (roster.AssessmentResult, compensation.AssessmentGrade):
        table = _table(model)
        assert [c.name for c in table.primary_key] == ["worker_id", "year"]
        assert table.c.grade.type.length == 24  # type: ignore[attr-defined]


def test_an_account_key_is_generated_and_stays_the_first_column() -> None:
    for model in (gateway.User, gateway.ApiClient):
        first = next(iter(_table(model).c))
        assert first.name == "id"
        assert str(first.server_default.arg) == "gen_random_uuid()"  # type: ignore[union-attr]


def test_a_column_index_is_named_table_column_idx_as_postgresql_names_one() -> None:
    assert {i.name for i in _table(roster.Transfer).indexes} == {"transfers_worker_id_idx"}
    assert {i.name for i in _table(gateway.Grant).indexes} == {"grants_user_id_idx", "grants_client_pk_idx"}
    assert "audit_events_occurred_at_idx" in {i.name for i in _table(gateway.AuditEvent).indexes}
