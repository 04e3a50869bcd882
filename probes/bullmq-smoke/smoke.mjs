#!/usr/bin/env node
// cmem-ops BullMQ smoke: add one job, process it with a Worker, remove it, using the Node
// `bullmq` client that claude-mem runs. Everything lives under a throwaway key prefix that is
// deleted at the end, so the server's DBSIZE is the same before and after.
//
//   node smoke.mjs --url redis://:pw@127.0.0.1:6379/0 --prefix cmemops_smoke_ab12 \
//                  --mode roundtrip|enqueue|process --queue NAME --timeout-ms N [--job-id ID]
//
// Without --url the URL is read from $CMEM_OPS_SMOKE_URL (cmem-ops passes it that way, so the
// password does not show in `ps`). rediss:// takes redis-py's TLS query parameters:
// ssl_ca_certs, ssl_certfile, ssl_keyfile, ssl_cert_reqs=none, ssl_check_hostname=false.
//
// Prints exactly one JSON line on stdout and exits 0 when ok, 1 otherwise (2 on bad usage,
// still with the JSON line). Diagnostics, if any, go to stderr.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';

// Loaded in main() so that a missing node_modules still ends in the one JSON line.
let Queue;
let Worker;
let Redis;

const CLIENT = 'node-bullmq';
const JOB_NAME = 'cmem-ops-smoke';
const DATA_MARK = 'cmem-ops-smoke';
// The prefix guard: this script deletes every key under `<prefix>:`, so it refuses any prefix
// that could hold real data (claude-mem uses the BullMQ default `bull`).
const PREFIX_RE = /^cmemops_smoke_[A-Za-z0-9_-]{1,64}$/;
const QUEUE_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const JOB_ID_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const MODES = new Set(['roundtrip', 'enqueue', 'process']);
const URL_ENV = 'CMEM_OPS_SMOKE_URL';

function clientVersion() {
  // bullmq's package.json is not in its `exports`, so find it from the resolved entry point.
  try {
    const require = createRequire(import.meta.url);
    let dir = dirname(require.resolve('bullmq'));
    for (let i = 0; i < 6; i += 1) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
        if (pkg.name === 'bullmq') return pkg.version;
      } catch {
        // no package.json at this level; keep walking up
      }
      dir = dirname(dir);
    }
  } catch {
    // fall through
  }
  return 'unknown';
}

class UsageError extends Error {}

function parseArgs(argv) {
  const args = { jobId: null };
  const names = {
    '--url': 'url', '--prefix': 'prefix', '--mode': 'mode', '--queue': 'queue',
    '--timeout-ms': 'timeoutMs', '--job-id': 'jobId',
  };
  for (let i = 0; i < argv.length; i += 1) {
    const key = names[argv[i]];
    if (!key) throw new UsageError(`unknown argument ${JSON.stringify(argv[i])}`);
    if (i + 1 >= argv.length) throw new UsageError(`${argv[i]} needs a value`);
    args[key] = argv[i + 1];
    i += 1;
  }
  // The URL may come from the environment instead, keeping a password out of `ps` output.
  if (args.url === undefined && process.env[URL_ENV]) args.url = process.env[URL_ENV];
  for (const need of ['url', 'prefix', 'mode', 'queue', 'timeoutMs']) {
    if (args[need] === undefined) throw new UsageError(`missing --${need.replace('timeoutMs', 'timeout-ms')}`);
  }
  if (!MODES.has(args.mode)) throw new UsageError(`--mode must be roundtrip, enqueue or process, not ${JSON.stringify(args.mode)}`);
  if (!PREFIX_RE.test(args.prefix)) throw new UsageError(`--prefix must match ${PREFIX_RE}, got ${JSON.stringify(args.prefix)}`);
  if (!QUEUE_RE.test(args.queue)) throw new UsageError(`--queue must match ${QUEUE_RE}, got ${JSON.stringify(args.queue)}`);
  if (args.jobId !== null && !JOB_ID_RE.test(args.jobId)) throw new UsageError(`--job-id must match ${JOB_ID_RE}`);
  if (args.mode === 'process' && args.jobId === null) throw new UsageError('--mode process needs --job-id');
  const timeoutMs = Number(args.timeoutMs);
  if (!Number.isFinite(timeoutMs) || timeoutMs < 100 || timeoutMs > 600000) {
    throw new UsageError('--timeout-ms must be a number between 100 and 600000');
  }
  args.timeoutMs = timeoutMs;
  return args;
}

function truthy(value) {
  return ['1', 'true', 'yes', 'on', 'required'].includes(String(value).toLowerCase());
}

// Build ioredis options from a redis:// or rediss:// URL. TLS query parameters use redis-py's
// names so that the same URL works for the Python fallback client.
function connectionFromUrl(raw, timeoutMs, deadline) {
  let url;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError('--url is not a valid URL');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--url scheme must be redis:// or rediss://, not ${url.protocol}//`);
  }
  const dbText = url.pathname.replace(/^\//, '') || url.searchParams.get('db') || '0';
  const db = Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new UsageError(`--url database must be an integer, got ${JSON.stringify(dbText)}`);
  const opts = {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1',
    port: url.port ? Number(url.port) : 6379,
    db,
    connectTimeout: Math.max(100, Math.min(timeoutMs, 5000)),
    // Reconnect briefly, but give up once the shared deadline is near, so that pending
    // commands are rejected instead of queued forever.
    retryStrategy: (times) => (Date.now() + 200 >= deadline || times > 20 ? null : Math.min(50 * times, 200)),
    maxRetriesPerRequest: null, // BullMQ requires null for workers; the deadline bounds it
    enableOfflineQueue: true,
  };
  if (url.username) opts.username = decodeURIComponent(url.username);
  if (url.password) opts.password = decodeURIComponent(url.password);
  if (url.protocol === 'rediss:') {
    const q = url.searchParams;
    // SNI must be a host name, never an IP address (RFC 6066).
    const tls = isIP(opts.host) ? {} : { servername: opts.host };
    const reqs = (q.get('ssl_cert_reqs') || 'required').toLowerCase();
    if (reqs === 'none' || reqs === 'cert_none') tls.rejectUnauthorized = false;
    if (q.has('ssl_check_hostname') && !truthy(q.get('ssl_check_hostname'))) {
      tls.checkServerIdentity = () => undefined;
    }
    if (q.get('ssl_ca_certs')) tls.ca = readFileSync(q.get('ssl_ca_certs'));
    if (q.get('ssl_certfile')) tls.cert = readFileSync(q.get('ssl_certfile'));
    if (q.get('ssl_keyfile')) tls.key = readFileSync(q.get('ssl_keyfile'));
    opts.tls = tls;
  }
  return opts;
}

function errorText(err) {
  if (err === null || err === undefined) return 'unknown error';
  if (err instanceof AggregateError && err.errors?.length) return errorText(err.errors[0]);
  const msg = err.message || String(err);
  return err.code && !msg.includes(err.code) ? `${err.code}: ${msg}` : msg;
}

class Deadline {
  constructor(timeoutMs) {
    this.start = performance.now();
    this.end = Date.now() + timeoutMs;
    this.timeoutMs = timeoutMs;
  }

  remaining() {
    return this.end - Date.now();
  }

  // Race a promise against the shared deadline (minus `reserveMs` kept back for cleanup).
  bound(promise, label, reserveMs = 0) {
    const ms = Math.max(0, this.remaining() - reserveMs);
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${label} did not finish within the ${this.timeoutMs} ms budget`)),
        ms,
      );
    });
    return Promise.race([Promise.resolve(promise), timeout]).finally(() => clearTimeout(timer));
  }
}

class Result {
  constructor(mode, version) {
    this.payload = {
      client: CLIENT,
      client_version: version,
      mode,
      ok: false,
      job_id: null,
      steps: [],
      elapsed_ms: 0,
      error: null,
    };
    this.started = performance.now();
    this.printed = false;
  }

  async step(name, fn) {
    const t0 = performance.now();
    try {
      const value = await fn();
      this.payload.steps.push({ name, ok: true, ms: round(performance.now() - t0) });
      return value;
    } catch (err) {
      this.payload.steps.push({ name, ok: false, ms: round(performance.now() - t0) });
      throw err;
    }
  }

  emit(ok, error) {
    if (this.printed) return;
    this.printed = true;
    this.payload.ok = ok;
    this.payload.error = ok ? null : (error ?? this.payload.error ?? 'unknown error');
    this.payload.elapsed_ms = round(performance.now() - this.started);
    process.stdout.write(`${JSON.stringify(this.payload)}\n`);
  }
}

function round(ms) {
  return Math.round(ms * 10) / 10;
}

function jobData() {
  return { probe: DATA_MARK, client: CLIENT, nonce: randomBytes(8).toString('hex') };
}

// The processor checks the payload shape, so a job enqueued by the other client proves that
// both agree on the stored data format.
async function processor(job) {
  const data = job.data;
  if (!data || data.probe !== DATA_MARK || typeof data.nonce !== 'string') {
    throw new Error(`unexpected job data: ${JSON.stringify(data)}`);
  }
  return { echo: data.nonce, processed_by: CLIENT, enqueued_by: data.client ?? null };
}

// Resolve when `jobId` completes on `worker` with a result echoing its nonce; reject on failure.
function completion(worker, jobId) {
  return new Promise((resolve, reject) => {
    worker.on('completed', (job, value) => {
      if (String(job.id) !== String(jobId)) return;
      if (!value || value.echo !== job.data?.nonce) {
        reject(new Error(`job ${jobId} completed with unexpected return value ${JSON.stringify(value)}`));
      } else {
        resolve(value);
      }
    });
    worker.on('failed', (job, err) => {
      if (job && String(job.id) !== String(jobId)) return;
      reject(new Error(`job ${jobId} failed in the worker: ${errorText(err)}`));
    });
  });
}

async function deletePrefix(client, prefix) {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}

async function quietly(promise) {
  try {
    await promise;
  } catch {
    // best effort during teardown
  }
}

async function main() {
  const version = clientVersion();
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    const i = process.argv.indexOf('--mode');
    const mode = i > 0 && MODES.has(process.argv[i + 1]) ? process.argv[i + 1] : null;
    const res = new Result(mode, version);
    res.emit(false, `usage: ${errorText(err)}`);
    return 2;
  }
  const result = new Result(args.mode, version);
  try {
    ({ Queue, Worker } = await import('bullmq'));
    ({ Redis } = await import('ioredis'));
  } catch (err) {
    result.emit(false, `cannot load bullmq next to smoke.mjs (${errorText(err)}); run: npm ci`);
    return 1;
  }
  result.started = performance.now(); // time the smoke, not node's module loading
  const deadline = new Deadline(args.timeoutMs);
  // Cleanup keeps a slice of the budget so a slow job still leaves no keys behind.
  const reserve = args.mode === 'enqueue' ? 0 : Math.min(1500, Math.floor(args.timeoutMs / 4));

  // Last line of defence: whatever hangs, print a failure and exit shortly after the budget.
  const hardStop = setTimeout(() => {
    result.emit(false, `smoke did not finish within ${args.timeoutMs} ms`);
    process.exit(1);
  }, args.timeoutMs + 300);
  hardStop.unref();

  let connection;
  try {
    connection = connectionFromUrl(args.url, args.timeoutMs, deadline.end);
  } catch (err) {
    result.emit(false, `usage: ${errorText(err)}`);
    return 2;
  }

  let admin = null;
  let queue = null;
  let worker = null;
  let failure = null;
  const bgErrors = [];
  const onError = (err) => bgErrors.push(errorText(err));
  // Connection errors that surface outside our awaits (a client closed while still
  // connecting) must not crash the process before it prints its one line; the deadline and
  // the hard stop still bound the run.
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);

  try {
    // A plain client with no retries: a dead or refusing server fails here at once.
    admin = new Redis({ ...connection, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    admin.on('error', onError);
    await result.step('connect', () => deadline.bound(admin.connect().then(() => admin.ping()), 'connect', reserve));

    queue = new Queue(args.queue, { connection, prefix: args.prefix });
    queue.on('error', onError);

    if (args.mode === 'enqueue') {
      const job = await result.step('add', () => deadline.bound(
        queue.add(JOB_NAME, jobData(), args.jobId ? { jobId: args.jobId } : {}), 'add'));
      result.payload.job_id = String(job.id);
    } else {
      let jobId;
      if (args.mode === 'roundtrip') {
        const job = await result.step('add', () => deadline.bound(
          queue.add(JOB_NAME, jobData(), args.jobId ? { jobId: args.jobId } : {}), 'add', reserve));
        jobId = String(job.id);
      } else {
        jobId = args.jobId;
        result.payload.job_id = jobId;
        await result.step('find', () => deadline.bound((async () => {
          const state = await queue.getJobState(jobId);
          if (state === 'unknown') throw new Error(`job ${jobId} not found in queue ${args.queue} under prefix ${args.prefix}`);
          return state;
        })(), 'find', reserve));
      }
      result.payload.job_id = jobId;
      // Created only once there is a job to process: closing a worker whose connections are
      // still being set up makes them emit errors nobody listens to.
      worker = new Worker(args.queue, processor, {
        connection, prefix: args.prefix, autorun: false, concurrency: 1, drainDelay: 1,
      });
      worker.on('error', onError);
      const done = completion(worker, jobId);
      done.catch(() => undefined); // observed below; avoid an unhandled rejection on early exit
      await result.step('process', () => {
        worker.run().catch(onError);
        return deadline.bound(done, 'process', reserve);
      });
      await result.step('remove', () => deadline.bound((async () => {
        const removed = await queue.remove(jobId);
        if (removed !== 1) throw new Error(`job ${jobId} could not be removed (removeJob returned ${removed})`);
      })(), 'remove', reserve));
    }
  } catch (err) {
    failure = errorText(err);
  }

  // Teardown: workers first (they write lock and stalled-check keys), then the queue, then
  // delete anything left under the prefix with the plain client.
  if (worker) await quietly(deadline.bound(worker.close(true), 'worker close'));
  if (queue && args.mode !== 'enqueue' && admin?.status === 'ready') {
    try {
      await result.step('cleanup', () => deadline.bound((async () => {
        await queue.obliterate({ force: true });
        await queue.close();
        await deletePrefix(admin, args.prefix);
      })(), 'cleanup'));
    } catch (err) {
      failure = failure ?? `cleanup: ${errorText(err)}`;
    }
  }
  if (queue) await quietly(deadline.bound(queue.close(), 'queue close'));
  if (admin) await quietly(deadline.bound(admin.quit(), 'admin quit'));

  if (failure && bgErrors.length && !failure.includes(bgErrors[0])) failure = `${failure} (${bgErrors[0]})`;
  result.emit(failure === null, failure);
  return failure === null ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stdout.write(`${JSON.stringify({
      client: CLIENT, client_version: 'unknown', mode: null, ok: false, job_id: null,
      steps: [], elapsed_ms: 0, error: `internal: ${errorText(err)}`,
    })}\n`);
    process.exit(1);
  },
);
