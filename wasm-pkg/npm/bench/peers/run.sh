#!/bin/sh
# The npm package against @cloud-copilot/iam-simulate on the conformance corpus: decisions compared,
# disagreements listed, medians per decision. Not part of the test suite.
#
# iam-simulate is AGPL-3.0-or-later: it is installed here, in this unpublished folder, with --no-save,
# only to compare against; nothing we ship depends on it.
#
# Usage: wasm-pkg/npm/bench/peers/run.sh [--rounds N] [--batch-ms M] [--json FILE]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../build.sh"
cd "$here"
npm install --no-save --no-package-lock --no-audit --no-fund @cloud-copilot/iam-simulate@latest
node compare.mjs "$@"
