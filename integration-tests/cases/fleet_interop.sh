#!/usr/bin/env bash
# A gRPC client no one here wrote (@grpc/grpc-js with proto-loader, from the interop suite)
# against the manager: a policy with errors sent as it is (tetra would have refused it
# before sending) is refused by the manager with INVALID_ARGUMENT and every error with its
# line:col, nothing is stored and no agent sees it; a good one is listed with its fleet
# state; GetEvents streams the fleet's events with node names; FleetQuery's ListNodes and
# QueryEvents decode (QueryEvents' stored encodings are plain GetEventsResponse messages).
source "$(dirname "$0")/fleet_lib.sh"

INTEROP=$(cd "$(dirname "$0")/../interop" && pwd)
if [ ! -d "$INTEROP/node_modules/@grpc/grpc-js" ] || ! command -v node >/dev/null; then
	echo "no node or no $INTEROP/node_modules (integration-tests/interop/run.sh installs it)"
	exit 77
fi

node=ia-$$
start_manager
start_node "$node"
wait_online "$node"

cat >"$CASE_DIR/bad.yaml" <<'EOF'
apiVersion: cilium.io/v1alpha1
kind: TracingPolicy
metadata:
  name: broken
spec:
  kprobes:
  - call: sys_execve
    syscal: true
    args:
    - index: 0
      type: string
    selectors:
    - matchArgs:
      - index: 0
        operator: Equalz
        values: ["/bin/sh"]
EOF
policy interop-ok "  kprobes:
  - call: sys_getppid
    syscall: true" >/dev/null

cat >"$CASE_DIR/client.js" <<'EOF'
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const [interop, target, dir, node] = process.argv.slice(2);
const grpc = require(path.join(interop, 'node_modules/@grpc/grpc-js'));
const loader = require(path.join(interop, 'node_modules/@grpc/proto-loader'));
const protoDir = path.resolve(interop, '../../proto');
const files = ['tetragon', 'fleet'].flatMap((d) => fs.readdirSync(path.join(protoDir, d))
	.filter((f) => f.endsWith('.proto')).map((f) => `${d}/${f}`));
const def = loader.loadSync(files, { keepCase: true, longs: String, enums: String,
	defaults: false, oneofs: true,
	includeDirs: [protoDir].concat(fs.existsSync('/usr/include/google/protobuf') ? ['/usr/include'] : []) });
const pkg = grpc.loadPackageDefinition(def);
const creds = grpc.credentials.createInsecure();
const fgs = new pkg.tetragon.FineGuidanceSensors(target, creds);
const fq = new pkg.fleet.FleetQuery(target, creds);
const call = (c, m, req) => new Promise((ok, ko) =>
	c[m](req, { deadline: new Date(Date.now() + 10000) }, (e, r) => (e ? ko(e) : ok(r))));
function check(cond, what) { if (!cond) { console.error('FAIL: ' + what); process.exit(1); } }

(async () => {
	// refused with every error, line:col first
	let err;
	try { await call(fgs, 'AddTracingPolicy', { yaml: fs.readFileSync(path.join(dir, 'bad.yaml'), 'utf8') }); }
	catch (e) { err = e; }
	check(err && err.code === grpc.status.INVALID_ARGUMENT, 'bad policy: ' + (err ? err.code : 'accepted'));
	check(/^8:5: spec\.kprobes\[0\]/m.test(err.details), 'no 8:5 error: ' + err.details);
	check(/^15:\d+: spec\.kprobes\[0\]\.selectors\[0\]\.matchArgs\[0\]/m.test(err.details), 'no 15:x error: ' + err.details);
	console.log('refused: ' + err.details.split('\n').join(' | '));

	await call(fgs, 'AddTracingPolicy', { yaml: fs.readFileSync(path.join(dir, 'interop-ok.yaml'), 'utf8') });
	let info = '';
	for (let i = 0; i < 100 && info !== '1/1 enabled'; i++) {
		const l = await call(fgs, 'ListTracingPolicies', {});
		check(l.policies.length === 1 && l.policies[0].name === 'interop-ok', 'list: ' + JSON.stringify(l));
		info = l.policies[0].info;
		if (info !== '1/1 enabled') await new Promise((r) => setTimeout(r, 100));
	}
	check(info === '1/1 enabled', 'fleet state: ' + info);
	console.log('listed: interop-ok ' + info);

	// the live fleet stream: run hello while it is open
	const stream = fgs.GetEvents({ allow_list: [{ binary_regex: ['hello$'] }] });
	const seen = new Promise((ok) => stream.on('data', (ev) => {
		if (ev.process_exec && ev.process_exec.process.arguments === 'interop-' + node)
			ok(ev);
	}));
	stream.on('error', () => {});
	const runner = setInterval(() => require('node:child_process').spawnSync(
		path.join(dir, 'hello'), ['interop-' + node]), 300);
	const ev = await Promise.race([seen, new Promise((r) => setTimeout(() => r(null), 15000))]);
	clearInterval(runner);
	stream.cancel();
	check(ev && ev.node_name === node, 'GetEvents: ' + JSON.stringify(ev));
	console.log('streamed: ' + ev.node_name + ' ' + ev.process_exec.process.binary);

	const nodes = await call(fq, 'ListNodes', {});
	check(nodes.nodes.some((n) => n.name === node && n.online), 'ListNodes: ' + JSON.stringify(nodes));
	const q = await call(fq, 'QueryEvents', { nodes: [node], binary_regex: 'hello$', types: ['PROCESS_EXEC'], limit: 5 });
	check(q.events.length > 0 && q.events.every((e) => e.node_name === node && e.process_exec.process.binary.endsWith('hello')),
		'QueryEvents: ' + JSON.stringify(q).slice(0, 300));
	console.log('queried: ' + q.events.length + ' events, next_cursor ' + (q.next_cursor || '""'));
	process.exit(0);
})().catch((e) => { console.error('FAIL: ' + e.stack); process.exit(1); });
EOF
cp "$TRIGGERS/hello" "$CASE_DIR/hello"
out=$(timeout 60 node "$CASE_DIR/client.js" "$INTEROP" "$MANAGER_ADDR" "$CASE_DIR" "$node" 2>&1) ||
	fail "grpc-js client: $out"
log "$out"

# the bad policy was never stored nor pushed
mtetra tp list | grep -q broken && fail "the manager lists the bad policy"
grep -q "broken" "${NODE_LOG[$node]}" && fail "the agent saw the bad policy"
"$TETRA" --server-address "${NODE_ADDR[$node]}" tp list | grep -q broken && fail "the agent runs it"
mtetra status | grep -Eq "policies.generation +1$" || fail "the generation moved: $(mtetra status | grep generation)"
