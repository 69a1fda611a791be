"""The compensation service."""
