#!/usr/bin/env bash
# deps.sh: are the Debian packages the project needs installed? (make deps, run, test, bench)
#
# All there: exits 0 without a word. Some missing: as root, installs exactly those
# (apt-get update, then apt-get install --no-install-recommends) without letting their
# init scripts start the system's own Redis, MariaDB, RabbitMQ or Apache; as another
# user, prints the apt-get command to run and exits 1.
set -euo pipefail

PROG=deps.sh

packages=(
    # build
    apache2 apache2-dev libhiredis-dev default-libmysqlclient-dev librabbitmq-dev libssl-dev
    libjson-c-dev libcurl4-openssl-dev libcmocka-dev pkg-config gcc make
    # servers (scripts/stack.sh runs private instances) and their clients
    redis-server redis-tools mariadb-server mariadb-client rabbitmq-server
    # tests and tools of the scripts
    libapache2-mod-perl2 libwww-perl wrk procps util-linux curl
    # htpasswd, for the admin's demo credentials (make run)
    apache2-utils
    # the local Alipay stand-in (tools/alipay_standin.py) and the keys it signs with
    python3 openssl
    # the browser end-to-end test (make e2e): headless Chromium, its driver, CJK fonts
    chromium chromium-driver fonts-noto-cjk
)
# playwright-core (e2e/package.json) runs on node; Debian's nodejs and npm where no node is
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done
# JSON::PP is core Perl (perl-modules); the libjson-pp-perl package (a newer JSON::PP) is
# only needed where the core one is absent.
if ! perl -MJSON::PP -e 1 2>/dev/null && ! installed libjson-pp-perl; then
    missing+=(libjson-pp-perl)
fi

((${#missing[@]})) || exit 0

if [[ $(id -u) != 0 ]]; then
    echo "$PROG: missing packages; as root run: apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "$PROG: installing ${missing[*]}"

# Keep the packages' init scripts from starting the system's own servers: a policy-rc.d
# that forbids every start, only while apt runs and only if there is none already.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# written by mod_seckill scripts/deps.sh for one apt-get run\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update || echo "$PROG: apt-get update failed; trying the install anyway" >&2
if ! apt-get install -y --no-install-recommends "${missing[@]}"; then
    echo "$PROG: error: apt-get install failed" >&2
    exit 1
fi

still=()
for p in "${missing[@]}"; do
    [[ $p == libjson-pp-perl ]] && continue
    installed "$p" || still+=("$p")
done
if ((${#still[@]})); then
    echo "$PROG: error: still not installed: ${still[*]}" >&2
    exit 1
fi
echo "$PROG: installed ${missing[*]}"
