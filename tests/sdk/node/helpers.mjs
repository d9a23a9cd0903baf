// Shared harness for the Node real-SDK tests: emulator process, SDK adapters, data tables.
// Each *.test.mjs file starts its own emulator (node --test runs files in separate processes).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';
import { after, before, beforeEach } from 'node:test';

const require = createRequire(import.meta.url);
const ecs = require('@alicloud/ecs20140526');
const sts = require('@alicloud/sts20150401');
const openapi = require('@alicloud/openapi-core');
const { RPCClient } = require('@alicloud/pop-core');
// @alicloud/kms20160120 1.2.0: the only Node KMS 2016-01-20 package, on @alicloud/rpc-client
const kms = require('@alicloud/kms20160120');
const requireFromKms = createRequire(require.resolve('@alicloud/kms20160120'));
const { Config: RpcConfig } = requireFromKms('@alicloud/rpc-client');
const { RuntimeOptions } = requireFromKms('@alicloud/tea-util');

const { $OpenApiUtil, ClientError, ServerError, AlibabaCloudError } = openapi;

import { REPO_ROOT, binaryPath, startEmulator } from './emulator.mjs';

export { REPO_ROOT, binaryPath, startEmulator };
export const REGION = 'cn-hangzhou';
export const UUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;

// ------------------------------------------------------------------ fixture data
// name -> [AccessKeyId, secret, SecurityToken?]; all from fixtures/default.json
export const CREDS = {
  default: ['LTAI5tTestAccessKey01', 'TestSecret01'],
  'not-whitelisted': ['LTAI5tDemoNotWhitelisted', 'DemoSecretNotWhitelisted'],
  'kms-service-off': ['LTAI5tDemoKmsServiceOff', 'DemoSecretKmsServiceOff'],
  'kms-region-off': ['LTAI5tDemoKmsRegionOff', 'DemoSecretKmsRegionOff'],
  'role-not-granted': ['LTAI5tDemoRoleNotGranted', 'DemoSecretRoleNotGranted'],
  'key-unauthorized': ['LTAI5tDemoKeyUnauthorized', 'DemoSecretKeyUnauthorized'],
  'key-disabled': ['LTAI5tDemoKeyDisabled', 'DemoSecretKeyDisabled'],
  'encryption-on': ['LTAI5tDemoEncryptionOn', 'DemoSecretEncryptionOn'],
  'ram-root': ['LTAI5tDemoRamRoot', 'DemoSecretRamRoot'],
  'ram-ecs-admin': ['LTAI5tDemoRamEcsAdmin', 'DemoSecretRamEcsAdmin'],
  'ram-ecs-reader': ['LTAI5tDemoRamEcsReader', 'DemoSecretRamEcsReader'],
  'ram-no-policy': ['LTAI5tDemoRamNoPolicy', 'DemoSecretRamNoPolicy'],
  // RAM user of the default account whose one policy is AliyunSTSAssumeRoleAccess
  deployer: ['LTAI5tDemoDeployer01', 'DemoSecretDeployer01'],
  // not in the fixture / wrong secret: gateway errors
  'unknown-key': ['LTAI5tNoSuchAccessKey00', 'Whatever01'],
  'wrong-secret': ['LTAI5tTestAccessKey01', 'WrongSecret'],
  // inactive AccessKey of the default account
  'inactive-key': ['LTAI5tDemoInactiveKey01', 'DemoSecretInactive01'],
  // STS: root of the default account; root-of-default with a wrong token; expired;
  // a permanent key presented with a token; RAM user ecs-reader of account 1000000000000108
  'sts-root': ['STS.DemoDefaultRoot01', 'DemoSecretStsRoot01', 'CAIDemoSecurityTokenRoot01'],
  'sts-wrong-token': ['STS.DemoDefaultRoot01', 'DemoSecretStsRoot01', 'CAIWrongToken'],
  'sts-expired': ['STS.DemoExpired01', 'DemoSecretStsExpired01', 'CAIDemoSecurityTokenExpired01'],
  'permanent-with-token': ['LTAI5tTestAccessKey01', 'TestSecret01', 'CAIDemoSecurityTokenRoot01'],
  'sts-ram-reader': ['STS.DemoRamReader01', 'DemoSecretStsRamReader01', 'CAIDemoSecurityTokenRamReader01'],
};

/** {accessKeyId, accessKeySecret[, securityToken]} of a CREDS entry, as both SDK families name them. */
function credentialOptions(creds) {
  const [accessKeyId, accessKeySecret, securityToken] = CREDS[creds];
  return securityToken === undefined
    ? { accessKeyId, accessKeySecret }
    : { accessKeyId, accessKeySecret, securityToken };
}

export const DEFAULT_ACCOUNT_ID = '1234567890123456';
export const KEY_HZ = 'key-hzz65e1c1f1wh3ka4wq4e';
export const KEY_HZ_ARN = `acs:kms:cn-hangzhou:${DEFAULT_ACCOUNT_ID}:key/${KEY_HZ}`;
export const KEY_SH = 'key-shh2c6ns1d8ah1s5r1jpq';
export const FIXTURE_KEYS = new Set([
  KEY_HZ, KEY_SH, 'key-hzz0disabled0000000001', 'key-hzz1unauthorized000001',
  'key-hzz1disabled0000000001', 'key-hzz1configured0000001', 'key-hzz1ramdemo00000000001',
]);

export const REGION_IDS = [
  'cn-qingdao', 'cn-beijing', 'cn-zhangjiakou', 'cn-huhehaote', 'cn-wulanchabu',
  'cn-hangzhou', 'cn-shanghai', 'cn-nanjing', 'cn-fuzhou', 'cn-shenzhen', 'cn-heyuan',
  'cn-guangzhou', 'cn-chengdu', 'cn-hongkong', 'ap-southeast-1', 'ap-southeast-2',
  'ap-southeast-3', 'ap-southeast-5', 'ap-southeast-6', 'ap-southeast-7', 'ap-northeast-1',
  'ap-northeast-2', 'ap-south-1', 'us-west-1', 'us-east-1', 'eu-central-1', 'eu-west-1',
  'me-east-1', 'me-central-1',
];

export const MSG_FORBIDDEN_RAM =
  "User not authorized to operate on the specified resource, or this API doesn't support RAM.";

// The ECS tables are shared with the Python runner: ../ecs_cases.json
const ECS_CASES = JSON.parse(readFileSync(new URL('../ecs_cases.json', import.meta.url), 'utf8'));
// Every documented error: {id, creds, action, params, status, code, message[, authAction, authUser]}
export const ERROR_CASES = ECS_CASES.errors;
// The documented errors of disks.md 3.2-3.4: {id, creds, setup?, stateDisks?, action, params,
// status, code, message}; "$disk" in params = the DiskId of the setup step named "disk"
export const DISK_ERROR_CASES = ECS_CASES.disks;

export const RAM_OWNER_ID = '1000000000000108';

// Authentication failures (wire.md section 2), each sent with every action in AUTH_ACTIONS.
// The gateway rejects before any action logic runs.
export const AUTH_ERROR_CASES = ECS_CASES.authErrors;
// a state-changing action of the default account (checked unchanged afterwards) and one
// without RegionId
export const AUTH_ACTIONS = ECS_CASES.authActions.map(({ action, params }) => [action, params]);

// ------------------------------------------------------------------ KMS data
// The KMS tables are shared with the Python runner: ../kms_cases.json
export const KMS_CASES = JSON.parse(readFileSync(new URL('../kms_cases.json', import.meta.url), 'utf8'));
export const KEY_HZ_DISABLED = 'key-hzz0disabled0000000001';
// generated ids: key- + 3-letter region code + 21 lowercase alphanumerics
export const KEY_ID_RE = /^key-hzz[0-9a-z]{21}$/;
export const DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;
export const SERVICE_ALIAS = 'alias/acs/ecs';
/** acs:kms:<region>:<account>:<resource> (resource key/<id> or alias/<name>). */
export const kmsArn = (resource, region = REGION, account = DEFAULT_ACCOUNT_ID) =>
  `acs:kms:${region}:${account}:${resource}`;
// HostId and Recommend product of each API's error bodies (wire.md section 4)
export const ECS_API = { product: 'Ecs', hostId: () => 'ecs.aliyuncs.com' };
export const KMS_API = { product: 'Kms', hostId: (region) => `kms.${region}.aliyuncs.com` };
export const STS_API = { product: 'Sts', hostId: () => 'sts.aliyuncs.com' };

// ------------------------------------------------------------------ STS data
// The STS tables are shared with the Python runner: ../sts_cases.json
export const STS_CASES = JSON.parse(readFileSync(new URL('../sts_cases.json', import.meta.url), 'utf8'));

// ------------------------------------------------------------------ SDK adapters
/** What an SDK surfaced for an API error; undefined fields = not exposed by that SDK. */
export class SdkError extends Error {
  constructor({ code, status, message, requestId, data, raw }) {
    super(`${code} (${status}): ${message}`);
    Object.assign(this, { code, status, sdkMessage: message, requestId, data, raw });
  }
}

const lowerFirst = (s) => s[0].toLowerCase() + s.slice(1);

/** wire name -> model field name, from a model's own table */
const wireToFieldOf = (Model) => Object.fromEntries(Object.entries(Model.names()).map(([f, w]) => [w, f]));

/**
 * A parameter value as the model field takes it: a repeated structure given in wire names
 * (`Tag: [{Key, Value}]`) becomes instances of the item model (CreateDiskRequestTag), which the
 * client flattens to Tag.N.Key (plain objects would be flattened with the field names).
 */
function modelValue(type, value) {
  if (!Array.isArray(value) || type?.type !== 'array' || typeof type.itemType !== 'function') return value;
  const Item = type.itemType;
  const itemFields = wireToFieldOf(Item);
  return value.map((item) => new Item(Object.fromEntries(Object.entries(item).map(([k, v]) => {
    assert.ok(itemFields[k], `${Item.name} has no field for ${k}`);
    return [itemFields[k], v];
  }))));
}

/** A product's generated tea package (@alicloud/<product><version>) on @alicloud/openapi-core. */
class TeaFlavour {
  constructor(name, endpoint, signatureAlgorithm, pkg = ecs) {
    this.name = name;
    this.endpoint = endpoint;
    this.signatureAlgorithm = signatureAlgorithm;
    this.pkg = pkg;
    this.clients = new Map();
  }

  client(creds) {
    if (!this.clients.has(creds)) {
      // with a token: V3 sends x-acs-security-token + x-acs-accesskey-id, V2 a SecurityToken param
      const cfg = { ...credentialOptions(creds), regionId: REGION, endpoint: this.endpoint, protocol: 'http' };
      if (this.signatureAlgorithm) cfg.signatureAlgorithm = this.signatureAlgorithm;
      this.clients.set(creds, new this.pkg.default(new $OpenApiUtil.Config(cfg)));
    }
    return this.clients.get(creds);
  }

  /** The generated request model for the call (none for an action without parameters). */
  request(action, params) {
    const Req = this.pkg[`${action}Request`];
    if (Req === undefined) { // e.g. STS getCallerIdentity() takes no request
      assert.deepEqual(params, {});
      return [];
    }
    const wireToField = wireToFieldOf(Req);
    const types = Req.types();
    const fields = {};
    for (const [k, v] of Object.entries(params)) {
      assert.ok(wireToField[k], `${action}Request has no field for ${k}`);
      fields[wireToField[k]] = modelValue(types[wireToField[k]], v);
    }
    const req = new Req(fields);
    assert.deepEqual(req.toMap(), params);
    return [req];
  }

  async call(action, params, creds = 'default') {
    const args = this.request(action, params);
    let resp;
    try {
      resp = await this.client(creds)[lowerFirst(action)](...args);
    } catch (e) {
      if (!(e instanceof AlibabaCloudError)) throw e;
      const status = e.statusCode;
      assert.ok(status < 500 ? e instanceof ClientError : e instanceof ServerError, `${e.name} for ${status}`);
      const data = e.data || {};
      assert.equal(e.message, `${e.code}: code: ${status}, ${data.Message} request id: ${data.RequestId}`);
      throw new SdkError({ code: e.code, status, message: data.Message, requestId: e.requestId, data, raw: e });
    }
    assert.equal(resp.statusCode, 200);
    // wire.md section 4: header x-acs-request-id equals the body's RequestId; JSON content type
    assert.equal(resp.headers['x-acs-request-id'], resp.body.requestId);
    assert.equal(String(resp.headers['content-type']).replace(/ /g, '').toLowerCase(), 'application/json;charset=utf-8');
    // plain objects (the model yields null-prototype ones)
    return JSON.parse(JSON.stringify(resp.body.toMap()));
  }
}

class PopCoreFlavour {
  constructor(name, endpoint, method, apiVersion = '2014-05-26') {
    this.name = name;
    this.endpoint = `http://${endpoint}`;
    this.method = method;
    this.apiVersion = apiVersion;
    this.clients = new Map();
  }

  client(creds) {
    if (!this.clients.has(creds)) {
      // with a token: a SecurityToken parameter
      this.clients.set(creds, new RPCClient({ ...credentialOptions(creds), endpoint: this.endpoint, apiVersion: this.apiVersion }));
    }
    return this.clients.get(creds);
  }

  async call(action, params, creds = 'default') {
    const opts = this.method === 'POST' ? { method: 'POST' } : {};
    try {
      const body = await this.client(creds).request(action, { ...params }, opts);
      return JSON.parse(JSON.stringify(body));
    } catch (e) {
      if (!e.data || e.code === undefined) throw e;
      assert.equal(e.name, `${e.code}Error`);
      assert.equal(e.entry?.response?.headers?.['x-acs-request-id'], e.data.RequestId);
      assert.ok(e.message.startsWith(`${e.data.Message}, URL: ${this.endpoint}/`), e.message);
      throw new SdkError({
        code: e.code,
        status: e.entry?.response?.statusCode,
        message: e.data.Message,
        requestId: e.data.RequestId,
        data: e.data,
        raw: e,
      });
    }
  }
}

export const FLAVOURS = ['node-tea-v3', 'node-tea-v2', 'node-pop-core-get', 'node-pop-core-post'];

export function makeFlavours(endpoint) {
  return {
    'node-tea-v3': new TeaFlavour('node-tea-v3', endpoint, undefined),
    'node-tea-v2': new TeaFlavour('node-tea-v2', endpoint, 'v2'),
    'node-pop-core-get': new PopCoreFlavour('node-pop-core-get', endpoint, 'GET'),
    'node-pop-core-post': new PopCoreFlavour('node-pop-core-post', endpoint, 'POST'),
  };
}

/** The same four flavours on STS 2015-04-01 (@alicloud/sts20150401; pop-core). */
export function makeStsFlavours(endpoint) {
  return {
    'node-tea-v3': new TeaFlavour('node-tea-v3', endpoint, undefined, sts),
    'node-tea-v2': new TeaFlavour('node-tea-v2', endpoint, 'v2', sts),
    'node-pop-core-get': new PopCoreFlavour('node-pop-core-get', endpoint, 'GET', '2015-04-01'),
    'node-pop-core-post': new PopCoreFlavour('node-pop-core-post', endpoint, 'POST', '2015-04-01'),
  };
}

/**
 * @alicloud/kms20160120 on @alicloud/rpc-client (WIRE.md "node-rpc-client"): V2 signatures, no
 * region on the wire (KMS then uses its default region). Its errors are plain Errors with
 * code `<Code>Error` and no status property: the status is only in the message.
 */
class RpcClientFlavour {
  constructor(name, endpoint) {
    this.name = name;
    this.endpoint = endpoint;
    this.clients = new Map();
  }

  client(creds) {
    if (!this.clients.has(creds)) {
      const cfg = new RpcConfig({ ...credentialOptions(creds), regionId: REGION, endpoint: this.endpoint, protocol: 'http' });
      this.clients.set(creds, new kms.default(cfg));
    }
    return this.clients.get(creds);
  }

  async call(action, params, creds = 'default') {
    const Req = kms[`${action}Request`];
    const wireToField = Object.fromEntries(Object.entries(Req.names()).map(([f, w]) => [w, f]));
    const client = this.client(creds);
    let body;
    try {
      if (Object.keys(params).every((k) => wireToField[k])) {
        const fields = Object.fromEntries(Object.entries(params).map(([k, v]) => [wireToField[k], v]));
        const req = new Req(fields);
        assert.deepEqual(req.toMap(), params);
        const resp = await client[lowerFirst(action)](req);
        body = JSON.parse(JSON.stringify(resp.toMap()));
      } else {
        // the generated model lacks a parameter (ListKeysRequest has no Filters): the client's
        // own doRequest, exactly what every generated method calls
        body = await client.doRequest(action, 'HTTPS', 'POST', '2016-01-20', 'AK', { ...params }, null, new RuntimeOptions({}));
      }
    } catch (e) {
      if (!e.data || e.code === undefined) throw e;
      assert.equal(e.code, `${e.data.Code}Error`);
      assert.equal(e.statusCode, undefined);
      // "<Code>Error: code: <status>, <Message> requestid: <RequestId>"
      const m = /^(.*): code: (\d+), (.*) requestid: (.*)$/s.exec(e.message);
      assert.ok(m, e.message);
      const [, code, status, message, requestId] = m;
      assert.deepEqual([code, message, requestId], [e.code, e.data.Message, e.data.RequestId]);
      throw new SdkError({
        code: e.data.Code, status: Number(status), message, requestId, data: e.data, raw: e,
      });
    }
    return body;
  }
}

export const KMS_FLAVOURS = ['node-kms-rpc'];

export function makeKmsFlavours(endpoint) {
  return { 'node-kms-rpc': new RpcClientFlavour('node-kms-rpc', endpoint) };
}

/** What every SDK surfaces for an API error, and the body (wire.md section 4). */
export function assertApiError(err, api, {
  status, code, message, region = REGION, authAction, authUser, authType = 'SubUser',
}) {
  assert.deepEqual({ code: err.code, status: err.status, message: err.sdkMessage }, { code, status, message });
  assert.match(err.requestId, UUID_RE);
  const body = err.data;
  assert.deepEqual([body.Code, body.Message, body.RequestId], [code, message, err.requestId]);
  assert.equal(body.HostId, api.hostId(region));
  assert.equal(body.Recommend, `https://api.aliyun.com/troubleshoot?q=${code}&product=${api.product}&requestId=${err.requestId}`);
  if (api === KMS_API) assert.equal(body.HttpStatus, status);
  if (authAction !== undefined) {
    const d = body.AccessDeniedDetail;
    assert.equal(typeof d, 'object', JSON.stringify(body));
    assert.equal(d.AuthAction, authAction);
    assert.equal(d.AuthPrincipalType, authType, JSON.stringify(d));
    if (authUser !== undefined) assert.equal(d.AuthPrincipalDisplayName, authUser, JSON.stringify(d));
    assert.equal(d.NoPermissionType, 'ImplicitDeny');
  }
}

// ------------------------------------------------------------------ server
/**
 * One emulator for the calling test file: started before its tests, reset before each, stopped
 * after. `ready(emu, sdks)` receives it and the ECS flavours once it answers.
 */
export function useEmulator(ready) {
  let emu;
  before(async () => {
    emu = await startEmulator();
    ready(emu, makeFlavours(emu.endpoint));
  });
  after(async () => { await emu?.stop(); });
  beforeEach(async () => { await emu.reset(); });
}

/** Calls an SDK and checks what every successful response must hold. */
export class Recorder {
  constructor(sdk, creds = 'default') {
    this.sdk = sdk;
    this.creds = creds;
    this.requestIds = [];
  }

  async call(action, params = {}) {
    const body = await this.sdk.call(action, params, this.creds);
    assert.equal(typeof body, 'object');
    assert.ok(!('Code' in body), JSON.stringify(body));
    assert.match(body.RequestId, UUID_RE);
    this.requestIds.push(body.RequestId);
    return body;
  }

  assertUniqueIds() {
    assert.equal(new Set(this.requestIds).size, this.requestIds.length, this.requestIds.join(','));
  }
}

export async function expectSdkError(sdk, action, params, creds) {
  let body;
  try {
    body = await sdk.call(action, params, creds);
  } catch (e) {
    if (e instanceof SdkError) return e;
    throw e;
  }
  assert.fail(`${sdk.name} ${action}: expected an error, got success ${JSON.stringify(body)}`);
}
