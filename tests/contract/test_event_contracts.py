"""Events are typed end to end: the committed JSON Schemas are the models' (python -m shared.contracts
write), every event type a consumer handles has a model, and what producers write reads back."""

from datetime import date

from services.compensation.projections import compensation_feeds
from services.compensation.settings import Settings as CompensationSettings
from services.evaluation.projections import evaluation_feeds
from services.evaluation.settings import Settings as EvaluationSettings
from services.roster.projections import roster_feeds
from services.roster.settings import Settings as RosterSettings
from shared.contracts import EVENTS, SCHEMAS, EmploymentPeriod, WorkerChanged, read, render


def test_the_committed_event_schemas_are_the_models() -> None:
    assert SCHEMAS.read_text(encoding="utf-8") == render(), "run: python -m shared.contracts write"


def test_every_event_a_consumer_handles_has_a_model() -> None:
    class State:
        def __init__(self, settings: object) -> None:
            self.settings = settings

    class App:
        def __init__(self, settings: object) -> None:
            self.state = State(settings)

    consumers = [
        *compensation_feeds(App(CompensationSettings())),  # type: ignore[arg-type]
        *evaluation_feeds(App(EvaluationSettings())),  # type: ignore[arg-type]
        *roster_feeds(App(RosterSettings())),  # type: ignore[arg-type]
    ]
    handled = {kind for consumer in consumers for kind in consumer.handlers}
    assert handled <= set(EVENTS)


def test_a_worker_event_round_trips_and_keeps_what_a_newer_producer_adds() -> None:
    written = WorkerChanged(
        worker_id="7d1c6f0e-7c5e-4a47-9d5f-2a8f0f5e9c11",
        name="社工",
        community_code="330302001001",
        status="probation",
        hire_date=date(2026, 3, 2),
        version=1,
        employments=[EmploymentPeriod(hire_date=date(2026, 3, 2))],
    ).to_data() | {"badge": "new in a later version"}
    back = read({"type": "worker.hired", "data": written})
    assert isinstance(back, WorkerChanged)
    assert back.periods() == [EmploymentPeriod(hire_date=date(2026, 3, 2))]
    assert back.to_data()["badge"] == "new in a later version"
    older = WorkerChanged.model_validate({k: v for k, v in written.items() if k != "employments"})
    assert older.periods() == [EmploymentPeriod(hire_date=date(2026, 3, 2), left_date=None)]


def test_every_event_type_the_code_names_has_a_contract() -> None:
    """Each ``"<noun>.<verb>"`` literal passed to ``record_event`` (or queued by the import's COPY) is a key of
    ``EVENTS``; the payroll run's ``f"payroll_run.{status}"`` is checked by its statuses."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    named: set[str] = set()
    for source in (root / "services").rglob("*.py"):
        if "tests" in source.parts or "migrations" in source.parts:
            continue
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
                "record_event",
                "append",
            }:
                args = node.args[2:3] if getattr(node.func, "id", "") == "record_event" else node.args[:1]
                for arg in args:
                    literal = arg.elts[0] if isinstance(arg, ast.Tuple) and arg.elts else arg
                    value = literal.value if isinstance(literal, ast.Constant) else None
                    if (
                        isinstance(value, str)
                        and value.count(".") == 1
                        and value.replace(".", "").replace("_", "").isalpha()
                    ):
                        named.add(value)
    named |= {f"payroll_run.{status}" for status in ("approved", "paid")}
    assert len(named) > 30  # the scan finds the producers
    assert named - set(EVENTS) == set()


def test_a_payload_that_does_not_fit_its_contract_is_refused_before_it_is_written() -> None:
    import pytest
    from pydantic import ValidationError

    from shared.contracts import check_contract

    check_contract("quota.set", {"county_code": "330302", "year": 2026, "headcount": 40})
    with pytest.raises(ValidationError):
        check_contract("quota.set", {"county_code": "330302", "year": "next year", "headcount": 40})
    with pytest.raises(KeyError, match="no contract"):
        check_contract("quota.removed", {"county_code": "330302"})
