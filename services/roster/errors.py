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


def refused(rule: str, zh: str, en: str, field: str) -> UnprocessableContent:
    """A policy rule refuses the request; ``field`` is the body field the rule judged."""
    return UnprocessableContent(
        Message("{zh}（{rule_id}）", "{en} ({rule_id})"),
        rule=rule,
        errors=[FieldError.of(field, Message(zh, en), rule=rule)],
        rule_id=rule,
        zh=zh,
        en=en,
    )
