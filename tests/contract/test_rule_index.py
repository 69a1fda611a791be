"""Every rule of docs/policy.md has code that enforces it and a test that checks it, and the committed
rule index (docs/rule-index.md) is what the code says today (`python -m shared.rule_index write`)."""

from shared.rule_index import INDEX, build, gaps, render, rule_ids


def test_every_rule_id_of_the_policy_has_code_and_a_test() -> None:
    rules = build()
    assert len(rules) == len(rule_ids()) == 42  # S1–S8, P1–P4, H1–H9, C1–C11, E1–E7, K1–K3
    assert gaps(rules) == {}


def test_the_committed_rule_index_is_not_stale() -> None:
    assert INDEX.read_text(encoding="utf-8") == render(build()), "run: python -m shared.rule_index write"
