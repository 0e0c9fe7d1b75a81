#!/bin/sh
# Builds the npm package: the iamlet-js crate for wasm32-unknown-unknown (the wasm-release profile),
# wasm-bindgen (the CLI at the exact version of the wasm-bindgen crate in Cargo.lock; scripts/setup
# installs it), the entry files from the API it generated (entries.mjs), then wasm-opt from the
# `binaryen` npm package (Debian's is too old for the reference types wasm-bindgen emits).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
cargo build --profile wasm-release --locked -p iamlet-js --target wasm32-unknown-unknown
rm -rf "$here/dist"
wasm-bindgen --target web --out-dir "$here/dist" target/wasm32-unknown-unknown/wasm-release/iamlet_js.wasm
node "$here/entries.mjs"
raw=$(wc -c < "$here/dist/iamlet_js_bg.wasm")
if [ ! -x "$here/node_modules/.bin/wasm-opt" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi
"$here/node_modules/.bin/wasm-opt" -O3 "$here/dist/iamlet_js_bg.wasm" -o "$here/dist/iamlet_js_bg.wasm"
opt=$(wc -c < "$here/dist/iamlet_js_bg.wasm")
gz=$(gzip -9 -c "$here/dist/iamlet_js_bg.wasm" | wc -c)
echo "iamlet_js_bg.wasm: $raw bytes from rustc, $opt bytes after wasm-opt -O3, $gz bytes gzipped"
