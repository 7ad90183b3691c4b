#!/usr/bin/env bash
# Mutual TLS between the manager and its clients: with --tls-client-ca the manager serves
# TLS and admits only agents and tetra that present a certificate its CA signed. An agent
# with such a certificate joins, gets a policy and sends events; plaintext, no client
# certificate or one from another CA are refused, an agent with a foreign certificate
# never becomes a node, and an agent may only take a node name its certificate holds.
source "$(dirname "$0")/fleet_lib.sh"

command -v openssl >/dev/null || fail "openssl is missing (deploy/install-deps.sh installs it)"
pki=$CASE_DIR/pki
mkdir -p "$pki"
# ca NAME: a self-signed CA; cert CA NAME [SAN]: a certificate that CA signed
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=$1" -keyout "$pki/$1.key" -out "$pki/$1.crt" 2>"$pki/err" ||
		fail "openssl: $(cat "$pki/err")"
}
cert() {
	local ext="$pki/$2.ext"
	echo "subjectAltName=${3:-DNS:$2}" >"$ext"
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$2" \
		-keyout "$pki/$2.key" -out "$pki/$2.csr" 2>"$pki/err" &&
		openssl x509 -req -in "$pki/$2.csr" -CA "$pki/$1.crt" -CAkey "$pki/$1.key" \
			-CAcreateserial -days 2 -extfile "$ext" -out "$pki/$2.crt" 2>"$pki/err" ||
		fail "openssl: $(cat "$pki/err")"
}
ca fleet-ca
ca rogue-ca
cert fleet-ca manager "IP:127.0.0.1"
node=ta-$$
rogue=tr-$$
cert fleet-ca "$node"
cert fleet-ca admin
cert rogue-ca "$rogue"

start_manager --tls-cert "$pki/manager.crt" --tls-key "$pki/manager.key" \
	--tls-client-ca "$pki/fleet-ca.crt"
grep -q "mutual TLS" "$MANAGER_LOG" || fail "the manager does not say it serves mutual TLS"

# tetra: refused in plaintext, without a certificate and with a foreign one
for how in "" "--tls-ca $pki/fleet-ca.crt" \
	"--tls-ca $pki/fleet-ca.crt --tls-cert $pki/$rogue.crt --tls-key $pki/$rogue.key"; do
	# shellcheck disable=SC2086
	if "$TETRA" --server-address "$MANAGER_ADDR" --timeout 3s $how tp list >"$CASE_DIR/out" 2>&1; then
		fail "tetra ${how:-in plaintext} was admitted: $(cat "$CASE_DIR/out")"
	fi
done
# a certificate without its key is a usage error, said before any connection
out=$("$TETRA" --server-address "$MANAGER_ADDR" --tls-cert "$pki/admin.crt" tp list 2>&1) &&
	fail "--tls-cert without --tls-key was accepted"
echo "$out" | grep -q "key" || fail "unclear error for a certificate without its key: $out"

# from here on every tetra call of the helpers presents the admin certificate
export TETRA_TLS_CA=$pki/fleet-ca.crt TETRA_TLS_CERT=$pki/admin.crt TETRA_TLS_KEY=$pki/admin.key
mtetra tp list >/dev/null || fail "tetra with the admin certificate was refused"

start_node "$node" --manager-tls-ca "$pki/fleet-ca.crt" --manager-tls-cert "$pki/$node.crt" \
	--manager-tls-key "$pki/$node.key"
start_node "$rogue" --manager-tls-ca "$pki/fleet-ca.crt" --manager-tls-cert "$pki/$rogue.crt" \
	--manager-tls-key "$pki/$rogue.key"
wait_online "$node"

add=$(mtetra tp add "$(policy tls-policy "  kprobes:
  - call: sys_getppid
    syscall: true")" 2>&1) || fail "the policy was refused: $add"
wait_policy_info tls-policy "1/1 enabled" || fail "not enabled on $node: $(mtetra tp list)"
"$TRIGGERS/hello" "tls-$$"
for _ in $(seq 100); do
	history "$CASE_DIR/h.json" --binary 'hello$' --type exec --node "$node"
	[ "$(count_args "$CASE_DIR/h.json" "$node" "tls-$$")" = 1 ] && break
	sleep 0.2
done
[ "$(count_args "$CASE_DIR/h.json" "$node" "tls-$$")" = 1 ] || fail "$node's events did not arrive over TLS"

# a certificate of the fleet's CA, but for another node: it cannot call itself this node
impostor=ti-$$
start_node "$impostor" --manager-tls-ca "$pki/fleet-ca.crt" \
	--manager-tls-cert "$pki/$node.crt" --manager-tls-key "$pki/$node.key"
wait_for 20 grep -q "PERMISSION_DENIED" "${NODE_LOG[$impostor]}" ||
	fail "$impostor was not refused: $(tail -3 "${NODE_LOG[$impostor]}")"
grep -q "node name '$impostor' is not an identity of the client certificate" \
	"${NODE_LOG[$impostor]}" || fail "unclear refusal: $(grep PERMISSION "${NODE_LOG[$impostor]}")"
! mtetra nodes list | grep -q "^$impostor " || fail "$impostor became a node"
mtetra status | grep -Eq '^ *sessions\.identity_refused +[1-9]' ||
	fail "the refusal is not counted: $(mtetra status | grep identity)"

# the agent with a foreign certificate never got in
! mtetra nodes list | grep -q "^$rogue " || fail "$rogue became a node: $(mtetra nodes list)"
! grep -q "Connected to manager" "${NODE_LOG[$rogue]}" || fail "$rogue connected"
env -u TETRA_TLS_CA -u TETRA_TLS_CERT -u TETRA_TLS_KEY "$TETRA" --server-address "${NODE_ADDR[$rogue]}" status | grep -Eq '^ *uplink\.connected +0' ||
	fail "$rogue's status does not show it unconnected"
