"""Every rule of docs/policy.md has code that enforces it and a test that checks it, and the committed
rule index (docs/rule-index.md) is what the code says today (`python -m shared.rule_index write`)."""

import importlib

from shared.rule_index import INDEX, Rule, build, gaps, render, rule_ids


def test_every_rule_id_of_the_policy_has_code_and_a_test() -> None:
    rules = build()
    assert len(rules) == len(rule_ids()) == 42  # S1–S8, P1–P4, H1–H9, C1–C11, E1–E7, K1–K3
    assert gaps(rules) == {}


def test_the_committed_rule_index_is_not_stale() -> None:
    assert INDEX.read_text(encoding="utf-8") == render(build()), "run: python -m shared.rule_index write"


def test_a_rule_decided_in_two_places_or_none_is_a_gap() -> None:
    twice = Rule("H8", deciders={"a.one", "b.two"}, code={"a.one"}, tests={"t"})
    never = Rule("C6", code={"a.one"}, tests={"t"})
    once = Rule("E5", deciders={"a.one"}, code={"a.one"}, tests={"t"})
    assert gaps({"H8": twice, "C6": never, "E5": once}) == {"not decided by exactly one function": ["H8", "C6"]}


def test_each_rule_is_decided_by_one_function_that_exists() -> None:
    for rule in build().values():
        (where,) = rule.deciders
        module, _, name = where.rpartition(".")  # deciders are top-level functions and enums
        assert callable(getattr(importlib.import_module(module), name)), where
