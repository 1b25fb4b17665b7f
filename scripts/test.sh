#!/usr/bin/env bash
# Installs what the tests need, then runs all of them: lint, types, JavaScript and Python tests
# (README.md, "Test"; .ci/run calls this very script).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/install.sh"
install_all
cd "$ROOT"
say "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
say "mypy"
"$VENV/bin/mypy" webmap tiles layers staff
say "import-linter (.importlinter: the arrows between packages, no Flask below webmap)"
"$VENV/bin/lint-imports"
if [ -f frontend/package.json ] && grep -q '"test"' frontend/package.json; then
  say "JavaScript tests"
  (cd frontend && npm test --silent)
fi
say "pytest"
"$VENV/bin/pytest" "$@"
