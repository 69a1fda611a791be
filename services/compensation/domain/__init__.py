"""The compensation rules as pure functions and data, each named with its POLICY.md id (C1–C11)."""
