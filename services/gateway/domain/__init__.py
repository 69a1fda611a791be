"""The gateway's pure rules (no I/O), unit-tested: webhook matching, retries, signatures, addresses."""
