#!/bin/sh
# Makes the mTLS material docker-compose.yml mounts as secrets (deploy/compose/tls/): a CA, the
# Temporal services' certificate (frontend and internode, for the names the containers use), a
# client certificate for Pulp Manager, the CLI and the Web UI, and one for Temporal's system
# worker. For a trial; in production use your PKI and put the same file names there.
#   sh deploy/compose/temporal/make-certs.sh [dir]      (default deploy/compose/tls)
set -eu
DIR="${1:-$(dirname "$0")/../tls}"
mkdir -p "$DIR"; chmod 700 "$DIR"
[ -s "$DIR/ca.pem" ] && { echo "$DIR already holds certificates (remove it to make new ones)"; exit 0; }
ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n%s\n' "$1"; }
sign() { # name cn extensions
  openssl req -new -newkey rsa:2048 -nodes -keyout "$DIR/$1.key" -subj "/O=Pulp Manager/CN=$2" -out "$DIR/$1.csr"
  ext "$3" >"$DIR/$1.ext"
  openssl x509 -req -in "$DIR/$1.csr" -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days 825 \
    -sha256 -extfile "$DIR/$1.ext" -out "$DIR/$1.pem"
  rm -f "$DIR/$1.csr" "$DIR/$1.ext"
}
openssl req -x509 -new -newkey rsa:2048 -nodes -days 3650 -sha256 -keyout "$DIR/ca.key" \
  -subj "/O=Pulp Manager/CN=Pulp Manager Temporal CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$DIR/ca.pem"
sign server temporal "extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:temporal,DNS:temporal-frontend,DNS:localhost,IP:127.0.0.1"
sign client pulp-manager "extendedKeyUsage=clientAuth"
sign system-worker temporal-system-worker "extendedKeyUsage=clientAuth"
# The containers run as non-root users: the keys must be readable by them (the directory is 0700).
chmod 644 "$DIR"/*.key "$DIR"/*.pem
echo "certificates written to $DIR"
