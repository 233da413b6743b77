#!/usr/bin/env bash
# Installs the Debian packages GenX needs to build, run and test, and nothing else:
# packages already installed are left alone (checked with dpkg-query), and when nothing
# is missing it does not touch the network. An existing `node`/`npm` is never replaced.
#
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the test suite needs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

extra=()
case "${1:-}" in
  "") ;;
  --test) extra+=("${GENX_APT_TEST_PACKAGES[@]}") ;;
  -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown option: $1 (try --help)" ;;
esac
install_deps "${extra[@]}"
