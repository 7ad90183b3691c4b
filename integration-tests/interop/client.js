#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// gRPC interop cases run with clients no one here wrote: @grpc/grpc-js and
// @grpc/proto-loader (keepCase: true) loading the project's own proto/ files, plus
// protobufjs for the export-file check. One case per invocation:
//
//   node client.js CASE --target ADDR [--hello PATH] [--export FILE] [--expect-version V]
//
// ADDR is a gRPC target: HOST:PORT or unix:///absolute/path. A case prints what it
// checked and exits 0 when it passes, 1 when it fails (the message says why).
'use strict';

const assert = require('node:assert/strict');
const child_process = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROTO_DIR = path.resolve(__dirname, '../../proto');
const PROTO_FILES = ['tetragon', 'fleet'].flatMap((dir) =>
	fs.readdirSync(path.join(PROTO_DIR, dir))
		.filter((f) => f.endsWith('.proto'))
		.sort()
		.map((f) => `${dir}/${f}`));
// google/protobuf/*.proto: protobufjs bundles the well-known types; Debian's copies in
// /usr/include are used when present so that the files match what protoc-c compiled.
const INCLUDE_DIRS = [PROTO_DIR].concat(
	fs.existsSync('/usr/include/google/protobuf/timestamp.proto') ? ['/usr/include'] : []);

const LOADER_OPTIONS = {
	keepCase: true,
	longs: String,
	enums: String,
	bytes: String,
	defaults: false,
	oneofs: true,
	includeDirs: INCLUDE_DIRS,
};

const STATUS_NAME = Object.fromEntries(Object.entries(grpc.status).map(([k, v]) => [v, k]));

// --- plumbing -------------------------------------------------------------------------

let packages;
function pkgs()
{
	if (!packages) {
		const def = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
		packages = grpc.loadPackageDefinition(def);
	}
	return packages;
}

const creds = grpc.credentials.createInsecure();
function sensors(target)
{
	return new (pkgs().tetragon.FineGuidanceSensors)(target, creds);
}
function diagnostics(target)
{
	return new (pkgs().fleet.Diagnostics)(target, creds);
}

function deadlineIn(ms)
{
	return new Date(Date.now() + ms);
}

function sleep(ms)
{
	return new Promise((resolve) => setTimeout(resolve, ms));
}

// unary(client, 'GetVersion', req, {timeoutMs}) -> response; rejects with the grpc error.
function unary(client, method, req, { timeoutMs = 5000 } = {})
{
	return new Promise((resolve, reject) => {
		client[method](req, { deadline: deadlineIn(timeoutMs) }, (err, resp) =>
			err ? reject(err) : resolve(resp));
	});
}

// Resolves with the error a call ends with, or null if it succeeds.
function callOutcome(start)
{
	return start().then(() => ({ err: null }), (err) => ({ err }));
}

function statusOf(err)
{
	return err ? `${STATUS_NAME[err.code] || err.code} (${err.code}): ${err.details}` : 'OK';
}

async function waitUntil(what, fn, timeoutMs = 10000, stepMs = 100)
{
	const end = Date.now() + timeoutMs;
	for (;;) {
		const v = await fn();
		if (v)
			return v;
		if (Date.now() > end)
			throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
		await sleep(stepMs);
	}
}

// Counters from fleet.Diagnostics/GetStats, as a name -> number map (empty if the target
// does not serve it).
async function stats(target)
{
	const c = diagnostics(target);
	try {
		const r = await unary(c, 'GetStats', {});
		return Object.fromEntries((r.counters || []).map((x) => [x.name, Number(x.value || 0)]));
	} catch (err) {
		if (err.code === grpc.status.UNIMPLEMENTED)
			return {};
		throw err;
	} finally {
		c.close();
	}
}

async function subscriberCount(target)
{
	const s = await stats(target);
	return 'grpc.subscribers' in s ? s['grpc.subscribers'] : null;
}

// The server sends the stream's headers with its first event, so a client cannot see when
// its stream is registered; the agent's grpc.subscribers counter can. Targets without the
// counter get a fixed grace period.
async function waitSubscribers(target, atLeast)
{
	if ((await subscriberCount(target)) === null) {
		await sleep(1000);
		return;
	}
	await waitUntil(`${atLeast} GetEvents subscriber(s)`,
		async () => (await subscriberCount(target)) >= atLeast);
}

// A GetEvents stream that collects its events. `decode` turns one message into the object
// kept (proto-loader has already decoded it unless a raw client is used).
class EventStream {
	constructor(call)
	{
		this.call = call;
		this.events = [];
		this.waiters = [];
		this.error = null;
		this.ended = false;
		this.done = new Promise((resolve) => {
			call.on('data', (ev) => {
				this.events.push(ev);
				this.wake();
			});
			call.on('error', (err) => {
				this.error = err;
				this.wake();
			});
			call.on('status', () => {
				this.ended = true;
				this.wake();
				resolve();
			});
		});
	}

	wake()
	{
		for (const w of this.waiters.splice(0))
			w();
	}

	// Wait until pred(event) holds for one received event; returns that event.
	async waitFor(what, pred, timeoutMs = 10000)
	{
		const end = Date.now() + timeoutMs;
		for (;;) {
			const ev = this.events.find(pred);
			if (ev)
				return ev;
			if (this.error)
				throw new Error(`stream ended with ${statusOf(this.error)} waiting for ${what}`);
			const left = end - Date.now();
			if (left <= 0)
				throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ` +
						`(${this.events.length} events received)`);
			await new Promise((resolve) => {
				const t = setTimeout(resolve, left);
				this.waiters.push(() => {
					clearTimeout(t);
					resolve();
				});
			});
		}
	}

	async cancel()
	{
		this.call.cancel();
		await this.done;
	}
}

function openEvents(client, req, options = {})
{
	return new EventStream(client.GetEvents(req, options));
}

// Run a program to completion; resolves with its pid and exit status.
function run(file, args)
{
	return new Promise((resolve, reject) => {
		const child = child_process.spawn(file, args, { stdio: 'ignore' });
		child.on('error', reject);
		child.on('exit', (code, signal) => resolve({ pid: child.pid, code, signal }));
	});
}

// Tetragon's arguments string: the arguments joined by spaces, those with a space quoted.
function joinArgs(args)
{
	return args.map((a) => (a.includes(' ') ? `"${a}"` : a)).join(' ');
}

function escapeRegex(s)
{
	return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function eventProcess(ev)
{
	const body = ev.process_exec || ev.process_exit;
	return body ? body.process : undefined;
}

function isRun(kind, binary, argString)
{
	return (ev) => {
		const p = ev[kind] && ev[kind].process;
		return p && p.binary === binary && p.arguments === argString;
	};
}

function tag()
{
	return `interop-${process.pid}-${Date.now().toString(36)}`;
}

// --- cases ----------------------------------------------------------------------------

const cases = {};

cases.version = async (opt) => {
	const c = sensors(opt.target);
	try {
		const r = await unary(c, 'GetVersion', {});
		assert.ok(r.version, `empty version: ${JSON.stringify(r)}`);
		if (opt.expectVersion)
			assert.equal(r.version, opt.expectVersion);
		return `version ${r.version}`;
	} finally {
		c.close();
	}
};

cases.health = async (opt) => {
	const c = sensors(opt.target);
	try {
		const r = await unary(c, 'GetHealth', { event_set: ['HEALTH_STATUS_TYPE_STATUS'] });
		const st = r.health_status || [];
		assert.ok(st.length >= 1, `no health_status: ${JSON.stringify(r)}`);
		assert.equal(st[0].event, 'HEALTH_STATUS_TYPE_STATUS');
		assert.equal(st[0].status, 'HEALTH_STATUS_RUNNING', JSON.stringify(st[0]));
		return `health ${st[0].status} "${st[0].details || ''}"`;
	} finally {
		c.close();
	}
};

cases.stats = async (opt) => {
	const c = diagnostics(opt.target);
	try {
		const r = await unary(c, 'GetStats', {});
		assert.equal(r.daemon, 'tetragon');
		assert.ok(r.version && r.node_name, JSON.stringify(r));
		const names = (r.counters || []).map((x) => x.name);
		for (const want of ['events.total', 'grpc.subscribers', 'grpc.subscriber_dropped'])
			assert.ok(names.includes(want), `no counter ${want} in ${names.join(' ')}`);
		return `${r.daemon} ${r.version} on ${r.node_name}, ${names.length} counters`;
	} finally {
		c.close();
	}
};

// Stream GetEvents, run the test binary with distinctive arguments, and see its exec event
// (binary, arguments, pid) and its exit event (status).
cases.events = async (opt) => {
	assert.ok(opt.hello, '--hello is required');
	const c = sensors(opt.target);
	const before = (await subscriberCount(opt.target)) || 0;
	const s = openEvents(c, {});
	try {
		await waitSubscribers(opt.target, before + 1);
		const args = ['--exit', '3', tag(), 'two words', '--', 'ü'];
		const argString = joinArgs(args);
		const r = await run(opt.hello, args);
		assert.equal(r.code, 3);
		const exit = await s.waitFor('the exit event', isRun('process_exit', opt.hello, argString));
		const exec = await s.waitFor('the exec event', isRun('process_exec', opt.hello, argString), 1000);

		assert.equal(exec.event, 'process_exec', 'oneof name');
		const p = exec.process_exec.process;
		assert.equal(p.pid && p.pid.value, r.pid);
		assert.ok(p.exec_id, 'exec_id');
		assert.ok(p.start_time && p.start_time.seconds > 0, 'start_time');
		assert.ok(exec.node_name, 'node_name');
		assert.ok(exec.time && Number(exec.time.seconds) > 0, 'time');
		assert.ok(exec.process_exec.parent, 'parent');
		assert.equal(exec.process_exec.parent.pid?.value, process.pid, 'the parent is this node process');

		assert.equal(exit.event, 'process_exit');
		assert.equal(exit.process_exit.status, 3);
		assert.ok(!exit.process_exit.signal, `signal ${exit.process_exit.signal}`);
		assert.equal(exit.process_exit.process.exec_id, p.exec_id, 'exit and exec exec_id');
		assert.ok(s.events.indexOf(exec) < s.events.indexOf(exit), 'exec before exit');
		return `exec + exit (status 3) of pid ${r.pid} "${argString}", ` +
			`${s.events.length} events seen`;
	} finally {
		await s.cancel();
		c.close();
	}
};

// allow_list binary_regex: only the test binary's events arrive; with event_set too, only
// its exit events. Other programs run in between (and before the last, "sentinel" run, so
// their events would have arrived by the time the sentinel's exit does).
cases.filter = async (opt) => {
	assert.ok(opt.hello, '--hello is required');
	const c = sensors(opt.target);
	const before = (await subscriberCount(opt.target)) || 0;
	const re = `^${escapeRegex(opt.hello)}$`;
	const all = openEvents(c, { allow_list: [{ binary_regex: [re] }] });
	const exits = openEvents(c, { allow_list: [{ binary_regex: [re], event_set: ['PROCESS_EXIT'] }] });
	try {
		await waitSubscribers(opt.target, before + 2);
		const t = tag();
		await run('/bin/true', [t, 'other']);
		await run(opt.hello, [t, 'wanted']);
		await run('/bin/sh', ['-c', `/bin/true ${t} other`]);
		await run(opt.hello, [t, 'sentinel']);
		for (const s of [all, exits])
			await s.waitFor('the sentinel exit', isRun('process_exit', opt.hello, `${t} sentinel`));
		await all.waitFor('the wanted exec', isRun('process_exec', opt.hello, `${t} wanted`), 100);

		const strangers = all.events.filter((ev) => eventProcess(ev)?.binary !== opt.hello);
		assert.equal(strangers.length, 0,
			`events of other binaries passed the filter: ${JSON.stringify(strangers[0])}`);
		const notExit = exits.events.filter((ev) => ev.event !== 'process_exit' ||
			ev.process_exit.process.binary !== opt.hello);
		assert.equal(notExit.length, 0,
			`event_set PROCESS_EXIT passed: ${JSON.stringify(notExit[0])}`);
		return `binary_regex ${re}: ${all.events.length} events, all the test binary's; ` +
			`+ event_set PROCESS_EXIT: ${exits.events.length} exit events`;
	} finally {
		await all.cancel();
		await exits.cancel();
		c.close();
	}
};

// deny_list binary_regex: the test binary's events are withheld, others pass.
cases.deny = async (opt) => {
	assert.ok(opt.hello, '--hello is required');
	const c = sensors(opt.target);
	const before = (await subscriberCount(opt.target)) || 0;
	const s = openEvents(c, { deny_list: [{ binary_regex: [`^${escapeRegex(opt.hello)}$`] }] });
	try {
		await waitSubscribers(opt.target, before + 1);
		const t = tag();
		await run(opt.hello, [t, 'denied']);
		await run('/bin/true', [t, 'sentinel']);
		await s.waitFor('the sentinel exit', (ev) =>
			ev.process_exit && ev.process_exit.process.arguments === `${t} sentinel`);
		const denied = s.events.filter((ev) => eventProcess(ev)?.binary === opt.hello);
		assert.equal(denied.length, 0, `denied binary passed: ${JSON.stringify(denied[0])}`);
		return `deny_list kept out the test binary, ${s.events.length} other events passed`;
	} finally {
		await s.cancel();
		c.close();
	}
};

// Methods no one serves answer UNIMPLEMENTED (12) at once: an unknown method of a known
// service, an unknown service, an unknown server stream. The read-only methods of the
// service answer at once too, UNIMPLEMENTED or otherwise (which ones the agent implements
// changes as it grows; mutating methods are not called).
const READ_ONLY = ['GetInfo', 'GetDebug', 'ListDomains', 'ListSensors', 'ListTracingPolicies'];
const PROMPT_OK = new Set([grpc.status.OK, grpc.status.UNIMPLEMENTED, grpc.status.INVALID_ARGUMENT,
			   grpc.status.FAILED_PRECONDITION, grpc.status.NOT_FOUND]);

cases.unimplemented = async (opt) => {
	const c = sensors(opt.target);
	const generic = new grpc.Client(opt.target, creds);
	const empty = () => Buffer.alloc(0);
	const raw = (buf) => buf;
	const rawUnary = (method) => new Promise((resolve, reject) =>
		generic.makeUnaryRequest(method, empty, raw, {}, { deadline: deadlineIn(5000) },
			(err, resp) => (err ? reject(err) : resolve(resp))));
	const timed = async (fn) => {
		const t0 = Date.now();
		const { err } = await callOutcome(fn);
		return { err, ms: Date.now() - t0 };
	};
	const unknown = [];
	const known = [];
	try {
		for (const method of ['/tetragon.FineGuidanceSensors/NoSuchMethod',
				      '/no.such.Service/Method']) {
			const { err, ms } = await timed(() => rawUnary(method));
			assert.equal(err && err.code, grpc.status.UNIMPLEMENTED, `${method}: ${statusOf(err)}`);
			assert.ok(ms < 2000, `${method} took ${ms} ms`);
			unknown.push(`${method} ${ms}ms`);
		}
		const { err, ms } = await timed(() => new Promise((resolve, reject) => {
			const call = generic.makeServerStreamRequest(
				'/tetragon.FineGuidanceSensors/NoSuchStream', empty, raw, {}, {},
				{ deadline: deadlineIn(5000) });
			call.on('data', () => {});
			call.on('error', reject);
			call.on('end', resolve);
		}));
		assert.equal(err && err.code, grpc.status.UNIMPLEMENTED, `stream: ${statusOf(err)}`);
		assert.ok(ms < 2000, `stream took ${ms} ms`);
		unknown.push(`stream ${ms}ms`);

		for (const method of READ_ONLY) {
			const r = await timed(() => unary(c, method, {}));
			const code = r.err ? r.err.code : grpc.status.OK;
			assert.ok(PROMPT_OK.has(code) && r.ms < 2000,
				`${method}: ${statusOf(r.err)} after ${r.ms} ms`);
			known.push(`${method} ${STATUS_NAME[code]}`);
		}
		await unary(c, 'GetVersion', {});
		return `UNIMPLEMENTED: ${unknown.join(', ')}; at once: ${known.join(', ')}`;
	} finally {
		c.close();
		generic.close();
	}
};

// A GetEvents stream with a 1 s deadline ends with DEADLINE_EXCEEDED near 1 s; the agent
// drops the subscriber and keeps serving.
cases.deadline = async (opt) => {
	const c = sensors(opt.target);
	const before = (await subscriberCount(opt.target)) || 0;
	try {
		const t0 = Date.now();
		const s = openEvents(c, { allow_list: [{ binary_regex: ['^/nonexistent/interop$'] }] },
			{ deadline: deadlineIn(1000) });
		await s.done;
		const ms = Date.now() - t0;
		assert.ok(s.error, 'the stream ended without an error');
		assert.equal(s.error.code, grpc.status.DEADLINE_EXCEEDED, statusOf(s.error));
		assert.ok(ms >= 900 && ms < 3000, `ended after ${ms} ms`);
		const n = await waitUntil('the subscriber to go away', async () => {
			const k = await subscriberCount(opt.target);
			return k === null || k <= before ? { k } : null;
		}, 5000);
		const v = await unary(c, 'GetVersion', {}, { timeoutMs: 2000 });
		const h = await unary(c, 'GetHealth', {}, { timeoutMs: 2000 });
		assert.ok(v.version && h.health_status.length);
		return `DEADLINE_EXCEEDED after ${ms} ms; subscribers back to ${n.k}; still serving`;
	} finally {
		c.close();
	}
};

// A client cancels its GetEvents stream (one, then 20 at once); the agent notices (its
// subscriber count goes back) and keeps serving.
cases.cancel = async (opt) => {
	const c = sensors(opt.target);
	const before = (await subscriberCount(opt.target)) || 0;
	const gone = () => waitUntil('the subscribers to go away', async () => {
		const k = await subscriberCount(opt.target);
		return k === null || k <= before;
	}, 5000);
	try {
		const s = openEvents(c, {});
		await waitSubscribers(opt.target, before + 1);
		await s.cancel();
		assert.equal(s.error && s.error.code, grpc.status.CANCELLED, statusOf(s.error));
		await gone();

		const many = Array.from({ length: 20 }, () => openEvents(c, {}));
		await waitSubscribers(opt.target, before + many.length);
		await run('/bin/true', [tag()]);
		await Promise.all(many.map((x) => x.cancel()));
		await gone();

		// and a client that dies mid-stream (SIGKILL: its connection just closes)
		const child = child_process.spawn(process.execPath,
			[__filename, 'hold', '--target', opt.target], { stdio: 'ignore' });
		try {
			await waitSubscribers(opt.target, before + 1);
		} finally {
			child.kill('SIGKILL');
		}
		await gone();

		const v = await unary(c, 'GetVersion', {}, { timeoutMs: 2000 });
		assert.ok(v.version);
		return `CANCELLED seen; 1 + 20 streams cancelled and 1 client killed, subscribers back to ${before}`;
	} finally {
		c.close();
	}
};

// Not a test: open a GetEvents stream and keep it open until killed (for `cancel`).
cases.hold = async (opt) => {
	const s = openEvents(sensors(opt.target), {});
	await s.done;
	throw new Error(`the stream ended: ${statusOf(s.error)}`);
};

// --- the JSON export file vs the gRPC stream --------------------------------------------

let pbRoot;
function root()
{
	if (!pbRoot) {
		pbRoot = new protobuf.Root();
		pbRoot.resolvePath = (origin, target) => {
			for (const dir of INCLUDE_DIRS) {
				const p = path.join(dir, target);
				if (fs.existsSync(p))
					return p;
			}
			return protobuf.util.path.resolve(origin, target);
		};
		pbRoot.loadSync(PROTO_FILES, { keepCase: true });
		pbRoot.resolveAll();
	}
	return pbRoot;
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value',
			  'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue']
	.map((n) => `.google.protobuf.${n}`));

function parseTimestamp(s, where)
{
	const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
	assert.ok(m, `${where}: not an RFC 3339 UTC timestamp: ${JSON.stringify(s)}`);
	const seconds = Math.floor(Date.parse(`${m[1]}Z`) / 1000);
	return { seconds, nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
}

// One proto3-JSON value of field `f` into what Type.fromObject takes, checking that the
// JSON mapping was followed (names, types, enum names, 64-bit integers as strings).
function fromJsonValue(f, v, where)
{
	const rt = f.resolvedType;
	if (rt instanceof protobuf.Type) {
		if (rt.fullName === '.google.protobuf.Timestamp')
			return parseTimestamp(v, where);
		if (rt.fullName === '.google.protobuf.Duration') {
			const m = /^(-?\d+)(?:\.(\d{1,9}))?s$/.exec(v);
			assert.ok(m, `${where}: not a Duration: ${JSON.stringify(v)}`);
			return { seconds: m[1], nanos: m[2] ? Number(m[2].padEnd(9, '0')) : 0 };
		}
		if (rt.fullName === '.google.protobuf.FieldMask')
			return { paths: v === '' ? [] : v.split(',') };
		if (WRAPPERS.has(rt.fullName))
			return { value: fromJsonValue(rt.fields.value, v, where) };
		return fromJson(rt, v, where);
	}
	if (rt instanceof protobuf.Enum) {
		assert.ok(typeof v === 'string' && v in rt.values,
			`${where}: not a ${rt.name} name: ${JSON.stringify(v)}`);
		return v;
	}
	const kinds = {
		string: 'string', bytes: 'string', bool: 'boolean', double: 'number', float: 'number',
		int32: 'number', uint32: 'number', sint32: 'number', fixed32: 'number',
		sfixed32: 'number', int64: 'string', uint64: 'string', sint64: 'string',
		fixed64: 'string', sfixed64: 'string',
	};
	assert.equal(typeof v, kinds[f.type], `${where}: ${f.type} as ${typeof v} ${JSON.stringify(v)}`);
	if (kinds[f.type] === 'string' && f.type !== 'string' && f.type !== 'bytes')
		assert.match(v, /^-?\d+$/, `${where}: ${f.type}`);
	if (f.type === 'bytes')
		assert.match(v, /^[A-Za-z0-9+/]*={0,2}$/, `${where}: bytes not base64`);
	return v;
}

function fromJson(type, obj, where)
{
	assert.ok(obj && typeof obj === 'object' && !Array.isArray(obj), `${where}: not an object`);
	const out = {};
	for (const [k, v] of Object.entries(obj)) {
		const f = type.fields[k];
		assert.ok(f, `${where}.${k}: ${type.fullName} has no field "${k}"`);
		if (f.map) {
			out[k] = Object.fromEntries(Object.entries(v).map(([mk, mv]) =>
				[mk, fromJsonValue(f, mv, `${where}.${k}[${mk}]`)]));
		} else if (f.repeated) {
			assert.ok(Array.isArray(v), `${where}.${k}: repeated but not an array`);
			out[k] = v.map((x, i) => fromJsonValue(f, x, `${where}.${k}[${i}]`));
		} else {
			out[k] = fromJsonValue(f, v, `${where}.${k}`);
		}
	}
	return out;
}

// Where two plain objects differ, as "path: a != b" strings.
function differences(a, b, where)
{
	if (a && b && typeof a === 'object' && typeof b === 'object') {
		const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
		return keys.flatMap((k) => differences(a[k], b[k], `${where}.${k}`));
	}
	return a === b ? [] : [`${where}: file ${JSON.stringify(a)} != gRPC ${JSON.stringify(b)}`];
}

// defaults: a wrapper holding 0 is {} on the wire and {value: 0} from JSON; both say 0
const TO_OBJECT = { longs: String, enums: String, bytes: String, defaults: true, oneofs: false };

// Every line of the export file follows the proto3 JSON mapping of GetEventsResponse, and
// the test binary's exec event in it is the same message, field for field, as the one the
// gRPC stream delivered (decoded here from the raw bytes by protobufjs).
cases.export = async (opt) => {
	assert.ok(opt.hello && opt.export, '--hello and --export are required');
	const Resp = root().lookupType('tetragon.GetEventsResponse');
	const generic = new grpc.Client(opt.target, creds);
	const before = (await subscriberCount(opt.target)) || 0;
	const Req = root().lookupType('tetragon.GetEventsRequest');
	const req = { allow_list: [{ binary_regex: [`^${escapeRegex(opt.hello)}$`] }] };
	const s = new EventStream(generic.makeServerStreamRequest(
		'/tetragon.FineGuidanceSensors/GetEvents',
		(m) => Buffer.from(Req.encode(Req.fromObject(m)).finish()),
		(buf) => Resp.decode(buf), req, {}, {}));
	try {
		await waitSubscribers(opt.target, before + 1);
		const args = [tag(), 'export', 'a b'];
		const argString = joinArgs(args);
		await run(opt.hello, args);
		const exec = await s.waitFor('the exec event', isRun('process_exec', opt.hello, argString));
		await s.waitFor('the exit event', isRun('process_exit', opt.hello, argString));
		const execId = exec.process_exec.process.exec_id;

		const line = await waitUntil('the exec line in the export file', () => {
			const lines = fs.existsSync(opt.export) ?
				fs.readFileSync(opt.export, 'utf8').split('\n').filter(Boolean) : [];
			return lines.find((l) => l.includes(execId) && l.includes('"process_exec"'));
		}, 10000);
		const lines = fs.readFileSync(opt.export, 'utf8').split('\n').filter(Boolean);
		let n = 0;
		for (const l of lines) {
			const where = `line ${++n}`;
			const msg = Resp.fromObject(fromJson(Resp, JSON.parse(l), where));
			const err = Resp.verify(msg);
			assert.equal(err, null, `${where}: ${err}`);
		}
		const fromFile = Resp.toObject(Resp.fromObject(fromJson(Resp, JSON.parse(line), 'exec line')), TO_OBJECT);
		const fromGrpc = Resp.toObject(exec, TO_OBJECT);
		const diffs = differences(fromFile, fromGrpc, 'event');
		assert.equal(diffs.length, 0, `the export line and the gRPC event differ:\n  ` +
			`${diffs.join('\n  ')}\nline: ${line}`);
		return `${lines.length} export lines follow the proto3 JSON mapping; ` +
			`the exec event matches the gRPC one field for field`;
	} finally {
		await s.cancel();
		generic.close();
	}
};

// --- main -----------------------------------------------------------------------------

function parseArgs(argv)
{
	const opt = {};
	const names = { '--target': 'target', '--hello': 'hello', '--export': 'export',
			'--expect-version': 'expectVersion' };
	const rest = [];
	for (let i = 0; i < argv.length; i++) {
		if (names[argv[i]] && i + 1 < argv.length)
			opt[names[argv[i]]] = argv[++i];
		else
			rest.push(argv[i]);
	}
	opt.case = rest[0];
	return opt;
}

async function main()
{
	const opt = parseArgs(process.argv.slice(2));
	if (!cases[opt.case] || !opt.target) {
		console.error(`usage: client.js CASE --target ADDR [--hello PATH] [--export FILE] ` +
			      `[--expect-version V]\ncases: ${Object.keys(cases).join(' ')}`);
		process.exit(2);
	}
	try {
		const what = await cases[opt.case](opt);
		console.log(what);
		process.exit(0);
	} catch (err) {
		console.error(err.code !== undefined && err.details !== undefined ?
			`gRPC error ${statusOf(err)}` : err.stack || String(err));
		process.exit(1);
	}
}

main();
