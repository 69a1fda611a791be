"""The shape inside a service (docs/architecture.md): routers never import routers. What two routers
share lives in a module of the service (``services/<svc>/<area>.py``), not in one of them."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_routers_import_no_routers() -> None:
    found = []
    for router in sorted(ROOT.glob("services/*/api/*.py")):
        service = router.parts[-3]
        for node in ast.walk(ast.parse(router.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported = node.module
                names = [alias.name for alias in node.names]
                if imported.startswith(f"services.{service}.api") and router.name != "__init__.py":
                    found.append(f"{router.relative_to(ROOT)}: from {imported} import {', '.join(names)}")
    assert found == []


def test_routers_build_no_sql() -> None:
    """Routers parse, authorise, call a use case and shape the answer (docs/architecture.md): no module of
    ``services/<svc>/api/`` imports SQLAlchemy's statement builders; queries live in the use-case modules."""
    found = []
    for router in sorted(ROOT.glob("services/*/api/*.py")):
        for node in ast.walk(ast.parse(router.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "sqlalchemy":
                sql = [a.name for a in node.names if a.name in {"select", "insert", "update", "delete", "text", "func"}]
                if sql or node.module.startswith("sqlalchemy.dialects"):
                    found.append(f"{router.relative_to(ROOT)}: from {node.module} import {', '.join(sql)}")
    assert found == []
