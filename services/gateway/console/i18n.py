"""Chinese first, English on request: the language of a console request (a cookie the switch sets)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

LANGUAGE_COOKIE = "shegong_lang"
LANGUAGES = ("zh", "en")


def language_of(request: Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    return chosen if chosen in LANGUAGES else "zh"


def translator(language: str) -> Callable[[str, str], str]:
    """``t("中文", "English")`` in the templates: the text of the request's language."""

    def t(zh: str, en: str) -> str:
        return en if language == "en" else zh

    return t
