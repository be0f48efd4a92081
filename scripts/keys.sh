#!/usr/bin/env bash
# Generates the Alipay key files the shop and the local Alipay stand-in use, each only when it
# is missing, into keys/ (or the folder given): 2048-bit RSA, private keys mode 600.
#   app_private_key.pem   the app's private key (SeckillAlipayAppPrivateKey; signs requests)
#   app_public_key.pem    its public key (the stand-in's --app-public-key; Alipay's console)
#   alipay_private_key.pem  the stand-in's own key ("Alipay"), signs notifies and answers
#   alipay_public_key.pem   its public key (SeckillAlipayPublicKey; verifies Alipay)
# Test keys only: real ones come from Alipay's console (see keys/README.md).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${1:-$top/keys}
mkdir -p "$dir"

pair() { # name: <name>_private_key.pem + <name>_public_key.pem
    local priv="$dir/$1_private_key.pem" pub="$dir/$1_public_key.pem"
    if [[ ! -s $priv ]]; then
        (umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
            -out "$priv.tmp" 2>/dev/null)
        chmod 600 "$priv.tmp"
        mv "$priv.tmp" "$priv"
        echo "keys: made $priv (RSA 2048, PKCS#8, mode 600)"
        made=1
        rm -f "$pub" # a public key of an older private key is wrong now
    fi
    if [[ ! -s $pub ]]; then
        openssl pkey -in "$priv" -pubout -out "$pub.tmp"
        chmod 644 "$pub.tmp"
        mv "$pub.tmp" "$pub"
        echo "keys: made $pub"
        made=1
    fi
}
made=0
pair app
pair alipay
(( made )) || echo "keys: all four present in $dir"
