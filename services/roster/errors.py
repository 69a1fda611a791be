"""The roster's rule errors: a 422 naming one field, in both languages, with the rule id."""

from __future__ import annotations

from shared.i18n import Message
from shared.problems import FieldError, UnprocessableContent


def invalid(
    field: str, detail_zh: str, detail_en: str, rule: str | None = None, *, pointer: str | None = None
) -> UnprocessableContent:
    """A 422 naming one field (``/body/<field>`` unless ``pointer`` says otherwise), in both languages."""
    return UnprocessableContent(
        Message("{field}：{zh}", "{field}: {en}"),
        rule=rule,
        errors=[FieldError.of(field, Message(detail_zh, detail_en), pointer=pointer, rule=rule)],
        field=field,
        zh=detail_zh,
        en=detail_en,
    )
