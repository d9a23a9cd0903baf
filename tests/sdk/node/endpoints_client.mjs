// One call by one Node client with no endpoint of the emulator's configured (endpoints.md
// section 4), for tests/sdk/python/test_endpoints.py: `node endpoints_client.mjs CASE`. The
// SDK picks the real host by itself (tea) or the code names it (pop-core, as its README
// shows). Prints one JSON line: {"ok": true, "request_id": ...} or {"ok": false, "error": ...}.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const ecs = require('@alicloud/ecs20140526');
const openapi = require('@alicloud/openapi-core');
const { RPCClient } = require('@alicloud/pop-core');

const accessKeyId = process.env.ALIBABA_CLOUD_ACCESS_KEY_ID;
const accessKeySecret = process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET;

const CASES = {
  async 'node-tea-ecs'() {
    const client = new ecs.default(new openapi.$OpenApiUtil.Config({ accessKeyId, accessKeySecret, regionId: 'cn-hangzhou' }));
    const answer = await client.describeRegions(new ecs.DescribeRegionsRequest({}));
    return answer.body.requestId;
  },
  async 'node-pop-core'() {
    const client = new RPCClient({ accessKeyId, accessKeySecret, endpoint: 'https://ecs.cn-hangzhou.aliyuncs.com', apiVersion: '2014-05-26' });
    const answer = await client.request('DescribeRegions', { RegionId: 'cn-hangzhou' }, { method: 'POST', timeout: 10000 });
    return answer.RequestId;
  },
};

try {
  const requestId = await CASES[process.argv[2]]();
  console.log(JSON.stringify({ ok: true, request_id: requestId }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, error: `${e.name}: ${e.message}`.slice(0, 400) }));
}
