// KMS (2016-01-20) through @alicloud/kms20160120 (rpc-client), and KMS state reaching ECS through
// every Node ECS flavour. Tables: ../kms_cases.json (shared with the Python runner).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  DATE_RE, DEFAULT_ACCOUNT_ID, ECS_API, FLAVOURS, KEY_HZ, KEY_HZ_ARN, KEY_HZ_DISABLED, KEY_ID_RE,
  KMS_API, KMS_CASES, KMS_FLAVOURS, REGION, REGION_IDS, Recorder, SERVICE_ALIAS, assertApiError,
  expectSdkError, kmsArn, makeKmsFlavours, useEmulator,
} from './helpers.mjs';

let emu;
let sdks;
let kmsSdks;
useEmulator((started, flavours) => {
  emu = started;
  sdks = flavours;
  kmsSdks = makeKmsFlavours(started.endpoint);
});

const STATE_FAILED = { status: 409, code: 'Rejected.StateModifiedFailed', message: 'Keystate modified failed.' };
const NO_PERMISSION = { status: 403, code: 'Forbidden.NoPermission', message: 'This operation is forbidden by permission system.' };
const KEY_NOT_FOUND = { status: 404, code: 'Forbidden.KeyNotFound', message: 'The specified Key is not found.' };
const ALIAS_NOT_FOUND = { status: 404, code: 'Forbidden.AliasNotFound', message: 'The specified Alias is not found.' };
const CMK_NOT_ENABLED = { status: 400, code: 'InvalidParameter.KMSKeyId.CMKNotEnabled', message: 'The CMK needs to be enabled.' };
const KMSKEYID_NOT_FOUND = (ref) => ({
  status: 403, code: 'InvalidOperation.KMSKeyIdNotFound', message: `The specified KMSKeyId not found, ${ref}.`,
});
const R = { RegionId: REGION };

async function expectKms(sdk, action, params, expected, creds = 'default') {
  assertApiError(await expectSdkError(sdk, action, params, creds), KMS_API, expected);
}

async function expectEcs(rec, action, params, expected, creds = 'default') {
  assertApiError(await expectSdkError(rec.sdk, action, params, creds), ECS_API, expected);
}

const keyIds = (body) => body.Keys.Key.map((k) => k.KeyId);
const state = async (rec, keyId) => (await rec.call('DescribeKey', { KeyId: keyId })).KeyMetadata.KeyState;
const parseDate = (text) => new Date(text.replace('Z', '.000Z'));

function assertNewKey(meta) {
  assert.match(meta.KeyId, KEY_ID_RE);
  assert.equal(meta.Arn, kmsArn(`key/${meta.KeyId}`));
  assert.equal(meta.Creator, DEFAULT_ACCOUNT_ID);
  assert.match(meta.CreationDate, DATE_RE);
  assert.ok(Math.abs(Date.now() - parseDate(meta.CreationDate)) < 5 * 60_000, meta.CreationDate);
}

/** CreateKey's metadata within DescribeKey's. */
function assertSameKey(created, described) {
  assert.deepEqual(Object.fromEntries(Object.keys(created).map((k) => [k, described[k]])), created);
}

for (const flavour of KMS_FLAVOURS) {
  describe(flavour, () => {
    const sdk = () => kmsSdks[flavour];

    it('fixture key by id, alias and ARN', async () => {
      const rec = new Recorder(sdk());
      const meta = (await rec.call('DescribeKey', { KeyId: KEY_HZ })).KeyMetadata;
      const pick = Object.fromEntries(['KeyId', 'Arn', 'KeyState', 'KeySpec', 'KeyUsage', 'Origin',
        'ProtectionLevel', 'Creator', 'DeleteDate', 'AutomaticRotation'].map((k) => [k, meta[k]]));
      assert.deepEqual(pick, {
        KeyId: KEY_HZ, Arn: KEY_HZ_ARN, KeyState: 'Enabled', KeySpec: 'Aliyun_AES_256',
        KeyUsage: 'ENCRYPT/DECRYPT', Origin: 'Aliyun_KMS', ProtectionLevel: 'SOFTWARE',
        Creator: DEFAULT_ACCOUNT_ID, DeleteDate: '', AutomaticRotation: 'Disabled',
      });
      assert.equal(meta.Description, "default account's enabled key");
      assert.deepEqual((await rec.call('DescribeKey', { KeyId: 'alias/demo' })).KeyMetadata, meta);
      assert.deepEqual((await rec.call('DescribeKey', { KeyId: KEY_HZ_ARN })).KeyMetadata, meta);
      assert.equal(await state(rec, KEY_HZ_DISABLED), 'Disabled');
      rec.assertUniqueIds();
    });

    for (const c of KMS_CASES.createKey) {
      it(`CreateKey ${c.id}`, async () => {
        const rec = new Recorder(sdk());
        const body = await rec.call('CreateKey', c.params);
        assert.deepEqual(Object.keys(body).sort(), ['KeyMetadata', 'RequestId']);
        const meta = body.KeyMetadata;
        assertNewKey(meta);
        assert.deepEqual(Object.fromEntries(Object.keys(c.expect).map((k) => [k, meta[k]])), c.expect);
        assertSameKey(meta, (await rec.call('DescribeKey', { KeyId: meta.KeyId })).KeyMetadata);
        assertSameKey(meta, (await rec.call('DescribeKey', { KeyId: meta.Arn })).KeyMetadata);
      });
    }

    it('key lifecycle and state rules', async () => {
      const rec = new Recorder(sdk());
      const meta = (await rec.call('CreateKey', { Description: 'lifecycle' })).KeyMetadata;
      assertNewKey(meta);
      const key = meta.KeyId;
      assert.deepEqual([meta.KeyState, meta.DeleteDate], ['Enabled', '']);
      assert.deepEqual(Object.keys(await rec.call('DisableKey', { KeyId: key })), ['RequestId']);
      assert.equal(await state(rec, key), 'Disabled');
      await rec.call('DisableKey', { KeyId: key });
      assert.deepEqual(Object.keys(await rec.call('EnableKey', { KeyId: key })), ['RequestId']);
      assert.equal(await state(rec, key), 'Enabled');

      assert.deepEqual(Object.keys(await rec.call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: 7 })), ['RequestId']);
      const pending = (await rec.call('DescribeKey', { KeyId: key })).KeyMetadata;
      assert.equal(pending.KeyState, 'PendingDeletion');
      assert.match(pending.DeleteDate, DATE_RE);
      const due = Date.now() + 7 * 86_400_000;
      assert.ok(Math.abs(parseDate(pending.DeleteDate) - due) < 5 * 60_000, pending.DeleteDate);
      for (const [action, params] of [['EnableKey', {}], ['DisableKey', {}],
        ['ScheduleKeyDeletion', { PendingWindowInDays: 30 }], ['CreateAlias', { AliasName: 'alias/too-late' }]]) {
        await expectKms(sdk(), action, { ...params, KeyId: key }, STATE_FAILED);
      }
      assert.deepEqual((await rec.call('DescribeKey', { KeyId: key })).KeyMetadata, pending);

      assert.deepEqual(Object.keys(await rec.call('CancelKeyDeletion', { KeyId: key })), ['RequestId']);
      const cancelled = (await rec.call('DescribeKey', { KeyId: key })).KeyMetadata;
      assert.deepEqual([cancelled.KeyState, cancelled.DeleteDate], ['Disabled', '']);
      await expectKms(sdk(), 'CancelKeyDeletion', { KeyId: key }, STATE_FAILED);
      await rec.call('EnableKey', { KeyId: key });
      assert.equal(await state(rec, key), 'Enabled');
      await rec.call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: 366 });
      assert.equal(await state(rec, key), 'PendingDeletion');
      rec.assertUniqueIds();
    });

    it('PendingImport state rules', async () => {
      const rec = new Recorder(sdk());
      const key = (await rec.call('CreateKey', { Origin: 'EXTERNAL' })).KeyMetadata.KeyId;
      assert.equal(await state(rec, key), 'PendingImport');
      for (const action of ['EnableKey', 'DisableKey', 'CancelKeyDeletion']) {
        await expectKms(sdk(), action, { KeyId: key }, STATE_FAILED);
      }
      await rec.call('CreateAlias', { AliasName: 'alias/imported', KeyId: key });
      assert.equal((await rec.call('DescribeKey', { KeyId: 'alias/imported' })).KeyMetadata.KeyId, key);
      await rec.call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: 7 });
      assert.equal(await state(rec, key), 'PendingDeletion');
      await rec.call('CancelKeyDeletion', { KeyId: 'alias/imported' });
      assert.equal(await state(rec, key), 'Disabled');
    });

    it('ListKeys paging', async () => {
      const rec = new Recorder(sdk());
      const boot = await rec.call('ListKeys');
      assert.deepEqual([boot.TotalCount, boot.PageNumber, boot.PageSize], [2, 1, 10]);
      assert.deepEqual(boot.Keys.Key, [
        { KeyId: KEY_HZ, KeyArn: KEY_HZ_ARN },
        { KeyId: KEY_HZ_DISABLED, KeyArn: kmsArn(`key/${KEY_HZ_DISABLED}`) },
      ]);
      const created = [];
      for (let i = 0; i < 3; i++) {
        created.push((await rec.call('CreateKey', { Description: `page ${i}` })).KeyMetadata.KeyId);
      }
      const everything = [KEY_HZ, KEY_HZ_DISABLED, ...created];
      assert.deepEqual(keyIds(await rec.call('ListKeys')), everything);
      const pages = [];
      for (const n of [1, 2, 3, 4]) {
        const body = await rec.call('ListKeys', { PageNumber: n, PageSize: 2 });
        assert.deepEqual([body.TotalCount, body.PageNumber, body.PageSize], [5, n, 2]);
        pages.push(keyIds(body));
      }
      assert.deepEqual(pages, [everything.slice(0, 2), everything.slice(2, 4), everything.slice(4), []]);
      assert.deepEqual(keyIds(await rec.call('ListKeys', { PageSize: 100 })), everything);
      assert.deepEqual(keyIds(await rec.call('ListKeys', { PageNumber: 5, PageSize: 1 })), [created[2]]);
      rec.assertUniqueIds();
    });

    it('ListKeys filters', async () => {
      const rec = new Recorder(sdk());
      const ids = { hz: KEY_HZ, hzDisabled: KEY_HZ_DISABLED };
      for (const k of KMS_CASES.filterKeys.keys) {
        const key = (await rec.call('CreateKey', k.params)).KeyMetadata.KeyId;
        ids[k.name] = key;
        if (k.then === 'DisableKey') await rec.call('DisableKey', { KeyId: key });
        if (k.then === 'ScheduleKeyDeletion') await rec.call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: 7 });
      }
      for (const c of KMS_CASES.filters) {
        const body = await rec.call('ListKeys', { Filters: JSON.stringify(c.filters), PageSize: 100 });
        const want = c.expect.map((n) => ids[n]);
        assert.deepEqual(keyIds(body), want, c.id);
        assert.equal(body.TotalCount, want.length, c.id);
      }
      const body = await rec.call('ListKeys', {
        Filters: JSON.stringify([{ Key: 'KeyState', Values: ['Enabled'] }]), PageNumber: 2, PageSize: 3,
      });
      assert.deepEqual([keyIds(body), body.TotalCount], [[ids.hsm], 4]);
    });

    it('aliases', async () => {
      const rec = new Recorder(sdk());
      const call = rec.call.bind(rec);
      const key = (await call('CreateKey', { Description: 'aliased' })).KeyMetadata.KeyId;
      assert.deepEqual(Object.keys(await call('CreateAlias', { AliasName: 'alias/team/app-1', KeyId: key })), ['RequestId']);
      await call('CreateAlias', { AliasName: 'alias/second', KeyId: kmsArn(`key/${key}`) });
      await call('CreateAlias', { AliasName: 'alias/disabled-one', KeyId: KEY_HZ_DISABLED });
      const meta = (await call('DescribeKey', { KeyId: key })).KeyMetadata;
      assert.deepEqual((await call('DescribeKey', { KeyId: 'alias/team/app-1' })).KeyMetadata, meta);
      assert.deepEqual((await call('DescribeKey', { KeyId: 'alias/second' })).KeyMetadata, meta);
      await expectKms(sdk(), 'CreateAlias', { AliasName: 'alias/second', KeyId: KEY_HZ },
        { status: 400, code: 'AliasAlreadyExists', message: 'AliasName Already Exists.' });

      const entry = (name, keyId) => ({ AliasName: name, AliasArn: kmsArn(name), KeyId: keyId });
      const want = [entry('alias/demo', KEY_HZ), entry('alias/disabled-one', KEY_HZ_DISABLED),
        entry('alias/team/app-1', key), entry('alias/second', key)];
      const listed = await call('ListAliases');
      assert.deepEqual(listed.Aliases.Alias, want);
      assert.deepEqual([listed.TotalCount, listed.PageNumber, listed.PageSize], [4, 1, 10]);
      const page = await call('ListAliases', { PageNumber: 2, PageSize: 3 });
      assert.deepEqual([page.Aliases.Alias, page.TotalCount, page.PageNumber, page.PageSize], [want.slice(3), 4, 2, 3]);

      await call('DisableKey', { KeyId: 'alias/team/app-1' });
      assert.equal(await state(rec, key), 'Disabled');
      await call('EnableKey', { KeyId: 'alias/second' });
      assert.equal(await state(rec, key), 'Enabled');

      assert.deepEqual(Object.keys(await call('DeleteAlias', { AliasName: 'alias/team/app-1' })), ['RequestId']);
      await expectKms(sdk(), 'DescribeKey', { KeyId: 'alias/team/app-1' }, ALIAS_NOT_FOUND);
      await expectKms(sdk(), 'DeleteAlias', { AliasName: 'alias/team/app-1' }, ALIAS_NOT_FOUND);
      assert.equal((await call('DescribeKey', { KeyId: 'alias/second' })).KeyMetadata.KeyId, key);
      assert.deepEqual((await call('ListAliases')).Aliases.Alias.map((a) => a.AliasName),
        ['alias/demo', 'alias/disabled-one', 'alias/second']);
      await call('CreateAlias', { AliasName: 'alias/team/app-1', KeyId: KEY_HZ });
      assert.equal((await call('DescribeKey', { KeyId: 'alias/team/app-1' })).KeyMetadata.KeyId, KEY_HZ);
      rec.assertUniqueIds();
    });

    it('the ECS service key: visible, but not the user\'s to disable, delete or alias', async () => {
      const rec = new Recorder(sdk());
      await expectKms(sdk(), 'DescribeKey', { KeyId: SERVICE_ALIAS }, ALIAS_NOT_FOUND);
      const service = (await new Recorder(sdks['node-tea-v3']).call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId;
      const meta = (await rec.call('DescribeKey', { KeyId: SERVICE_ALIAS })).KeyMetadata;
      assert.deepEqual([meta.KeyId, meta.Creator, meta.KeyState, meta.Arn], [service, 'Ecs', 'Enabled', kmsArn(`key/${service}`)]);
      assert.deepEqual((await rec.call('DescribeKey', { KeyId: service })).KeyMetadata, meta);
      assert.equal(keyIds(await rec.call('ListKeys')).at(-1), service);
      const byCreator = async (t) => keyIds(await rec.call('ListKeys', { Filters: JSON.stringify([{ Key: 'CreatorType', Values: [t] }]) }));
      assert.deepEqual(await byCreator('Service'), [service]);
      assert.deepEqual(await byCreator('User'), [KEY_HZ, KEY_HZ_DISABLED]);
      assert.ok((await rec.call('ListAliases')).Aliases.Alias.some((a) =>
        a.AliasName === SERVICE_ALIAS && a.KeyId === service && a.AliasArn === kmsArn(SERVICE_ALIAS)));
      for (const [action, params] of [
        ['DisableKey', { KeyId: service }], ['DisableKey', { KeyId: SERVICE_ALIAS }],
        ['ScheduleKeyDeletion', { KeyId: service, PendingWindowInDays: 7 }],
        ['CreateAlias', { AliasName: 'alias/mine', KeyId: service }],
      ]) {
        await expectKms(sdk(), action, params, NO_PERMISSION);
      }
      assert.deepEqual((await rec.call('DescribeKey', { KeyId: SERVICE_ALIAS })).KeyMetadata, meta);
      await expectKms(sdk(), 'DescribeKey', { KeyId: 'alias/mine' }, ALIAS_NOT_FOUND);
    });

    it('accounts do not see each other\'s keys', async () => {
      const mine = new Recorder(sdk());
      const theirs = new Recorder(sdk(), 'encryption-on');
      const key = (await mine.call('CreateKey', { Description: 'private' })).KeyMetadata;
      await mine.call('CreateAlias', { AliasName: 'alias/private', KeyId: key.KeyId });
      for (const ref of [key.KeyId, key.Arn]) {
        for (const [action, params] of [['DescribeKey', {}], ['DisableKey', {}], ['EnableKey', {}],
          ['ScheduleKeyDeletion', { PendingWindowInDays: 7 }]]) {
          await expectKms(sdk(), action, { ...params, KeyId: ref }, KEY_NOT_FOUND, 'encryption-on');
        }
      }
      await expectKms(sdk(), 'DescribeKey', { KeyId: 'alias/private' }, ALIAS_NOT_FOUND, 'encryption-on');
      assert.deepEqual(keyIds(await theirs.call('ListKeys')), ['key-hzz1configured0000001']);
      assert.deepEqual((await theirs.call('ListAliases')).Aliases.Alias.map((a) => a.AliasName), ['alias/configured']);
      await theirs.call('CreateAlias', { AliasName: 'alias/private', KeyId: 'key-hzz1configured0000001' });
      assert.equal((await theirs.call('DescribeKey', { KeyId: 'alias/private' })).KeyMetadata.Arn,
        kmsArn('key/key-hzz1configured0000001', REGION, '1000000000000107'));
      assertSameKey(key, (await mine.call('DescribeKey', { KeyId: 'alias/private' })).KeyMetadata);
      await expectKms(sdk(), 'DescribeKey', { KeyId: 'alias/configured' }, ALIAS_NOT_FOUND);
    });

    it('DescribeRegions (a form body with this SDK)', async () => {
      const regions = (await new Recorder(sdk()).call('DescribeRegions')).Regions.Region;
      assert.deepEqual(regions.map((r) => r.RegionId).sort(), [...REGION_IDS].sort());
      for (const r of regions) assert.deepEqual(Object.keys(r), ['RegionId']);
    });

    for (const c of KMS_CASES.errors) {
      it(`error ${c.id}`, async () => {
        const err = await expectSdkError(sdk(), c.action, c.params, c.creds);
        assertApiError(err, KMS_API, c);
      });
    }

    it('failed calls change nothing', async () => {
      const rec = new Recorder(sdk());
      const keysBefore = (await rec.call('ListKeys')).Keys;
      const aliasesBefore = (await rec.call('ListAliases')).Aliases;
      for (const c of KMS_CASES.errors.filter((x) => x.creds === 'default')) {
        await expectSdkError(sdk(), c.action, c.params, c.creds);
      }
      assert.deepEqual((await rec.call('ListKeys')).Keys, keysBefore);
      assert.deepEqual((await rec.call('ListAliases')).Aliases, aliasesBefore);
      assert.equal(await state(rec, KEY_HZ), 'Enabled');
      assert.equal(await state(rec, KEY_HZ_DISABLED), 'Disabled');
    });
  });
}

// KMS state reaching ECS (kms.md "How KMS state reaches ECS"): every KMS flavour with every ECS one.
for (const kmsFlavour of KMS_FLAVOURS) {
  for (const ecsFlavour of FLAVOURS) {
    describe(`${kmsFlavour} + ${ecsFlavour}`, () => {
      const recs = (creds = 'default') => [new Recorder(kmsSdks[kmsFlavour], creds), new Recorder(sdks[ecsFlavour], creds)];

      it('the key state decides what ECS accepts', async () => {
        const [k, e] = recs();
        const meta = (await k.call('CreateKey', { Description: 'disks' })).KeyMetadata;
        const key = meta.KeyId;
        const modify = (ref) => e.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: ref });
        const refused = (ref) => expectEcs(e, 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: ref }, CMK_NOT_ENABLED);
        const configured = async () => (await e.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId;
        await e.call('EnableDiskEncryptionByDefault', R);
        await modify(key);
        assert.equal(await configured(), key);

        await k.call('DisableKey', { KeyId: key });
        await refused(key);
        await k.call('EnableKey', { KeyId: key });
        await modify(key);

        await k.call('CreateAlias', { AliasName: 'alias/disks', KeyId: key });
        await e.call('ResetDiskDefaultKMSKeyId', R);
        await modify('alias/disks');
        assert.equal(await configured(), key);
        await e.call('ResetDiskDefaultKMSKeyId', R);
        await modify(meta.Arn);
        assert.equal(await configured(), key);

        await k.call('ScheduleKeyDeletion', { KeyId: key, PendingWindowInDays: 7 });
        for (const ref of [key, 'alias/disks', meta.Arn]) await refused(ref);
        await k.call('CancelKeyDeletion', { KeyId: key });
        await refused(key);
        await k.call('EnableKey', { KeyId: key });
        await modify('alias/disks');
        assert.equal(await configured(), key);
        k.assertUniqueIds();
        e.assertUniqueIds();
      });

      it('a disabled configured key blocks enabling default encryption', async () => {
        const [k, e] = recs();
        const key = (await k.call('CreateKey')).KeyMetadata.KeyId;
        await e.call('EnableDiskEncryptionByDefault', R);
        await e.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: key });
        await e.call('DisableDiskEncryptionByDefault', R);
        await k.call('DisableKey', { KeyId: key });
        await expectEcs(e, 'EnableDiskEncryptionByDefault', R, CMK_NOT_ENABLED);
        assert.equal((await e.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, false);
        await k.call('EnableKey', { KeyId: key });
        await e.call('EnableDiskEncryptionByDefault', R);
        assert.equal((await e.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, true);
        assert.equal((await e.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId, key);
      });

      it('keys of another account are invisible to ECS', async () => {
        const [k, e] = recs();
        const [otherKms, otherEcs] = recs('encryption-on');
        const theirs = (await otherKms.call('CreateKey', { Description: 'not yours' })).KeyMetadata;
        await e.call('EnableDiskEncryptionByDefault', R);
        for (const ref of [theirs.KeyId, theirs.Arn]) {
          await expectEcs(e, 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: ref }, KMSKEYID_NOT_FOUND(ref));
        }
        const mine = (await k.call('CreateKey')).KeyMetadata.KeyId;
        for (const ref of [mine, KEY_HZ]) {
          await expectEcs(e, 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: ref }, KMSKEYID_NOT_FOUND(ref), 'encryption-on');
        }
        await otherEcs.call('ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: theirs.KeyId });
      });

      it('the ECS service key appears in KMS', async () => {
        const [k, e] = recs();
        const service = (await e.call('DescribeDiskDefaultKMSKeyId', R)).KMSKeyId;
        const meta = (await k.call('DescribeKey', { KeyId: SERVICE_ALIAS })).KeyMetadata;
        assert.deepEqual([meta.KeyId, meta.Creator], [service, 'Ecs']);
      });
    });
  }
}
