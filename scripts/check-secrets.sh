#!/usr/bin/env bash
# The last stage of scripts/test.sh: no secret used by the tests (passwords, tokens,
# private keys; recorded one per line by tests/e2e/lib/secrets.mjs) may appear in any
# log of the run. Prints the file and line of each leak, never the secret itself.
#
# Environment (scripts/test.sh sets both):
#   GENX_TEST_SECRETS_FILE  the recorded secrets (default build/test-artifacts/secrets-used.txt)
#   GENX_TEST_LOG_DIR       the logs of the run (default build/test-artifacts/logs)
# Exit 0: no leak; 1: a leak, or nothing recorded (then the check would prove nothing).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secrets="${GENX_TEST_SECRETS_FILE:-$root/build/test-artifacts/secrets-used.txt}"
logs="${GENX_TEST_LOG_DIR:-$root/build/test-artifacts/logs}"

if [[ ! -s $secrets ]]; then
  echo "check-secrets: no secrets recorded in $secrets: the tests did not record what they used" >&2
  exit 1
fi
if [[ ! -d $logs ]] || [[ -z $(find "$logs" -type f -print -quit) ]]; then
  echo "check-secrets: no logs under $logs: nothing to check" >&2
  exit 1
fi
# Unique, non-empty patterns (fixed strings).
patterns="$(mktemp)"
trap 'rm -f "$patterns"' EXIT
grep -v '^[[:space:]]*$' "$secrets" | sort -u >"$patterns"
count=$(wc -l <"$patterns")
files=$(find "$logs" -type f | wc -l)
# -o prints only the matched secret after FILE:LINE:, which cut removes.
leaks="$(grep -rnoF -f "$patterns" "$logs" | cut -d: -f1,2 | sort -u)"
if [[ -n $leaks ]]; then
  echo "check-secrets: a secret used by the tests appears in these logs (file:line; the secret is not shown):" >&2
  printf '  %s\n' $leaks >&2
  exit 1
fi
echo "check-secrets: none of $count recorded secrets appears in the $files log files under $logs"
