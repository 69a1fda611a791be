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
