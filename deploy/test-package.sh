#!/usr/bin/env bash
# The Debian package as an administrator meets it. Builds it with the
# README's commands, boots a fresh Debian 12 with systemd (debootstrap, then
# systemd-nspawn), and there runs the README's server block as written:
# apt-get install, check-config, systemctl, relais, the metrics, a backup,
# the restore drill. Then the shipped nginx example in front of it, an
# upgrade (the data and the edited conffile stay, the server restarts),
# remove (the data stays) and purge (it goes).
# Run as root from the checkout; needs the network to Debian's archive.
# The container shares the host's network: ports 7680, 7681, 7690, 8080 and
# 8443 must be free.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
  echo "package: $*" >&2
  exit 1
}

block_after() {  # the first ```sh block after a heading of README.md
  awk -v heading="$1" '
    $0 == heading { in_section = 1; next }
    in_section && /^```sh$/ { in_block = 1; next }
    in_block && /^```$/ { exit }
    in_block { print }
  ' README.md
}

heading="## Running it on a server (Debian package)"
build=$(block_after "$heading")
on_server=$(awk -v heading="$heading" '
    $0 == heading { in_section = 1; next }
    in_section && /^```sh$/ { blocks++; if (blocks == 2) { in_block = 1; next } }
    in_block && /^```$/ { exit }
    in_block { print }
  ' README.md)
[ -n "$build" ] && [ -n "$on_server" ] || fail "no package blocks under '$heading' in README.md"

for port in 7680 7681 7690 8080 8443; do
  if (exec 3<> "/dev/tcp/127.0.0.1/$port") 2> /dev/null; then
    fail "port $port is in use on this machine: stop what listens there first"
  fi
done

missing=()
for p in debootstrap systemd-container systemd; do
  dpkg-query -W -f='${Status}' "$p" 2> /dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
fi

echo "== package: build, as the README says"
printf '%s\n' "$build" | sed 's/^/   /'
bash -euo pipefail -c "$build"
deb=$(ls build/release/relais_*_amd64.deb)
version=$(dpkg-deb -f "$deb" Version)

root=$(mktemp -d /var/tmp/relais-package.XXXXXX)
chmod 0755 "$root"  # the container's /: its services' users must reach /usr
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ]; then
    kill -TERM "$nspawn_pid" 2> /dev/null || true
    for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2> /dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2> /dev/null || true
  fi
  rm -rf "$root" "$root.log"
}
trap cleanup EXIT

mirror=${RELAIS_DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "== package: a fresh Debian 12 in $root ($mirror)"
start=$(date +%s)
debootstrap --variant=minbase --include=systemd,dbus bookworm "$root" "$mirror" > "$root.log" 2>&1 ||
  { tail -20 "$root.log"; fail "debootstrap failed"; }
rm -f "$root.log"
echo "   debootstrap: $(( $(date +%s) - start ))s"
cp "$deb" "$root/root/"
# The same build as a newer version, for the upgrade.
upgrade_dir=$(mktemp -d)
(cd build/release && cpack -G DEB -D CPACK_PACKAGE_VERSION="$version+upgrade" -B "$upgrade_dir" > /dev/null)
# Aside, where the README's ./relais_*_amd64.deb does not see it.
mkdir "$root/root/later"
cp "$upgrade_dir"/relais_*+upgrade_amd64.deb "$root/root/later/"
rm -rf "$upgrade_dir"

systemd-nspawn -D "$root" --boot --register=no --keep-unit -q > "$root/boot.log" 2>&1 &
nspawn_pid=$!
init_pid=
for _ in $(seq 1 100); do
  init_pid=$(pgrep -P "$nspawn_pid" -x systemd || true)
  [ -n "$init_pid" ] && break
  sleep 0.1
done
[ -n "$init_pid" ] || { cat "$root/boot.log"; fail "systemd did not boot in the container"; }
inside() {  # runs bash -c "$1" in the container, as root in /root, with a clean environment
  nsenter -t "$init_pid" -a /usr/bin/env -i HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin bash -euo pipefail -c "cd /root
$1"
}
# Until the boot is done (not --wait: it hangs when asked before D-Bus is up).
state=
for _ in $(seq 1 240); do
  sleep 0.5
  state=$(inside 'systemctl is-system-running 2> /dev/null' || true)
  [ "$state" = running ] || [ "$state" = degraded ] && break
done
[ "$state" = running ] || [ "$state" = degraded ] ||
  { cat "$root/boot.log"; fail "the container's systemd is '$state'"; }
inside 'apt-get update -qq'

echo "== package: the README's server block, in the container"
printf '%s\n' "$on_server" | sed 's/^/   /'
inside "$on_server" > "$root/readme.log" 2>&1 || { cat "$root/readme.log"; fail "the README's server block failed"; }
cat "$root/readme.log"
log=$root/readme.log
grep -q '^/etc/relais/relais.conf: ok$' "$log" || fail "check-config did not pass"
grep -q '^active$' "$log" || fail "the unit is not active after systemctl restart"
score=$(grep 'Overall exposure level for relais-server.service' "$log") || fail "no security score"
[[ $score =~ level\ for\ relais-server.service:\ ([0-9.]+)\ (OK|SAFE) ]] ||
  fail "systemd-analyze security: $score"
score="systemd-analyze security: ${BASH_REMATCH[1]} ${BASH_REMATCH[2]}"
grep -q '^relais_messages_sent_total 1$' "$log" || fail "the metrics did not count the message"
grep -q '^ready$' "$log" || fail "/readyz did not answer ready"
grep -q '^relais-[0-9]*T[0-9.]*Z.db$' "$log" || fail "the backup service wrote no dated backup"
grep -q '^restored /var/backups/relais/relais-.*into /var/lib/relais-essai$' "$log" || fail "no restore"
grep -q '^integrity ok: /var/lib/relais-essai$' "$log" || fail "the restored copy failed integrity"
grep -q '^même historique$' "$log" || fail "the restored server's history differs"
inside 'grep -q "Premier message du réseau" historique.txt' || fail "the history read was empty"
modes=$(inside 'stat -c "%a %U" /var/lib/relais /var/backups/relais /var/lib/relais/relais.db | sort -u')
[ "$modes" = "640 relais
750 relais" ] || fail "the data is readable beyond the relais user and group: $modes"

echo "== package: systemctl reload keeps the server and its connections' process"
inside '
before=$(systemctl show -p MainPID --value relais-server)
systemctl reload relais-server
[ "$(systemctl show -p MainPID --value relais-server)" = "$before" ] || { echo "reload restarted"; exit 1; }
systemctl is-active relais-server
' || fail "systemctl reload"

echo "== package: the shipped nginx example in front of it (TLS at nginx, WebSocket upgrade)"
inside '
apt-get install -y -qq nginx > /dev/null
systemctl stop nginx
rm -f /etc/nginx/sites-enabled/default
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
  -keyout /etc/nginx/relais-key.pem -out /etc/nginx/relais-cert.pem -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2> /dev/null
# The example as an admin adapts it: their name, their certificate; other
# ports here, since the container shares the machine'"'"'s network.
sed -e "s/relais.example.org/localhost/g" \
    -e "s|/etc/letsencrypt/live/localhost/fullchain.pem|/etc/nginx/relais-cert.pem|" \
    -e "s|/etc/letsencrypt/live/localhost/privkey.pem|/etc/nginx/relais-key.pem|" \
    -e "s/443 ssl/8443 ssl/" -e "s/listen 80;/listen 8080;/" -e "s/listen \[::\]:80;/listen [::]:8080;/" \
    /usr/share/doc/relais/nginx-relais.conf > /etc/nginx/sites-enabled/relais
nginx -t 2>&1
systemctl start nginx
export RELAIS_USER=admin RELAIS_PASSWORD=un-mot-de-passe-solide
relais history accueil --server wss://127.0.0.1:8443 --ca-file /etc/nginx/relais-cert.pem |
  diff historique.txt - && echo "same history through nginx"
systemctl stop nginx
' > "$root/nginx.log" 2>&1 || { cat "$root/nginx.log"; fail "nginx in front of relais-server failed"; }
cat "$root/nginx.log"
grep -q '^same history through nginx$' "$root/nginx.log" || fail "nothing came through nginx"

echo "== package: upgrade to $version+upgrade"
inside '
dpkg-query -W -f="installed \${Version}\n" relais
before=$(systemctl show -p MainPID --value relais-server)
apt-get install -y -qq ./later/relais_*+upgrade_amd64.deb > /dev/null
after=$(systemctl show -p MainPID --value relais-server)
[ "$before" != "$after" ] || { echo "the server was not restarted ($before)"; exit 1; }
systemctl is-active relais-server
dpkg-query -W -f="\${Version}\n" relais
grep -q "^log-level = warn$" /etc/relais/relais.conf || { echo "the edited conffile was replaced"; exit 1; }
export RELAIS_SERVER=ws://127.0.0.1:7680 RELAIS_USER=admin RELAIS_PASSWORD=un-mot-de-passe-solide
relais history accueil | diff historique.txt - && echo "same history after the upgrade"
journalctl -u relais-server --no-pager | grep -c "listening on ws://127.0.0.1:7680"
' > "$root/upgrade.log" 2>&1 || { cat "$root/upgrade.log"; fail "the upgrade failed"; }
cat "$root/upgrade.log"
grep -q "^installed $version$" "$root/upgrade.log" || fail "$version was not the version installed first"
grep -q "^$version+upgrade$" "$root/upgrade.log" || fail "the upgrade did not install"
grep -q '^same history after the upgrade$' "$root/upgrade.log" || fail "the upgrade lost history"

echo "== package: remove keeps the data, purge deletes it, backups stay"
inside '
apt-get remove -y -qq relais > /dev/null
if systemctl is-active --quiet relais-server; then echo "still running after remove"; exit 1; fi
test -f /var/lib/relais/relais.db || { echo "remove deleted the data"; exit 1; }
test -f /etc/relais/relais.conf || { echo "remove deleted the configuration"; exit 1; }
apt-get purge -y -qq relais > /dev/null
test ! -e /var/lib/relais || { echo "purge left /var/lib/relais"; exit 1; }
test ! -e /etc/relais/relais.conf || { echo "purge left the configuration"; exit 1; }
ls /var/backups/relais/relais-*.db > /dev/null || { echo "purge deleted the backups"; exit 1; }
echo "removed and purged"
' || fail "remove or purge"
echo "package: 1 passed, 0 failed ($(basename "$deb"), $score)"
