// Sign-in: the login redirect keeps the intended URL, a wrong password is
// refused on the form, 2FA enrolled with the otpauth secret and a second
// login with a TOTP code, sign-out, and the SPA fallback for deep links.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN, Api, BASE, freshTotp, heading, totp, launch, newPage, PASSWORD_LABEL, strongPassword, unique, uiLogin } from './lib.mjs';

let browser;
before(async () => {
  browser = await launch();
});
after(async () => {
  await browser?.close();
});
// every test starts signed out
beforeEach(async () => {
  await browser.context.clearCookies();
});

test('a deep link is served by the SPA fallback and sends to login keeping the URL', async () => {
  const r = await fetch(`${BASE}/certificates?q=x&page=2`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /text\/html/);
  assert.match(await r.text(), /<div id="root"|<script type="module"/);

  const page = await newPage(browser.context);
  await page.goto('/certificates?q=x&page=2');
  await page.waitForURL(/\/login\?next=/);
  const next = new URL(page.url()).searchParams.get('next');
  assert.equal(next, '/certificates?q=x&page=2');
  await heading(page, 'Sign in to certward');
  await page.close();
});

test('a wrong password is refused on the form; the right one lands on the intended page', async () => {
  const page = await newPage(browser.context);
  await page.goto('/audit');
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Username').fill(ADMIN.username);
  await page.getByLabel(PASSWORD_LABEL).fill('Wrong-' + strongPassword());
  await page.getByRole('button', { name: 'Sign in' }).click();
  const alert = page.getByRole('alert').filter({ hasText: 'Invalid username or password.' });
  await alert.waitFor();
  assert.match(page.url(), /\/login/);

  await page.getByLabel(PASSWORD_LABEL).fill(ADMIN.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((u) => u.pathname === '/audit');
  await heading(page, 'Audit log');
  await page.getByRole('button', { name: `User menu for ${ADMIN.username}` }).waitFor();
  // the session cookie is HttpOnly: the page's script never sees it
  assert.equal(await page.evaluate(() => document.cookie.includes('cw_session')), false);
  const cookies = await browser.context.cookies(BASE);
  const session = cookies.find((c) => c.name === 'cw_session');
  assert.ok(session, 'cw_session cookie set');
  assert.equal(session.httpOnly, true);
  await page.close();
  await browser.context.clearCookies();
});

test('2FA: enrol with the otpauth secret, then sign in with a TOTP code', async () => {
  const admin = await Api.admin();
  const username = unique('twofa');
  const password = strongPassword();
  await admin.data('POST', '/users', { username, password, role: 'operator' }, 201);

  // enrol as that user: the otpauth URI carries the secret the code is computed from
  const user = new Api();
  await user.login(username, password);
  const used = new Set();
  const enrol = await user.data('POST', '/account/2fa/enroll', undefined, 200);
  const uri = new URL(enrol.otpauth_uri);
  assert.equal(uri.protocol, 'otpauth:');
  const secret = uri.searchParams.get('secret');
  assert.equal(secret, enrol.secret);
  const confirmed = await user.data('POST', '/account/2fa/confirm', { code: await freshTotp(secret, used) }, 200);
  assert.equal(confirmed.backup_codes.length, 10);

  const page = await newPage(browser.context);
  await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel(PASSWORD_LABEL).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  const code = page.getByLabel('Authentication code');
  await code.waitFor();
  // a wrong code is refused and the form stays on the code step
  const now = Math.floor(Date.now() / 30000);
  const valid = new Set([now - 1, now, now + 1].map((s) => totp(secret, s)));
  await code.fill(['000000', '111111', '222222', '333333'].find((c) => !valid.has(c)));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('alert').filter({ hasText: 'The code or the password is not valid.' }).waitFor();
  await code.fill(await freshTotp(secret, used));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
  await page.getByRole('button', { name: `User menu for ${username}` }).waitFor();

  const me = await page.evaluate(async () => (await (await fetch('/api/v2/auth/me')).json()).data);
  assert.equal(me.user.username, username);
  assert.equal(me.user.two_factor_enabled, true);
  await page.close();
  await browser.context.clearCookies();
});

test('sign out ends the session', async () => {
  const page = await newPage(browser.context);
  await uiLogin(page, ADMIN.username, ADMIN.password);
  await page.getByRole('button', { name: `User menu for ${ADMIN.username}` }).click();
  await page.getByRole('menuitem', { name: 'Sign out' }).click();
  await page.getByRole('heading', { level: 1, name: 'Sign in to certward' }).waitFor();
  assert.match(new URL(page.url()).pathname, /^\/login/);
  const status = await page.evaluate(async () => (await fetch('/api/v2/auth/me')).status);
  assert.equal(status, 401);
  await page.close();
});
