"""Language of client messages: zh-CN by default, en when ``Accept-Language`` prefers English."""

from __future__ import annotations

from typing import Literal

Language = Literal["zh-CN", "en"]
DEFAULT_LANGUAGE: Language = "zh-CN"


def negotiate(accept_language: str | None) -> Language:
    """Pick zh-CN or en from an ``Accept-Language`` header by quality value (RFC 9110 §12.5.4).

    Anything that is neither Chinese nor English, or no header at all, gives the default zh-CN.
    """
    if not accept_language:
        return DEFAULT_LANGUAGE
    best: tuple[float, int, Language] | None = None
    for position, part in enumerate(accept_language.split(",")):
        pieces = [p.strip() for p in part.split(";")]
        tag = pieces[0].lower()
        quality = 1.0
        for param in pieces[1:]:
            if param.startswith("q="):
                try:
                    quality = float(param[2:])
                except ValueError:
                    quality = 0.0
        if quality <= 0:
            continue
        lang: Language | None
        if tag.startswith("zh"):
            lang = "zh-CN"
        elif tag.startswith("en"):
            lang = "en"
        else:
            lang = None
        if lang is None:
            continue
        # Higher quality wins; among equals the earlier one.
        key = (quality, -position, lang)
        if best is None or key[:2] > best[:2]:
            best = key
    return best[2] if best else DEFAULT_LANGUAGE


class Message:
    """A client-facing text in both languages."""

    __slots__ = ("en", "zh")

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en

    def render(self, language: Language, **params: object) -> str:
        text = self.en if language == "en" else self.zh
        return text.format(**params) if params else text

    def __repr__(self) -> str:
        return f"Message({self.zh!r}, {self.en!r})"
