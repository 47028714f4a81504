// A viewer: the navbar offers only what the role may read, no screen shows a
// write button, a screen it may not read says "Not permitted", and a write
// call made with its session (cookie + CSRF token) is a 403 problem that
// changes nothing.
import { after, before, test as nodeTest } from 'node:test';
import assert from 'node:assert/strict';
import { Api, heading, launch, newPage, shotOnFailure, settled, strongPassword, uiLogin, unique } from './lib.mjs';

/** A test that leaves a screenshot of the page when it fails. */
const test = (name, fn) => nodeTest(name, () => shotOnFailure(() => page, name, fn));

/** Names of buttons/links that change something. */
export const WRITE_NAME = /^(new|create|add|issue|import|revoke|delete|remove|edit|renew|sign|upload|generate|approve|reject|enable|disable|reset|save)\b/i;

const READABLE = [
  { path: '/', title: 'Dashboard' },
  { path: '/certificates', title: 'Certificates' },
  { path: '/cas', title: 'Certificate authorities' },
  { path: '/csrs', title: 'Certificate signing requests' },
  { path: '/templates', title: 'Templates' },
  { path: '/tools', title: 'Tools' },
];

let browser;
let page;
let viewer;
before(async () => {
  const admin = await Api.admin();
  viewer = { username: unique('viewer'), password: strongPassword() };
  await admin.data('POST', '/users', { ...viewer, role: 'viewer' }, 201);
  browser = await launch();
  page = await newPage(browser.context);
  await uiLogin(page, viewer.username, viewer.password);
});
after(async () => {
  await browser?.close();
});

test('the navbar shows only the sections a viewer may read', async () => {
  const nav = page.getByRole('navigation', { name: 'Main navigation' });
  for (const name of ['Dashboard', 'Certificates', 'Certificate authorities', 'Signing requests', 'Templates', 'Tools']) {
    await nav.getByRole('link', { name, exact: true }).waitFor();
  }
  for (const name of ['Users', 'Roles', 'Audit log', 'Settings']) {
    assert.equal(await nav.getByRole('link', { name, exact: true }).count(), 0, `viewer sees "${name}" in the navbar`);
  }
});

test('no screen a viewer may read shows a write button', async () => {
  for (const s of READABLE) {
    await page.goto(s.path);
    await heading(page, s.title);
    await settled(page);
    const main = page.getByRole('main');
    const names = [];
    for (const role of ['button', 'link']) {
      for (const el of await main.getByRole(role).all()) {
        const name = ((await el.getAttribute('aria-label')) ?? (await el.innerText())).trim();
        if (WRITE_NAME.test(name)) names.push(`${role} "${name}"`);
      }
    }
    assert.deepEqual(names, [], `${s.path}: a viewer sees write controls`);
  }
});

test('a screen the viewer may not read says "Not permitted"', async () => {
  for (const p of ['/users', '/audit', '/settings']) {
    await page.goto(p);
    await heading(page, 'Not permitted');
    await page.getByRole('alert').filter({ hasText: 'Not permitted' }).waitFor();
  }
});

test('a write call with the viewer session is a 403 problem and changes nothing', async () => {
  const admin = await Api.admin();
  const before = (await admin.request('GET', '/cas?per_page=1')).json.meta.total;
  const answer = await page.evaluate(async () => {
    const me = await (await fetch('/api/v2/auth/me')).json();
    const r = await fetch('/api/v2/cas', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': me.data.csrf_token },
      body: JSON.stringify({ name: 'viewer-ca', type: 'root', subject: { CN: 'viewer-ca' },
        key: { type: 'ec', curve: 'P-256' }, validity_days: 30 }),
    });
    return { status: r.status, type: r.headers.get('content-type'), body: await r.json() };
  });
  assert.equal(answer.status, 403);
  assert.match(answer.type, /application\/problem\+json/);
  assert.equal(answer.body.code, 'forbidden');
  assert.equal((await admin.request('GET', '/cas?per_page=1')).json.meta.total, before);
});
