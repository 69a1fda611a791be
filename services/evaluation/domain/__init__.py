"""The evaluation service's rules as pure functions, each named with its POLICY.md id (E1–E7)."""
