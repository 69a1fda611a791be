"""Language negotiation: zh-CN unless the client prefers English."""

import pytest

from shared.i18n import Message, negotiate


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "zh-CN"),
        ("", "zh-CN"),
        ("en", "en"),
        ("en-US,en;q=0.9", "en"),
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("zh;q=0.5, en;q=0.8", "en"),
        ("en;q=0.3, zh-TW;q=0.9", "zh-CN"),
        ("fr-FR", "zh-CN"),
        ("fr-FR, en;q=0.1", "en"),
        ("en;q=0", "zh-CN"),
        ("en;q=abc", "zh-CN"),
    ],
)
def test_negotiate_picks_the_preferred_supported_language(header: str | None, expected: str) -> None:
    assert negotiate(header) == expected


def test_message_renders_each_language_with_parameters() -> None:
    message = Message("社区 {code} 不存在", "Community {code} does not exist")
    assert message.render("zh-CN", code="330302001001") == "社区 330302001001 不存在"
    assert message.render("en", code="330302001001") == "Community 330302001001 does not exist"
