#!/usr/bin/env node
// usersvc benchmark orchestrator, started by tests/bench/run.sh (which installs wrk, nginx, gnuplot,
// builds the C tools into build/bench/ and runs `npm ci` for the peer first).
//
//   node tests/bench/bench.mjs [--smoke] [--strict] (USERSVC_BIN | --no-usersvc)
//
// Starts on 127.0.0.1 only: the zero-cost DynamoDB backend (nginx, one process), the slow backend
// (build/bench/slowddb, 5 ms), the Express peer and usersvc against each, and the reverse-proxy floor
// (a second nginx turning GET /users/{id} into the same GetItem POST to the zero-cost backend); drives them with wrk
// (tests/bench/wrk/*.lua); measures req/s, p50/p99, server CPU per request and peak RSS; holds 10,000
// idle connections (build/bench/idle_conns); times start-up (build/bench/startup_time). Prints the
// tables, writes build/bench/results.json and build/bench/chart.png. Every process it starts is
// stopped before it exits (also on errors and signals).
//
// CPU placement (2 cores): with BENCH_PIN=1 (default) everything being measured -- the server and
// its backend -- runs on CPU 0 and wrk on CPU 1, so the load generator never steals cycles from the
// system under test and every server gets the same single core. wrk's own CPU use is reported per
// run; a run where wrk was near 100% of its core is marked client-bound.
//
// Environment (all optional):
//   BENCH_DURATION     seconds per measured run (full 6, smoke 1)
//   BENCH_REPS         repetitions of the runs the targets compare, alternating servers (full 3)
//   BENCH_WARMUP       seconds of warm-up before each measured run (full 2, smoke 0)
//   BENCH_SERVER_WARMUP seconds of the mixed workload right after a server starts, before its first
//                      run (full 5, smoke 0): the peer's JIT needs it, or its first run looks 2x worse
//   BENCH_DELAY_MS     slow backend's added latency (5)
//   BENCH_IDLE_CONNS   idle connections to hold (full 10000, smoke 300)
//   BENCH_PIN          1: pin as above; 0: let the scheduler place everything
//   BENCH_WRK_THREADS  wrk threads (2; never more than connections)
//   BENCH_OUT          output folder (build/bench)
//   BENCH_USERSVC_ENV  extra "K=V K2=V2" for usersvc (e.g. LOG_LEVEL=warn); default is usersvc's own
import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const argv = process.argv.slice(2);
const SMOKE = argv.includes("--smoke");
const STRICT = argv.includes("--strict");
const NO_USERSVC = argv.includes("--no-usersvc");
const positional = argv.filter((a) => !a.startsWith("--"));
const USERSVC_BIN = positional[0] ? path.resolve(positional[0]) : null;

const envNum = (k, d) => (process.env[k] !== undefined && process.env[k] !== "" ? Number(process.env[k]) : d);
const OUT = path.resolve(process.env.BENCH_OUT || path.join(ROOT, "build/bench"));
const TOOLS = OUT;
const DURATION = envNum("BENCH_DURATION", SMOKE ? 1 : 6);
const WARMUP = envNum("BENCH_WARMUP", SMOKE ? 0 : 2);
const SERVER_WARMUP = envNum("BENCH_SERVER_WARMUP", SMOKE ? 0 : 5);
const DELAY_MS = envNum("BENCH_DELAY_MS", 5);
const IDLE_CONNS = envNum("BENCH_IDLE_CONNS", SMOKE ? 300 : 10000);
const PIN = envNum("BENCH_PIN", 1) === 1 && os.cpus().length >= 2;
const WRK_THREADS = envNum("BENCH_WRK_THREADS", 2);
const REPS = Math.max(1, envNum("BENCH_REPS", SMOKE ? 1 : 3));
const SERVER_CPU = "0";
const CLIENT_CPU = "1";
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
const USER_ID = "0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11";
const t0 = Date.now();

if (!NO_USERSVC) {
  if (!USERSVC_BIN) die("usage: tests/bench/run.sh [--smoke] USERSVC_BIN   (or --no-usersvc for the peer side only)", 2);
  try {
    fs.accessSync(USERSVC_BIN, fs.constants.X_OK);
  } catch {
    die(`bench: usersvc binary '${USERSVC_BIN}' is missing or not executable; build it with ` +
        `'make -C ${ROOT}' (makes build/usersvc), or pass --no-usersvc to measure the backends and the peer only`, 2);
  }
}

fs.mkdirSync(OUT, { recursive: true });
const WORK = fs.mkdtempSync(path.join(os.tmpdir(), "usersvc-bench-"));
const LOGS = path.join(WORK, "logs");
fs.mkdirSync(LOGS);
const PIDFILE = path.join(OUT, "bench.pids");
fs.writeFileSync(PIDFILE, "");

// ---------------------------------------------------------------- processes
const children = new Set();

function die(msg, code = 1) {
  console.error(msg);
  process.exit(code);
}

// Every child is started in its own process group (detached), so killing the group also takes
// what it started itself (wrk under its bash wrapper, the server under startup_time).
function killGroup(pid, sig = "SIGKILL") {
  try {
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}

function killAll() {
  for (const p of children) killGroup(p.pid);
  children.clear();
}
process.on("exit", killAll);
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, () => {
    console.error(`bench: ${sig}, stopping everything`);
    killAll();
    fs.rmSync(WORK, { recursive: true, force: true });
    process.exit(130);
  });
}

function pinned(cpu, cmd, args) {
  return PIN ? ["taskset", ["-c", cpu, cmd, ...args]] : [cmd, args];
}

// Starts a long-running process with its output in WORK/logs/<name>.log.
function startProc(name, cmd, args, { env = {}, cpu = SERVER_CPU, cwd = ROOT } = {}) {
  const log = path.join(LOGS, `${name}.log`);
  const fd = fs.openSync(log, "a");
  const [c, a] = pinned(cpu, cmd, args);
  const child = spawn(c, a, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", fd, fd], detached: true });
  fs.closeSync(fd);
  const p = { name, pid: child.pid, child, log, exited: null };
  children.add(p);
  fs.appendFileSync(PIDFILE, `${child.pid}\n`);
  child.on("exit", (code, signal) => {
    p.exited = { code, signal };
    children.delete(p);
  });
  return p;
}

async function stopProc(p) {
  if (!p || p.exited) return;
  try {
    process.kill(p.pid, "SIGTERM");
  } catch {}
  for (let i = 0; i < 60 && !p.exited; i++) await sleep(50);
  if (!p.exited) {
    killGroup(p.pid);
    for (let i = 0; i < 40 && !p.exited; i++) await sleep(50);
  }
  children.delete(p);
}

function logTail(p, n = 15) {
  try {
    return fs.readFileSync(p.log, "utf8").trimEnd().split("\n").slice(-n).join("\n");
  } catch {
    return "(no log)";
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs a short command to completion; resolves { code, stdout, stderr }.
function runCmd(cmd, args, { env = {}, cpu = null, timeoutMs = 120000 } = {}) {
  return new Promise((resolve) => {
    const [c, a] = cpu === null ? [cmd, args] : pinned(cpu, cmd, args);
    const child = spawn(c, a, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const p = { name: cmd, pid: child.pid, exited: null };
    children.add(p);
    fs.appendFileSync(PIDFILE, `${child.pid}\n`);
    let stdout = "", stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      killGroup(child.pid);
      stderr += `\n(killed after ${timeoutMs} ms)`;
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(p);
      resolve({ code, stdout, stderr });
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function request(port, method, reqPath, { headers = {}, body = null, timeoutMs = 5000 } = {}) {
  return new Promise((resolve) => {
    const h = { Connection: "close", ...headers };
    if (body !== null) h["Content-Length"] = Buffer.byteLength(body);
    const req = http.request({ host: "127.0.0.1", port, method, path: reqPath, headers: h, agent: false }, (res) => {
      let data = "";
      res.setEncoding("utf8");
      res.on("data", (d) => (data += d));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: data }));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error("timeout")));
    req.on("error", (e) => resolve({ status: 0, error: e.message, body: "" }));
    if (body !== null) req.write(body);
    req.end();
  });
}

async function waitReady(p, port, reqPath, { timeoutMs = 15000, init = {} } = {}) {
  const end = Date.now() + timeoutMs;
  let last;
  while (Date.now() < end) {
    if (p.exited) throw new Error(`${p.name} exited (${JSON.stringify(p.exited)}) before it was ready:\n${logTail(p)}`);
    last = await request(port, init.method || "GET", reqPath, { headers: init.headers, body: init.body ?? null, timeoutMs: 2000 });
    if (last.status === 200) return;
    await sleep(20);
  }
  throw new Error(`${p.name} not ready on :${port}${reqPath} after ${timeoutMs} ms (last: ${last?.status} ${last?.error || last?.body?.slice(0, 200)})\n${logTail(p)}`);
}

// ---------------------------------------------------------------- /proc
function cpuTicks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    // fields 14-17 of stat(5): utime stime cutime cstime (f[0] is field 3)
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return NaN;
  }
}

function statusKiB(pid, key) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, "utf8").match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------- checks (smoke pass/fail)
// A failed check fails the run (smoke: counted in "bench-smoke: N passed, M failed"). `warnOnly`
// checks (the peer's own behaviour in full mode, e.g. timeouts at 1000 connections) are reported
// but never fail the harness.
const checks = [];
const warnings = [];
function check(name, ok, detail = "", { warnOnly = false } = {}) {
  if (warnOnly && !ok) {
    warnings.push({ name, detail });
    console.log(`  WARN ${name}${detail ? ": " + detail : ""}`);
    return;
  }
  checks.push({ name, ok: !!ok, detail });
  if (!ok) console.log(`  FAIL ${name}${detail ? ": " + detail : ""}`);
  else if (SMOKE) console.log(`  ok   ${name}`);
}

// ---------------------------------------------------------------- backends
const DDB_TARGETS = ["GetItem", "Query", "PutItem", "UpdateItem", "TransactWriteItems", "Scan", "DescribeTable", "DeleteItem", "CreateTable"];

async function startNginx() {
  const prefix = path.join(WORK, "nginx");
  for (const d of ["logs", "tmp"]) fs.mkdirSync(path.join(prefix, d), { recursive: true });
  const map = execFileSync(path.join(TOOLS, "slowddb"), ["--nginx-map"]).toString();
  fs.writeFileSync(path.join(prefix, "ddb_map.conf"), map);
  const port = await freePort();
  const conf = `# zero-cost DynamoDB backend for the usersvc benchmark (generated by tests/bench/bench.mjs)
daemon off;
master_process off;   # one process: the one measured
worker_processes 1;
worker_rlimit_nofile 65536;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/logs/nginx.pid;
events { worker_connections 30000; multi_accept on; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    client_max_body_size 16m;
    client_body_buffer_size 1m;
    server_tokens off;
    default_type application/x-amz-json-1.0;
    include ${prefix}/ddb_map.conf;
    server {
        listen 127.0.0.1:${port} backlog=65535;
        location / {
            # answers by X-Amz-Target only: no signature check, the request body is discarded
            add_header x-amz-crc32 $ddb_crc32 always;
            add_header x-amzn-RequestId nginx-bench always;
            if ($ddb_known = 0) {
                return 400 $ddb_body;
            }
            return 200 $ddb_body;
        }
    }
}
`;
  const confPath = path.join(prefix, "nginx.conf");
  fs.writeFileSync(confPath, conf);
  const p = startProc("nginx", "nginx", ["-p", prefix + "/", "-c", confPath, "-e", path.join(prefix, "logs/error.log")]);
  p.port = port;
  p.label = "nginx";
  await waitReady(p, port, "/", { init: { method: "POST", headers: { "X-Amz-Target": "DynamoDB_20120810.DescribeTable" }, body: "{}" } });
  return p;
}

// The physical floor for what usersvc does per GET by id: nginx as a reverse proxy turning
// `GET /users/{id}` into the same GetItem POST to the same backend, upstream kept alive (one process,
// like the zero-cost backend). No signing, no JSON: two HTTP exchanges and nothing else.
async function startProxyFloor(backend) {
  const prefix = path.join(WORK, "nginx-floor");
  for (const d of ["logs", "tmp"]) fs.mkdirSync(path.join(prefix, d), { recursive: true });
  const port = await freePort();
  const conf = `# reverse-proxy floor for the usersvc benchmark (generated by tests/bench/bench.mjs)
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 65536;
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/logs/nginx.pid;
events { worker_connections 30000; multi_accept on; }
http {
    access_log off;
    client_body_temp_path ${prefix}/tmp/body;
    proxy_temp_path ${prefix}/tmp/proxy;
    fastcgi_temp_path ${prefix}/tmp/fastcgi;
    uwsgi_temp_path ${prefix}/tmp/uwsgi;
    scgi_temp_path ${prefix}/tmp/scgi;
    keepalive_requests 1000000000;
    keepalive_timeout 600s;
    server_tokens off;
    upstream ddb {
        server 127.0.0.1:${backend.port};
        keepalive 1024;
        keepalive_requests 1000000000;
    }
    server {
        listen 127.0.0.1:${port} backlog=65535;
        location ~ "^/users/(?<uid>[0-9a-f-]{36})$" {
            rewrite ^ / break;
            proxy_pass http://ddb;
            proxy_http_version 1.1;
            proxy_method POST;
            proxy_set_header Connection "";
            proxy_set_header Host 127.0.0.1:${backend.port};
            proxy_set_header Content-Type application/x-amz-json-1.0;
            proxy_set_header X-Amz-Target DynamoDB_20120810.GetItem;
            proxy_set_body '{"TableName":"users","Key":{"id":{"S":"$uid"}},"ConsistentRead":true}';
        }
    }
}
`;
  const confPath = path.join(prefix, "nginx.conf");
  fs.writeFileSync(confPath, conf);
  const p = startProc("nginx-floor", "nginx", ["-p", prefix + "/", "-c", confPath, "-e", path.join(prefix, "logs/error.log")]);
  p.port = port;
  p.label = "proxy floor";
  p.kind = null;
  await waitReady(p, port, "/users/0b7e4b2c-7a40-4d7e-9a3a-4f4a0b8f7c11");
  return p;
}

async function startSlowddb(delayMs) {
  const port = await freePort();
  const p = startProc(`slowddb-${delayMs}ms`, path.join(TOOLS, "slowddb"), [String(port), String(delayMs)]);
  p.port = port;
  p.label = `slowddb ${delayMs}ms`;
  await waitReady(p, port, "/", { init: { method: "POST", headers: { "X-Amz-Target": "DynamoDB_20120810.DescribeTable" }, body: "{}" } });
  return p;
}

async function verifyBackend(b) {
  for (const t of DDB_TARGETS) {
    const r = await request(b.port, "POST", "/", {
      headers: { "X-Amz-Target": `DynamoDB_20120810.${t}`, "Content-Type": "application/x-amz-json-1.0", Authorization: "AWS4-HMAC-SHA256 ignored" },
      body: '{"TableName":"users"}',
    });
    let json = null;
    try {
      json = JSON.parse(r.body);
    } catch {}
    const ct = r.headers?.["content-type"] === "application/x-amz-json-1.0";
    let ok = r.status === 200 && ct && json !== null;
    if (ok && t === "DescribeTable") ok = json.Table?.TableStatus === "ACTIVE" && json.Table.GlobalSecondaryIndexes?.[0]?.IndexStatus === "ACTIVE";
    if (ok && t === "GetItem") ok = json.Item?.id?.S === USER_ID;
    check(`${b.label} answers ${t}`, ok, `${r.status} ${r.headers?.["content-type"]} ${r.body.slice(0, 120)}`);
  }
  const bad = await request(b.port, "POST", "/", { headers: { "X-Amz-Target": "DynamoDB_20120810.Nope" }, body: "{}" });
  check(`${b.label} refuses an unknown target with 400`, bad.status === 400, `${bad.status}`);
}

// ---------------------------------------------------------------- servers under test
async function startPeer(backend, tag) {
  const port = await freePort();
  const p = startProc(`peer-${tag}`, process.execPath, ["app.js"], {
    cwd: path.join(HERE, "peer"),
    env: {
      HOST: "127.0.0.1", PORT: String(port), AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${backend.port}`,
      AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", NODE_ENV: "production",
    },
  });
  p.port = port;
  p.kind = "peer";
  p.backend = backend;
  await waitReady(p, port, "/healthz");
  return p;
}

function usersvcEnv(port, backend) {
  const extra = {};
  for (const kv of (process.env.BENCH_USERSVC_ENV || "").split(/\s+/).filter(Boolean)) {
    const i = kv.indexOf("=");
    if (i > 0) extra[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return {
    HOST: "127.0.0.1", PORT: String(port), AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${backend.port}`,
    AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench", AUTO_CREATE_TABLE: "false",
    // Every bench client connects from 127.0.0.1, and the idle test holds 10,000 connections: more than
    // the default per-address share (half of MAX_CONNECTIONS).
    MAX_CONNECTIONS_PER_IP: "0", ...extra,
  };
}

// AUTH=jwt: an RS256 key made with openssl, its JWKS in a file (a cached key: no fetches) and one
// token for every request (usersvc verifies it once per worker, then finds it in the worker's cache).
let benchToken = "";
function jwtEnv() {
  const key = path.join(WORK, "jwt-rsa.pem"), jwks = path.join(WORK, "jwks.json");
  execFileSync("openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key], { stdio: "ignore" });
  const mint = path.join(ROOT, "tests/support/jwtmint.py");
  fs.writeFileSync(jwks, execFileSync("python3", [mint, "jwks", `${key}:bench`]));
  const claims = JSON.stringify({ sub: "bench", scope: "users:read users:write", exp: Math.floor(Date.now() / 1000) + 86400 });
  benchToken = execFileSync("python3", [mint, "sign", key, "RS256", "bench", claims]).toString().trim();
  return { AUTH: "jwt", JWT_JWKS_FILE: jwks };
}

async function startUsersvc(backend, tag, extraEnv = null) {
  const port = await freePort();
  const p = startProc(`usersvc-${tag}`, USERSVC_BIN, [], { env: { ...usersvcEnv(port, backend), ...(extraEnv || {}) } });
  p.port = port;
  p.kind = "usersvc";
  p.backend = backend;
  await waitReady(p, port, "/healthz");
  await waitReady(p, port, "/readyz");
  return p;
}

let patchContentType = "application/merge-patch+json";

// Each route once, end to end; returns false when any failed.
async function verifyRoutes(s) {
  const name = `${s.kind} (${s.backend.label})`;
  const json = (b) => {
    try {
      return JSON.parse(b);
    } catch {
      return null;
    }
  };
  let all = true;
  const expect = (what, r, status, pred = () => true) => {
    const ok = r.status === status && pred(json(r.body));
    check(`${name} ${what} -> ${status}`, ok, `${r.status} ${r.error || ""} ${(r.body || "").slice(0, 160)}`);
    all &&= ok;
  };
  expect(`GET /users/{id}`, await request(s.port, "GET", `/users/${USER_ID}`), 200, (j) => j?.id === USER_ID);
  expect(`GET /users?email=`, await request(s.port, "GET", `/users?email=ada%40example.com`), 200, (j) => j !== null);
  expect(`POST /users`, await request(s.port, "POST", "/users", {
    headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "Smoke Test", email: `smoke-${Date.now()}@example.com` }),
  }), 201, (j) => j?.email?.startsWith("smoke-"));
  let r = await request(s.port, "PATCH", `/users/${USER_ID}`, { headers: { "Content-Type": patchContentType }, body: '{"name":"Ada King"}' });
  if (s.kind === "usersvc" && (r.status === 415 || r.status === 400) && patchContentType !== "application/json") {
    console.log(`  note: usersvc refused PATCH as ${patchContentType} (${r.status}); using application/json for every server`);
    patchContentType = "application/json";
    r = await request(s.port, "PATCH", `/users/${USER_ID}`, { headers: { "Content-Type": patchContentType }, body: '{"name":"Ada King"}' });
  }
  expect(`PATCH /users/{id}`, r, 200, (j) => j !== null);
  expect(`GET /users`, await request(s.port, "GET", "/users"), 200, (j) => j !== null);
  if (s.kind === "usersvc") {
    expect(`GET /healthz`, await request(s.port, "GET", "/healthz"), 200);
    expect(`GET /readyz`, await request(s.port, "GET", "/readyz"), 200);
  }
  return all;
}

// ---------------------------------------------------------------- wrk
let runSeq = 0;
function wrkArgs(spec, port, seconds) {
  const threads = Math.max(1, Math.min(WRK_THREADS, spec.conns));
  return ["-t" + threads, "-c" + spec.conns, "-d" + seconds + "s", "--timeout", "10s",
    "-s", path.join(HERE, "wrk", `${spec.script}.lua`), `http://127.0.0.1:${port}`];
}

// One wrk process; resolves its WRK_RESULT plus wrk's own CPU seconds (from bash's `times`).
async function wrk(spec, port, seconds) {
  const script = 'taskset_cmd=(); [ -n "$PIN_CPU" ] && taskset_cmd=(taskset -c "$PIN_CPU"); ' +
    '"${taskset_cmd[@]}" wrk "$@"; rc=$?; echo WRK_TIMES >&2; times >&2; exit $rc';
  const r = await runCmd("bash", ["-c", script, "wrk", ...wrkArgs(spec, port, seconds)], {
    env: { PIN_CPU: PIN ? CLIENT_CPU : "", BENCH_PATCH_CONTENT_TYPE: patchContentType, BENCH_RUN_ID: `${process.pid}-${++runSeq}`,
      BENCH_TOKEN: benchToken },
    timeoutMs: (seconds + 30) * 1000,
  });
  const m = r.stdout.match(/^WRK_RESULT (\{.*\})$/m);
  // `times`: the shell's own user/sys line, then its children's (wrk's)
  const tm = r.stderr.match(/WRK_TIMES\n.*\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
  const cpu = tm ? Number(tm[1]) * 60 + Number(tm[2]) + Number(tm[3]) * 60 + Number(tm[4]) : NaN;
  if (!m) return { failed: true, code: r.code, output: (r.stdout + r.stderr).slice(-600), wrk_cpu_s: cpu };
  return { ...JSON.parse(m[1]), code: r.code, wrk_cpu_s: cpu };
}

const runs = [];

// Measures specs against one server (an instance object with pid/port). Full mode: one after another,
// each after its own warm-up, CPU and RSS read around each. Smoke mode: all at once for a second;
// the server's CPU over the batch is shared out per request.
async function measure(server, specs, { label, backend, rep = 1 }) {
  const backendProc = backend && backend !== server ? backend : null;
  const rec = (spec, res, cpuTicksDelta, beCpuDelta, reqs) => {
    const requests = res.requests ?? 0;
    const dur = (res.duration_us ?? 0) / 1e6;
    const errs = (res.connect_errors ?? 0) + (res.read_errors ?? 0) + (res.write_errors ?? 0) + (res.timeouts ?? 0);
    const r = {
      server: label, backend: backend ? backend.label : null, workload: spec.workload || spec.script, script: spec.script,
      connections: spec.conns, rep, duration_s: +dur.toFixed(3), requests, rps: dur > 0 ? +(requests / dur).toFixed(1) : 0,
      p50_us: res.p50_us ?? null, p90_us: res.p90_us ?? null, p99_us: res.p99_us ?? null, p999_us: res.p999_us ?? null,
      lat_mean_us: res.lat_mean_us ?? null, lat_max_us: res.lat_max_us ?? null,
      cpu_us_per_req: reqs > 0 ? +((cpuTicksDelta * 1e6) / CLK_TCK / reqs).toFixed(2) : null,
      server_cpu_s: +(cpuTicksDelta / CLK_TCK).toFixed(2),
      backend_cpu_us_per_req: backendProc && reqs > 0 ? +((beCpuDelta * 1e6) / CLK_TCK / reqs).toFixed(2) : null,
      rss_peak_kib: statusKiB(server.pid, "VmHWM"), rss_kib: statusKiB(server.pid, "VmRSS"),
      wrk_cpu_pct: dur > 0 && Number.isFinite(res.wrk_cpu_s) ? +((100 * res.wrk_cpu_s) / dur).toFixed(0) : null,
      non2xx: res.non2xx3xx ?? null, socket_errors: res.failed ? null : errs,
      errors: { connect: res.connect_errors, read: res.read_errors, write: res.write_errors, timeout: res.timeouts },
      batch: SMOKE,
    };
    r.client_bound = r.wrk_cpu_pct !== null && r.wrk_cpu_pct >= 90 * Math.min(WRK_THREADS, spec.conns, PIN ? 1 : os.cpus().length);
    runs.push(r);
    const clean = !res.failed && requests > 0 && r.non2xx === 0 && errs === 0;
    check(`${label} (${r.backend ?? "direct"}) ${r.workload} c=${spec.conns}: ${requests} requests, all 2xx, no socket errors`, clean,
      res.failed ? `wrk failed (exit ${res.code}): ${res.output}` : `non-2xx ${r.non2xx}, socket errors ${JSON.stringify(r.errors)}`,
      { warnOnly: !SMOKE && label === "peer" });
    if (!SMOKE) {
      console.log(`  ${label.padEnd(11)} ${(r.backend ?? "direct").padEnd(11)} ${r.workload.padEnd(12)} c=${String(spec.conns).padEnd(5)} ${fmt(r.rps, 0).padStart(8)} req/s  ` +
        `p50 ${fmt(r.p50_us, 0).padStart(6)} us  p99 ${fmt(r.p99_us, 0).padStart(7)} us  cpu ${fmt(r.cpu_us_per_req, 1).padStart(7)} us/req  ` +
        `hwm ${fmt(r.rss_peak_kib / 1024, 1)} MiB  wrk ${r.wrk_cpu_pct}%`);
    }
    return r;
  };
  const out = [];
  if (server.kind && !server.warmedUp && SERVER_WARMUP > 0) {
    server.warmedUp = true;
    await wrk({ script: "mixed", conns: 64 }, server.port, SERVER_WARMUP);
  }
  if (SMOKE) {
    const c0 = cpuTicks(server.pid), b0 = backendProc ? cpuTicks(backendProc.pid) : 0;
    const results = await Promise.all(specs.map((s) => wrk(s, server.port, DURATION)));
    const dc = cpuTicks(server.pid) - c0, db = backendProc ? cpuTicks(backendProc.pid) - b0 : 0;
    const total = results.reduce((a, r) => a + (r.requests || 0), 0);
    specs.forEach((s, i) => out.push(rec(s, results[i], dc, db, total)));
  } else {
    for (const s of specs) {
      if (WARMUP > 0) await wrk(s, server.port, WARMUP);
      const c0 = cpuTicks(server.pid), b0 = backendProc ? cpuTicks(backendProc.pid) : 0;
      const res = await wrk(s, server.port, DURATION);
      const dc = cpuTicks(server.pid) - c0, db = backendProc ? cpuTicks(backendProc.pid) - b0 : 0;
      out.push(rec(s, res, dc, db, res.requests || 0));
    }
  }
  return out;
}

function fmt(v, d = 1) {
  return v === null || v === undefined || !Number.isFinite(v) ? "n/a" : v.toFixed(d);
}

// ---------------------------------------------------------------- idle connections and start-up
const idle = [];
async function idleTest(s, label) {
  const r = await runCmd(path.join(TOOLS, "idle_conns"), [String(s.port), String(IDLE_CONNS), String(s.pid), SMOKE ? "200" : "2000", "/healthz"],
    { cpu: PIN ? CLIENT_CPU : null, timeoutMs: 120000 });
  const m = r.stdout.match(/^IDLE_RESULT (\{.*\})$/m);
  const res = m ? { server: label, ...JSON.parse(m[1]) } : { server: label, count: IDLE_CONNS, pass: false, output: (r.stdout + r.stderr).slice(-500) };
  idle.push(res);
  check(`${label} holds ${IDLE_CONNS} idle keep-alive connections and still serves`, res.pass,
    m ? `first ${res.first_ok}/${res.count} ok, closed ${res.closed_by_server}, fresh ${res.fresh_ok}/5, reused ${res.reused_ok}/${res.reused_tried}` : res.output,
    { warnOnly: !SMOKE && label === "peer" });
  if (!SMOKE) console.log(`  ${label}: ${res.first_ok}/${res.count} idle connections ok in ${fmt(res.open_ms, 0)} ms, VmHWM ${fmt(res.vmhwm_kib / 1024, 1)} MiB`);
  return res;
}

const startup = [];
async function startupTest(kind, backend, reps) {
  const times = [];
  let last = null;
  for (let i = 0; i < reps; i++) {
    const port = await freePort();
    const [cmd, args, env, cwd] = kind === "usersvc"
      ? [USERSVC_BIN, [], usersvcEnv(port, backend), ROOT]
      : [process.execPath, [path.join(HERE, "peer/app.js")], { HOST: "127.0.0.1", PORT: String(port), AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${backend.port}`, AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench" }, ROOT];
    const readyPath = kind === "usersvc" ? "/readyz" : "/healthz";
    const r = await runCmd(path.join(TOOLS, "startup_time"), [String(port), "10000", readyPath, "--", cmd, ...args],
      { env, cpu: PIN ? SERVER_CPU : null, timeoutMs: 20000 });
    const m = r.stdout.match(/^STARTUP_RESULT (\{.*\})$/m);
    last = m ? JSON.parse(m[1]) : { ok: false, output: (r.stdout + r.stderr).slice(-400) };
    if (!last.ok) break;
    times.push(last.ready_us);
  }
  const ok = times.length === reps;
  const sorted = [...times].sort((a, b) => a - b);
  const res = { server: kind, path: kind === "usersvc" ? "/readyz" : "/healthz", reps, ok, ready_us: times,
    median_us: ok ? sorted[Math.floor(sorted.length / 2)] : null, min_us: ok ? sorted[0] : null };
  startup.push(res);
  check(`${kind} start-up to first 200 on ${res.path}`, ok, ok ? "" : JSON.stringify(last), { warnOnly: !SMOKE && kind === "peer" });
  if (!SMOKE && ok) console.log(`  ${kind}: ready after ${fmt(res.median_us / 1000, 2)} ms (median of ${reps}; ${times.map((t) => (t / 1000).toFixed(2)).join(", ")})`);
  return res;
}

// ---------------------------------------------------------------- plan
const ROUTES = ["get_by_id", "get_by_email", "post", "patch", "list", "mixed"];

// Measures `spec` on each server in turn, REPS times over, so the figures a target compares were
// taken minutes apart at most and each series' median damps a noisy neighbour.
async function alternate(pairs, reps = REPS) {
  for (let i = 0; i < reps; i++) for (const [server, spec, opts] of pairs) if (server) await measure(server, [spec], { ...opts, rep: i + 1 });
}

async function measureAll(zero, slow, s, floor) {
  const C = SMOKE ? 2 : 64, BIG = SMOKE ? 8 : 1000;
  const onZero = (label) => ({ label, backend: zero }), onSlow = (label) => ({ label, backend: slow });
  const direct = { label: zero.label, backend: null };
  if (SMOKE) {
    // one second per server, all of its workloads at once (its CPU is read around the batch); one
    // server at a time, as a cold peer sharing its core with everything else answers too few to check
    const routes = (n) => [...ROUTES.map((r) => ({ script: r, conns: C })), { script: "get_by_id", conns: 1 }, { script: "get_by_id", conns: n }];
    await Promise.all([
      measure(zero, [{ script: "ddb_getitem", conns: C }, { script: "ddb_getitem", conns: 1 }], direct),
      measure(slow, [{ script: "ddb_getitem", conns: BIG }], { label: slow.label, backend: null }),
    ]);
    await measure(s.peerZ, routes(BIG), onZero("peer"));
    await measure(s.peerS, [{ script: "get_by_id", conns: BIG }], onSlow("peer"));
    if (floor) await measure(floor, [{ script: "get_by_id", conns: C }], onZero("proxy floor"));
    if (s.usvZ) await measure(s.usvZ, routes(BIG), onZero("usersvc"));
    if (s.usvS) await measure(s.usvS, [{ script: "get_by_id", conns: BIG }], onSlow("usersvc"));
    if (s.usvJ) await measure(s.usvJ, [{ script: "get_by_id_jwt", conns: C, workload: "get_by_id" }], onZero("usersvc+jwt"));
    return;
  }
  console.log(`slow backend capacity (wrk straight to ${slow.label}):`);
  await measure(slow, [{ script: "ddb_getitem", conns: BIG }], { label: slow.label, backend: null });
  console.log(`GET by id, ${C} connections: direct backend, nginx proxy floor, peer, usersvc, x${REPS}:`);
  await alternate([[zero, { script: "ddb_getitem", conns: C }, direct], [floor, { script: "get_by_id", conns: C }, onZero("proxy floor")],
    [s.peerZ, { script: "get_by_id", conns: C }, onZero("peer")], [s.usvZ, { script: "get_by_id", conns: C }, onZero("usersvc")]]);
  if (s.usvJ) {
    console.log(`GET by id, ${C} connections: usersvc with AUTH=none and AUTH=jwt (RS256, cached key), x${REPS}:`);
    await alternate([[s.usvZ, { script: "get_by_id", conns: C }, onZero("usersvc")],
      [s.usvJ, { script: "get_by_id_jwt", conns: C, workload: "get_by_id" }, onZero("usersvc+jwt")]]);
  }
  console.log(`GET by id, 1 connection: direct backend, usersvc x${REPS}; peer once:`);
  await alternate([[zero, { script: "ddb_getitem", conns: 1 }, direct], [s.usvZ, { script: "get_by_id", conns: 1 }, onZero("usersvc")]]);
  await measure(s.peerZ, [{ script: "get_by_id", conns: 1 }], onZero("peer"));
  console.log(`the other workloads, ${C} connections:`);
  for (const w of ROUTES.filter((r) => r !== "get_by_id")) {
    await measure(s.peerZ, [{ script: w, conns: C }], onZero("peer"));
    if (s.usvZ) await measure(s.usvZ, [{ script: w, conns: C }], onZero("usersvc"));
  }
  console.log(`GET by id, ${BIG} connections: zero-cost and ${DELAY_MS} ms backends (peer once, usersvc x${REPS}):`);
  await measure(s.peerZ, [{ script: "get_by_id", conns: BIG }], onZero("peer"));
  await measure(s.peerS, [{ script: "get_by_id", conns: BIG }], onSlow("peer"));
  await alternate([[s.usvZ, { script: "get_by_id", conns: BIG }, onZero("usersvc")], [s.usvS, { script: "get_by_id", conns: BIG }, onSlow("usersvc")]]);
}

// ---------------------------------------------------------------- targets
const median = (xs) => {
  const v = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return null;
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

// The runs of one server/backend/workload/connections, summarised: medians over the repetitions,
// peak RSS as the largest VmHWM, error counts summed.
function summarise(rs) {
  const f = rs[0];
  const med = (k) => median(rs.map((r) => r[k]));
  const sum = (k) => (rs.some((r) => r[k] === null) ? null : rs.reduce((a, r) => a + r[k], 0));
  return {
    server: f.server, backend: f.backend, workload: f.workload, connections: f.connections, reps: rs.length,
    rps: med("rps"), rps_min: Math.min(...rs.map((r) => r.rps)), rps_max: Math.max(...rs.map((r) => r.rps)),
    p50_us: med("p50_us"), p99_us: med("p99_us"), cpu_us_per_req: med("cpu_us_per_req"),
    backend_cpu_us_per_req: med("backend_cpu_us_per_req"), rss_peak_kib: Math.max(...rs.map((r) => r.rss_peak_kib).filter(Number.isFinite)),
    wrk_cpu_pct: med("wrk_cpu_pct"), client_bound: rs.some((r) => r.client_bound), non2xx: sum("non2xx"), socket_errors: sum("socket_errors"),
  };
}

function groups() {
  const m = new Map();
  for (const r of runs) {
    const k = [r.server, r.backend, r.workload, r.connections].join("|");
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return [...m.values()].map(summarise);
}

function findRun(server, backendLabel, workload, conns) {
  const rs = runs.filter((r) => r.server === server && r.backend === backendLabel && r.workload === workload && r.connections === conns);
  return rs.length ? summarise(rs) : undefined;
}

function computeTargets(zero, slow) {
  const C = SMOKE ? 2 : 64, BIG = SMOKE ? 8 : 1000;
  const u = (w, c, b = zero.label) => findRun("usersvc", b, w, c);
  const p = (w, c, b = zero.label) => findRun("peer", b, w, c);
  const d = (c) => findRun(zero.label, null, "ddb_getitem", c);
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? a / b : null);
  const uIdle = idle.find((i) => i.server === "usersvc");
  const uStart = startup.find((s) => s.server === "usersvc");
  const T = [];
  const add = (id, name, measured, goalText, pass, unit, detail) =>
    T.push({ id, name, measured: measured === null || measured === undefined || Number.isNaN(measured) ? null : measured, goal: goalText,
      result: measured === null || measured === undefined || Number.isNaN(measured) ? "n/a" : pass ? "PASS" : "MISS", unit, detail });

  let v = ratio(u("get_by_id", C)?.cpu_us_per_req, p("get_by_id", C)?.cpu_us_per_req);
  add("cpu_per_request", `CPU per request, usersvc / peer, GET by id, zero-cost backend, ${C} conns`, v, "<= 1/30", v !== null && v <= 1 / 30, "ratio",
    `usersvc ${fmt(u("get_by_id", C)?.cpu_us_per_req, 1)} us, peer ${fmt(p("get_by_id", C)?.cpu_us_per_req, 1)} us`);
  const f = (w, c) => findRun("proxy floor", zero.label, w, c);
  v = ratio(u("get_by_id", C)?.cpu_us_per_req, f("get_by_id", C)?.cpu_us_per_req);
  add("cpu_vs_proxy_floor", `CPU per request, usersvc / nginx reverse-proxy floor, GET by id, zero-cost backend, ${C} conns`, v, "<= 1.5",
    v !== null && v <= 1.5, "ratio", `usersvc ${fmt(u("get_by_id", C)?.cpu_us_per_req, 1)} us, floor ${fmt(f("get_by_id", C)?.cpu_us_per_req, 1)} us`);
  v = ratio(u("get_by_id", C)?.rps, f("get_by_id", C)?.rps);
  add("throughput_vs_proxy_floor", `throughput, usersvc / nginx reverse-proxy floor, GET by id, ${C} conns`, v, ">= 0.80", v !== null && v >= 0.8, "ratio",
    `usersvc ${fmt(u("get_by_id", C)?.rps, 0)} req/s, floor ${fmt(f("get_by_id", C)?.rps, 0)} req/s`);
  v = ratio(u("get_by_id", C)?.rps, d(C)?.rps);
  add("throughput_vs_backend", `throughput, usersvc / direct zero-cost backend, GET by id, ${C} conns`, v, ">= 0.40", v !== null && v >= 0.4, "ratio",
    `usersvc ${fmt(u("get_by_id", C)?.rps, 0)} req/s, ${zero.label} direct ${fmt(d(C)?.rps, 0)} req/s`);
  v = ratio(u("get_by_id", BIG, slow.label)?.rps, u("get_by_id", BIG)?.rps);
  add("latency_hiding", `latency hiding: usersvc req/s with the ${DELAY_MS} ms backend / zero-cost, ${BIG} conns`, v, ">= 0.80", v !== null && v >= 0.8, "ratio",
    `${fmt(u("get_by_id", BIG, slow.label)?.rps, 0)} vs ${fmt(u("get_by_id", BIG)?.rps, 0)} req/s`);
  v = ratio(u("get_by_id", BIG)?.rss_peak_kib, p("get_by_id", BIG)?.rss_peak_kib);
  add("peak_rss", `peak RSS under ${BIG} conns, usersvc / peer`, v, "<= 1/10", v !== null && v <= 0.1, "ratio",
    `usersvc ${fmt(u("get_by_id", BIG)?.rss_peak_kib / 1024, 1)} MiB, peer ${fmt(p("get_by_id", BIG)?.rss_peak_kib / 1024, 1)} MiB`);
  v = uIdle ? uIdle.vmhwm_kib / 1024 : null;
  add("idle_connections", `${IDLE_CONNS} idle keep-alive connections held without errors; usersvc RSS`, v, "held, <= 64 MiB",
    !!uIdle && uIdle.pass && uIdle.vmhwm_kib <= 64 * 1024, "MiB",
    uIdle ? `${uIdle.first_ok}/${uIdle.count} ok, closed by server ${uIdle.closed_by_server}, fresh ${uIdle.fresh_ok}/5, reused ${uIdle.reused_ok}/${uIdle.reused_tried}` : "");
  const lu = u("get_by_id", 1)?.p50_us, ld = d(1)?.p50_us;
  v = Number.isFinite(lu) && Number.isFinite(ld) ? lu - ld : null;
  add("added_latency", "added latency: p50 via usersvc - p50 direct to backend, 1 conn", v, "<= 100 us", v !== null && v <= 100, "us",
    `usersvc ${fmt(lu, 0)} us, direct ${fmt(ld, 0)} us`);
  // Each AUTH=jwt run against the AUTH=none run just before it (alternated, so the host's load is most alike):
  // the median of those ratios, which a busy neighbour during one pair moves least.
  const pairs = [];
  runs.forEach((r, i) => {
    if (r.server !== "usersvc+jwt" || r.workload !== "get_by_id" || r.connections !== C) return;
    for (let j = i - 1; j >= 0; j--) {
      const q = runs[j];
      if (q.server === "usersvc" && q.workload === "get_by_id" && q.connections === C && q.backend === r.backend) {
        pairs.push([q.cpu_us_per_req, r.cpu_us_per_req]);
        break;
      }
    }
  });
  v = median(pairs.map(([n, j]) => ratio(j, n)).filter((x) => x !== null));
  add("jwt_overhead", `CPU per GET by id, AUTH=jwt (RS256, cached key) / AUTH=none, ${C} conns, paired runs`, v, "<= 1.05",
    v !== null && v <= 1.05, "ratio", pairs.map(([n, j]) => `${fmt(j, 1)}/${fmt(n, 1)} us`).join(", "));
  v = uStart?.ok ? uStart.median_us / 1000 : null;
  add("startup", "start-up: exec to first 200 on /readyz (median)", v, "<= 50 ms", v !== null && v <= 50, "ms",
    uStart?.ok ? `runs: ${uStart.ready_us.map((t) => (t / 1000).toFixed(1)).join(", ")} ms` : "");
  return T;
}

// ---------------------------------------------------------------- report
function table(headers, rows, align) {
  const w = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => "| " + cells.map((c, i) => (align?.[i] === "r" ? String(c).padStart(w[i]) : String(c).padEnd(w[i]))).join(" | ") + " |";
  return [line(headers), "|" + w.map((x, i) => (align?.[i] === "r" ? "-".repeat(x + 1) + ":" : "-".repeat(x + 2))).join("|") + "|", ...rows.map(line)].join("\n");
}

function measuredText(t) {
  if (t.measured === null) return "n/a";
  if (t.unit === "ratio") return t.measured < 0.1 ? `1/${(1 / t.measured).toFixed(1)} (${t.measured.toFixed(4)})` : t.measured.toFixed(3);
  return `${t.measured.toFixed(t.unit === "us" ? 0 : 2)} ${t.unit}`;
}

function writeChart(zero, slow) {
  const dir = path.join(OUT, "chart");
  fs.mkdirSync(dir, { recursive: true });
  const C = SMOKE ? 2 : 64;
  const val = (v) => (v === null || v === undefined || !Number.isFinite(v) || v <= 0 ? "NaN" : String(v));
  const rows = (metric) => ROUTES.map((w) => `${w} ${val(findRun("usersvc", zero.label, w, C)?.[metric])} ${val(findRun("peer", zero.label, w, C)?.[metric])}`).join("\n") + "\n";
  fs.writeFileSync(path.join(dir, "rps.dat"), "# workload usersvc peer\n" + rows("rps"));
  fs.writeFileSync(path.join(dir, "cpu.dat"), "# workload usersvc peer\n" + rows("cpu_us_per_req"));
  fs.writeFileSync(path.join(dir, "p99.dat"), "# workload usersvc peer\n" + rows("p99_us"));
  const BIG = SMOKE ? 8 : 1000;
  const rss = (s) => val(findRun(s, zero.label, "get_by_id", BIG)?.rss_peak_kib / 1024);
  const idleRss = (s) => val(idle.find((i) => i.server === s)?.vmhwm_kib / 1024);
  fs.writeFileSync(path.join(dir, "rss.dat"), `# case usersvc peer\n"${BIG} conns load" ${rss("usersvc")} ${rss("peer")}\n"${IDLE_CONNS} idle" ${idleRss("usersvc")} ${idleRss("peer")}\n`);
  const gp = `set terminal pngcairo size 1400,900 font "sans,10" noenhanced
set output "${path.join(OUT, "chart.png")}"
set datafile missing "NaN"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set key top right
set grid ytics
set logscale y
set multiplot layout 2,2 title "usersvc vs Express peer, zero-cost DynamoDB backend (${SMOKE ? "smoke: not a measurement" : `${DURATION} s runs, ${C} connections`})"
set title "throughput (req/s, log)"
plot "${dir}/rps.dat" using 2:xtic(1) title "usersvc" lc rgb "#1f77b4", "" using 3 title "peer" lc rgb "#ff7f0e"
set title "server CPU per request (us, log)"
plot "${dir}/cpu.dat" using 2:xtic(1) title "usersvc" lc rgb "#1f77b4", "" using 3 title "peer" lc rgb "#ff7f0e"
set title "p99 latency (us, log)"
plot "${dir}/p99.dat" using 2:xtic(1) title "usersvc" lc rgb "#1f77b4", "" using 3 title "peer" lc rgb "#ff7f0e"
set title "peak RSS (MiB, log)"
plot "${dir}/rss.dat" using 2:xtic(1) title "usersvc" lc rgb "#1f77b4", "" using 3 title "peer" lc rgb "#ff7f0e"
unset multiplot
`;
  fs.writeFileSync(path.join(dir, "chart.gp"), gp);
  try {
    fs.rmSync(path.join(OUT, "chart.png"), { force: true });
    execFileSync("gnuplot", [path.join(dir, "chart.gp")], { stdio: ["ignore", "pipe", "pipe"] });
  } catch (e) {
    console.log(`  gnuplot failed: ${e.stderr?.toString().slice(0, 400) || e.message}`);
  }
  let size = 0;
  try {
    size = fs.statSync(path.join(OUT, "chart.png")).size;
  } catch {}
  check("chart written (build/bench/chart.png)", size > 1000, `size ${size}`);
}

// ---------------------------------------------------------------- main
async function main() {
  console.log(`bench: ${SMOKE ? "smoke" : "full"} mode, ${DURATION} s runs${WARMUP ? ` after ${WARMUP} s warm-up` : ""}, ` +
    `${PIN ? `servers+backends on CPU ${SERVER_CPU}, wrk on CPU ${CLIENT_CPU}` : "unpinned"}, logs in ${LOGS}`);
  let zero;
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    zero = await startNginx();
  } catch (e) {
    console.log(`  nginx unavailable (${e.message.split("\n")[0]}); zero-cost backend is slowddb with no delay`);
    zero = await startSlowddb(0);
    zero.label = "slowddb 0ms";
  }
  const slow = await startSlowddb(DELAY_MS);
  await verifyBackend(zero);
  await verifyBackend(slow);
  let floor = null;
  try {
    execFileSync("nginx", ["-v"], { stdio: "ignore" });
    floor = await startProxyFloor(zero);
  } catch (e) {
    console.log(`  no nginx proxy floor (${e.message.split("\n")[0]})`);
  }

  // every server under test, each against each backend, alive together so runs can alternate
  const s = {};
  [s.peerZ, s.peerS] = await Promise.all([startPeer(zero, "zero"), startPeer(slow, "slow")]);
  if (!NO_USERSVC) [s.usvZ, s.usvS] = await Promise.all([startUsersvc(zero, "zero"), startUsersvc(slow, "slow")]);
  for (const srv of Object.values(s)) await verifyRoutes(srv);
  if (!NO_USERSVC) {
    s.usvJ = await startUsersvc(zero, "jwt", jwtEnv());
    const auth = { Authorization: `Bearer ${benchToken}` };
    check("usersvc+jwt GET /users/{id} with the token -> 200", (await request(s.usvJ.port, "GET", `/users/${USER_ID}`, { headers: auth })).status === 200);
    check("usersvc+jwt GET /users/{id} without a token -> 401", (await request(s.usvJ.port, "GET", `/users/${USER_ID}`)).status === 401);
  }
  await measureAll(zero, slow, s, floor);
  if (SMOKE) {
    // smoke: idle connections on the same processes, to save starts
    await idleTest(s.peerZ, "peer");
    if (s.usvZ) await idleTest(s.usvZ, "usersvc");
  }
  for (const srv of Object.values(s)) await stopProc(srv);

  console.log("start-up and idle connections (fresh processes):");
  await startupTest("peer", zero, SMOKE ? 1 : 5);
  if (!NO_USERSVC) await startupTest("usersvc", zero, SMOKE ? 1 : 5);
  if (!SMOKE) {
    for (const [kind, start] of [["peer", startPeer], ["usersvc", NO_USERSVC ? null : startUsersvc]]) {
      if (!start) continue;
      const srv = await start(zero, "idle");
      try {
        await idleTest(srv, kind);
      } finally {
        await stopProc(srv);
      }
    }
  }
  if (floor) await stopProc(floor);
  await stopProc(slow);
  await stopProc(zero);

  const targets = computeTargets(zero, slow);
  writeChart(zero, slow);
  const versions = {
    node: process.version,
    wrk: safe(() => execFileSync("wrk", ["-v"], { stdio: ["ignore", "pipe", "pipe"] }).toString().split("\n")[0].trim(), (e) => e.stdout?.toString().split("\n")[0].trim()),
    nginx: safe(() => execFileSync("nginx", ["-v"], { stdio: ["ignore", "pipe", "pipe"] }).toString().trim() || null, () => null),
    peer: safe(() => JSON.parse(fs.readFileSync(path.join(HERE, "peer/package.json"), "utf8")).dependencies, () => null),
  };
  const results = {
    mode: SMOKE ? "smoke" : "full", started_at: new Date(t0).toISOString(), elapsed_s: +((Date.now() - t0) / 1000).toFixed(1),
    usersvc_bin: USERSVC_BIN, machine: { cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model, kernel: os.release(), clk_tck: CLK_TCK, loadavg: os.loadavg() },
    config: { duration_s: DURATION, reps: REPS, warmup_s: WARMUP, server_warmup_s: SERVER_WARMUP, slow_delay_ms: DELAY_MS, idle_conns: IDLE_CONNS, pinning: PIN ? { servers_and_backends: SERVER_CPU, wrk: CLIENT_CPU } : null,
      wrk_threads: WRK_THREADS, patch_content_type: patchContentType, zero_backend: zero.label, slow_backend: slow.label },
    versions, targets, summary: groups(), runs, idle, startup,
    checks: { passed: checks.filter((c) => c.ok).length, failed: checks.filter((c) => !c.ok).length, failures: checks.filter((c) => !c.ok), warnings },
  };
  results.checks.passed += 1; // results.json itself, written below
  fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify(results, null, 2) + "\n");

  // tables
  console.log("\nruns" + (SMOKE ? " (smoke: 1 s, concurrent, numbers are not measurements)" : "") + ":");
  const summary = groups();
  console.log(table(["server", "backend", "workload", "conns", "runs", "req/s", "req/s range", "p50 us", "p99 us", "CPU us/req", "peak RSS MiB", "wrk CPU %", "non-2xx", "sock err"],
    summary.map((r) => [r.server, r.backend ?? "-", r.workload, r.connections, r.reps, fmt(r.rps, 0), r.reps > 1 ? `${fmt(r.rps_min, 0)}-${fmt(r.rps_max, 0)}` : "",
      fmt(r.p50_us, 0), fmt(r.p99_us, 0), fmt(r.cpu_us_per_req, 1), fmt(r.rss_peak_kib / 1024, 1),
      fmt(r.wrk_cpu_pct, 0) + (r.client_bound ? " (client-bound)" : ""), r.non2xx ?? "n/a", r.socket_errors ?? "n/a"]),
    [0, 0, 0, "r", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"]));
  if (REPS > 1) console.log(`(median of the runs where runs > 1; every run is in results.json)`);
  if (idle.length) {
    console.log("\nidle keep-alive connections:");
    console.log(table(["server", "held", "ok", "closed by server", "fresh ok", "reused ok", "open ms", "VmHWM MiB"],
      idle.map((i) => [i.server, i.count, i.first_ok ?? "n/a", i.closed_by_server ?? "n/a", `${i.fresh_ok ?? "?"}/5`, `${i.reused_ok ?? "?"}/${i.reused_tried ?? "?"}`,
        fmt(i.open_ms, 0), fmt(i.vmhwm_kib / 1024, 1)]), [0, "r", "r", "r", "r", "r", "r", "r"]));
  }
  if (startup.length) {
    console.log("\nstart-up (exec to first 200):");
    console.log(table(["server", "path", "median ms", "runs ms"], startup.map((s) => [s.server, s.path, fmt(s.median_us / 1000, 2), s.ready_us.map((t) => (t / 1000).toFixed(2)).join(" ")])));
  }
  console.log(`\ntargets${SMOKE ? " (smoke: shown, not asserted)" : ""}:`);
  console.log(table(["target", "measured", "goal", "result", "detail"], targets.map((t) => [t.name, measuredText(t), t.goal, t.result, t.detail])));
  console.log(`\nwrote ${path.relative(process.cwd(), path.join(OUT, "results.json"))} and ${path.relative(process.cwd(), path.join(OUT, "chart.png"))} in ${results.elapsed_s} s`);

  const failed = results.checks.failed, passed = results.checks.passed;
  const miss = targets.filter((t) => t.result !== "PASS").length;
  if (SMOKE) {
    console.log(`bench-smoke: ${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  }
  console.log(`bench: targets ${targets.filter((t) => t.result === "PASS").length} PASS, ${miss} not met; ${failed ? `${failed} run checks FAILED` : "every run clean"}`);
  if (failed) return 1;
  return STRICT && miss ? 1 : 0;
}

function safe(f, onErr) {
  try {
    return f();
  } catch (e) {
    return onErr(e);
  }
}

main()
  .then(async (code) => {
    killAll();
    fs.rmSync(WORK, { recursive: true, force: true });
    process.exit(code);
  })
  .catch((e) => {
    console.error(`bench: ${e.stack || e.message}`);
    console.error(`(logs kept in ${LOGS})`);
    killAll();
    if (SMOKE) console.log(`bench-smoke: ${checks.filter((c) => c.ok).length} passed, ${checks.filter((c) => !c.ok).length + 1} failed`);
    process.exit(1);
  });
