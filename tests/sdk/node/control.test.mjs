// The control plane (README "Admin API") through the official Node SDKs (tea V3/V2, pop-core
// GET/POST): fault rules surface as each SDK's own errors, the journal records what each SDK
// sent, tests run in parallel on accounts of their own, snapshots restore what an SDK sees, and
// an admin change to a key decides what ECS accepts. Last, the user-facing example
// (examples/testing/) runs against this file's emulator.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  CREDS, ECS_API, FLAVOURS, REGION, REPO_ROOT, Recorder, SdkError, assertApiError,
  expectSdkError, useEmulator,
} from './helpers.mjs';

const require = createRequire(import.meta.url);
const ecs = require('@alicloud/ecs20140526');
const { ThrottlingError, ClientError } = require('@alicloud/openapi-core');

let emu;
let sdks;
useEmulator((started, flavours) => { emu = started; sdks = flavours; });
// POST /_emulator/reset keeps fault rules and snapshots: every test leaves none behind
const snapshotsMade = [];
afterEach(async () => {
  assert.equal((await emu.admin('DELETE', '/_emulator/faults')).status, 204);
  assert.deepEqual(await emu.admin('GET', '/_emulator/faults'), { status: 200, body: { faults: [] } });
  for (const name of snapshotsMade.splice(0)) await emu.admin('DELETE', `/_emulator/snapshots/${name}`);
});

const R = { RegionId: REGION };
const THROTTLING = {
  'Throttling.User': 'Request was denied due to user flow control.',
  Throttling: 'You have made too many requests within a short time; your request is denied due to request throttling.',
};
const NOT_CONFIGURED = {
  status: 403, code: 'InvalidDefaultEncryption.NotFound',
  message: 'You have not configured default encryption setting in this region.',
};
const CMK_NOT_ENABLED = { status: 400, code: 'InvalidParameter.KMSKeyId.CMKNotEnabled', message: 'The CMK needs to be enabled.' };
// what each flavour sends (journal `signature.scheme`, `method`)
const SCHEME = { 'node-tea-v3': 'V3', 'node-tea-v2': 'V2', 'node-pop-core-get': 'V2', 'node-pop-core-post': 'V2' };
const METHOD = { 'node-tea-v3': 'POST', 'node-tea-v2': 'POST', 'node-pop-core-get': 'GET', 'node-pop-core-post': 'POST' };
const isTea = (flavour) => flavour.startsWith('node-tea');

// ------------------------------------------------------------------ admin helpers
const hex = (n) => randomUUID().replaceAll('-', '').slice(0, n);
/** A key id in KMS's shape (key ids are unique across the whole state). */
const newKeyId = () => `key-hzz${hex(21)}`;

/** POST /_emulator/accounts; the answer's AccessKeyId becomes a CREDS name for the adapters. */
async function newAccount(partial) {
  const { status, body } = await emu.admin('POST', '/_emulator/accounts', partial);
  assert.equal(status, 201, JSON.stringify(body));
  assert.equal(body.account.accountId, body.accountId);
  assert.deepEqual(
    body.account.accessKeys.find((k) => k.accessKeyId === body.accessKeyId),
    { accessKeyId: body.accessKeyId, accessKeySecret: body.accessKeySecret, status: 'Active' },
  );
  CREDS[body.accessKeyId] = [body.accessKeyId, body.accessKeySecret];
  return body;
}

/** A fresh account holding one Enabled key in REGION: [account, keyId]. */
async function accountWithKey() {
  const key = newKeyId();
  return [await newAccount({ kmsKeys: [{ keyId: key, regionId: REGION }] }), key];
}

async function journal(query) {
  const { status, body } = await emu.admin('GET', `/_emulator/requests?${new URLSearchParams(query)}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body.requests;
}

async function addFault(rule) {
  const { status, body } = await emu.admin('POST', '/_emulator/faults', rule);
  assert.equal(status, 201, JSON.stringify(body));
  return body.faultId;
}

async function faultRule(faultId) {
  const { body } = await emu.admin('GET', '/_emulator/faults');
  const rules = body.faults.filter((f) => f.faultId === faultId);
  assert.equal(rules.length, 1, JSON.stringify(body));
  return rules[0];
}

/**
 * The error a call must raise, as an SdkError. The tea adapter of helpers.mjs expects a
 * ClientError for every 4xx, but tea raises its ThrottlingError whenever the Code contains
 * "Throttling": for tea the client is called here, and the error class checked.
 */
async function sdkError(flavour, action, params, creds) {
  if (!isTea(flavour)) return expectSdkError(sdks[flavour], action, params, creds);
  const Req = ecs[`${action}Request`];
  const wireToField = Object.fromEntries(Object.entries(Req.names()).map(([f, w]) => [w, f]));
  const req = new Req(Object.fromEntries(Object.entries(params).map(([k, v]) => [wireToField[k], v])));
  const method = action[0].toLowerCase() + action.slice(1);
  let e;
  try {
    await sdks[flavour].client(creds)[method](req);
  } catch (err) {
    e = err;
  }
  assert.ok(e, `${flavour} ${action}: expected an error`);
  assert.ok(String(e.code).includes('Throttling') ? e instanceof ThrottlingError : e instanceof ClientError, `${e.name} for ${e.code}`);
  assert.equal(e.message, `${e.code}: code: ${e.statusCode}, ${e.data.Message} request id: ${e.data.RequestId}`);
  return new SdkError({ code: e.code, status: e.statusCode, message: e.data.Message, requestId: e.requestId, data: e.data, raw: e });
}

// ------------------------------------------------------------------ per flavour
for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    const sdk = () => sdks[flavour];

    for (const code of Object.keys(THROTTLING)) {
      it(`a ${code} fault is the SDK's API error`, async () => {
        const { accessKeyId: ak } = await newAccount();
        const fid = await addFault({ action: 'ModifyDiskDefaultKMSKeyId', accessKeyId: ak, code });
        const params = { ...R, KMSKeyId: 'alias/acs/ecs' };
        const err = await sdkError(flavour, 'ModifyDiskDefaultKMSKeyId', params, ak);
        assertApiError(err, ECS_API, { status: 400, code, message: THROTTLING[code] });
        if (isTea(flavour)) assert.equal(err.raw.retryAfter, undefined); // no x-acs-retry-after
        else assert.equal(err.raw.name, `${code}Error`);

        // the rule matches this AccessKey only: the default account's call reaches the action
        assertApiError(await expectSdkError(sdk(), 'ModifyDiskDefaultKMSKeyId', params, 'default'), ECS_API, NOT_CONFIGURED);

        const [entry, ...more] = await journal({ accessKeyId: ak });
        assert.deepEqual(more, []);
        assert.deepEqual(
          [entry.requestId, entry.faultId, entry.httpStatus, entry.code],
          [err.requestId, fid, 400, code],
        );
        const rule = await faultRule(fid);
        assert.deepEqual([rule.fired, rule.matched, rule.accessKeyId, rule.code], [1, 1, ak, code]);
      });
    }

    it('retryAfter: x-acs-retry-after reaches the SDK', async () => {
      const { accessKeyId: ak } = await newAccount();
      const fid = await addFault({ action: 'ModifyDiskDefaultKMSKeyId', accessKeyId: ak, code: 'Throttling.User', retryAfter: 2 });
      const err = await sdkError(flavour, 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: 'alias/acs/ecs' }, ak);
      assertApiError(err, ECS_API, { status: 400, code: 'Throttling.User', message: THROTTLING['Throttling.User'] });
      if (isTea(flavour)) {
        assert.ok(err.raw instanceof ThrottlingError);
        assert.equal(err.raw.retryAfter, 2);
      }
      const entries = await journal({ accessKeyId: ak }); // one request: no SDK retries by itself
      assert.deepEqual(entries.map((e) => [e.requestId, e.faultId]), [[err.requestId, fid]]);
    });

    it('skip and times bound when a fault fires', async () => {
      const [acct, key] = await accountWithKey();
      const ak = acct.accessKeyId;
      const rec = new Recorder(sdk(), ak);
      await rec.call('EnableDiskEncryptionByDefault', R);
      const fid = await addFault({ action: 'ModifyDiskDefaultKMSKeyId', accessKeyId: ak, code: 'Throttling.User', skip: 1, times: 2 });
      const modify = { ...R, KMSKeyId: key };
      await rec.call('ModifyDiskDefaultKMSKeyId', modify); // skipped
      for (let i = 0; i < 2; i++) { // fired
        assertApiError(await sdkError(flavour, 'ModifyDiskDefaultKMSKeyId', modify, ak), ECS_API,
          { status: 400, code: 'Throttling.User', message: THROTTLING['Throttling.User'] });
      }
      await rec.call('ModifyDiskDefaultKMSKeyId', modify); // times exhausted
      assert.equal((await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId, key);
      const rule = await faultRule(fid);
      assert.deepEqual([rule.matched, rule.fired, rule.skip, rule.times], [4, 2, 1, 2]);
      const entries = await journal({ accessKeyId: ak, action: 'ModifyDiskDefaultKMSKeyId' });
      assert.deepEqual(entries.map((e) => [e.faultId, e.code]),
        [[null, null], [fid, 'Throttling.User'], [fid, 'Throttling.User'], [null, null]]);
    });

    it('a latency fault delays the call', async () => {
      const { accessKeyId: ak } = await newAccount();
      const rec = new Recorder(sdk(), ak);
      const fid = await addFault({ action: 'DescribeDiskEncryptionByDefaultStatus', accessKeyId: ak, latencyMs: 200, times: 1 });
      const started = performance.now();
      assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, false);
      assert.ok(performance.now() - started >= 200);
      assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, false);
      const [slow, fast] = await journal({ accessKeyId: ak });
      assert.deepEqual([slow.faultId, slow.httpStatus, slow.code], [fid, 200, null]);
      assert.ok(slow.latencyMicros >= 200_000, JSON.stringify(slow));
      assert.ok(fast.faultId === null && fast.latencyMicros < 200_000, JSON.stringify(fast));
      assert.equal((await faultRule(fid)).fired, 1);
    });

    it('the journal records what the SDK sent', async () => {
      const token = `CAI${hex(32)}`;
      const secret = `Secret${hex(32)}`;
      const stsAk = `STS.${hex(20)}`;
      const acct = await newAccount({
        stsTokens: [{ accessKeyId: stsAk, accessKeySecret: secret, securityToken: token, expiration: '2099-01-01T00:00:00Z', userName: null }],
      });
      CREDS[stsAk] = [stsAk, secret, token];
      const owner = Number(acct.accountId);
      assert.ok(Number.isSafeInteger(owner));

      const body = await new Recorder(sdk(), stsAk).call('DescribeDiskEncryptionByDefaultStatus', { ...R, OwnerId: owner });
      const [entry, ...more] = await journal({ accessKeyId: stsAk });
      assert.deepEqual(more, []);
      const fields = ['requestId', 'method', 'product', 'version', 'action', 'accessKeyId', 'accountId', 'principal', 'httpStatus', 'code', 'faultId'];
      assert.deepEqual(Object.fromEntries(fields.map((k) => [k, entry[k]])), {
        requestId: body.RequestId, method: METHOD[flavour], product: 'Ecs', version: '2014-05-26',
        action: 'DescribeDiskEncryptionByDefaultStatus', accessKeyId: stsAk, accountId: acct.accountId,
        principal: 'root', httpStatus: 200, code: null, faultId: null,
      });
      assert.match(entry.receivedAt, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
      assert.ok(Number.isInteger(entry.latencyMicros) && entry.latencyMicros >= 0);

      // every SDK sends OwnerId; no action reads it
      assert.equal(entry.params.OwnerId, String(owner));
      assert.equal(entry.params.RegionId, REGION);
      assert.deepEqual(entry.unreadParams, ['OwnerId']);

      assert.deepEqual([entry.signature.scheme, entry.signature.verdict], [SCHEME[flavour], 'ok']);
      assert.ok(entry.signature.stringToSign);
      if (SCHEME[flavour] === 'V2') { // V2 carries both as parameters
        assert.equal(entry.params.Signature, '***');
        assert.equal(entry.params.SecurityToken, '***');
      } else { // V3 carries both in headers
        assert.ok(!('Signature' in entry.params) && !('SecurityToken' in entry.params), JSON.stringify(entry.params));
      }
      assert.ok(!JSON.stringify(entry.params).includes(token));
      assert.ok(!JSON.stringify(entry).includes(secret));
    });

    it('the journal names the RAM user; its filters', async () => {
      const ramAk = `LTAI5t${hex(18)}`;
      const ramSecret = `Secret${hex(32)}`;
      await newAccount({
        ramUsers: [{ userName: 'reader', policies: ['AliyunECSReadOnlyAccess'], accessKeys: [{ accessKeyId: ramAk, accessKeySecret: ramSecret }] }],
      });
      CREDS[ramAk] = [ramAk, ramSecret];
      await new Recorder(sdk(), ramAk).call('DescribeDiskEncryptionByDefaultStatus', R);
      await expectSdkError(sdk(), 'EnableDiskEncryptionByDefault', R, ramAk);
      const entries = await journal({ accessKeyId: ramAk });
      assert.deepEqual(entries.map((e) => [e.principal, e.action, e.httpStatus, e.code]), [
        ['reader', 'DescribeDiskEncryptionByDefaultStatus', 200, null],
        ['reader', 'EnableDiskEncryptionByDefault', 403, 'Forbidden.RAM'],
      ]);
      assert.deepEqual((await journal({ accessKeyId: ramAk, code: 'ok' })).map((e) => e.code), [null]);
      assert.equal((await journal({ accessKeyId: ramAk, code: 'Forbidden.RAM' })).length, 1);
      assert.deepEqual(await journal({ accessKeyId: ramAk, limit: 1 }), entries.slice(-1));
      assert.deepEqual(await journal({ accessKeyId: ramAk, action: 'EnableDiskEncryptionByDefault' }), entries.slice(-1));
    });

    it('snapshot, Enable, restore: encryption is off again', async () => {
      const acct = await newAccount();
      const rec = new Recorder(sdk(), acct.accessKeyId);
      const name = `before-${flavour}`;
      const made = await emu.admin('POST', `/_emulator/snapshots/${name}`);
      assert.equal(made.status, 201);
      assert.equal(made.body.name, name);
      snapshotsMade.push(name);

      await rec.call('EnableDiskEncryptionByDefault', R);
      assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, true);
      const later = await newAccount(); // made after the snapshot
      await new Recorder(sdk(), later.accessKeyId).call('DescribeDiskEncryptionByDefaultStatus', R);

      assert.equal((await emu.admin('POST', `/_emulator/snapshots/${name}/restore`)).status, 200);
      assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, false);
      await rec.call('EnableDiskEncryptionByDefault', R); // not "already enabled": really off again
      assertApiError(await expectSdkError(sdk(), 'DescribeDiskEncryptionByDefaultStatus', R, later.accessKeyId), ECS_API,
        { status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' });

      const names = async () => (await emu.admin('GET', '/_emulator/snapshots')).body.snapshots.map((s) => s.name);
      assert.ok((await names()).includes(name));
      assert.equal((await emu.admin('DELETE', `/_emulator/snapshots/${name}`)).status, 204);
      assert.ok(!(await names()).includes(name));
      assert.equal((await emu.admin('POST', `/_emulator/snapshots/${name}/restore`)).status, 404);
    });

    it('a key disabled through the admin API is refused by ECS', async () => {
      const [acct, key] = await accountWithKey();
      const rec = new Recorder(sdk(), acct.accessKeyId);
      await rec.call('EnableDiskEncryptionByDefault', R);
      await rec.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: key });

      const keyPath = `/_emulator/accounts/${acct.accountId}/kms-keys/${key}`;
      const patched = await emu.admin('PATCH', keyPath, { keyState: 'Disabled' });
      assert.equal(patched.status, 200);
      assert.deepEqual([patched.body.keyId, patched.body.keyState], [key, 'Disabled']);
      assertApiError(await expectSdkError(sdk(), 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: key }, acct.accessKeyId), ECS_API, CMK_NOT_ENABLED);

      assert.equal((await emu.admin('PATCH', keyPath, { keyState: 'Enabled' })).status, 200);
      await rec.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: key });
      assert.equal((await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId, key);
    });
  });
}

// ------------------------------------------------------------------ parallel accounts
/** Resolves once n callers have arrived. */
function barrier(n) {
  let arrived = 0;
  let release;
  const all = new Promise((resolve) => { release = resolve; });
  return () => { arrived += 1; if (arrived === n) release(); return all; };
}

it('parallel tests, each on an account of its own, see only their own state', async () => {
  const N = 8;
  const accounts = await Promise.all(Array.from({ length: N }, () => accountWithKey()));
  const keys = accounts.map(([, key]) => key);
  const [enabled, halfDisabled] = [barrier(N), barrier(N)];

  /** Account i through flavour i % 4; even accounts end encrypted, odd ones not. */
  async function work(i) {
    const [acct, key] = accounts[i];
    const flavour = FLAVOURS[i % FLAVOURS.length];
    const rec = new Recorder(sdks[flavour], acct.accessKeyId);
    await rec.call('EnableDiskEncryptionByDefault', R);
    await rec.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: key });
    await enabled(); // every account enabled with its own key at once
    assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, true);
    assert.equal((await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId, key);
    const other = keys[(i + 1) % N]; // a neighbour's key is invisible
    assertApiError(await expectSdkError(sdks[flavour], 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: other }, acct.accessKeyId), ECS_API,
      { status: 403, code: 'InvalidOperation.KMSKeyIdNotFound', message: `The specified KMSKeyId not found, ${other}.` });
    if (i % 2) await rec.call('DisableDiskEncryptionByDefault', R);
    await halfDisabled(); // half of them disabled at once
    assert.equal((await rec.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, i % 2 === 0);
    assert.equal((await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId, key);
    rec.assertUniqueIds();
    return rec.requestIds.length + 1; // and the refused Modify
  }

  const calls = await Promise.all(accounts.map((_, i) => work(i)));

  for (const [i, [acct, key]] of accounts.entries()) {
    const { status, body } = await emu.admin('GET', `/_emulator/accounts/${acct.accountId}`);
    assert.equal(status, 200);
    assert.deepEqual(body.regionSettings[REGION].defaultEncryption, { enabled: i % 2 === 0, kmsKeyId: key }, `account ${i}`);
    const entries = await journal({ accessKeyId: acct.accessKeyId });
    assert.equal(entries.length, calls[i]);
    assert.deepEqual([...new Set(entries.map((e) => e.accountId))], [acct.accountId]);
  }
  // and the default account saw none of it
  const status = await new Recorder(sdks['node-tea-v3']).call('DescribeDiskEncryptionByDefaultStatus', R);
  assert.equal(status.Encrypted, false);
});

// ------------------------------------------------------------------ the README example
/**
 * The example imports the SDK packages by name, as a user's suite would; they are installed
 * here, not beside it. A module resolve hook (registered through NODE_OPTIONS, so it reaches the
 * process `node --test` spawns) falls back to resolving from this folder.
 */
function resolveFromHere() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ecs-emulator-example-'));
  const fallbackParent = pathToFileURL(path.join(path.dirname(fileURLToPath(import.meta.url)), 'package.json')).href;
  const hooks = path.join(dir, 'hooks.mjs');
  writeFileSync(hooks, `
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || /^(\\.|\\/|[a-z]+:)/.test(specifier)) throw e;
    return nextResolve(specifier, { ...context, parentURL: ${JSON.stringify(fallbackParent)} });
  }
}
`);
  const register = path.join(dir, 'register.mjs');
  writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  return { dir, importFlag: `--import=${pathToFileURL(register).href}` };
}

it('the testing example passes against this emulator', async () => {
  const example = path.join(REPO_ROOT, 'examples', 'testing', 'with_ecs_emulator.test.mjs');
  const { dir, importFlag } = resolveFromHere();
  try {
    const env = {
      ...process.env,
      ECS_EMULATOR_ENDPOINT: emu.endpoint,
      NODE_OPTIONS: [process.env.NODE_OPTIONS, importFlag].filter(Boolean).join(' '),
    };
    delete env.NODE_TEST_CONTEXT; // set for this file's own process: the nested runner must not see it
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', example], { cwd: path.dirname(example), env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { out += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const code = await new Promise((resolve) => child.on('close', resolve));
    clearTimeout(timer);
    assert.equal(code, 0, out);
    const passed = Number(/pass (\d+)/.exec(out)?.[1]);
    assert.ok(passed >= 4, out);
    assert.match(out, /fail 0/, out);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
