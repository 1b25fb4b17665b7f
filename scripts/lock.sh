#!/usr/bin/env bash
# Re-pins the Python dependencies: resolves setup.cfg's install_requires and its test and dev
# extras into requirements.lock, which scripts/install.sh installs (README.md, "Dependencies").
# Run it after changing a requirement in setup.cfg, and commit both files. Pins already in the
# lock are kept where they still satisfy setup.cfg; `bash scripts/lock.sh --upgrade` moves
# everything to the newest allowed versions.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${WEBMAP_VENV:-$ROOT/.venv}"
cd "$ROOT"
"$VENV/bin/pip-compile" --quiet --extra test --extra dev --strip-extras \
  --no-emit-index-url --no-emit-trusted-host --no-emit-find-links \
  --output-file requirements.lock "$@" setup.cfg
