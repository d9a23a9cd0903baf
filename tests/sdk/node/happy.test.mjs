// The documented happy paths in every Node SDK flavour, and state shared across SDKs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  FIXTURE_KEYS, FLAVOURS, KEY_HZ, KEY_HZ_ARN, KEY_SH, REGION, REGION_IDS, Recorder,
  useEmulator,
} from './helpers.mjs';

let emu;
let sdks;
useEmulator((started, flavours) => { emu = started; sdks = flavours; });

const r = { RegionId: REGION };

async function regions(rec, params) {
  const body = await rec.call('DescribeRegions', params);
  const list = body.Regions.Region;
  return { list, byId: Object.fromEntries(list.map((x) => [x.RegionId, x])) };
}

for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    it('default encryption lifecycle', async () => {
      const rec = new Recorder(sdks[flavour]);
      const call = rec.call.bind(rec);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
      const serviceKey = (await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId;
      assert.match(serviceKey, /^key-/);
      assert.ok(!FIXTURE_KEYS.has(serviceKey), serviceKey);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);

      assert.deepEqual(Object.keys(await call('EnableDiskEncryptionByDefault', r)), ['RequestId']);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, true);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);

      assert.deepEqual(Object.keys(await call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: KEY_HZ })), ['RequestId']);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);

      await call('ResetDiskDefaultKMSKeyId', r);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);
      await call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: 'alias/demo' });
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);

      await call('ResetDiskDefaultKMSKeyId', r);
      await call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: KEY_HZ_ARN });
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);

      assert.deepEqual(Object.keys(await call('ResetDiskDefaultKMSKeyId', r)), ['RequestId']);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, serviceKey);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, true);

      assert.deepEqual(Object.keys(await call('DisableDiskEncryptionByDefault', r)), ['RequestId']);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
      rec.assertUniqueIds();
    });

    it('regions are independent; alias resolves in the request region', async () => {
      const rec = new Recorder(sdks[flavour]);
      const call = rec.call.bind(rec);
      await call('EnableDiskEncryptionByDefault', r);
      await call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: KEY_HZ });
      const sh = { RegionId: 'cn-shanghai' };
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', sh)).Encrypted, false);
      const shService = (await call('DescribeDiskDefaultKMSKeyId', sh)).KMSKeyId;
      assert.match(shService, /^key-/);
      assert.ok(!FIXTURE_KEYS.has(shService));
      await call('EnableDiskEncryptionByDefault', sh);
      await call('ModifyDiskDefaultKMSKeyId', { ...sh, KMSKeyId: 'alias/demo' });
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', sh)).KMSKeyId, KEY_SH);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);
    });

    it('demo-encryption-enabled account keeps its configured key across Disable/Enable', async () => {
      const rec = new Recorder(sdks[flavour], 'encryption-on');
      const call = rec.call.bind(rec);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, true);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, 'key-hzz1configured0000001');
      await call('DisableDiskEncryptionByDefault', r);
      assert.equal((await call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
      await call('EnableDiskEncryptionByDefault', r);
      assert.equal((await call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, 'key-hzz1configured0000001');
    });

    it('RAM users: what their policies allow', async () => {
      const reader = new Recorder(sdks[flavour], 'ram-ecs-reader');
      assert.equal((await reader.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, true);
      assert.match((await reader.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, /^key-/);
      assert.equal((await reader.call('DescribeRegions', { AcceptLanguage: 'en-US' })).Regions.Region.length, 29);
      const admin = new Recorder(sdks[flavour], 'ram-ecs-admin');
      await admin.call('DisableDiskEncryptionByDefault', r);
      assert.equal((await admin.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
      await admin.call('EnableDiskEncryptionByDefault', r);
      const root = new Recorder(sdks[flavour], 'ram-root');
      await root.call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: 'key-hzz1ramdemo00000000001' });
      assert.equal((await reader.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, 'key-hzz1ramdemo00000000001');
    });

    it('DescribeRegions en-US', async () => {
      const { list, byId } = await regions(new Recorder(sdks[flavour]), { AcceptLanguage: 'en-US' });
      assert.equal(list.length, 29);
      assert.deepEqual(Object.keys(byId).sort(), [...REGION_IDS].sort());
      assert.deepEqual(byId['cn-hangzhou'], {
        RegionId: 'cn-hangzhou', LocalName: 'China (Hangzhou)',
        RegionEndpoint: 'ecs-cn-hangzhou.aliyuncs.com', Status: 'available',
      });
      assert.equal(byId['cn-shanghai'].LocalName, 'China (Shanghai)');
      for (const [id, reg] of Object.entries(byId)) {
        assert.equal(reg.Status, 'available');
        if (id !== 'cn-hangzhou') assert.equal(reg.RegionEndpoint, `ecs.${id}.aliyuncs.com`);
      }
    });

    for (const [label, params] of [['default', {}], ['zh-CN', { AcceptLanguage: 'zh-CN' }]]) {
      it(`DescribeRegions ${label} is Chinese`, async () => {
        const { list, byId } = await regions(new Recorder(sdks[flavour]), params);
        assert.equal(list.length, 29);
        assert.equal(byId['cn-hangzhou'].LocalName, '华东1（杭州）');
        assert.equal(byId['cn-shanghai'].LocalName, '华东2（上海）');
      });
    }

    it('DescribeRegions ja falls back to English names', async () => {
      const { list, byId } = await regions(new Recorder(sdks[flavour]), { AcceptLanguage: 'ja' });
      assert.equal(list.length, 29);
      assert.equal(byId['cn-hangzhou'].LocalName, 'China (Hangzhou)');
    });

    it('success request ids are fresh per call', async () => {
      const rec = new Recorder(sdks[flavour]);
      for (let i = 0; i < 3; i++) await rec.call('DescribeDiskEncryptionByDefaultStatus', r);
      await rec.call('DescribeRegions');
      rec.assertUniqueIds();
    });
  });
}

describe('cross-SDK state', () => {
  const pairs = FLAVOURS.flatMap((w) => FLAVOURS.filter((x) => x !== w).map((x) => [w, x]));
  for (const [writer, reader] of pairs) {
    it(`${writer} -> ${reader}`, async () => {
      const w = new Recorder(sdks[writer]);
      const rd = new Recorder(sdks[reader]);
      assert.equal((await rd.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
      await w.call('EnableDiskEncryptionByDefault', r);
      assert.equal((await rd.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, true);
      await w.call('ModifyDiskDefaultKMSKeyId', { ...r, KMSKeyId: 'alias/demo' });
      assert.equal((await rd.call('DescribeDiskDefaultKMSKeyId', r)).KMSKeyId, KEY_HZ);
      await rd.call('DisableDiskEncryptionByDefault', r);
      assert.equal((await w.call('DescribeDiskEncryptionByDefaultStatus', r)).Encrypted, false);
    });
  }
});
