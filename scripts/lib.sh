# Shared helpers of the scripts in this folder (sourced, not run).

# Installs the Debian packages that are missing (needs root, as on a fresh
# Debian 12 machine; prints what it installs). A package that an installed
# one provides counts as there: NodeSource's nodejs provides (and conflicts
# with) npm.
ensure_packages() {
  local missing=() provided
  provided=$(dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null | sed -n 's/^install ok installed|//p' |
             tr ',' '\n' | sed 's/(.*//; s/[[:space:]]//g')
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      grep -qxF "$p" <<<"$provided" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# What building gofer needs. nodejs and npm: the build installs the live
# page's charting library (uPlot) from the npm registry and embeds it
# (src/debug/web); nlohmann-json3-dev: `gofer top` reads the server's JSON.
BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libboost-context-dev libfmt-dev libcli11-dev libssl-dev
                nodejs npm nlohmann-json3-dev)
# chromium: the browser test of /debug/gofer (tests/browser);
# golang-go: the URL differential test compares gofer::url with Go's net/url;
# openssl: the s_client/s_server peers of the tls tests, and test certificates;
# curl: the HTTPS client of the server tests;
# systemd: systemd-socket-activate, which hands gofer serve its socket as a
# socket unit does (apps/gofer/tests/serve_test.cpp);
# dpkg-dev: dpkg-shlibdeps, which cpack uses for the gofer package's
# Depends (tests/install/run-consumer).
TEST_PACKAGES=(libgtest-dev libgmock-dev libhttp-parser-dev clang libclang-rt-14-dev golang-go openssl curl chromium
               systemd dpkg-dev)
BENCH_PACKAGES=(libbenchmark-dev golang-go wrk nginx-light h2o)
