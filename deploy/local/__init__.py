"""The embedded default: a local PostgreSQL under ``.data/`` and the four services under supervisord."""
