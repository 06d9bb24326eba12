#!/usr/bin/env bash
# The checks that keep the docs and the mutation harness from rotting (npm test's stage 0, and npm run test:fast):
#   1. the checkers' own tests: planted broken links and paths must be reported, URLs, globs, placeholders and
#      build outputs must not; a changed figure in docs/benchmarks.md must fail the table check (tests/docs);
#   2. every relative link in README.md and docs/*.md and every repository path in a source comment exists
#      (scripts/check-links.mjs);
#   3. every table in docs/benchmarks.md equals what bench/results/*.json gives (scripts/docs-bench.mjs --check);
#   4. every mutant of scripts/mutants.sh still applies to the code (--list exits 1 otherwise).
# Seconds, no build needed (node and python3 only).
set -euo pipefail
cd "$(dirname "$0")/.."
node tests/docs/test_checks.mjs
node scripts/check-links.mjs
node scripts/docs-bench.mjs --check
bash scripts/mutants.sh --list >/tmp/resnorm-mutants-list.$$ || { cat /tmp/resnorm-mutants-list.$$; rm -f /tmp/resnorm-mutants-list.$$; exit 1; }
tail -1 /tmp/resnorm-mutants-list.$$; rm -f /tmp/resnorm-mutants-list.$$
