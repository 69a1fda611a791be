"""The gateway: the one public entry (routing, merged OpenAPI, identity)."""
