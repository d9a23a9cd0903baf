// Testing code that calls ECS with ecs-emulator (node --test).
//
// Start the emulator (`ecs-emulator`, default 127.0.0.1:8080) and run
// `node --test with_ecs_emulator.test.mjs`; set ECS_EMULATOR_ENDPOINT to reach another address.
// Needs @alicloud/ecs20140526 and @alicloud/openapi-core; the admin calls use fetch.
import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import Ecs from '@alicloud/ecs20140526';
import OpenApi from '@alicloud/openapi-core';

const ENDPOINT = process.env.ECS_EMULATOR_ENDPOINT || '127.0.0.1:8080';
const REGION = 'cn-hangzhou';

/** One call to the emulator's admin API (/_emulator/...); the JSON answer, or null. */
async function admin(method, path, body) {
  const response = await fetch(`http://${ENDPOINT}/_emulator/${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// ------------------------------------------------------------------ code under test
/** What your application might do: retry an SDK call while it is throttled. */
async function withRetries(call, attempts = 3) {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await call();
    } catch (error) {
      if (!String(error.code).startsWith('Throttling') || attempt === attempts - 1) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
    }
  }
}

/** Default disk encryption on, with the given KMS key. */
async function enableDefaultEncryption(client, regionId, keyId) {
  await withRetries(() => client.enableDiskEncryptionByDefault(
    new Ecs.EnableDiskEncryptionByDefaultRequest({ regionId })));
  await withRetries(() => client.modifyDiskDefaultKMSKeyId(
    new Ecs.ModifyDiskDefaultKMSKeyIdRequest({ regionId, KMSKeyId: keyId })));
}

// ------------------------------------------------------------------ tests
describe('default disk encryption', () => {
  let account; // an account of the test's own: tests never see each other's state
  let client; // the official SDK, signed with that account's generated AccessKey pair
  let keyId;
  const faults = [];

  beforeEach(async () => {
    keyId = `key-hzz${randomUUID().replaceAll('-', '').slice(0, 21)}`;
    account = await admin('POST', 'accounts', { kmsKeys: [{ keyId, regionId: REGION }] });
    client = new Ecs.default(new OpenApi.$OpenApiUtil.Config({
      accessKeyId: account.accessKeyId, accessKeySecret: account.accessKeySecret,
      regionId: REGION, endpoint: ENDPOINT, protocol: 'http',
    }));
  });

  afterEach(async () => {
    for (const faultId of faults.splice(0)) await admin('DELETE', `faults/${faultId}`);
    await admin('DELETE', `accounts/${account.accountId}`);
  });

  const addFault = async (rule) => faults.push((await admin('POST', 'faults', rule)).faultId);
  /** The emulator's journal of RPC requests, filtered (action, accessKeyId, code, limit). */
  const requestsMade = async (query) => (await admin('GET', `requests?${new URLSearchParams(query)}`)).requests;
  const encrypted = async () => (await client.describeDiskEncryptionByDefaultStatus(
    new Ecs.DescribeDiskEncryptionByDefaultStatusRequest({ regionId: REGION }))).body.encrypted;

  it('enables encryption with the key', async () => {
    await enableDefaultEncryption(client, REGION, keyId);

    assert.equal(await encrypted(), true);
    const described = await client.describeDiskDefaultKMSKeyId(
      new Ecs.DescribeDiskDefaultKMSKeyIdRequest({ regionId: REGION }));
    assert.equal(described.body.KMSKeyId, keyId);
  });

  it('calls ModifyDiskDefaultKMSKeyId with the key', async () => {
    await enableDefaultEncryption(client, REGION, keyId);

    const [call] = await requestsMade({ accessKeyId: account.accessKeyId, action: 'ModifyDiskDefaultKMSKeyId' });
    assert.equal(call.params.KMSKeyId, keyId);
    assert.equal(call.httpStatus, 200);
  });

  it('retries when throttled', async () => {
    // the first two Enable calls of this account are refused as the real API does when throttled
    await addFault({ action: 'EnableDiskEncryptionByDefault', accessKeyId: account.accessKeyId, code: 'Throttling.User', times: 2 });

    await enableDefaultEncryption(client, REGION, keyId);

    const calls = await requestsMade({ accessKeyId: account.accessKeyId, action: 'EnableDiskEncryptionByDefault' });
    assert.deepEqual(calls.map((c) => c.code), ['Throttling.User', 'Throttling.User', null]);
    assert.equal(await encrypted(), true);
  });

  it('gives up when throttling persists', async () => {
    await addFault({ action: 'EnableDiskEncryptionByDefault', accessKeyId: account.accessKeyId, code: 'Throttling.User' });

    await assert.rejects(enableDefaultEncryption(client, REGION, keyId), (error) => {
      assert.equal(error.name, 'ThrottlingError'); // what the tea SDK raises for any Throttling* code
      assert.equal(error.code, 'Throttling.User');
      assert.equal(error.statusCode, 400);
      assert.equal(error.data.Message, 'Request was denied due to user flow control.');
      return true;
    });
    assert.equal(await encrypted(), false);
  });

  it('restoring a snapshot puts the state back', async () => {
    // snapshots hold the whole emulator state: use them in suites that run tests one at a time
    await admin('POST', 'snapshots/before');
    try {
      await enableDefaultEncryption(client, REGION, keyId);
      assert.equal(await encrypted(), true);
    } finally {
      await admin('POST', 'snapshots/before/restore');
      await admin('DELETE', 'snapshots/before');
    }
    assert.equal(await encrypted(), false);
  });
});
