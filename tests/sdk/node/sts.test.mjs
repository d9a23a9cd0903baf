// STS (2015-04-01) through @alicloud/sts20150401 (tea V3 and V2) and pop-core (GET and POST):
// GetCallerIdentity, AssumeRole and its errors, and the issued credentials (with their token)
// used with the ECS flavour of the same name. Tables: ../sts_cases.json (shared with the Python
// runner). Contract: shared/spec/sts.md.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  CREDS, DATE_RE, DEFAULT_ACCOUNT_ID, ECS_API, FLAVOURS, KEY_HZ, MSG_FORBIDDEN_RAM, REGION,
  Recorder, STS_API, STS_CASES, assertApiError, expectSdkError, makeStsFlavours, useEmulator,
} from './helpers.mjs';

let emu;
let ecsSdks;
let stsSdks;
useEmulator((started, flavours) => {
  emu = started;
  ecsSdks = flavours;
  stsSdks = makeStsFlavours(started.endpoint);
});

const R = { RegionId: REGION };
const ECS_OPERATOR = 'ecs-operator';
const ECS_OPERATOR_ID = '300012345678901234';
const ECS_OPERATOR_ARN = `acs:ram::${DEFAULT_ACCOUNT_ID}:role/${ECS_OPERATOR}`;
const STS_AK_RE = /^STS\.[A-Za-z0-9]{24,}$/;
const NO_PERMISSION = {
  status: 403, code: 'NoPermission', message: 'You are not authorized to do this action. You should be authorized by RAM.',
};
const MISMATCH = { status: 400, code: 'InvalidSecurityToken.Mismatch', message: 'Specified SecurityToken mismatch with the AccessKey.' };
const MISSING_TOKEN = { status: 400, code: 'MissingSecurityToken', message: 'SecurityToken is mandatory for this action.' };
const KEY_NOT_FOUND = { status: 404, code: 'InvalidAccessKeyId.NotFound', message: 'Specified access key is not found.' };

// ------------------------------------------------------------------ table helpers
/** A valid policy document of exactly `size` characters (sts_cases.json $policyOfSize). */
function policyOfSize(size) {
  const head = '{"Version": "1", "Statement": [{"Effect": "Allow", "Action": ["ecs:Describe*"], '
    + '"Resource": "acs:ecs:*:*:instance/';
  const tail = '"}]}';
  const pad = size - head.length - tail.length;
  assert.ok(pad > 0, String(size));
  return head + 'x'.repeat(pad) + tail;
}

/** A parameter value of the table, its macros expanded (see the table's comment). */
function expand(value) {
  if (value && typeof value === 'object' && '$repeat' in value) return value.$repeat.repeat(value.times);
  if (value && typeof value === 'object' && '$policyOfSize' in value) return policyOfSize(value.$policyOfSize);
  return value;
}

const expandParams = (params) => Object.fromEntries(Object.entries(params).map(([k, v]) => [k, expand(v)]));

/** POST the table's accounts; their RAM users' keys become CREDS '<account>/<userName>'. */
async function createAccounts(names = []) {
  for (const name of names) {
    const body = STS_CASES.accounts[name];
    const r = await emu.admin('POST', '/_emulator/accounts', body);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    for (const user of body.ramUsers) {
      const [key] = user.accessKeys;
      CREDS[`${name}/${user.userName}`] = [key.accessKeyId, key.accessKeySecret];
    }
  }
}

// ------------------------------------------------------------------ assertions
function assertIssued(body, { accountId, roleName, roleId, durationSeconds }, session) {
  assert.deepEqual(Object.keys(body).sort(), ['AssumedRoleUser', 'Credentials', 'RequestId']);
  assert.deepEqual(body.AssumedRoleUser, {
    AssumedRoleId: `${roleId}:${session}`, Arn: `acs:ram::${accountId}:role/${roleName}/${session}`,
  });
  const c = body.Credentials;
  assert.deepEqual(Object.keys(c).sort(), ['AccessKeyId', 'AccessKeySecret', 'Expiration', 'SecurityToken']);
  assert.match(c.AccessKeyId, STS_AK_RE);
  assert.ok(typeof c.AccessKeySecret === 'string' && c.AccessKeySecret.length > 0);
  assert.ok(c.SecurityToken.startsWith('CAIS'), c.SecurityToken);
  assert.match(c.Expiration, DATE_RE);
  const expected = Date.now() + durationSeconds * 1000;
  assert.ok(Math.abs(new Date(c.Expiration).getTime() - expected) < 120_000, c.Expiration);
}

const roleIdentity = (accountId, roleName, roleId, session) => ({
  IdentityType: 'AssumedRoleUser', AccountId: accountId, RoleId: roleId, PrincipalId: `${roleId}:${session}`,
  Arn: `acs:ram::${accountId}:assumed-role/${roleName}/${session}`,
});

async function identity(sdk, creds) {
  const { RequestId, ...rest } = await new Recorder(sdk, creds).call('GetCallerIdentity');
  assert.ok(RequestId);
  return rest;
}

/** AssumeRole; the issued credentials become CREDS 'session:<AccessKeyId>'. */
async function assume(sdk, { creds = 'deployer', roleArn = ECS_OPERATOR_ARN, session = 'ci-session', ...params } = {}) {
  const body = await new Recorder(sdk, creds).call('AssumeRole', { RoleArn: roleArn, RoleSessionName: session, ...params });
  const c = body.Credentials;
  const name = `session:${c.AccessKeyId}`;
  CREDS[name] = [c.AccessKeyId, c.AccessKeySecret, c.SecurityToken];
  return [name, body];
}

function assertStsError(err, expected) {
  assertApiError(err, STS_API, expected);
  assert.ok(!('HttpStatus' in err.data), JSON.stringify(err.data)); // the ECS envelope
}

// ------------------------------------------------------------------ tests
for (const flavour of FLAVOURS) {
  describe(flavour, () => {
    const sdk = () => stsSdks[flavour];

    for (const c of STS_CASES.callerIdentity) {
      it(`GetCallerIdentity ${c.id}`, async () => {
        await createAccounts(c.accounts);
        assert.deepEqual(await identity(sdk(), c.creds), c.expect);
      });
    }

    for (const c of STS_CASES.assumeRole) {
      it(`AssumeRole ${c.id}`, async () => {
        await createAccounts(c.accounts);
        const { RoleArn, RoleSessionName, ...rest } = expandParams(c.params);
        const [name, body] = await assume(sdk(), { creds: c.creds, roleArn: RoleArn, session: RoleSessionName, ...rest });
        assertIssued(body, c.expect, RoleSessionName);
        const e = c.expect;
        assert.deepEqual(await identity(sdk(), name), roleIdentity(e.accountId, e.roleName, e.roleId, RoleSessionName));
      });
    }

    for (const c of STS_CASES.errors) {
      it(`error ${c.id}`, async () => {
        await createAccounts(c.accounts);
        const err = await expectSdkError(sdk(), c.action, expandParams(c.params), c.creds);
        assertStsError(err, c);
      });
    }

    it('the issued credentials act as the role in ECS', async () => {
      const [name] = await assume(sdk());
      const ecs = ecsSdks[flavour];
      const asRole = new Recorder(ecs, name);
      const root = new Recorder(ecs);
      assert.equal((await asRole.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, false);
      assert.deepEqual(Object.keys(await asRole.call('EnableDiskEncryptionByDefault', R)), ['RequestId']);
      assert.equal((await root.call('DescribeDiskEncryptionByDefaultStatus', R)).Encrypted, true);
      // a role is never root
      const err = await expectSdkError(ecs, 'ModifyDiskDefaultKMSKeyId', { ...R, KMSKeyId: KEY_HZ }, name);
      assertApiError(err, ECS_API, {
        status: 403, code: 'Forbidden.RAM', message: MSG_FORBIDDEN_RAM,
        // <roleName>:<sessionName> (the README's choice)
        authAction: 'ecs:ModifyDiskDefaultKMSKeyId', authType: 'AssumedRoleUser', authUser: `${ECS_OPERATOR}:ci-session`,
      });
      assert.equal(err.data.AccessDeniedDetail.AuthPrincipalOwnerId, DEFAULT_ACCOUNT_ID);
      asRole.assertUniqueIds();
    });

    it('the issued credentials need their own token', async () => {
      const [name] = await assume(sdk());
      const [, other] = await assume(sdk(), { session: 'other-session' });
      const [ak, sk] = CREDS[name];
      CREDS[`${name}/no-token`] = [ak, sk];
      CREDS[`${name}/other-token`] = [ak, sk, other.Credentials.SecurityToken];
      const ecs = ecsSdks[flavour];
      assertApiError(await expectSdkError(ecs, 'DescribeDiskEncryptionByDefaultStatus', R, `${name}/no-token`), ECS_API, MISSING_TOKEN);
      assertApiError(await expectSdkError(ecs, 'DescribeDiskEncryptionByDefaultStatus', R, `${name}/other-token`), ECS_API, MISMATCH);
      assertApiError(await expectSdkError(sdk(), 'GetCallerIdentity', {}, `${name}/no-token`), STS_API, MISSING_TOKEN);
      assertApiError(await expectSdkError(sdk(), 'GetCallerIdentity', {}, `${name}/other-token`), STS_API, MISMATCH);
    });

    it('a session of a role without the STS policy cannot assume roles', async () => {
      const [name] = await assume(sdk());
      const err = await expectSdkError(sdk(), 'AssumeRole', { RoleArn: ECS_OPERATOR_ARN, RoleSessionName: 'again' }, name);
      assertStsError(err, NO_PERMISSION);
    });

    it('sessions end with reset', async () => {
      const [name] = await assume(sdk());
      assert.equal((await identity(sdk(), name)).IdentityType, 'AssumedRoleUser');
      await emu.reset();
      assertApiError(await expectSdkError(sdk(), 'GetCallerIdentity', {}, name), STS_API, KEY_NOT_FOUND);
    });

    it('the journal names the session', async () => {
      const [name] = await assume(sdk());
      const [ak] = CREDS[name];
      await new Recorder(ecsSdks[flavour], name).call('DescribeDiskEncryptionByDefaultStatus', R);
      const r = await emu.admin('GET', `/_emulator/requests?accessKeyId=${encodeURIComponent(ak)}`);
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.requests.map((e) => [e.principal, e.action, e.accountId]), [
        [`assumed-role/${ECS_OPERATOR}/ci-session`, 'DescribeDiskEncryptionByDefaultStatus', DEFAULT_ACCOUNT_ID],
      ]);
    });
  });
}

it('every Node flavour sees the same identity of one session', async () => {
  const [name] = await assume(stsSdks['node-tea-v3']);
  for (const flavour of FLAVOURS) {
    assert.deepEqual(await identity(stsSdks[flavour], name),
      roleIdentity(DEFAULT_ACCOUNT_ID, ECS_OPERATOR, ECS_OPERATOR_ID, 'ci-session'), flavour);
  }
});
