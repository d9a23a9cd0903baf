// One STS call of a Node client, for record_sts.py (which runs the recording server):
//   node tests/vectors/record_sts.mjs '{"sdk", "endpoint", "action", "params", "accessKeyId",
//                                       "accessKeySecret", "region"}'
// prints {"packages": {...}, "outcome": {...}} on stdout. The packages come from
// tests/sdk/node/node_modules.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(new URL('../sdk/node/package.json', import.meta.url));
const spec = JSON.parse(process.argv[2]);
const versionOf = (name) => JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;

async function tea(signatureAlgorithm) {
  const sts = require('@alicloud/sts20150401');
  const { $OpenApiUtil } = require('@alicloud/openapi-core');
  const cfg = {
    accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret, regionId: spec.region,
    endpoint: spec.endpoint, protocol: 'http',
  };
  if (signatureAlgorithm) cfg.signatureAlgorithm = signatureAlgorithm;
  const client = new sts.default(new $OpenApiUtil.Config(cfg));
  let resp;
  if (spec.action === 'GetCallerIdentity') {
    resp = await client.getCallerIdentity();
  } else {
    const p = spec.params;
    resp = await client.assumeRole(new sts.AssumeRoleRequest({
      roleArn: p.RoleArn, roleSessionName: p.RoleSessionName, durationSeconds: p.DurationSeconds, policy: p.Policy,
    }));
  }
  return {
    packages: { '@alicloud/sts20150401': versionOf('@alicloud/sts20150401'), '@alicloud/openapi-core': versionOf('@alicloud/openapi-core') },
    outcome: { ok: true, statusCode: resp.statusCode, body: JSON.parse(JSON.stringify(resp.body.toMap())) },
  };
}

async function popCore(method) {
  const { RPCClient } = require('@alicloud/pop-core');
  const client = new RPCClient({
    accessKeyId: spec.accessKeyId, accessKeySecret: spec.accessKeySecret,
    endpoint: `http://${spec.endpoint}`, apiVersion: '2015-04-01',
  });
  const body = await client.request(spec.action, { ...spec.params }, method === 'POST' ? { method: 'POST' } : {});
  return { packages: { '@alicloud/pop-core': versionOf('@alicloud/pop-core') }, outcome: { ok: true, body } };
}

const clients = {
  'node-tea-v3': () => tea(undefined),
  'node-tea-v2': () => tea('v2'),
  'node-pop-core-get': () => popCore('GET'),
  'node-pop-core-post': () => popCore('POST'),
};

process.stdout.write(JSON.stringify(await clients[spec.sdk]()));
