#!/usr/bin/env bash
# A CycloneDX (1.6, JSON) SBOM of what a deployment installs: the hash-pinned runtime lock and
# the bundled base model, each component with its version, purl and sha256.
#   scripts/sbom.sh [OUT]     default: var/sbom.cdx.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-var/sbom.cdx.json}
mkdir -p "$(dirname "$out")"
# The "no defined dependencies" warning only says a lock file has no dependency graph to give.
cat requirements/runtime.lock requirements/model.lock |
    .venv/bin/python -W ignore::UserWarning -m cyclonedx_py requirements \
        --pyproject pyproject.toml --of JSON --output-reproducible -o "$out" -
echo "$out"
