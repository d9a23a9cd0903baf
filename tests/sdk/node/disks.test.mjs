// Cloud disks (disks.md section 3) in every Node SDK flavour (tea V3/V2, pop-core GET/POST):
// the whole story, the encryption table, paging both ways, ClientToken idempotency, filters,
// and every documented error of sections 3.2-3.4 (the table is shared with Python:
// ecs_cases.json "disks"). Parameters are in wire names, repeated ones as lists
// (Tag: [{Key, Value}], ModifyDiskAttribute DiskIds: [...]): the tea adapter builds the item
// models, pop-core flattens lists itself (Tag.1.Key, DiskIds.1). DescribeDisks takes DiskIds
// as one JSON array string. Node sends booleans as true/false.
//
// XML is not tested here: no Node SDK can ask for it (tea V3 sends no Format and accepts only
// JSON; pop-core always JSON.parses the answer). py-core covers XML (test_disks.py).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_ACCOUNT_ID, DISK_ERROR_CASES, ECS_API, FLAVOURS, KEY_HZ, KEY_HZ_ARN, MSG_FORBIDDEN_RAM,
  REGION, Recorder, UUID_RE, assertApiError, expectSdkError, useEmulator,
} from './helpers.mjs';

let emu;
let sdks;
useEmulator((started, flavours) => { emu = started; sdks = flavours; });

const R = { RegionId: REGION };
const ESSD = { ...R, ZoneId: 'cn-hangzhou-h', DiskCategory: 'cloud_essd', Size: 40 };
const DISK_ID_RE = /^d-[0-9a-z]{20}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

// disks.md section 3.3: every field of a disk and its JSON type (never null)
const S = 'string';
const N = 'number';
const B = 'boolean';
const O = 'object';
const DISK_FIELDS = {
  DiskId: S, RegionId: S, ZoneId: S, DiskName: S, Description: S, Type: S, Category: S,
  PerformanceLevel: S, Size: N, Encrypted: B, KMSKeyId: S, Status: S, Portable: B,
  DeleteWithInstance: B, DeleteAutoSnapshot: B, EnableAutoSnapshot: B,
  EnableAutomatedSnapshotPolicy: B, DiskChargeType: S, ExpiredTime: S, CreationTime: S,
  AttachedTime: S, DetachedTime: S, InstanceId: S, Device: S, ImageId: S, SourceSnapshotId: S,
  AutoSnapshotPolicyId: S, ResourceGroupId: S, StorageSetId: S, MultiAttach: S, SerialNumber: S,
  IOPS: N, Throughput: N, BurstingEnabled: B, ProvisionedIops: N, MountInstanceNum: N,
  Tags: O, Attachments: O, OperationLocks: O, MountInstances: O,
};
const LISTS = { Tags: 'Tag', Attachments: 'Attachment', OperationLocks: 'OperationLock', MountInstances: 'MountInstance' };

function assertDiskShape(d) {
  for (const [name, type] of Object.entries(DISK_FIELDS)) {
    assert.ok(name in d, `${name} missing: ${JSON.stringify(d)}`);
    assert.notEqual(d[name], null, name);
    assert.equal(typeof d[name], type, `${name}: ${JSON.stringify(d[name])}`);
    if (type === N) assert.ok(Number.isInteger(d[name]), name);
  }
  for (const [outer, inner] of Object.entries(LISTS)) {
    assert.deepEqual(Object.keys(d[outer]), [inner], outer);
    assert.ok(Array.isArray(d[outer][inner]), outer);
  }
  assert.match(d.DiskId, DISK_ID_RE);
  assert.equal(d.SerialNumber, d.DiskId.slice(2));
  assert.match(d.CreationTime, TIME_RE);
  assert.equal(d.ExpiredTime, '2999-09-08T16:00Z');
  assert.equal(d.DiskChargeType, 'PostPaid');
  assert.equal(d.Type, 'data');
  for (const f of ['AttachedTime', 'DetachedTime', 'InstanceId', 'Device', 'ImageId', 'SourceSnapshotId', 'AutoSnapshotPolicyId', 'StorageSetId']) {
    assert.equal(d[f], '', f);
  }
  assert.deepEqual(d.Attachments.Attachment, []);
  assert.deepEqual(d.OperationLocks.OperationLock, []);
  assert.deepEqual(d.MountInstances.MountInstance, []);
  if (d.Encrypted) assert.match(d.KMSKeyId, /^key-/);
  else assert.equal(d.KMSKeyId, '');
}

/** DescribeDisks (of these ids, as one JSON array string): the Disk list, each disk checked. */
async function disks(rec, ids = [], params = {}) {
  const p = { ...R, ...params };
  if (ids.length) p.DiskIds = JSON.stringify(ids);
  const body = await rec.call('DescribeDisks', p);
  const list = body.Disks.Disk;
  assert.ok(Array.isArray(list), JSON.stringify(body));
  list.forEach(assertDiskShape);
  return list;
}

async function oneDisk(rec, id, params = {}) {
  const list = await disks(rec, [id], params);
  assert.deepEqual(list.map((d) => d.DiskId), [id]);
  return list[0];
}

async function create(rec, params = {}) {
  const body = await rec.call('CreateDisk', { ...ESSD, ...params });
  assert.deepEqual(Object.keys(body).sort(), ['DiskId', 'RequestId']);
  assert.match(body.DiskId, DISK_ID_RE);
  return body.DiskId;
}

/** newest first: creation time descending, then disk id descending */
function assertNewestFirst(list) {
  const keys = list.map((d) => `${d.CreationTime} ${d.DiskId}`);
  assert.deepEqual(keys, [...keys].sort().reverse());
}

const ids = (list) => list.map((d) => d.DiskId);
const sorted = (a) => [...a].sort();

/** "$name" placeholders (inside strings too) replaced by the setup results. */
function substitute(value, names) {
  if (typeof value === 'string') {
    return Object.entries(names).reduce((s, [n, v]) => s.split(`$${n}`).join(v), value);
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, names));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, names)]));
  }
  return value;
}

for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    it('the whole story: default key, Reset to the service key, Modify, Resize, Delete', async () => {
      const rec = new Recorder(sdks[flavour]);
      assert.deepEqual(Object.keys(await rec.call('EnableDiskEncryptionByDefault', R)), ['RequestId']);
      assert.deepEqual(Object.keys(await rec.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: KEY_HZ })), ['RequestId']);

      const first = await create(rec); // no Encrypted
      let d = await oneDisk(rec, first);
      assert.deepEqual([d.Encrypted, d.KMSKeyId], [true, KEY_HZ]);
      assert.deepEqual(
        [d.RegionId, d.ZoneId, d.Category, d.PerformanceLevel, d.Size, d.Status, d.DiskName, d.Description,
          d.Portable, d.DeleteWithInstance, d.DeleteAutoSnapshot, d.EnableAutoSnapshot,
          d.EnableAutomatedSnapshotPolicy, d.MultiAttach, d.ResourceGroupId, d.BurstingEnabled, d.ProvisionedIops],
        [REGION, 'cn-hangzhou-h', 'cloud_essd', 'PL1', 40, 'Available', '', '', true, false, false, true,
          false, 'Disabled', '', false, 0],
      );
      assert.deepEqual([d.IOPS, d.Throughput], [3800, 140]);
      assert.deepEqual(d.Tags.Tag, []);

      assert.deepEqual(Object.keys(await rec.call('ResetDiskDefaultKMSKeyId', R)), ['RequestId']);
      const serviceKey = (await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId;
      assert.match(serviceKey, /^key-/);
      assert.notEqual(serviceKey, KEY_HZ);
      const second = await create(rec);
      assert.notEqual(second, first);
      const d2 = await oneDisk(rec, second);
      assert.deepEqual([d2.Encrypted, d2.KMSKeyId], [true, serviceKey]);
      assert.equal((await oneDisk(rec, first)).KMSKeyId, KEY_HZ);
      const both = await disks(rec, [first, second]);
      assert.deepEqual(sorted(ids(both)), sorted([first, second]));
      assertNewestFirst(both);

      assert.deepEqual(Object.keys(await rec.call('ModifyDiskAttribute', {
        ...R, DiskId: first, DiskName: 'data-disk_1:a.b', Description: 'the first disk', DeleteWithInstance: true, EnableAutoSnapshot: false,
      })), ['RequestId']);
      d = await oneDisk(rec, first);
      assert.deepEqual([d.DiskName, d.Description, d.DeleteWithInstance, d.EnableAutoSnapshot, d.DeleteAutoSnapshot],
        ['data-disk_1:a.b', 'the first disk', true, false, false]);
      assert.equal((await oneDisk(rec, first, { DiskName: 'data-disk_1:a.b' })).DiskId, first);

      // ResizeDisk and DeleteDisk: no RegionId in the SDK models
      assert.deepEqual(Object.keys(await rec.call('ResizeDisk', { DiskId: first, NewSize: 100 })), ['RequestId']);
      d = await oneDisk(rec, first);
      assert.deepEqual([d.Size, d.Encrypted, d.KMSKeyId, d.IOPS, d.Throughput], [100, true, KEY_HZ, 6800, 170]);
      await rec.call('ResizeDisk', { DiskId: first, NewSize: 200, Type: 'online' });
      assert.equal((await oneDisk(rec, first)).Size, 200);

      assert.deepEqual(Object.keys(await rec.call('DeleteDisk', { DiskId: first })), ['RequestId']);
      assert.deepEqual(await disks(rec, [first]), []);
      assert.deepEqual(ids(await disks(rec)), [second]);
      rec.assertUniqueIds();
    });

    it('tags, names and the PL0 performance', async () => {
      const rec = new Recorder(sdks[flavour]);
      const id = await create(rec, {
        DiskName: '日志盘-1', Description: "中文 description ~*'()!", ResourceGroupId: 'rg-acfmexample01',
        MultiAttach: 'Enabled', PerformanceLevel: 'PL0', Size: 1,
        Tag: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'storage' }, { Key: 'empty', Value: '' }],
      });
      const d = await oneDisk(rec, id);
      assert.deepEqual(Object.fromEntries(d.Tags.Tag.map((t) => [t.TagKey, t.TagValue])), { env: 'test', team: 'storage', empty: '' });
      assert.deepEqual([d.DiskName, d.Description, d.ResourceGroupId, d.MultiAttach, d.PerformanceLevel, d.Size, d.IOPS, d.Throughput],
        ['日志盘-1', "中文 description ~*'()!", 'rg-acfmexample01', 'Enabled', 'PL0', 1, 1812, 100]);
    });

    for (const [name, creds, params, expected] of [
      ['off, absent', 'default', {}, [false, '']],
      ['off, false', 'default', { Encrypted: false }, [false, '']],
      ['off, true: the service key', 'default', { Encrypted: true }, [true, 'service']],
      ['off, true, key id', 'default', { Encrypted: true, KMSKeyId: KEY_HZ }, [true, KEY_HZ]],
      ['off, true, alias', 'default', { Encrypted: true, KMSKeyId: 'alias/demo' }, [true, KEY_HZ]],
      ['off, true, ARN', 'default', { Encrypted: true, KMSKeyId: KEY_HZ_ARN }, [true, KEY_HZ]],
      ['on, absent: the configured key', 'encryption-on', {}, [true, 'key-hzz1configured0000001']],
      ['on, true', 'encryption-on', { Encrypted: true }, [true, 'key-hzz1configured0000001']],
      ['on, absent, explicit key', 'encryption-on', { KMSKeyId: 'alias/configured' }, [true, 'key-hzz1configured0000001']],
    ]) {
      it(`which key encrypts the disk: ${name}`, async () => {
        const rec = new Recorder(sdks[flavour], creds);
        const d = await oneDisk(rec, await create(rec, params));
        let [encrypted, key] = expected;
        if (key === 'service') {
          key = (await rec.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId;
          assert.match(key, /^key-/);
          assert.notEqual(key, KEY_HZ);
        }
        assert.deepEqual([d.Encrypted, d.KMSKeyId], [encrypted, key]);
      });
    }

    it('paging by page number over 15 disks', async () => {
      const rec = new Recorder(sdks[flavour]);
      const made = [];
      for (let n = 0; n < 15; n++) made.push(await create(rec, { DiskName: `disk-${n}` }));
      const seen = [];
      for (const page of [1, 2]) {
        const body = await rec.call('DescribeDisks', { ...R, PageNumber: page, PageSize: 10 });
        assert.deepEqual([body.TotalCount, body.PageNumber, body.PageSize], [15, page, 10]);
        assert.equal(body.Disks.Disk.length, page === 1 ? 10 : 5);
        seen.push(...body.Disks.Disk);
      }
      assert.deepEqual(sorted(ids(seen)), sorted(made));
      assertNewestFirst(seen);
      const body = await rec.call('DescribeDisks', { ...R, PageNumber: 4, PageSize: 4 });
      assert.deepEqual(ids(body.Disks.Disk), ids(seen.slice(12)));
    });

    it('paging by NextToken over 15 disks', async () => {
      const rec = new Recorder(sdks[flavour]);
      const made = [];
      for (let n = 0; n < 15; n++) made.push(await create(rec));
      let body = await rec.call('DescribeDisks', { ...R, MaxResults: 5 }); // below 10 counts as 10
      const first = body.Disks.Disk;
      assert.deepEqual([first.length, body.TotalCount], [10, 15]);
      assert.ok(typeof body.NextToken === 'string' && body.NextToken.length > 0, JSON.stringify(body));
      body = await rec.call('DescribeDisks', { ...R, MaxResults: 10, NextToken: body.NextToken, PageNumber: 7 });
      assert.deepEqual([body.Disks.Disk.length, body.NextToken, body.TotalCount], [5, '', 15]);
      assert.deepEqual(sorted(ids([...first, ...body.Disks.Disk])), sorted(made));
      assertNewestFirst([...first, ...body.Disks.Disk]);
    });

    it('ClientToken answers the same disk; other parameters are refused', async () => {
      const sdk = sdks[flavour];
      const rec = new Recorder(sdk);
      const params = { ClientToken: 'idem-token-0001', Encrypted: true, DiskName: 'idem', Tag: [{ Key: 'env', Value: 'test' }] };
      const id = await create(rec, params);
      assert.equal(await create(rec, params), id);
      assert.deepEqual(ids(await disks(rec)), [id]);
      assertApiError(await expectSdkError(sdk, 'CreateDisk', { ...ESSD, ...params, Size: 41 }, 'default'), ECS_API,
        { status: 403, code: 'IdempotentParameterMismatch', message: 'The specified clientToken is used.' });
      assert.notEqual(await create(rec, { ...params, ClientToken: 'idem-token-0002' }), id);
      assert.equal((await disks(rec)).length, 2);
    });

    it('DescribeDisks filters', async () => {
      const rec = new Recorder(sdks[flavour]);
      const plain = await create(rec, { ZoneId: 'cn-hangzhou-i', DiskCategory: 'cloud_efficiency', Size: 20, Tag: [{ Key: 'env', Value: 'dev' }] });
      const keyed = await create(rec, { Encrypted: true, KMSKeyId: KEY_HZ, DiskName: 'keyed', Tag: [{ Key: 'env', Value: 'test' }, { Key: 'team', Value: 'a' }] });
      const service = await create(rec, { Encrypted: true, ZoneId: 'cn-hangzhou-k', DiskCategory: 'cloud_auto', Size: 30 });
      const find = async (params) => {
        const list = await disks(rec, [], params);
        assertNewestFirst(list);
        return sorted(ids(list));
      };
      const all = sorted([plain, keyed, service]);
      assert.deepEqual(await find({}), all);
      assert.deepEqual(await find({ ZoneId: 'cn-hangzhou-i' }), [plain]);
      assert.deepEqual(await find({ Category: 'cloud_efficiency' }), [plain]);
      assert.deepEqual(await find({ Encrypted: true }), sorted([keyed, service]));
      assert.deepEqual(await find({ Encrypted: false }), [plain]);
      assert.deepEqual(await find({ KMSKeyId: KEY_HZ }), [keyed]);
      assert.deepEqual(await find({ DiskName: 'keyed' }), [keyed]);
      assert.deepEqual(await find({ DiskType: 'system' }), []);
      assert.deepEqual(await find({ Portable: true, DeleteWithInstance: false, Status: 'Available' }), all);
      assert.deepEqual(await find({ Tag: [{ Key: 'env', Value: 'test' }] }), [keyed]);
      assert.deepEqual(await find({ Tag: [{ Key: 'env' }] }), sorted([plain, keyed]));
      assert.deepEqual(await find({ DiskIds: JSON.stringify([plain, 'd-bp1doesnotexist00001']) }), [plain]);
      const body = await rec.call('DescribeDisks', { ...R, DiskIds: '[]' });
      assert.deepEqual([body.TotalCount, body.Disks.Disk], [0, []]);
    });

    it('ModifyDiskAttribute of several disks by DiskIds.N', async () => {
      const rec = new Recorder(sdks[flavour]);
      const [a, b, c] = [await create(rec), await create(rec), await create(rec)];
      await rec.call('ModifyDiskAttribute', { ...R, DiskIds: [a, b], DeleteAutoSnapshot: true, Description: 'pair' });
      const byId = Object.fromEntries((await disks(rec)).map((d) => [d.DiskId, d]));
      assert.deepEqual([a, b, c].map((x) => [byId[x].DeleteAutoSnapshot, byId[x].Description]),
        [[true, 'pair'], [true, 'pair'], [false, '']]);
    });

    it('DeleteDisk and ResizeDisk find the disk in its own region', async () => {
      const rec = new Recorder(sdks[flavour]);
      const sh = (await rec.call('CreateDisk', { RegionId: 'cn-shanghai', ZoneId: 'cn-shanghai-f', DiskCategory: 'cloud_ssd', Size: 20 })).DiskId;
      await rec.call('ResizeDisk', { DiskId: sh, NewSize: 64 });
      assert.equal((await oneDisk(rec, sh, { RegionId: 'cn-shanghai' })).Size, 64);
      await rec.call('DeleteDisk', { DiskId: sh });
      assert.deepEqual(await disks(rec, [sh], { RegionId: 'cn-shanghai' }), []);
    });

    it('a RAM reader may describe disks but not create them', async () => {
      const sdk = sdks[flavour];
      const id = await create(new Recorder(sdk, 'ram-ecs-admin'));
      assert.deepEqual(ids(await disks(new Recorder(sdk, 'ram-ecs-reader'))), [id]);
      assertApiError(await expectSdkError(sdk, 'CreateDisk', ESSD, 'ram-ecs-reader'), ECS_API, {
        status: 403, code: 'Forbidden.RAM', message: MSG_FORBIDDEN_RAM, authAction: 'ecs:CreateDisk', authUser: 'ecs-reader',
      });
    });

    describe('documented disk errors', () => {
      for (const c of DISK_ERROR_CASES) {
        it(c.id, async () => {
          const sdk = sdks[flavour];
          if (c.stateDisks) {
            const r = await emu.admin('PATCH', `/_emulator/accounts/${DEFAULT_ACCOUNT_ID}`, { disks: c.stateDisks });
            assert.equal(r.status, 200, JSON.stringify(r.body));
          }
          const names = {};
          for (const step of c.setup || []) {
            const body = await new Recorder(sdk, step.creds || 'default').call(step.action, substitute(step.params, names));
            if (step.as) names[step.as] = body.DiskId;
          }
          const rec = new Recorder(sdk);
          const before = await disks(rec);
          const err = await expectSdkError(sdk, c.action, substitute(c.params, names), c.creds);
          assertApiError(err, ECS_API, { status: c.status, code: c.code, message: c.message });
          assert.match(err.requestId, UUID_RE);
          assert.deepEqual(await disks(rec), before); // nothing changed
        });
      }
    });
  });
}

describe('cross-SDK', () => {
  it('a ClientToken used by one Node SDK answers the same disk to the others', async () => {
    const params = { ...ESSD, ClientToken: 'cross-sdk-token', Encrypted: true, Tag: [{ Key: 'env', Value: 'test' }] };
    const got = {};
    for (const flavour of FLAVOURS) got[flavour] = (await new Recorder(sdks[flavour]).call('CreateDisk', params)).DiskId;
    assert.equal(new Set(Object.values(got)).size, 1, JSON.stringify(got));
    assert.equal((await disks(new Recorder(sdks['node-tea-v3']))).length, 1);
  });

  it('a disk created through one Node SDK is modified, resized and deleted through the others', async () => {
    const [a, b, c, d] = FLAVOURS.map((f) => new Recorder(sdks[f]));
    const id = await create(a, { Tag: [{ Key: 'env', Value: 'test' }] });
    await b.call('ModifyDiskAttribute', { ...R, DiskIds: [id], DiskName: 'shared' });
    await c.call('ResizeDisk', { DiskId: id, NewSize: 80 });
    const disk = await oneDisk(d, id);
    assert.deepEqual([disk.DiskName, disk.Size, disk.Tags.Tag], ['shared', 80, [{ TagKey: 'env', TagValue: 'test' }]]);
    await d.call('DeleteDisk', { DiskId: id });
    assert.deepEqual(await disks(a), []);
  });
});
