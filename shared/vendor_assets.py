"""The browser assets the suite serves itself (``shared/static/vendor/``): Swagger UI 5 and Redoc for ``/docs``
and ``/redoc`` (OpenAPI 3.1), htmx and ECharts for the console. Government intranets block CDNs, and
``make up`` on a fresh machine must not need npm, so the built files are committed.

``python -m shared.vendor_assets write`` (``make vendor``) copies them from ``clients/node_modules`` (the
versions pinned in ``clients/package.json``) and records each file's package, version and SHA-256 in
``shared/static/vendor/manifest.json``; ``check`` verifies the committed copies against that manifest and,
where ``node_modules`` is installed, against the pinned packages' own files.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "shared" / "static" / "vendor"
MANIFEST = VENDOR / "manifest.json"
NODE_MODULES = ROOT / "clients" / "node_modules"
PACKAGE_JSON = ROOT / "clients" / "package.json"

# served name → (npm package, path inside the package)
ASSETS: dict[str, tuple[str, str]] = {
    "swagger-ui-bundle.js": ("swagger-ui-dist", "swagger-ui-bundle.js"),
    "swagger-ui.css": ("swagger-ui-dist", "swagger-ui.css"),
    "swagger-favicon-32x32.png": ("swagger-ui-dist", "favicon-32x32.png"),
    "oauth2-redirect.js": ("swagger-ui-dist", "oauth2-redirect.js"),
    "redoc.standalone.js": ("redoc", "bundles/redoc.standalone.js"),
    "htmx.min.js": ("htmx.org", "dist/htmx.min.js"),
    "echarts.min.js": ("echarts", "dist/echarts.min.js"),
}


def pinned_versions() -> dict[str, str]:
    """The exact versions ``clients/package.json`` pins."""
    pins: dict[str, str] = json.loads(PACKAGE_JSON.read_text())["devDependencies"]
    return pins


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write() -> None:
    pins = pinned_versions()
    entries: dict[str, dict[str, str]] = {}
    for name, (package, inner) in ASSETS.items():
        package_dir = NODE_MODULES / package
        installed = json.loads((package_dir / "package.json").read_text())["version"]
        if installed != pins[package]:
            raise SystemExit(f"{package} {installed} installed, {pins[package]} pinned: run npm ci --prefix clients")
        shutil.copyfile(package_dir / inner, VENDOR / name)
        entries[name] = {"package": package, "version": installed, "source": inner, "sha256": _sha256(VENDOR / name)}
    MANIFEST.write_text(json.dumps(entries, indent=2, sort_keys=True) + "\n")


def problems() -> list[str]:
    """What is wrong with the committed copies (empty when they are the pinned packages' files)."""
    found: list[str] = []
    manifest: dict[str, dict[str, str]] = json.loads(MANIFEST.read_text())
    pins = pinned_versions()
    if set(manifest) != set(ASSETS):
        found.append(f"manifest lists {sorted(manifest)}, expected {sorted(ASSETS)}")
    for name, entry in manifest.items():
        package = entry["package"]
        if entry["version"] != pins.get(package):
            found.append(f"{name}: {package} {entry['version']} committed, {pins.get(package)} pinned")
        if _sha256(VENDOR / name) != entry["sha256"]:
            found.append(f"{name}: differs from the manifest")
        source = NODE_MODULES / package / entry["source"]
        if source.exists() and _sha256(source) != entry["sha256"]:
            found.append(f"{name}: differs from {source.relative_to(ROOT)}")
    return found


def main(argv: list[str]) -> int:
    if argv[1:] == ["write"]:
        write()
        return 0
    if argv[1:] == ["check"]:
        found = problems()
        for problem in found:
            print(problem, file=sys.stderr)  # noqa: T201
        return 1 if found else 0
    print("usage: python -m shared.vendor_assets write|check", file=sys.stderr)  # noqa: T201
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
