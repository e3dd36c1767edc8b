"""Supply chain (SECURITY.md checklist 68): every package is pinned to one version with its
sha256, the environment the suite runs in is the lock, and a CycloneDX SBOM can be built from it."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
REQUIREMENT = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+?)\s*\\?$")
HASH = re.compile(r"^\s+--hash=sha256:[0-9a-f]{64}\s*\\?$")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(path: Path) -> dict[str, tuple[str, int]]:
    """name → (version, number of hashes); fails on any requirement line that is not `==`."""
    pins: dict[str, tuple[str, int]] = {}
    current = None
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if HASH.match(line):
            assert current, f"{path.name}:{number}: a hash with no requirement above it"
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
            continue
        match = REQUIREMENT.match(line)
        assert match, f"{path.name}:{number}: not an exact `name==version` pin: {line!r}"
        current = canonical(match.group(1))
        assert current not in pins, f"{path.name}:{number}: {current} pinned twice"
        pins[current] = (match.group(2), 0)
    return pins


def declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["optional-dependencies"][extra] if extra else project["dependencies"]
    return {canonical(re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0]) for spec in specs}


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock", "model.lock"])
def test_it_pins_every_package_to_one_version_with_a_sha256(lock):
    pins = parse_lock(LOCKS / lock)
    assert pins
    unhashed = sorted(name for name, (_, hashes) in pins.items() if hashes == 0)
    assert not unhashed, f"{lock}: no --hash for {unhashed}"


def test_it_locks_every_declared_dependency():
    runtime, dev = parse_lock(LOCKS / "runtime.lock"), parse_lock(LOCKS / "dev.lock")
    assert declared() <= set(runtime), declared() - set(runtime)
    assert declared() | declared("dev") <= set(dev), (declared() | declared("dev")) - set(dev)
    # The two locks agree wherever they overlap: dev is runtime plus the tools.
    assert {n: v for n, (v, _) in runtime.items()} == {n: dev[n][0] for n in runtime}
    assert runtime["torch"][0].startswith("2.13.0")


def test_it_installs_only_through_the_hash_checked_locks():
    makefile = (ROOT / "Makefile").read_text()
    installs = [ln.strip() for ln in makefile.splitlines() if "$(PIP) install" in ln]
    assert installs, "the Makefile installs nothing?"
    for line in installs:
        hashed = "--require-hashes" in line and " -r requirements/" in line
        assert hashed or line.endswith("--no-deps -e ."), line


def test_it_runs_the_versions_the_lock_pins():
    drift = {}
    for name, (version, _) in parse_lock(LOCKS / "dev.lock").items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            drift[name] = (version, None)
            continue
        if installed != version:
            drift[name] = (version, installed)
    assert not drift, f"locked vs installed: {drift} (run `make test` or scripts/lock.sh)"


def test_it_builds_a_cyclonedx_sbom_of_the_runtime_lock(tmp_path):
    out = tmp_path / "sbom.cdx.json"
    subprocess.run([str(ROOT / "scripts" / "sbom.sh"), str(out)], check=True, capture_output=True)  # noqa: S603
    bom = json.loads(out.read_text())
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    assert bom["metadata"]["component"]["name"] == "finetunedb"
    components = {canonical(c["name"]): c for c in bom["components"]}
    pins = parse_lock(LOCKS / "runtime.lock") | parse_lock(LOCKS / "model.lock")
    assert set(components) == set(pins)
    torch = components["torch"]
    assert torch["version"] == pins["torch"][0]
    assert torch["purl"].startswith("pkg:pypi/torch@2.13.0")
    digests = [h["content"] for ref in torch["externalReferences"] for h in ref.get("hashes", [])]
    assert digests and all(re.fullmatch(r"[0-9a-f]{64}", d) for d in digests)
