"""``/docs`` and ``/redoc`` of every service from the suite's own files (issue #14): Swagger UI 5 (reads
OpenAPI 3.1) and Redoc, committed under ``shared/static/vendor`` as the versions ``clients/package.json``
pins, no script from elsewhere and none inline."""

import json
import re
from pathlib import Path

import pytest

from conftest import ServiceFactory
from shared import vendor_assets


def test_committed_assets_are_the_pinned_packages_files() -> None:
    assert vendor_assets.problems() == []
    manifest = json.loads(vendor_assets.MANIFEST.read_text())
    pins = vendor_assets.pinned_versions()
    assert manifest["swagger-ui-bundle.js"]["version"] == pins["swagger-ui-dist"]
    assert pins["swagger-ui-dist"].startswith("5.")  # 4.x cannot render OpenAPI 3.1
    # the version string inside the committed bundles is the pinned one
    htmx = (vendor_assets.VENDOR / "htmx.min.js").read_text()
    assert f'version:"{pins["htmx.org"]}"' in htmx.replace(" ", "")
    echarts = (vendor_assets.VENDOR / "echarts.min.js").read_text()
    assert f'"{pins["echarts"]}"' in echarts


def test_a_changed_copy_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "vendor"
    copy.mkdir()
    for path in vendor_assets.VENDOR.iterdir():
        (copy / path.name).write_bytes(path.read_bytes())
    (copy / "htmx.min.js").write_text("/* not htmx */")
    monkeypatch.setattr(vendor_assets, "VENDOR", copy)
    monkeypatch.setattr(vendor_assets, "MANIFEST", copy / "manifest.json")
    assert any(p.startswith("htmx.min.js") for p in vendor_assets.problems())


@pytest.mark.parametrize("service", ["roster", "compensation", "evaluation"])
async def test_each_service_serves_docs_and_redoc_from_its_own_files(service_app: ServiceFactory, service: str) -> None:
    client = (await service_app(service)).client
    for path, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        page = await client.get(path)
        assert page.status_code == 200
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "script-src 'self';" in csp  # no inline script, none from elsewhere
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert f"/docs/static/vendor/{asset}" in sources
        assert all(s.startswith("/") for s in sources)  # nothing from a CDN
        assert "<script>" not in page.text
        for source in sources:
            assert (await client.get(source)).status_code == 200
    init = await client.get("/docs/static/docs/swagger-init.js")
    assert "validatorUrl: null" in init.text  # the default validator would call validator.swagger.io
