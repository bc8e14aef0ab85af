#!/usr/bin/env bash
# README command 1: install dependencies, build, install, and start aviary on
# 127.0.0.1:5222 (STARTTLS required) / 5223 (direct TLS) for the domain localhost, with
# SQLite storage in /var/lib/aviary and a self-signed certificate generated here.
# Run again to rebuild and restart; an existing /etc/aviary/aviary.yaml is kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PREFIX=${PREFIX:-/usr/local}
bash packaging/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DAV_BUILD_TESTS=OFF -DAV_BUILD_SERVER=ON \
  -DCMAKE_INSTALL_PREFIX="$PREFIX" >/dev/null
cmake --build build
cmake --install build >/dev/null

mkdir -p /etc/aviary /var/lib/aviary
[ -f /etc/aviary/aviary.yaml ] || install -m 0644 packaging/aviary.yaml /etc/aviary/aviary.yaml
if [ ! -f /etc/aviary/key.pem ]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost" -keyout /etc/aviary/key.pem -out /etc/aviary/cert.pem 2>/dev/null
  chmod 0600 /etc/aviary/key.pem
fi

CTL=("$PREFIX/bin/aviaryctl" --config /etc/aviary/aviary.yaml)
# A server from an earlier run: stop it so the new build takes over.
if "${CTL[@]}" server status >/dev/null 2>&1; then
  "${CTL[@]}" server stop >/dev/null || true
  for _ in $(seq 100); do "${CTL[@]}" server status >/dev/null 2>&1 || break; sleep 0.1; done
fi
"$PREFIX/bin/aviary" --config /etc/aviary/aviary.yaml --check-config
nohup "$PREFIX/bin/aviary" --config /etc/aviary/aviary.yaml >>/var/log/aviary.log 2>&1 &
for _ in $(seq 100); do "${CTL[@]}" server status >/dev/null 2>&1 && break; sleep 0.1; done
"${CTL[@]}" server status
echo "aviary is listening on 127.0.0.1:5222 (STARTTLS) and 127.0.0.1:5223 (TLS); log: /var/log/aviary.log"
echo "next: $PREFIX/bin/aviaryctl account registerUser --username alice --domain localhost --password secret"
