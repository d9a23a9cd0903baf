// The emulator process for the Node tests (the SDK suites here, the dashboard's browser test
// in tests/ui): a release binary on a free loopback port, its admin API, and its stop.
// No SDK is imported here, so tests without the SDKs installed can use it.

import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

export function binaryPath() {
  const b = process.env.ECS_EMULATOR_BIN || 'target/release/ecs-emulator';
  return path.isAbsolute(b) ? b : path.join(REPO_ROOT, b);
}

/**
 * Starts the emulator on a free loopback port with `args` besides `--listen`; with
 * `adminToken`, `admin()` sends it. Resolves once `/_emulator/health` answers ready.
 */
export async function startEmulator({ args = [], adminToken } = {}) {
  const port = await freePort();
  const proc = spawn(binaryPath(), ['--listen', `127.0.0.1:${port}`, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  let exited = null;
  let spawnError = null;
  proc.on('exit', (code, sig) => { exited = { code, sig }; });
  proc.on('error', (e) => { spawnError = e; });
  const base = `http://127.0.0.1:${port}`;
  const emu = {
    port,
    endpoint: `127.0.0.1:${port}`,
    base,
    async admin(method, p, body) {
      const res = await fetch(base + p, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...(adminToken ? { authorization: `Bearer ${adminToken}` } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      let json;
      try { json = text ? JSON.parse(text) : null; } catch { json = text; }
      return { status: res.status, body: json };
    },
    async reset() {
      const r = await this.admin('POST', '/_emulator/reset');
      assert.ok(r.status >= 200 && r.status < 300, `reset failed: ${r.status} ${JSON.stringify(r.body)}`);
    },
    async stop() {
      if (exited) return;
      const done = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await done;
      clearTimeout(t);
    },
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (spawnError) throw new Error(`cannot start ${binaryPath()}: ${spawnError.message}`);
    if (exited) throw new Error(`emulator exited early (${JSON.stringify(exited)}): ${stderr}`);
    try {
      const r = await emu.admin('GET', '/_emulator/health');
      if (r.status === 200 && r.body && r.body.status === 'ready') break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await emu.stop();
      throw new Error(`emulator not healthy within 10 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return emu;
}
