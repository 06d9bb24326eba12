#!/usr/bin/env bash
# `npm start`: installs what is missing (scripts/setup.sh), builds the WebAssembly engine if missing and the site if it is missing or
# older than its sources, then serves web/dist on 127.0.0.1 (with the strict CSP) and prints the
# address. `npm run dev` (--dev) runs Vite's dev server instead. PORT=8080 by default.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

if [ ! -f web/public/wasm/resnorm.wasm ] || [ ! -f web/public/wasm/resnorm.mjs ]; then
  echo "start: building the WebAssembly engine (scripts/build-wasm.sh)"
  bash scripts/build-wasm.sh
fi

if [ "${1:-}" = "--dev" ]; then
  exec npx vite --config web/vite.config.ts --host 127.0.0.1 --port "${PORT:-5173}"
fi

stale=0
if [ ! -f web/dist/index.html ]; then
  stale=1
elif [ -n "$(find web/src web/examples web/index.html web/embed.html web/vite.config.ts web/public cpp/presets -newer web/dist/index.html -type f -print -quit)" ]; then
  stale=1
fi
if [ "$stale" = 1 ]; then
  echo "start: building the site (vite build)"
  npx vite build --config web/vite.config.ts --logLevel warn
fi
exec node scripts/serve.mjs --dir web/dist --port "${PORT:-8080}"
