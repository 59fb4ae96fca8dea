#!/usr/bin/env bash
# The Python package's tests (README's test command runs this after `cargo test --release`):
# a fresh virtual environment, `pip install ./python` (maturin and every package from the
# registries), then pytest. The extension's Rust build shares target/ with the crate's.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${WEMBED_VENV:-target/python-venv}
rm -rf "$VENV"
python3 -m venv "$VENV"
PY="$(cd "$VENV" && pwd)/bin/python"
"$PY" -m pip install --quiet --disable-pip-version-check pytest numpy "gensim==4.4.0"
CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}" "$PY" -m pip install --quiet --disable-pip-version-check ./python
# Run from outside the source tree, so that `import wembed` finds the installed package.
cd python/tests && "$PY" -m pytest -q -p no:cacheprovider .
