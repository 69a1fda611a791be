"""The roster's rules as pure functions, each named with its POLICY.md id (S, P, H, K)."""
