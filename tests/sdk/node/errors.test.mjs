// Every documented error, in every Node SDK flavour (tea V3/V2, pop-core GET/POST).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ERROR_CASES, FLAVOURS, RAM_OWNER_ID, UUID_RE, expectSdkError, useEmulator,
} from './helpers.mjs';

let emu;
let sdks;
useEmulator((started, flavours) => { emu = started; sdks = flavours; });

for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    for (const c of ERROR_CASES) {
      it(c.id, async () => {
        const sdk = sdks[flavour];
        const err = await expectSdkError(sdk, c.action, c.params, c.creds);
        assert.deepEqual(
          { code: err.code, status: err.status, message: err.sdkMessage },
          { code: c.code, status: c.status, message: c.message },
          `${flavour} ${c.action} ${JSON.stringify(c.params)}`,
        );
        assert.match(err.requestId, UUID_RE);
        const body = err.data;
        assert.equal(body.Code, c.code);
        assert.equal(body.Message, c.message);
        assert.equal(body.RequestId, err.requestId);
        assert.equal(body.HostId, 'ecs.aliyuncs.com');
        assert.ok(typeof body.Recommend === 'string' && body.Recommend.length > 0, JSON.stringify(body));
        if (c.code === 'Forbidden.RAM') {
          const d = body.AccessDeniedDetail;
          assert.equal(typeof d, 'object', JSON.stringify(body));
          assert.equal(d.AuthAction, c.authAction);
          assert.equal(d.AuthPrincipalType, 'SubUser');
          assert.equal(d.AuthPrincipalDisplayName, c.authUser);
          assert.equal(String(d.AuthPrincipalOwnerId), RAM_OWNER_ID);
          assert.equal(d.NoPermissionType, 'ImplicitDeny');
          if (flavour.startsWith('node-tea')) assert.deepEqual(err.raw.accessDeniedDetail, d);
        }
      });
    }

    it('error request ids are fresh per call', async () => {
      const ids = new Set();
      for (let i = 0; i < 3; i++) {
        const e = await expectSdkError(sdks[flavour], 'EnableDiskEncryptionByDefault', { RegionId: 'cn-atlantis' }, 'default');
        assert.match(e.requestId, UUID_RE);
        ids.add(e.requestId);
      }
      assert.equal(ids.size, 3);
    });
  });
}

const SIG_PREFIX = 'Specified signature is not matched with our calculation. server string to sign is:';

describe('gateway errors', () => {
  for (const flavour of FLAVOURS) {
    it(`${flavour}: unknown AccessKeyId`, async () => {
      for (const [action, params] of [
        ['DescribeDiskEncryptionByDefaultStatus', { RegionId: 'cn-hangzhou' }],
        ['DescribeRegions', { AcceptLanguage: 'en-US' }],
      ]) {
        const e = await expectSdkError(sdks[flavour], action, params, 'unknown-key');
        assert.deepEqual([e.code, e.status, e.sdkMessage],
          ['InvalidAccessKeyId.NotFound', 404, 'Specified access key is not found.']);
        assert.match(e.requestId, UUID_RE);
      }
    });

    it(`${flavour}: wrong secret`, async () => {
      for (const [action, params] of [
        ['ModifyDiskDefaultKMSKeyId', { RegionId: 'cn-hangzhou', KMSKeyId: 'alias/demo' }],
        ['DescribeRegions', { AcceptLanguage: 'en-US' }],
      ]) {
        const e = await expectSdkError(sdks[flavour], action, params, 'wrong-secret');
        assert.deepEqual([e.code, e.status], ['SignatureDoesNotMatch', 400]);
        assert.ok(e.sdkMessage.startsWith(SIG_PREFIX), e.sdkMessage);
        const sts = e.sdkMessage.slice(SIG_PREFIX.length);
        const method = flavour === 'node-pop-core-get' ? 'GET' : 'POST';
        if (flavour === 'node-tea-v3') assert.ok(sts.startsWith('ACS3-HMAC-SHA256\n'), sts);
        else assert.ok(sts.startsWith(`${method}&%2F&`), sts);
        assert.match(e.requestId, UUID_RE);
      }
    });
  }
});
