#!/usr/bin/env node
// Browser tests against the real stack: starts tests/lib/e2e_stack.py
// (throwaway MariaDB + certward + nginx serving dist/), runs every
// e2e/*.e2e.mjs with the node test runner (one file at a time, each with
// its own Chromium), stops the stack and prints "e2e: N passed, N failed".
//
//   node e2e/run.mjs [--dist DIR] [file.e2e.mjs ...]
//
// Environment: E2E_OUT (artifacts, default ../tests/out: screenshots/,
// e2e.tap, e2e-logs/ with the server logs when a test failed),
// E2E_CHROMIUM (default /usr/bin/chromium), PYTHON (default /usr/bin/python3),
// CERTWARD_BIN (the certward binary, default ../certward).
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const frontend = path.resolve(here, '..');
const repo = path.resolve(frontend, '..');
const out = path.resolve(process.env.E2E_OUT ?? path.join(repo, 'tests', 'out'));
mkdirSync(out, { recursive: true });

const args = process.argv.slice(2);
let dist = path.join(frontend, 'dist');
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--dist') dist = path.resolve(args[++i]);
  else files.push(path.resolve(args[i]));
}
if (files.length === 0) {
  for (const f of readdirSync(here).sort()) if (f.endsWith('.e2e.mjs')) files.push(path.join(here, f));
}

function startStack() {
  const py = process.env.PYTHON ?? '/usr/bin/python3';
  const child = spawn(py, [path.join(repo, 'tests', 'lib', 'e2e_stack.py'), '--dist', dist], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, CERTWARD_BIN: process.env.CERTWARD_BIN ?? path.join(repo, 'certward') },
  });
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('the stack did not start within 120 s')), 120000);
    rl.once('line', (line) => {
      clearTimeout(timer);
      try {
        resolve({ child, info: JSON.parse(line) });
      } catch (e) {
        reject(new Error(`bad line from e2e_stack.py: ${line}`));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`e2e_stack.py exited with ${code} before the stack was up`));
    });
  });
}

function stopStack(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode);
    const timer = setTimeout(() => child.kill('SIGTERM'), 60000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.stdin.end();
  });
}

function runTests(info) {
  const tap = path.join(out, 'e2e.tap');
  const argv = ['--test', '--test-concurrency=1', '--test-timeout=240000',
    '--test-reporter=spec', '--test-reporter-destination=stdout',
    '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
  const child = spawn(process.execPath, argv, {
    cwd: frontend,
    stdio: 'inherit',
    env: {
      ...process.env,
      E2E_URL: info.url,
      E2E_ADMIN_USER: info.admin.username,
      E2E_ADMIN_PASSWORD: info.admin.password,
      E2E_OUT: out,
    },
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, tap })));
}

/** Counts from the TAP summary (top-level "# pass N" / "# fail N" lines). */
function counts(tap, code) {
  let pass = 0, fail = 0;
  const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
  const p = /^# pass (\d+)$/m.exec(text);
  const f = /^# fail (\d+)$/m.exec(text);
  const c = /^# cancelled (\d+)$/m.exec(text);
  const s = /^# skipped (\d+)$/m.exec(text);
  const t = /^# todo (\d+)$/m.exec(text);
  if (p) pass = Number(p[1]);
  if (f) fail = Number(f[1]);
  // cancelled, skipped or todo tests did not pass: count them as failures
  for (const m of [c, s, t]) if (m) fail += Number(m[1]);
  if (!p || pass + fail === 0 || (code !== 0 && fail === 0)) fail += 1;
  return { pass, fail };
}

let stack;
let result = { pass: 0, fail: 1 };
try {
  stack = await startStack();
  console.log(`e2e: stack at ${stack.info.url}`);
  const { code, tap } = await runTests(stack.info);
  result = counts(tap, code);
  if (result.fail > 0) {
    const logs = path.join(out, 'e2e-logs');
    mkdirSync(logs, { recursive: true });
    for (const f of stack.info.logs ?? []) {
      try { copyFileSync(f, path.join(logs, path.basename(f))); } catch { /* already gone */ }
    }
  }
} catch (e) {
  console.error(`e2e: ${e.message}`);
} finally {
  if (stack) await stopStack(stack.child);
}
console.log(`e2e: ${result.pass} passed, ${result.fail} failed`);
process.exit(result.fail > 0 ? 1 : 0);
