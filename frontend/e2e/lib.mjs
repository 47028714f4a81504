// Shared helpers of the browser tests: the stack the runner started (URL and
// admin credentials from the environment), a small API client with the
// session cookie and CSRF token, TOTP, Chromium through playwright-core
// (system /usr/bin/chromium, no browser download), axe-core and screenshots.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

export const BASE = required('E2E_URL');
export const ADMIN = { username: required('E2E_ADMIN_USER'), password: required('E2E_ADMIN_PASSWORD') };
export const OUT = process.env.E2E_OUT ?? path.resolve('..', 'tests', 'out');
export const SHOTS = path.join(OUT, 'screenshots');
export const CHROMIUM = process.env.E2E_CHROMIUM ?? '/usr/bin/chromium';

function required(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with e2e/run.mjs`);
  return v;
}

// --------------------------------------------------------------------------
// API client (Node fetch): cookie jar of one session + CSRF token

export class Api {
  constructor() {
    this.cookie = '';
    this.csrf = '';
  }

  async request(method, p, body) {
    const headers = { Accept: 'application/json' };
    if (this.cookie) headers.Cookie = this.cookie;
    if (method !== 'GET' && this.csrf) headers['X-CSRF-Token'] = this.csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    const r = await fetch(BASE + '/api/v2' + p, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = r.headers.getSetCookie?.() ?? [];
    for (const c of set) {
      const m = /^cw_session=([^;]*)/.exec(c);
      if (m) this.cookie = m[1] ? `cw_session=${m[1]}` : '';
    }
    const text = await r.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = null; }
    return { status: r.status, json, text };
  }

  /** The `data` member of a success answer (asserting the status). */
  async data(method, p, body, status) {
    const r = await this.request(method, p, body);
    const want = status ?? (method === 'POST' ? [200, 201] : [200]);
    assert.ok([].concat(want).includes(r.status), `${method} ${p} -> ${r.status} ${r.text.slice(0, 400)}`);
    return r.json?.data;
  }

  async login(username, password, totp) {
    const body = { username, password };
    if (totp) body.totp = totp;
    const d = await this.data('POST', '/auth/login', body, 200);
    this.csrf = d.csrf_token;
    return d;
  }

  static async admin() {
    const a = new Api();
    await a.login(ADMIN.username, ADMIN.password);
    return a;
  }
}

// --------------------------------------------------------------------------
// names, passwords, TOTP

export function unique(prefix) {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A password the server's policy accepts (no common words, no runs). */
export function strongPassword() {
  for (;;) {
    const pw = 'Qz7!' + randomBytes(12).toString('base64url');
    const low = pw.toLowerCase();
    let ok = true;
    for (let i = 3; i < low.length && ok; i++) {
      const [a, b, c, d] = [...low.slice(i - 3, i + 1)].map((x) => x.charCodeAt(0));
      if (a === b && b === c && c === d) ok = false;
      const alnum = /[a-z0-9]/;
      if (alnum.test(low[i - 3]) && alnum.test(low[i]) &&
          ((b === a + 1 && c === b + 1 && d === c + 1) || (b === a - 1 && c === b - 1 && d === c - 1))) ok = false;
    }
    if (ok) return pw;
  }
}

function base32Decode(s) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, value = 0;
  const out = [];
  for (const ch of s.replace(/=+$/, '').toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 (HMAC-SHA1, 30 s, 6 digits) for a step (default: now). */
export function totp(secret, step = Math.floor(Date.now() / 30000)) {
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(msg).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, '0');
}

/** A code for a step no earlier login of this account used (the server
 *  refuses a replayed code): waits for the next step when needed. */
export async function freshTotp(secret, usedSteps) {
  let step = Math.floor(Date.now() / 30000);
  while (usedSteps.has(step)) {
    await new Promise((r) => setTimeout(r, 500));
    step = Math.floor(Date.now() / 30000);
  }
  usedSteps.add(step);
  return totp(secret, step);
}

// --------------------------------------------------------------------------
// browser

export const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
  '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
];

/** Chromium with a fresh profile in a new directory (removed by close()). */
export async function launch() {
  const profile = mkdtempSync(path.join(tmpdir(), 'cwchrome.'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 900 },
    acceptDownloads: true,
    baseURL: BASE,
  });
  context.setDefaultTimeout(15000);
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return {
    context,
    errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A new tab: the context's first page is reused. */
export async function newPage(context) {
  const pages = context.pages();
  return pages.length === 1 && pages[0].url() === 'about:blank' ? pages[0] : context.newPage();
}

/** The login form's password field (Mantine appends " *" to a required label). */
export const PASSWORD_LABEL = /^Password( \*)?$/;

/** Sign in through the login screen (the 2FA step when totp is given) and
 *  wait for the app shell. */
export async function uiLogin(page, username, password, code) {
  if (!/\/login/.test(page.url())) await page.goto('/login');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel(PASSWORD_LABEL).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  if (code !== undefined) {
    await page.getByLabel('Authentication code').fill(code);
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.getByRole('navigation', { name: 'Main navigation' }).waitFor();
}

/** The page's one h1, once the lazy route has rendered it. */
export async function heading(page, name) {
  const h = page.getByRole('heading', { level: 1, name, exact: true });
  await h.waitFor();
  return h;
}

// --------------------------------------------------------------------------
// axe-core and screenshots

const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page; asserts that there is no
 *  serious or critical violation and returns all violations. */
export async function assertAccessible(page, what) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ content: AXE_SOURCE });
  }
  // axe's default rule set: WCAG 2.0/2.1/2.2 A and AA plus best practices
  // (experimental rules stay off)
  const result = await page.evaluate(async () => window.axe.run(document));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const describe = bad.map((v) => `${v.impact} ${v.id}: ${v.help}\n    ` +
    v.nodes.slice(0, 6).map((n) => `${n.target.join(' ')}\n      ${n.html.slice(0, 140)}` +
      (n.any?.[0]?.message ? `\n      ${n.any[0].message.split('\n')[0].slice(0, 160)}` : '')).join('\n    ')).join('\n');
  assert.equal(bad.length, 0, `${what}: axe found serious/critical violations:\n${describe}`);
  return result.violations;
}

/** Full-page PNG under tests/out/screenshots/<name>-<scheme>.png. */
export async function screenshot(page, name, scheme) {
  mkdirSync(SHOTS, { recursive: true });
  const file = path.join(SHOTS, `${name}-${scheme}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

/** Waits until no loader is shown (lists, lazy routes). */
export async function settled(page) {
  await page.waitForLoadState('networkidle');
  await page.waitForFunction(() => !document.querySelector('[aria-busy="true"], .mantine-Loader-root'), null, { timeout: 15000 })
    .catch(() => {});
}

/** Runs fn; when it throws, saves a screenshot of page as
 *  tests/out/screenshots/failed-<name>.png (and the visible text next to it)
 *  before rethrowing. */
export async function shotOnFailure(getPage, name, fn) {
  try {
    return await fn();
  } catch (e) {
    const page = getPage();
    if (page && !page.isClosed()) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').toLowerCase().slice(0, 80);
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: path.join(SHOTS, `failed-${slug}.png`), fullPage: true }).catch(() => {});
    }
    throw e;
  }
}
