#!/usr/bin/env bash
# Installs the Debian 12 packages Aviary needs (as root).
#   deps.sh          what building and running the server needs (README command 1)
#   deps.sh --test   also the servers and clients the test suite starts itself (PostgreSQL,
#                    MariaDB, RabbitMQ, python3-slixmpp/pika...; README command 2, .ci/run).
#                    Their Debian services are kept from starting at install: the tests run
#                    their own instances on loopback ports.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(g++ cmake ninja-build ccache pkg-config libboost-dev libboost-system-dev libboost-filesystem-dev
      librapidxml-dev libsoci-dev libsqlite3-dev libpq-dev libmariadb-dev libyaml-cpp-dev libssl-dev libspdlog-dev
      libfmt-dev nlohmann-json3-dev catch2 openssl binutils sqlite3 librabbitmq-dev librdkafka-dev
      libcurl4-openssl-dev)
test_pkgs=(python3-slixmpp python3-pika postgresql mariadb-server rabbitmq-server abigail-tools)
[ "${1:-}" = --test ] && pkgs+=("${test_pkgs[@]}")
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
[ ${#missing[@]} -gt 0 ] || exit 0
policy=/usr/sbin/policy-rc.d
if [ "${1:-}" = --test ] && [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
