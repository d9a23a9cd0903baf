// Authentication through every Node SDK flavour (server in its default --auth strict): STS
// credentials (tea V3 sends x-acs-security-token + x-acs-accesskey-id headers, tea V2 and
// pop-core a SecurityToken parameter), bad tokens, expired tokens, a token on a permanent key,
// an inactive AccessKey, and an STS credential acting as a RAM user.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  AUTH_ACTIONS, AUTH_ERROR_CASES, FLAVOURS, KEY_HZ, MSG_FORBIDDEN_RAM, RAM_OWNER_ID, REGION,
  Recorder, UUID_RE, expectSdkError, useEmulator,
} from './helpers.mjs';

let emu;
let sdks;
useEmulator((started, flavours) => { emu = started; sdks = flavours; });

const r = { RegionId: REGION };

function assertApiError(flavour, err, { status, code, message }) {
  assert.deepEqual({ code: err.code, status: err.status, message: err.sdkMessage }, { code, status, message }, flavour);
  assert.match(err.requestId, UUID_RE);
  assert.equal(err.data.Code, code);
  assert.equal(err.data.Message, message);
  assert.equal(err.data.RequestId, err.requestId);
  assert.equal(err.data.HostId, 'ecs.aliyuncs.com');
}

const encrypted = async (rec) => (await rec.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted;

for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    for (const c of AUTH_ERROR_CASES) {
      for (const [action, params] of AUTH_ACTIONS) {
        it(`${c.id}: ${action}`, async () => {
          const err = await expectSdkError(sdks[flavour], action, params, c.creds);
          assertApiError(flavour, err, c);
          // nothing changed: the default account (every rejected credential's) still has it off
          assert.equal(await encrypted(new Recorder(sdks[flavour])), false);
        });
      }
    }

    it('STS root acts as the default account', async () => {
      const sts = new Recorder(sdks[flavour], 'sts-root');
      const root = new Recorder(sdks[flavour]);
      assert.equal(await encrypted(sts), false);
      const serviceKey = (await sts.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId;
      assert.equal((await root.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);

      assert.deepEqual(Object.keys(await sts.call('EnableDiskEncryptionByDefault', r)), ['RequestId']);
      assert.equal(await encrypted(root), true);
      // root-only for RAM users; the STS identity is the account root
      assert.deepEqual(Object.keys(await sts.call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: KEY_HZ })), ['RequestId']);
      assert.equal((await root.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);
      assert.equal((await sts.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);

      await sts.call('ResetDiskDefaultKMSKeyId', r);
      assert.equal((await root.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);
      await sts.call('DisableDiskEncryptionByDefault', r);
      assert.equal(await encrypted(root), false);
      assert.equal((await sts.call('DescribeRegions', { AcceptLanguage: 'en-US' })).Regions.Region.length, 29);
      sts.assertUniqueIds();
    });

    it('STS RAM reader reads its own account', async () => {
      const reader = new Recorder(sdks[flavour], 'sts-ram-reader');
      // account 1000000000000108 has default encryption on in cn-hangzhou; the default is off
      assert.equal(await encrypted(reader), true);
      assert.match((await reader.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, /^key-/);
      assert.equal((await reader.call('DescribeRegions', { AcceptLanguage: 'en-US' })).Regions.Region.length, 29);
      assert.equal(await encrypted(new Recorder(sdks[flavour])), false);
    });

    for (const [action, params] of [
      ['DisableDiskEncryptionByDefault', r],
      ['ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: 'key-hzz1ramdemo00000000001' }],
    ]) {
      it(`STS RAM reader denied ${action}, state unchanged`, async () => {
        const reader = new Recorder(sdks[flavour], 'sts-ram-reader');
        const keyBefore = (await reader.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId;
        const err = await expectSdkError(sdks[flavour], action, params, 'sts-ram-reader');
        assertApiError(flavour, err, { status: 403, code: 'Forbidden.RAM', message: MSG_FORBIDDEN_RAM });
        const d = err.data.AccessDeniedDetail;
        assert.equal(typeof d, 'object', JSON.stringify(err.data));
        assert.equal(d.AuthAction, `ecs:${action}`);
        assert.equal(d.AuthPrincipalType, 'SubUser');
        assert.equal(d.AuthPrincipalDisplayName, 'ecs-reader');
        assert.equal(String(d.AuthPrincipalOwnerId), RAM_OWNER_ID);
        if (flavour.startsWith('node-tea')) assert.deepEqual(err.raw.accessDeniedDetail, d);
        assert.equal(await encrypted(reader), true);
        assert.equal((await reader.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, keyBefore);
      });
    }
  });
}
