#!/usr/bin/env bash
# Installs the Debian 12 packages Aviary needs to build and test (as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(g++ cmake ninja-build ccache pkg-config libboost-dev libboost-system-dev libboost-filesystem-dev
      librapidxml-dev libsoci-dev libsqlite3-dev libpq-dev libmariadb-dev libyaml-cpp-dev libssl-dev libspdlog-dev
      libfmt-dev nlohmann-json3-dev catch2 openssl binutils python3-slixmpp postgresql mariadb-server sqlite3
      abigail-tools librabbitmq-dev librdkafka-dev libcurl4-openssl-dev rabbitmq-server python3-pika)
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
