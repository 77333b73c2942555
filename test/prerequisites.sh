#!/usr/bin/env bash
# Run by `npm test` before the suite (package.json "pretest"): makes sure the
# programs the tests drive are present and actually work, and installs the
# missing ones from Debian when running as root. A fresh machine of the
# appliance's kind has Node, build tools and systemd, but no browser and no promtool.
# .ci/run calls nothing of this itself: it runs the README's test command.
#
#   CHROMIUM_PATH   the browser the tests launch (default /usr/bin/chromium)
#   PROMTOOL_PATH   promtool (default: promtool on the PATH)
set -uo pipefail
export DEBIAN_FRONTEND=noninteractive

chromium=${CHROMIUM_PATH:-/usr/bin/chromium}
promtool=${PROMTOOL_PATH:-promtool}
say() { echo "prerequisites: $*" >&2; }

# A file that exists is not enough: a broken install or missing libraries only
# show when the browser runs. Render an empty page headless and read it back.
chromium_starts() {
  local out
  out=$(timeout 60 "$chromium" --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --user-data-dir="$(mktemp -d)" --dump-dom about:blank 2>/dev/null) || return 1
  [[ $out == *"<body>"* ]]
}
promtool_runs() { "$promtool" --version >/dev/null 2>&1; }

missing=()
chromium_starts || { say "the browser $chromium does not start"; missing+=(chromium); }
promtool_runs || { say "$promtool does not run"; missing+=(prometheus); }
# systemd-analyze verifies the unit; python3 is the tests' notify socket (Node has no unix datagram sockets).
command -v systemd-analyze >/dev/null 2>&1 || { say "systemd-analyze is missing"; missing+=(systemd); }
command -v python3 >/dev/null 2>&1 || { say "python3 is missing"; missing+=(python3); }
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  say "install the Debian packages ${missing[*]} (as root: apt-get install -y ${missing[*]}),"
  say "or point CHROMIUM_PATH / PROMTOOL_PATH at working ones"
  exit 1
fi
say "installing ${missing[*]} from Debian"
apt-get update -q >&2 && apt-get install -y -q --no-install-recommends "${missing[@]}" >&2 || { say "apt-get failed"; exit 1; }

ok=1
chromium_starts || { say "$chromium still does not start (CHROMIUM_PATH=${CHROMIUM_PATH:-unset}; Debian's is /usr/bin/chromium)"; ok=0; }
promtool_runs || { say "$promtool still does not run (PROMTOOL_PATH=${PROMTOOL_PATH:-unset}; Debian's is /usr/bin/promtool)"; ok=0; }
[ $ok = 1 ] && say "ready" && exit 0
exit 1
