"""Read models from stored rows: a response model's fields taken from the row's attributes of the same name,
with the fields the row does not hold (computed, masked, renamed) given beside it."""

from typing import Any, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


def from_row(model: type[M], row: object, /, **computed: Any) -> M:
    """``model`` validated from ``row``'s attributes named like its fields, ``computed`` taking precedence.

    ``Model.model_validate(row, from_attributes=True)`` where every field is stored; this where some are not
    (a masked ID number, a status as of a day, a due date)."""
    values = {name: getattr(row, name) for name in model.model_fields if name not in computed and hasattr(row, name)}
    return model.model_validate(values | computed)
