// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against the
// release binary started with --admin-token. The presenter's path from the README: give the
// token, turn the account's KMS service off, fire ModifyDiskDefaultKMSKeyId, see
// InvalidOperation.KMSServiceNotOpen on the page and in the journal, turn it on, fire again,
// see success. Every step is also checked against the admin API, so the page cannot pass by
// showing something the server did not do. (ModifyDiskDefaultKMSKeyId needs default
// encryption on in the region, so the first step turns it on.)
//
// Last, the disk story of disks.md §4: default encryption on, a disk created without
// `Encrypted` is encrypted with the default key, `Encrypted=false` is refused.
//
//   UI_SCREENSHOT=path   where the screenshot goes, from the repository's root
//                        (default target/ui/dashboard.png); the disks panel's goes to
//                        target/ui/disks.png
//   CHROMIUM=path        the browser (default /usr/bin/chromium)

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { chromium } from 'playwright-core';
import { REPO_ROOT, startEmulator } from '../sdk/node/emulator.mjs';

const TOKEN = 'demo-admin-token';
const ACCOUNT = '1234567890123456';
const KEY = 'key-hzz65e1c1f1wh3ka4wq4e';
const NOT_OPEN = 'InvalidOperation.KMSServiceNotOpen';
const UUID_RE = /^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/;
const SCREENSHOT = path.resolve(REPO_ROOT, process.env.UI_SCREENSHOT ?? 'target/ui/dashboard.png');
const DISKS_SCREENSHOT = path.resolve(REPO_ROOT, 'target/ui/disks.png');

let emu;
let browser;
let page;
const problems = [];

before(async () => {
  emu = await startEmulator({ args: ['--admin-token', TOKEN], adminToken: TOKEN });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-dev-shm-usage', '--no-first-run', '--disable-extensions'],
  });
  // A projector-sized window.
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  // Nothing may leave loopback, and the page may not log an error (a CSP violation, a
  // script error, a failed call).
  await page.route((url) => !['127.0.0.1', 'localhost'].includes(url.hostname), (route) => {
    problems.push(`request off loopback: ${route.request().url()}`);
    return route.abort();
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
});

after(async () => {
  await browser?.close();
  await emu?.stop();
});

async function account() {
  const answer = await emu.admin('GET', `/_emulator/accounts/${ACCOUNT}`);
  assert.equal(answer.status, 200);
  return answer.body;
}

/**
 * Fires the try-it panel (Ctrl+Enter from the parameters, or the Send button) and waits for
 * a new answer; checks its status and code.
 */
async function fire({ status, code, button = false }) {
  const before = await page.locator('#result-request-id').textContent();
  if (button) {
    await page.getByRole('button', { name: /Send/ }).click();
  } else {
    await page.locator('#params').focus();
    await page.keyboard.press('Control+Enter');
  }
  await page.waitForFunction((old) => {
    const shown = document.getElementById('result-request-id').textContent;
    return shown && shown !== old;
  }, before);
  const requestId = await page.locator('#result-request-id').textContent();
  assert.match(requestId, UUID_RE);
  assert.equal(await page.locator('#result-status').textContent(), `HTTP ${status}`);
  assert.equal(await page.locator('#result-code').textContent(), code ?? 'Success');
  return { requestId };
}

/** Waits (up to 5 s) until `check(account)` holds on the server: a click's change is sent
 * after the page has already shown it. */
async function serverHas(what, check) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const state = await account();
    if (check(state)) return;
    if (Date.now() > deadline) assert.fail(`the server never had ${what}: ${JSON.stringify(state)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const keyState = (state) => state.kmsKeys.find((k) => k.keyId === KEY).keyState;
const hangzhou = (state) => state.regionSettings['cn-hangzhou'] ?? {};

async function journalEntry(requestId) {
  const answer = await emu.admin('GET', '/_emulator/requests');
  return answer.body.requests.find((entry) => entry.requestId === requestId);
}

test('the page is served without the token, then asks for it', async () => {
  const response = await page.goto(`${emu.base}/_emulator/ui`);
  assert.equal(response.status(), 200);
  assert.match(response.headers()['content-security-policy'], /default-src 'none'/);
  const dialog = page.getByRole('dialog', { name: 'Admin token' });
  await dialog.waitFor({ state: 'visible' });
  // Keyboard only: the token field has focus; type and press Enter. A wrong token is said
  // to be wrong, and asked for again.
  await page.keyboard.type('not-the-token');
  await page.keyboard.press('Enter');
  await dialog.getByText('The server refused that token.').waitFor();
  await page.keyboard.type(TOKEN);
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'hidden' });
  // The failed loads the browser logs are the calls made without the token, then with the
  // wrong one.
  assert.ok(problems.length <= 2 && problems.every((p) => p.includes('status of 401')), problems.join('\n'));
  problems.length = 0;
  await page.locator('#account').and(page.locator(`:has(option[value="${ACCOUNT}"])`)).waitFor();
  await page.waitForFunction((id) => document.getElementById('account').value === id, ACCOUNT);
  assert.equal(await page.locator('#region').inputValue(), 'cn-hangzhou');
  assert.equal(await page.getByLabel('KMS service open').isChecked(), true);
  // ModifyDiskDefaultKMSKeyId needs default encryption on in the region: turn it on.
  await page.getByLabel('Disk encryption by default').check();
  await serverHas('encryption on', (state) => hangzhou(state).defaultEncryption?.enabled === true);
});

test('KMS service off: the call fails with KMSServiceNotOpen, on the page and in the journal', async () => {
  await page.getByLabel('KMS service open').uncheck();
  await serverHas('the KMS service off', (state) => state.kmsServiceOpen === false);

  await page.locator('#action').selectOption('2014-05-26/ModifyDiskDefaultKMSKeyId');
  assert.equal(await page.locator('#params').inputValue(), `RegionId=cn-hangzhou\nKMSKeyId=${KEY}`);
  const { requestId } = await fire({ status: 403, code: NOT_OPEN });
  assert.equal(await page.locator('#result-message').textContent(), 'KMS service is currently not open.');
  const body = JSON.parse(await page.locator('#result-body').textContent());
  assert.equal(body.Code, NOT_OPEN);
  assert.equal(body.RequestId, requestId);

  const row = page.locator(`#journal tr[data-request-id="${requestId}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-code'), NOT_OPEN);
  assert.match(await row.textContent(), /ModifyDiskDefaultKMSKeyId/);
  const entry = await journalEntry(requestId);
  assert.equal(entry.code, NOT_OPEN);
  assert.equal(entry.httpStatus, 403);
  assert.equal(entry.accountId, ACCOUNT);
  assert.equal(entry.signature.verdict, 'ok', 'signed server-side and verified like an SDK call');
  assert.equal((await account()).regionSettings['cn-hangzhou']?.defaultEncryption?.kmsKeyId ?? null, null);
});

test('KMS service on: the same call succeeds; a parameter never read is highlighted', async () => {
  await page.getByLabel('KMS service open').check();
  await serverHas('the KMS service on', (state) => state.kmsServiceOpen === true);

  // OwnerId, as some SDKs send it: the action never reads it.
  await page.locator('#params').fill(`RegionId=cn-hangzhou\nKMSKeyId=${KEY}\nOwnerId=${ACCOUNT}`);
  const { requestId } = await fire({ status: 200, button: true });
  // The API answers a bare RequestId on success.
  assert.deepEqual(JSON.parse(await page.locator('#result-body').textContent()), { RequestId: requestId });
  assert.equal((await account()).regionSettings['cn-hangzhou'].defaultEncryption.kmsKeyId, KEY);
  // The region card follows the change the call made.
  await page.waitForFunction((key) => document.getElementById('encryption-key').value === key, KEY);

  const row = page.locator(`#journal tr[data-request-id="${requestId}"]`);
  await row.waitFor();
  assert.equal(await row.getAttribute('data-code'), 'ok');
  // Open its parameters from the keyboard.
  await row.getByRole('button').focus();
  await page.keyboard.press('Enter');
  const unread = page.locator('#journal mark.unread');
  await unread.first().waitFor();
  assert.deepEqual(await unread.allTextContents(), [`OwnerId=${ACCOUNT}`]);
  assert.deepEqual((await journalEntry(requestId)).unreadParams, ['OwnerId']);

  mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

test('a disabled key, then a one-time fault, each shown as the SDK would see it', async () => {
  await page.locator(`#keys select[data-key="${KEY}"]`).selectOption('Disabled');
  await serverHas('the key disabled', (state) => keyState(state) === 'Disabled');
  await fire({ status: 400, code: 'InvalidParameter.KMSKeyId.CMKNotEnabled' });
  await page.locator(`#keys select[data-key="${KEY}"]`).selectOption('Enabled');
  await serverHas('the key enabled', (state) => keyState(state) === 'Enabled');

  await page.locator('#fault-action').selectOption('ModifyDiskDefaultKMSKeyId');
  await page.locator('#fault-code').fill('Throttling.User');
  await page.locator('#fault-times').fill('1');
  await page.getByRole('button', { name: 'Add fault' }).click();
  await page.locator('#faults li[data-fault-id]').waitFor();
  const faults = (await emu.admin('GET', '/_emulator/faults')).body.faults;
  assert.deepEqual(faults.map((f) => [f.action, f.code, f.times]),
    [['ModifyDiskDefaultKMSKeyId', 'Throttling.User', 1]]);
  await fire({ status: 400, code: 'Throttling.User' });
  await fire({ status: 200 });
  await page.locator('#faults li[data-fault-id]').filter({ hasText: 'fired 1 of 1' }).waitFor();
  await page.getByRole('button', { name: 'Remove all faults' }).click();
  await page.locator('#faults li.muted').waitFor();
  assert.deepEqual((await emu.admin('GET', '/_emulator/faults')).body.faults, []);
});

test('a snapshot, a reset to the fixture, and the snapshot restored', async () => {
  await page.locator('#snapshot-name').fill('demo');
  await page.getByRole('button', { name: 'Save snapshot' }).click();
  const restore = page.getByRole('button', { name: 'Restore the snapshot demo' });
  await restore.waitFor();
  await page.getByRole('button', { name: 'Reset state' }).click();
  await page.waitForFunction(() => !document.getElementById('encryption-enabled').checked);
  assert.equal((await account()).regionSettings['cn-hangzhou']?.defaultEncryption?.enabled ?? false, false);
  await restore.click();
  await page.waitForFunction((key) => document.getElementById('encryption-key').value === key, KEY);
  assert.equal((await account()).regionSettings['cn-hangzhou'].defaultEncryption.kmsKeyId, KEY);
  assert.deepEqual(problems, []);
});

test('default encryption on: a disk created without Encrypted is encrypted with the default key', async () => {
  // From the fixture: encryption off, no disk.
  await page.getByRole('button', { name: 'Reset state' }).click();
  await page.waitForFunction(() => !document.getElementById('encryption-enabled').checked);
  await page.locator('#disks-count', { hasText: 'No disk in this region.' }).waitFor();
  assert.deepEqual((await account()).disks ?? [], []);

  await page.getByLabel('Disk encryption by default').check();
  await page.locator('#encryption-key').selectOption(KEY);
  await serverHas('encryption on with the key', (state) =>
    hangzhou(state).defaultEncryption?.enabled === true && hangzhou(state).defaultEncryption?.kmsKeyId === KEY);

  // The form as it opens: the region's first zone, cloud_essd, 40 GiB, Encrypted not sent,
  // no key.
  assert.deepEqual(await page.locator('#disk-zone option').evaluateAll((o) => o.map((x) => x.value)),
    ['cn-hangzhou-h', 'cn-hangzhou-i', 'cn-hangzhou-j', 'cn-hangzhou-k']);
  assert.equal(await page.getByLabel('Zone', { exact: true }).inputValue(), 'cn-hangzhou-h');
  assert.equal(await page.getByLabel('Category', { exact: true }).inputValue(), 'cloud_essd');
  assert.equal(await page.getByLabel('Size (GiB)').inputValue(), '40');
  assert.equal(await page.getByLabel('Encrypted', { exact: true }).inputValue(), '');
  assert.equal(await page.getByLabel('KMS key', { exact: true }).inputValue(), '');
  await page.getByRole('button', { name: 'Create disk' }).click();

  const row = page.locator('#disks tbody tr');
  await row.first().waitFor();
  assert.equal(await row.count(), 1);
  const diskId = await row.getAttribute('data-disk-id');
  assert.match(diskId, /^d-[0-9a-z]{20}$/);
  assert.equal(await row.getAttribute('data-encrypted'), 'true');
  assert.equal(await row.getAttribute('data-kms-key-id'), KEY);
  const cells = await row.locator('td').allInnerTexts();
  assert.deepEqual(cells.slice(0, 3).map((c) => c.replace(/\s+/g, ' ').trim()),
    [`${diskId} cn-hangzhou-h`, 'cloud_essd 40 GiB · PL1', `yes ${KEY} alias/demo, the default key`]);
  assert.equal(await page.locator('#disks-count').textContent(), '1 disk.');

  // What the server holds, and what the page sent: no Encrypted, no KMSKeyId.
  const [disk] = (await account()).disks;
  assert.deepEqual([disk.diskId, disk.zoneId, disk.category, disk.size, disk.encrypted, disk.kmsKeyId],
    [diskId, 'cn-hangzhou-h', 'cloud_essd', 40, true, KEY]);
  const calls = (await emu.admin('GET', '/_emulator/requests?action=CreateDisk')).body.requests;
  assert.equal(calls.length, 1);
  assert.deepEqual(calls[0].params,
    { RegionId: 'cn-hangzhou', ZoneId: 'cn-hangzhou-h', DiskCategory: 'cloud_essd', Size: '40' });

  // Encrypted=false while default encryption is on: the API's error, under the form.
  await page.getByLabel('Encrypted', { exact: true }).selectOption('false');
  await page.getByRole('button', { name: 'Create disk' }).click();
  await page.locator('#disk-error-code').waitFor();
  assert.equal(await page.locator('#disk-error-code').textContent(), 'InvalidEncrypted.NotMatchDiskDefaultEncryption');
  assert.equal(await page.locator('#disk-error').innerText(),
    'HTTP 403 InvalidEncrypted.NotMatchDiskDefaultEncryption Enabling disk default encryption prevents the creation of non-encrypted disks.');
  assert.equal((await account()).disks.length, 1);
  await page.locator('#disks').scrollIntoViewIfNeeded();
  mkdirSync(path.dirname(DISKS_SCREENSHOT), { recursive: true });
  await page.screenshot({ path: DISKS_SCREENSHOT });

  await page.getByRole('button', { name: `Delete the disk ${diskId}` }).click();
  await page.locator('#disks-count', { hasText: 'No disk in this region.' }).waitFor();
  assert.equal(await row.count(), 0);
  assert.deepEqual((await account()).disks ?? [], []);
  // The error of the refused call is gone once a call succeeds.
  assert.equal(await page.locator('#disk-error').textContent(), '');
  assert.deepEqual(problems, []);
});

test('a role assumed as deployer becomes a caller, and calls as the role', async () => {
  await page.locator('#caller').selectOption('LTAI5tDemoDeployer01');
  await page.locator('#action').selectOption('2015-04-01/AssumeRole');
  assert.equal(await page.locator('#params').inputValue(),
    `RegionId=cn-hangzhou\nRoleArn=acs:ram::${ACCOUNT}:role/ecs-operator\nRoleSessionName=dashboard`);
  await fire({ status: 200 });
  const issued = JSON.parse(await page.locator('#result-body').textContent()).Credentials.AccessKeyId;
  assert.match(issued, /^STS\.[A-Za-z0-9]{24,}$/);

  // The session shows in the callers once the page has read the sessions again.
  const option = page.locator(`#caller option[value="${issued}"]`);
  await option.waitFor({ state: 'attached' });
  assert.equal(await option.textContent(), `role ecs-operator (dashboard) · ${issued}`);
  await page.locator('#caller').selectOption(issued);
  await page.locator('#action').selectOption('2015-04-01/GetCallerIdentity');
  await fire({ status: 200 });
  const identity = JSON.parse(await page.locator('#result-body').textContent());
  assert.equal(identity.Arn, `acs:ram::${ACCOUNT}:assumed-role/ecs-operator/dashboard`);
  // A role is never root.
  await page.locator('#action').selectOption('2014-05-26/ModifyDiskDefaultKMSKeyId');
  const { requestId } = await fire({ status: 403, code: 'Forbidden.RAM' });
  const entry = await journalEntry(requestId);
  assert.equal(entry.principal, 'assumed-role/ecs-operator/dashboard');
  assert.deepEqual(problems, []);
});
