// SPDX-License-Identifier: MIT
// What every browser test stands on: a private redis-server (unix socket in
// a temp dir), a gatehouse and three demo apps on free loopback ports, the
// user alice, and Debian's Chromium with a fresh profile, driven by
// playwright-core. Everything started is stopped by pid, also when a test
// fails; every wait is bounded.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { after, before, test } = require('node:test');
const { chromium } = require('playwright-core');

const top = path.resolve(__dirname, '..', '..');
const GATEHOUSE_BIN =
  process.env.GATEHOUSE_BIN || path.join(top, 'build/normal/gatehouse');
const DEMO_BIN =
  process.env.DEMO_BIN || path.join(top, 'build/normal/gatehouse-demo-app');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps trying to reach
// Google's hosts, which a closed network refuses.
const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync',
];
const APPS = [
  { id: 'crm', name: 'CRM' },
  { id: 'sales', name: 'Sales' },
  { id: 'service', name: 'Service' },
];
const PASSWORD = 'correct horse battery';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// How a child ended (exit code or signal name), or 'running' after ms.
// The timer does not keep this process alive once the race is over.
function exited(p, ms) {
  return Promise.race([
    p.exited.then(() => p.exitCode ?? p.signalCode),
    new Promise((r) => setTimeout(r, ms, 'running').unref()),
  ]);
}

// Every child still running and every temp dir, cleaned up if this
// process ends early.
const live = new Set();
const dirs = new Set();
function killAll() {
  for (const p of live) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAll();
    process.exit(1);
  });
}

// Polls fn until it returns something truthy, for at most ms.
async function waitFor(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`${what}: not ready after ${ms} ms`);
    await sleep(50);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// GET url; its status, or 0 when nothing answers.
async function status(url) {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await r.arrayBuffer();
    return r.status;
  } catch {
    return 0;
  }
}

// Runs a command to completion (at most 30 s), with input on stdin.
function run(bin, args, input = '') {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, args, { timeout: 30000 });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
    // A command that exits without reading its input is not an error.
    p.stdin.on('error', () => {});
    p.stdin.end(input);
  });
}

class Stack {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-browser-'));
    dirs.add(this.dir);
    this.procs = [];
    this.apps = [];
  }

  // A long-running child whose stderr goes to DIR/NAME.log.
  spawn(name, bin, args, env = {}) {
    const log = fs.openSync(path.join(this.dir, `${name}.log`), 'a');
    const p = spawn(bin, args, {
      stdio: ['ignore', 'ignore', log],
      env: { ...process.env, ...env },
    });
    fs.closeSync(log);
    p.unref(); // never what keeps the test process alive: stop() or exit ends it
    p.name = name;
    p.exited = new Promise((r) => p.on('exit', r));
    live.add(p);
    p.on('exit', () => live.delete(p));
    this.procs.push(p);
    return p;
  }

  // opts.clients: more clients for the config (a test's own apps);
  // opts.apps: the demo apps to start (default APPS, [] for none), each
  // with optional client: metadata to add to or replace in its config (or
  // a function of the app, once its url is known, that returns it),
  // and args: more demo-app options (['--frontchannel']);
  // opts.config: more top-level config keys (tokens, session, ...);
  // opts.host: the issuer's host name (default 127.0.0.1).
  async start(opts = {}) {
    for (const bin of [GATEHOUSE_BIN, DEMO_BIN]) {
      if (!fs.existsSync(bin)) {
        throw new Error(`${bin} not found: build it (ninja -C build/normal), or set GATEHOUSE_BIN and DEMO_BIN`);
      }
    }
    const sock = path.join(this.dir, 'redis.sock');
    this.spawn('redis', 'redis-server', [
      '--port', '0', '--unixsocket', sock, '--dir', this.dir,
      '--save', '', '--appendonly', 'no',
    ]);
    await waitFor('redis-server', () => fs.existsSync(sock));

    const port = await freePort();
    // opts.host 'localhost': the issuer by name (still on loopback), for
    // what an IP literal cannot be, such as a WebAuthn RP ID.
    this.issuer = `http://${opts.host ?? '127.0.0.1'}:${port}`;
    for (const a of opts.apps ?? APPS) {
      const p = await freePort();
      this.apps.push({
        ...a, port: p, url: `http://127.0.0.1:${p}/`,
        secret: `${a.id}-${Math.random().toString(36).slice(2)}`,
      });
    }
    const keys = path.join(this.dir, 'keys');
    const k = await run(GATEHOUSE_BIN,
      ['keys', 'generate', '--dir', keys, '--alg', 'ES256']);
    assert.equal(k.code, 0, k.stderr);
    this.config = path.join(this.dir, 'config.json');
    fs.writeFileSync(this.config, JSON.stringify({
      issuer: this.issuer,
      listen: { address: '127.0.0.1', port },
      redis: { url: `unix://${sock}` },
      keys_dir: keys,
      signing_alg: 'ES256',
      clients: this.apps.map((a) => ({
        client_id: a.id, client_secret: a.secret, name: a.name,
        redirect_uris: [`${a.url}callback`],
        post_logout_redirect_uris: [a.url],
        backchannel_logout_uri: `${a.url}backchannel-logout`,
        grant_types: ['authorization_code', 'refresh_token'],
        // a test's own metadata (undefined drops a key)
        ...(typeof a.client === 'function' ? a.client(a) : a.client),
      })).concat(opts.clients || []),
      ...opts.config,
    }, null, 2));
    this.spawn('gatehouse', GATEHOUSE_BIN, ['serve', '--config', this.config]);
    await waitFor('gatehouse', async () =>
      (await status(`${this.issuer}/readyz`)) === 200);

    const u = await run(GATEHOUSE_BIN, ['user', 'add', '--config',
      this.config, '--username', 'alice', '--password-stdin'],
    `${PASSWORD}\n`);
    assert.equal(u.code, 0, u.stderr);
    this.aliceSub = u.stdout.trim();

    for (const a of this.apps) {
      this.spawn(a.id, DEMO_BIN, ['--name', a.name, '--port', `${a.port}`,
        '--issuer', this.issuer, '--client-id', a.id, ...(a.args ?? [])],
      { DEMO_CLIENT_SECRET: a.secret });
    }
    for (const a of this.apps) {
      await waitFor(a.name, async () =>
        (await status(`${a.url}healthz`)) === 200);
    }
    return this;
  }

  app(id) {
    return this.apps.find((a) => a.id === id);
  }

  // How many local sessions an app holds (its /healthz says).
  async sessions(id) {
    const r = await fetch(`${this.app(id).url}healthz`);
    return (await r.json()).sessions;
  }

  // The last lines of every log, to explain a failure.
  logs() {
    return fs.readdirSync(this.dir).filter((f) => f.endsWith('.log'))
      .map((f) => {
        const lines = fs.readFileSync(path.join(this.dir, f), 'utf8')
          .trimEnd().split('\n');
        return `--- ${f}\n${lines.slice(-40).join('\n')}`;
      }).join('\n');
  }

  // SIGTERM to each, SIGKILL to what is still there after 5 s. Throws,
  // with the logs, unless each exited 0 (so a sanitizer's report at exit
  // fails the tests); the temp dir goes either way.
  async stop() {
    const procs = this.procs.reverse();
    this.procs = [];
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    const how = await Promise.all(procs.map((p) => exited(p, 5000)));
    for (const p of procs) if (p.exitCode === null && !p.signalCode) p.kill('SIGKILL');
    const bad = procs.filter((p, i) => how[i] !== 0)
      .map((p, i) => (how[i] === 'running' ? `${p.name} did not stop in 5 s`
        : `${p.name} exited ${how[i]}`));
    const logs = bad.length ? this.logs() : '';
    fs.rmSync(this.dir, { recursive: true, force: true });
    dirs.delete(this.dir);
    if (bad.length) throw new Error(`${bad.join(', ')}\n${logs}`);
  }
}

// Chromium, as Debian ships it. Playwright gives it a new, empty profile
// (user-data-dir) in a temp dir, removed on close.
function launchChromium() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
    headless: true,
    timeout: 30000,
  });
}

// Declares a file's tests on one stack and one Chromium. Each scenario
// gets a browser context of its own (its own cookies: a new person) on a
// phone-sized viewport, checks that no request left loopback (no external
// asset), and on failure shows the end of every log. opts go to
// Stack.start when the stack starts: an object (a before() declared earlier
// may still fill it in) or an async function that returns them. ready(stack)
// then starts what else the file needs (with stack.spawn, so stop() ends it).
function useStack(opts = {}, ready = async () => {}) {
  const env = {};
  before(async () => {
    env.stack = new Stack(); // set first, so that after() stops what started
    await env.stack.start(typeof opts === 'function' ? await opts() : opts);
    await ready(env.stack);
    env.browser = await launchChromium();
  }, { timeout: 60000 });
  after(async () => {
    if (env.browser) await env.browser.close();
    if (env.stack) await env.stack.stop();
  }, { timeout: 30000 });
  env.scenario = (name, fn) => test(name, { timeout: 60000 }, async () => {
    const context = await env.browser.newContext({
      viewport: { width: 390, height: 844 },
    });
    context.setDefaultTimeout(10000);
    context.setDefaultNavigationTimeout(15000);
    const outside = [];
    context.on('request', (r) => {
      const u = new URL(r.url());
      if (u.hostname !== '127.0.0.1' && u.hostname !== 'localhost') {
        outside.push(r.url());
      }
    });
    try {
      await fn(env.stack, await context.newPage());
      assert.deepEqual(outside, [], 'every request stays on loopback');
    } catch (e) {
      e.message += `\n${env.stack.logs()}`;
      throw e;
    } finally {
      await context.close();
    }
  });
  return env;
}

async function statusText(page) {
  return (await page.locator('#status').textContent()).trim();
}

// From an app's page through Gatehouse's sign-in form and back.
async function signIn(page, stack, app, password = PASSWORD) {
  await page.goto(app.url);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${stack.issuer}/**`);
  await page.getByLabel('Username').fill('alice');
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

// The same without a browser, on a playwright APIRequestContext (it keeps
// cookies and follows redirects). Returns the app's page after it.
async function httpSignIn(api, appUrl, password = PASSWORD) {
  let r = await api.get(`${appUrl}login`);
  const html = await r.text();
  const field = (n) => {
    const m = html.match(new RegExp(`name="${n}" value="([^"]*)"`));
    return m ? m[1].replaceAll('&amp;', '&') : undefined;
  };
  const action = html.match(/<form method="post" action="([^"]*)"/)[1]
    .replaceAll('&amp;', '&');
  const form = { csrf: field('csrf'), username: 'alice', password };
  if (field('request') !== undefined) form.request = field('request');
  r = await api.post(new URL(action, r.url()).href, { form });
  return r.text();
}

// Where screenshots go: SCREENSHOT_DIR, or a temp dir.
function screenshotPath(name) {
  const dir = process.env.SCREENSHOT_DIR ||
    path.join(os.tmpdir(), 'gatehouse-screenshots');
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}

// The page fits a phone's width: nothing to scroll sideways.
async function fitsPhone(page) {
  return page.evaluate(() =>
    document.documentElement.scrollWidth <= window.innerWidth);
}

module.exports = {
  APPS, DEMO_BIN, GATEHOUSE_BIN, PASSWORD, Stack, exited, fitsPhone,
  freePort, httpSignIn, run, screenshotPath, signIn, sleep, status, statusText,
  top, useStack, waitFor,
};
