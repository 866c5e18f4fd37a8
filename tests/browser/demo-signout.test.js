// SPDX-License-Identifier: MIT
// The demo apps' sign-out (issue 17), in Debian's headless Chromium: every
// signed-in page has "Sign out" in its top-right corner, on a phone and on
// a desktop, and it signs out of every app; Service runs as the
// front-channel variant (--frontchannel; a frontchannel_logout_uri and no
// back channel, as deploy/quickstart registers it) and is signed out by
// the hidden iframe of Gatehouse's signed-out page.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const {
  fitsPhone, run, screenshotPath, signIn, statusText, useStack, waitFor,
} = require('./harness');

const { scenario } = useStack({
  apps: [
    { id: 'crm', name: 'CRM' },
    { id: 'sales', name: 'Sales' },
    {
      id: 'service', name: 'Service', args: ['--frontchannel'],
      client: (a) => ({
        backchannel_logout_uri: undefined,
        frontchannel_logout_uri: `${a.url}frontchannel-logout`,
        frontchannel_logout_session_required: true,
      }),
    },
  ],
});

// Signs in at CRM, SSO into Sales and Service.
async function signInEverywhere(stack, page) {
  await signIn(page, stack, stack.app('crm'));
  await page.waitForURL(stack.app('crm').url);
  for (const id of ['sales', 'service']) {
    const app = stack.app(id);
    await page.goto(app.url);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(app.url);
    assert.match(await statusText(page), /^Signed in as alice/, app.name);
    assert.equal(await stack.sessions(id), 1, app.name);
  }
}

// The sid of alice's one Gatehouse session, from Redis.
async function theSid(stack) {
  const r = await run('redis-cli', ['-s', path.join(stack.dir, 'redis.sock'),
    '--scan', '--pattern', 'gh:sess:*']);
  const keys = r.stdout.trim().split('\n').filter(Boolean);
  assert.equal(keys.length, 1, `one session: ${r.stdout}`);
  return keys[0].slice('gh:sess:'.length);
}

// "Sign out" is in the top-right corner of the viewport.
async function signOutTopRight(page, what) {
  const button = page.getByRole('button', { name: 'Sign out' });
  assert.ok(await button.isVisible(), `${what}: Sign out is visible`);
  const box = await button.boundingBox();
  const { width } = page.viewportSize();
  assert.ok(box.y >= 0 && box.y + box.height <= 64,
    `${what}: at the top (${JSON.stringify(box)})`);
  assert.ok(box.x + box.width >= width - 32 && box.x >= width / 2,
    `${what}: at the right (${JSON.stringify(box)}, width ${width})`);
}

scenario('Sign out sits top right on every signed-in page and signs out of every app',
  async (stack, page) => {
    const crm = stack.app('crm');
    await page.goto(crm.url);
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(),
      0, 'no Sign out when nobody is signed in');

    await signInEverywhere(stack, page);
    for (const app of stack.apps) {
      await page.goto(app.url);
      await signOutTopRight(page, `${app.name} on a phone`);
      assert.ok(await fitsPhone(page), `${app.name} fits a phone`);
    }
    await page.goto(crm.url);
    let file = screenshotPath('demo-signed-in-phone.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
    await page.setViewportSize({ width: 1280, height: 800 });
    await signOutTopRight(page, 'CRM on a desktop');
    file = screenshotPath('demo-signed-in-desktop.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);

    // Reached with the keyboard too: it is a real button in a form.
    await page.getByRole('button', { name: 'Sign out' }).focus();
    await page.keyboard.press('Enter');
    await page.waitForURL((u) => u.href.startsWith(`${crm.url}?state=`));
    assert.equal(await statusText(page), 'You are signed out.');
    assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
    // Sales by the back channel, Service by the front channel.
    for (const app of stack.apps) {
      await waitFor(`${app.name} ends its session`,
        async () => (await stack.sessions(app.id)) === 0, 5000);
      await page.goto(app.url);
      assert.equal(await statusText(page), 'Not signed in.', app.name);
    }
  });

scenario('the front-channel variant is signed out by the signed-out page\'s iframe',
  async (stack, page) => {
    const service = stack.app('service');
    await signInEverywhere(stack, page);
    const sid = await theSid(stack);

    // Only Service serves the front channel, and only for its issuer.
    assert.equal((await fetch(`${stack.app('crm').url}frontchannel-logout?iss=${encodeURIComponent(stack.issuer)}&sid=${sid}`)).status, 404);
    for (const q of [`iss=http%3A%2F%2Fevil.example&sid=${sid}`, `sid=${sid}`]) {
      const r = await fetch(`${service.url}frontchannel-logout?${q}`);
      assert.equal(r.status, 400, q);
    }
    assert.equal(await stack.sessions('service'), 1, 'nothing ended by those');

    // Gatehouse's own sign-out; the frame loads Service's page.
    await page.goto(`${stack.issuer}/logout`);
    const [frame] = await Promise.all([
      page.waitForResponse((r) => r.url().startsWith(`${service.url}frontchannel-logout?`)),
      page.getByRole('button', { name: 'Sign out', exact: true }).click(),
    ]);
    const u = new URL(frame.url());
    assert.deepEqual([u.searchParams.get('iss'), u.searchParams.get('sid')],
      [stack.issuer, sid]);
    assert.equal(frame.status(), 200);
    const h = frame.headers();
    assert.equal(h['cache-control'], 'no-store');
    assert.equal(h['x-frame-options'], undefined, 'frameable');
    assert.match(h['content-security-policy'],
      new RegExp(`frame-ancestors ${stack.issuer}(;|$)`));

    await waitFor('Service shows notified', async () => /Service — notified$/.test(
      (await page.locator('ul.apps li', { hasText: 'Service' }).textContent()).trim()));
    await waitFor('Service ends its session',
      async () => (await stack.sessions('service')) === 0, 5000);
    const file = screenshotPath('demo-frontchannel-signed-out.png');
    await page.screenshot({ path: file, fullPage: true });
    assert.ok(fs.statSync(file).size > 1000, `a screenshot in ${file}`);
    await page.goto(service.url);
    assert.equal(await statusText(page), 'Not signed in.');
  });

scenario('without iss and sid the front-channel page ends this browser\'s own session only',
  async (stack, page) => {
    const service = stack.app('service');
    await signInEverywhere(stack, page);
    // Another person's session at Service, which must survive.
    const other = await page.context().browser().newContext();
    try {
      const p = await other.newPage();
      await signIn(p, stack, service);
      await p.waitForURL(service.url);
      assert.match(await statusText(p), /^Signed in as alice/);
      assert.equal(await stack.sessions('service'), 2);

      const r = await page.goto(`${service.url}frontchannel-logout`);
      assert.equal(r.status(), 200);
      assert.equal(await stack.sessions('service'), 1);
      await page.goto(service.url);
      assert.equal(await statusText(page), 'Not signed in.');
      await p.goto(service.url);
      assert.match(await statusText(p), /^Signed in as alice/);
    } finally {
      await other.close();
    }
  });
