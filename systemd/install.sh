#!/usr/bin/env bash
# Install pbxd as a systemd service on Debian 12:
#   build → /opt/pbxd (app, production node_modules) → user pbxd → /etc/pbxd/pbxd.json
#   (kept if present) → /etc/systemd/system/pbxd.service → /usr/local/bin/pbxctl → start.
# Run again to upgrade: the app is replaced, configuration and data are kept.
set -euo pipefail

PREFIX=/opt/pbxd
ETC=/etc/pbxd
STATE=/var/lib/pbxd
UNIT=/etc/systemd/system/pbxd.service
CTL=/usr/local/bin/pbxctl

usage() {
  cat <<USAGE
Usage: systemd/install.sh [--no-build] [--no-start] (--vendor-root FILE | --development-trust) [--address ADDRESS]

  --no-build          use the existing dist/ (npm run build was done already)
  --no-start          install and enable, but do not (re)start the service
  --vendor-root FILE  trust this vendor root CA for licenses (copied to $ETC/vendor-root.pem)
                      and not the development root
  --address ADDRESS   the appliance's address or DNS name as phones reach it: their SIP
                      registrar and the provisioning certificate's name (default for a new
                      configuration: the address of the default route's interface)
  --development-trust trust the PUBLIC development root (test machines only: anyone can issue
                      licenses for it); written into the configuration with a comment

One of the two is required, unless $ETC/pbxd.json already lists a vendor root (an upgrade).
USAGE
}

die() { echo "install.sh: $*" >&2; exit 1; }

build=1 start=1 vendor_root= development_trust=0 address=
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --no-start) start=0 ;;
    --vendor-root) vendor_root=$(realpath -e -- "${2:-}") || die "no such file: ${2:-}"; shift ;;
    --address) address=${2:-}; [ -n "$address" ] || die "--address needs a value"; shift ;;
    --development-trust) development_trust=1 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 64 ;;
  esac
  shift
done

[ "$(id -u)" = 0 ] || die "run as root (sudo npm run install-service)"
cd "$(dirname "$0")/.."
node=$(command -v node) || die "Node.js 20.19 or newer is needed (node not found in PATH)"
"$node" -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' \
  || die "Node.js 20.19 or newer is needed (found $("$node" --version))"
command -v systemd-notify >/dev/null || die "systemd-notify is missing (apt-get install systemd)"
[ -z "$vendor_root" ] || [ -r "$vendor_root" ] || die "cannot read $vendor_root"
[ -z "$vendor_root" ] || [ "$development_trust" = 0 ] || die "--vendor-root and --development-trust exclude each other"
# Which root licenses must chain to is decided at every install: an appliance never
# ends up trusting the public development root by default.
if [ -z "$vendor_root" ] && [ "$development_trust" = 0 ]; then
  "$node" -e '
    const fs = require("fs"); let c = {};
    try { c = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch {}
    process.exit(c.license && Array.isArray(c.license.trustedRoots) && c.license.trustedRoots.length > 0 ? 0 : 1);' "$ETC/pbxd.json" \
    || { usage >&2; die "say which root licenses must be signed under: --vendor-root FILE (production) or --development-trust (test machines)"; }
fi

# 1. Build.
if [ "$build" = 1 ]; then
  [ -d node_modules ] || npm ci
  npm run build
fi
[ -f dist/daemon/bin/pbxd.js ] || die "dist/ is missing: run without --no-build"

# 2. The application, staged beside the old one and swapped in. The vendor tools
#    (dist/tools, tools/dev-ca with its private key) and the tests stay behind.
echo "installing the application into $PREFIX"
rm -rf "$PREFIX.new"
mkdir -p "$PREFIX.new/daemon/licensing"
cp -a package.json package-lock.json "$PREFIX.new/"
[ -f README.md ] && cp -a README.md "$PREFIX.new/"
cp -a dist "$PREFIX.new/dist"
rm -rf "$PREFIX.new/dist/test" "$PREFIX.new/dist/bench" "$PREFIX.new/dist/tools"
cp -a daemon/licensing/development-root.pem "$PREFIX.new/daemon/licensing/"
[ -d web ] && cp -a web "$PREFIX.new/web"
cp -aL node_modules "$PREFIX.new/node_modules"
(cd "$PREFIX.new" && npm prune --omit=dev --no-audit --no-fund --loglevel=error)
chown -R root:root "$PREFIX.new"
chmod -R u+rwX,go+rX,go-w "$PREFIX.new"
rm -rf "$PREFIX.old"
[ -d "$PREFIX" ] && mv "$PREFIX" "$PREFIX.old"
mv "$PREFIX.new" "$PREFIX"
rm -rf "$PREFIX.old"

# 3. The service user (no login, no home of its own beyond the data folder).
if ! getent passwd pbxd >/dev/null; then
  echo "creating system user pbxd"
  useradd --system --user-group --home-dir "$STATE" --no-create-home --shell /usr/sbin/nologin --comment "pbxd daemon" pbxd
fi

# 4. Configuration (an existing one is kept) and the data folder.
install -d -m 0755 -o root -g root "$ETC"
if [ ! -e "$ETC/pbxd.json" ]; then
  install -m 0640 -o root -g pbxd systemd/pbxd.json "$ETC/pbxd.json"
  echo "installed the default configuration $ETC/pbxd.json"
else
  echo "kept the existing configuration $ETC/pbxd.json"
fi
# The address phones register at: never localhost (pbxd refuses to start with it).
if [ -z "$address" ] && ! "$node" -e 'const c = require(process.argv[1]).provisioning ?? {}; process.exit(c.sipRegistrar || (c.hostnames ?? []).length ? 0 : 1)' "$ETC/pbxd.json"; then
  address=$(ip -4 route get 192.0.2.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p')
  [ -n "$address" ] || address=$(hostname -I 2>/dev/null | awk '{print $1}')
  [ -n "$address" ] || die "cannot detect this appliance's address: run again with --address ADDRESS"
  echo "detected the appliance's address $address (use --address to choose another)"
fi
if [ -n "$address" ]; then
  "$node" -e '
    const fs = require("fs"); const [f, a] = process.argv.slice(1); const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.provisioning = { ...c.provisioning, sipRegistrar: a, hostnames: [a] };
    fs.writeFileSync(f, JSON.stringify(c, null, 2) + "\n");' "$ETC/pbxd.json" "$address"
  echo "phones register at $address (provisioning.sipRegistrar in $ETC/pbxd.json)"
fi
if [ -n "$vendor_root" ]; then
  install -m 0644 -o root -g root "$vendor_root" "$ETC/vendor-root.pem"
  "$node" -e '
    const fs = require("fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.license = { ...c.license, trustDevelopmentRoot: false, trustedRoots: ["vendor-root.pem"] };
    fs.writeFileSync(f, JSON.stringify(c, null, 2) + "\n");' "$ETC/pbxd.json"
  echo "licenses must now be signed by $ETC/vendor-root.pem"
elif [ "$development_trust" = 1 ]; then
  "$node" -e '
    const fs = require("fs"); const f = process.argv[1]; const c = JSON.parse(fs.readFileSync(f, "utf8"));
    c.license = { ...c.license, "//trustDevelopmentRoot": `set by install.sh --development-trust on ${new Date().toISOString().slice(0, 10)}: the development root is PUBLIC, anyone can issue licenses this appliance accepts. Test machines only; pbxd says so in status, /metrics and the web UI.`, trustDevelopmentRoot: true };
    fs.writeFileSync(f, JSON.stringify(c, null, 2) + "\n");' "$ETC/pbxd.json"
  echo "WARNING: this appliance trusts the public development root (--development-trust): test machines only" >&2
fi
install -d -m 0750 -o pbxd -g pbxd "$STATE"

# 5. The unit, with the node this script found, and pbxctl for admins (sudo pbxctl status).
sed "s#^ExecStart=/usr/bin/node #ExecStart=$node #" systemd/pbxd.service > "$UNIT"
chmod 0644 "$UNIT"
printf '#!/bin/sh\n# pbxctl talks to pbxd over %s/pbxctl.sock (0600, user pbxd): run it as root or pbxd.\nexec %s %s/dist/daemon/bin/pbxctl.js "$@"\n' "$STATE" "$node" "$PREFIX" > "$CTL"
chmod 0755 "$CTL"

# 6. Start.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl enable pbxd.service
  if [ "$start" = 1 ]; then
    systemctl restart pbxd.service # returns once pbxd has sent READY=1 (or failed)
    systemctl --no-pager --lines=5 status pbxd.service || true
  fi
else
  echo "systemd is not running here: the unit is installed but not started"
fi
if [ -f "$STATE/initial-admin-password" ]; then
  echo "first login: user admin, password in $STATE/initial-admin-password (delete the file afterwards)"
fi
echo "done: sudo pbxctl status; journalctl -u pbxd"
