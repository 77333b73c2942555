#!/usr/bin/env bash
# Remove the pbxd service and application. Keeps the data (/var/lib/pbxd), the
# configuration (/etc/pbxd) and the pbxd user, so a later install continues
# where this one stopped.
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root (sudo npm run uninstall-service)" >&2; exit 1; }

if [ -d /run/systemd/system ] && systemctl list-unit-files pbxd.service >/dev/null 2>&1; then
  systemctl disable --now pbxd.service || true
fi
rm -f /etc/systemd/system/pbxd.service /usr/local/bin/pbxctl
[ -d /run/systemd/system ] && systemctl daemon-reload
rm -rf /opt/pbxd /opt/pbxd.new /opt/pbxd.old
echo "pbxd removed; kept /var/lib/pbxd (data), /etc/pbxd (configuration) and the user pbxd."
echo "to delete them too: rm -rf /var/lib/pbxd /etc/pbxd && userdel pbxd"
