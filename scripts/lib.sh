# shellcheck shell=bash
# Shared helpers for scripts/start.sh and scripts/test.sh. Source it; it defines
# functions only (plus GENX_ROOT) and changes no shell option of the caller.

GENX_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Packages the build and `genx run` need (Debian 12 names). nodejs/npm are added only
# when `node`/`npm` are missing, so an existing Node installation is never replaced.
GENX_APT_PACKAGES=(
  build-essential cmake pkg-config
  libboost-dev libboost-system-dev librabbitmq-dev nlohmann-json3-dev libspdlog-dev
  libsqlite3-dev libssl-dev libgtest-dev libgmock-dev
  rabbitmq-server
  tzdata
  postgresql libpqxx-dev
)
# Extra packages for scripts/test.sh: a real browser for the dashboard e2e test, jq for
# bench/run.sh (the bench-smoke stage), sqlite3 (the reliability tests lock the database
# from outside), clang + its runtime for the libFuzzer target (tests/fuzz), openssl (test
# CAs and certificates made during the run), systemd for `systemd-analyze verify` of
# deploy/systemd (offline: no systemd needs to run as init).
GENX_APT_TEST_PACKAGES=(chromium jq sqlite3 clang libclang-rt-14-dev openssl systemd)

log() { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33mWARNING:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mERROR:\033[0m %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly, or through sudo when available).
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (run as root or install sudo)"
  fi
}

# Prints the packages of "$@" that dpkg does not report as installed.
missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

# install_deps [extra packages...]: installs what is missing; does nothing (no apt-get
# update, no network) when everything is already there.
install_deps() {
  command -v dpkg-query >/dev/null 2>&1 || die "dpkg-query not found: install_deps supports Debian/Ubuntu only"
  local wanted=("${GENX_APT_PACKAGES[@]}" "$@")
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: scripts/install-deps.sh supports Debian/Ubuntu only"
  command -v node >/dev/null 2>&1 || wanted+=(nodejs)
  command -v npm >/dev/null 2>&1 || wanted+=(npm)
  local missing
  mapfile -t missing < <(missing_packages "${wanted[@]}")
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "dependencies: all installed"
  else
    log "dependencies: installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  local major
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [[ $major -lt 18 ]]; then
    die "Node.js >= 18 is required for the tests and tools (found $(node --version 2>/dev/null || echo none))"
  fi
}

# build_genx BUILD_DIR BUILD_TESTS(ON|OFF) [cmake --build args...]
build_genx() {
  local dir=$1 tests=$2
  shift 2
  log "configure: $dir (RelWithDebInfo, tests $tests)"
  cmake -S "$GENX_ROOT" -B "$dir" -DCMAKE_BUILD_TYPE="${GENX_BUILD_TYPE:-RelWithDebInfo}" \
    -DGENX_BUILD_TESTS="$tests" || return 1
  log "build: $dir (-j$(nproc))"
  cmake --build "$dir" -j"$(nproc)" "$@"
}

# build_web: the dashboard's assets (web/public/vendor: socket.io-client and uPlot from npm,
# pinned by web/package-lock.json; no CDN at run time).
build_web() {
  log "dashboard assets: npm ci in web/"
  (cd "$GENX_ROOT/web" && npm ci --no-audit --no-fund && npm run build)
}

# load_env_file FILE: exports KEY=VALUE lines of FILE (comments, blank lines, optional
# "export " and one level of quotes handled) for keys not already set in the
# environment, so the environment wins over the file, as in genx itself.
load_env_file() {
  local file=$1 line key value
  [[ -f $file ]] || return 0
  log "reading $file"
  while IFS= read -r line || [[ -n $line ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z $line || $line == \#* ]] && continue
    line="${line#export }"
    [[ $line == *=* ]] || continue
    key="${line%%=*}"
    key="${key%"${key##*[![:space:]]}"}"
    value="${line#*=}"
    value="${value#"${value%%[![:space:]]*}"}"
    value="${value%"${value##*[![:space:]]}"}"
    if [[ $value == \"*\" && ${#value} -ge 2 ]] || [[ $value == \'*\' && ${#value} -ge 2 ]]; then
      value="${value:1:${#value}-2}"
    fi
    [[ $key =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue
    if [[ -z ${!key+x} ]]; then
      export "$key=$value"
    fi
  done <"$file"
}

# parse_amqp_url URL: sets AMQP_HOST and AMQP_PORT (5672, or 5671 for amqps).
parse_amqp_url() {
  local url=$1 scheme rest hostport
  scheme="${url%%://*}"
  [[ $scheme == amqp || $scheme == amqps ]] || { warn "not an amqp:// URL: $url"; return 1; }
  rest="${url#*://}"
  hostport="${rest%%[/?]*}"
  hostport="${hostport##*@}"
  if [[ $hostport == \[* ]]; then
    AMQP_HOST="${hostport%%]*}"
    AMQP_HOST="${AMQP_HOST#[}"
    hostport="${hostport#*]}"
    AMQP_PORT="${hostport#:}"
  elif [[ $hostport == *:* ]]; then
    AMQP_HOST="${hostport%%:*}"
    AMQP_PORT="${hostport#*:}"
  else
    AMQP_HOST="$hostport"
    AMQP_PORT=""
  fi
  [[ -n $AMQP_HOST ]] || AMQP_HOST=localhost
  if [[ -z $AMQP_PORT ]]; then
    if [[ $scheme == amqps ]]; then AMQP_PORT=5671; else AMQP_PORT=5672; fi
  fi
  [[ $AMQP_PORT =~ ^[0-9]+$ ]] || { warn "bad port in $url"; return 1; }
}

# is_local_host HOST: true for loopback names and this machine's own names.
is_local_host() {
  case "$1" in
    localhost | 127.* | ::1 | 0.0.0.0 | "$(hostname 2>/dev/null)" | "$(hostname -f 2>/dev/null)") return 0 ;;
  esac
  return 1
}

# tcp_open HOST PORT: true when a TCP connection succeeds within 2 s.
tcp_open() {
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# wait_tcp HOST PORT SECONDS
wait_tcp() {
  local i
  for ((i = 0; i < $3; i++)); do
    tcp_open "$1" "$2" && return 0
    sleep 1
  done
  return 1
}
