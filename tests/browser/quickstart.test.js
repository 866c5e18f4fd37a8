// SPDX-License-Identifier: MIT
// deploy/quickstart as the README promises it: everything comes up, the
// printed password signs alice in at CRM, Sales needs no second sign-in,
// signing out at Sales signs her out of CRM, and Ctrl-C stops it all. A
// second start keeps alice and prints no password. Ports, state and keys
// are the test's own; the build is GATEHOUSE_BIN's (no second build).
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { test } = require('node:test');
const { request } = require('playwright-core');
const {
  GATEHOUSE_BIN, exited, freePort, httpSignIn, status, top, waitFor,
} = require('./harness');

const build = path.dirname(GATEHOUSE_BIN);

function portIsFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

// Three free ports in a row, for CRM, Sales and Service.
async function threeFreePorts() {
  for (let i = 0; i < 50; i++) {
    const base = 20000 + Math.floor(Math.random() * 30000);
    const free = await Promise.all([0, 1, 2].map((k) => portIsFree(base + k)));
    if (free.every(Boolean)) return base;
  }
  throw new Error('no three free ports in a row');
}

// Runs deploy/quickstart; resolves with it once it has printed its
// "Press Ctrl-C" line (or has exited).
function quickstart(env) {
  const p = spawn('bash', [path.join(top, 'deploy/quickstart')], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  p.out = '';
  p.stdout.on('data', (d) => { p.out += d; });
  p.stderr.on('data', (d) => { p.out += d; });
  p.exited = new Promise((r) => p.on('exit', r));
  return p;
}

test('deploy/quickstart: the quick-start scenario, then Ctrl-C stops everything',
  { timeout: 240000, skip: !fs.existsSync(path.join(build, 'build.ninja')) && `${build} is not a meson build dir` },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gh-quickstart-'));
    const port = await freePort();
    const apps = await threeFreePorts();
    const env = {
      GATEHOUSE_PORT: `${port}`, APPS_PORT: `${apps}`,
      QUICKSTART_RUN: path.join(dir, 'run'),
      QUICKSTART_KEYS: path.join(dir, 'keys'),
      QUICKSTART_BUILD: build,
    };
    const urls = [0, 1, 2].map((k) => `http://127.0.0.1:${apps + k}/`);
    const [crm, sales] = urls;
    let qs = quickstart(env);
    const api = await request.newContext();
    try {
      await waitFor('quickstart', () => qs.out.includes('Press Ctrl-C') ||
        qs.exitCode !== null, 180000);
      assert.ok(qs.out.includes('Press Ctrl-C'), qs.out);
      for (const [name, url] of [['CRM', crm], ['Sales', sales], ['Service', urls[2]]]) {
        assert.match(qs.out, new RegExp(`${name} +${url}`));
      }
      const m = qs.out.match(/alice, password (\S+) \(shown only this once\)/);
      assert.ok(m, qs.out);
      // A key of each alg: the demo apps below get RS256 ID tokens (the
      // OIDC default), access tokens are ES256.
      const disco = await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json();
      assert.deepEqual(disco.id_token_signing_alg_values_supported, ['RS256', 'ES256']);

      assert.match(await httpSignIn(api, crm, m[1]), /Signed in as <b>alice<\/b>/);
      const sso = await api.get(`${sales}login`);
      assert.match(await sso.text(), /Signed in as <b>alice<\/b>/);
      const out = await api.post(`${sales}logout`);
      assert.match(await out.text(), /You are signed out\./);
      const crmPage = await api.get(crm);
      assert.match(await crmPage.text(), /Not signed in\./);
      await waitFor('CRM ends its session', async () =>
        (await (await fetch(`${crm}healthz`)).json()).sessions === 0, 3000);

      qs.kill('SIGINT');
      assert.equal(await exited(qs, 20000), 0, 'quickstart exits 0 on Ctrl-C');
      for (const url of [`http://127.0.0.1:${port}/healthz`, ...urls.map((u) => `${u}healthz`)]) {
        assert.equal(await status(url), 0, `${url} stopped`);
      }

      // Again: alice is still in Redis (AOF), and no password is shown.
      qs = quickstart({ ...env, QUICKSTART_EXIT_AFTER_READY: '1' });
      assert.equal(await exited(qs, 60000), 0, qs.out);
      assert.match(qs.out, /alice \(she already existed and keeps her password/);
      assert.doesNotMatch(qs.out, /shown only this once/);
    } finally {
      await api.dispose();
      if (qs.exitCode === null) {
        qs.kill('SIGTERM');
        await exited(qs, 10000);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
