// The ecs-emulator dashboard. Everything it shows comes from the admin API under
// /_emulator/, polled once a second; everything it changes goes through the same API, so the
// page never knows more than a test could. Text from requests is only ever set as text
// (never parsed as HTML): the journal shows whatever clients sent.
'use strict';

const POLL_MS = 1000;
const TOKEN_KEY = 'ecs-emulator-admin-token';
const KEY_STATES = ['Enabled', 'Disabled', 'PendingDeletion', 'PendingImport'];
const FACTS = ['kmsServiceOpen', 'diskWhitelisted', 'ecsKmsRoleGranted'];

const page = {
  token: sessionStorage.getItem(TOKEN_KEY),
  accounts: [],
  regions: [],
  actions: [],
  account: null,
  accountId: sessionStorage.getItem('ecs-emulator-account'),
  regionId: null,
  journalShown: '',
  expanded: new Set(),
  tick: 0,
  timer: null,
  // Changes under way, and how many have started: a read overlapping one is not shown.
  pending: 0,
  epoch: 0,
};

const $ = (id) => document.getElementById(id);

/** An element with attributes (`on…` are listeners, `class`, `text`, the rest attributes). */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = value;
    else if (name === 'checked' || name === 'value') node[name] = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

class AdminError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** One admin call: JSON in and out; 401 asks for the token. */
async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (page.token) headers.authorization = `Bearer ${page.token}`;
  let response;
  try {
    response = await fetch(`/_emulator${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    setConnection('the server cannot be reached', 'down');
    throw new AdminError(0, 'the server cannot be reached');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    // Not JSON (a proxy's page, say): the status alone speaks.
  }
  if (response.status === 401) {
    askForToken(page.token ? 'The server refused that token.' : '');
    throw new AdminError(401, json?.error ?? 'the admin token is needed');
  }
  if (!response.ok) throw new AdminError(response.status, json?.error ?? response.statusText);
  setConnection('connected · live', 'up');
  return json;
}

function setConnection(text, status) {
  const node = $('connection');
  if (node.textContent !== text) node.textContent = text;
  node.dataset.status = status;
}

let toastTimer = null;
function toast(text, kind = 'error') {
  const node = $('toast');
  node.textContent = text;
  node.dataset.kind = kind;
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, 5000);
}

/**
 * Runs a change; on failure says why. Reads taken while it is under way are not shown (they
 * could undo what the user just set); the read after it shows the state as it really is.
 */
async function change(what, run) {
  page.pending += 1;
  page.epoch += 1;
  try {
    await run();
  } catch (error) {
    if (error.status !== 401) toast(`${what}: ${error.message}`);
  } finally {
    page.pending -= 1;
    page.tick = 0;
  }
  await refresh();
}

// ---- the admin token -------------------------------------------------------------------

function askForToken(error) {
  const dialog = $('token-dialog');
  $('token-error').textContent = error;
  if (!dialog.open) dialog.showModal();
  $('token-input').focus();
}

$('token-form').addEventListener('submit', () => {
  page.token = $('token-input').value;
  sessionStorage.setItem(TOKEN_KEY, page.token);
  $('token-input').value = '';
  start();
});
$('token-open').addEventListener('click', () => askForToken(''));

// ---- accounts, regions, keys -------------------------------------------------------------

function selectedRegionSetting() {
  const settings = page.account?.regionSettings ?? {};
  const setting = settings[page.regionId] ?? {};
  return {
    kmsEnabled: setting.kmsEnabled ?? true,
    defaultEncryption: {
      enabled: setting.defaultEncryption?.enabled ?? false,
      kmsKeyId: setting.defaultEncryption?.kmsKeyId ?? null,
    },
  };
}

function keysInRegion() {
  return (page.account?.kmsKeys ?? []).filter((key) => key.regionId === page.regionId);
}

function keyLabel(key) {
  const parts = [key.keyId];
  if (key.creator === 'Ecs') parts.push('(service key)');
  if (key.aliases?.length) parts.push(`(${key.aliases.join(', ')})`);
  return parts.join(' ');
}

/** Sets a control's value unless the user is on it. */
function show(node, property, value) {
  if (document.activeElement === node && node.tagName === 'SELECT') return;
  if (node[property] !== value) node[property] = value;
}

/** Replaces a select's options when they differ, keeping the selection when it still exists. */
function setOptions(select, options, selected) {
  const wanted = JSON.stringify(options);
  if (select.dataset.options !== wanted) {
    select.replaceChildren(...options.map(([value, label]) => el('option', { value, text: label })));
    select.dataset.options = wanted;
  }
  show(select, 'value', selected);
}

function renderAccounts() {
  setOptions(
    $('account'),
    page.accounts.map((a) => [a.accountId, a.displayName ? `${a.displayName} (${a.accountId})` : a.accountId]),
    page.accountId,
  );
  setOptions(
    $('region'),
    page.regions.map((r) => [r.regionId, `${r.regionId} · ${r.localName?.['en-US'] ?? ''}`]),
    page.regionId,
  );
}

function renderAccount() {
  const account = page.account;
  if (!account) return;
  for (const fact of FACTS) show($(`fact-${fact}`), 'checked', account[fact]);
  const roots = account.accessKeys.map((k) => k.accessKeyId);
  $('account-keys').textContent = roots.length
    ? `Root AccessKey ${roots.join(', ')}`
    : 'No root AccessKey';

  const setting = selectedRegionSetting();
  show($('setting-kmsEnabled'), 'checked', setting.kmsEnabled);
  show($('encryption-enabled'), 'checked', setting.defaultEncryption.enabled);
  const keys = keysInRegion();
  setOptions(
    $('encryption-key'),
    [['', 'the region’s service key (none chosen)'], ...keys.filter((k) => k.creator !== 'Ecs').map((k) => [k.keyId, keyLabel(k)])],
    setting.defaultEncryption.kmsKeyId ?? '',
  );
  const region = page.regions.find((r) => r.regionId === page.regionId);
  if (region) {
    show($('region-defaultEncryptionSupported'), 'checked', region.defaultEncryptionSupported);
    show($('region-status'), 'value', region.status);
  }
  renderKeys(keys);
  renderDisks(keys, setting);
  renderCallers(account);
}

function renderKeys(keys) {
  const body = $('keys').tBodies[0];
  const shape = keys.map((k) => k.keyId).join(' ');
  if (body.dataset.shape !== shape) {
    body.replaceChildren(...keys.map((key) => {
      const state = el('select', {
        'aria-label': `State of ${key.keyId}`,
        'data-key': key.keyId,
        class: 'key-state',
        onchange: (event) => change(`key ${key.keyId}`, () =>
          api('PATCH', `/accounts/${enc(page.accountId)}/kms-keys/${enc(key.keyId)}`, { keyState: event.target.value })),
      }, KEY_STATES.map((s) => el('option', { value: s, text: s })));
      const authorized = el('input', {
        type: 'checkbox',
        'aria-label': `ECS authorized to use ${key.keyId}`,
        'data-key': key.keyId,
        class: 'key-authorized',
        onchange: (event) => change(`key ${key.keyId}`, () =>
          api('PATCH', `/accounts/${enc(page.accountId)}/kms-keys/${enc(key.keyId)}`, { ecsAuthorized: event.target.checked })),
      });
      const notes = [key.creator === 'Ecs' ? 'service key' : null, ...(key.aliases ?? [])].filter(Boolean);
      return el('tr', { 'data-key': key.keyId },
        el('td', {}, el('span', { class: 'mono nowrap', text: key.keyId }),
          notes.length ? [el('br'), el('span', { class: 'muted small', text: notes.join(', ') })] : null),
        el('td', {}, state),
        el('td', {}, authorized));
    }));
    body.dataset.shape = shape;
  }
  for (const key of keys) {
    show(body.querySelector(`select[data-key="${CSS.escape(key.keyId)}"]`), 'value', key.keyState);
    show(body.querySelector(`input[data-key="${CSS.escape(key.keyId)}"]`), 'checked', key.ecsAuthorized);
  }
  const others = (page.account?.kmsKeys.length ?? 0) - keys.length;
  $('keys-empty').textContent = (keys.length ? '' : 'No key in this region. ')
    + (others > 0 ? `${others} key(s) in other regions.` : '');
}

function renderCallers(account) {
  const callers = [
    ...account.accessKeys.map((k) => [k.accessKeyId, `root · ${k.accessKeyId}${k.status === 'Inactive' ? ' (inactive)' : ''}`]),
    ...account.ramUsers.flatMap((u) => u.accessKeys.map((k) => [k.accessKeyId, `RAM user ${u.userName} · ${k.accessKeyId}`])),
    ...account.stsTokens.map((t) => [t.accessKeyId, `STS${t.userName ? ` (${t.userName})` : ''} · ${t.accessKeyId}`]),
    // Sessions AssumeRole issued (GET /sessions): memory of the server, not of the state.
    ...(page.sessions ?? []).map((s) => [s.accessKeyId, `role ${s.roleName} (${s.sessionName})${s.expired ? ' (expired)' : ''} · ${s.accessKeyId}`]),
  ];
  const select = $('caller');
  setOptions(select, callers, select.value && callers.some(([id]) => id === select.value) ? select.value : callers[0]?.[0] ?? '');
}

const enc = encodeURIComponent;

function patchAccount(what, patch) {
  return change(what, () => api('PATCH', `/accounts/${enc(page.accountId)}`, patch));
}

function patchRegionSetting(what, patch) {
  return patchAccount(what, { regionSettings: { [page.regionId]: patch } });
}

for (const fact of FACTS) {
  $(`fact-${fact}`).addEventListener('change', (event) => patchAccount(fact, { [fact]: event.target.checked }));
}
$('setting-kmsEnabled').addEventListener('change', (event) =>
  patchRegionSetting('KMS enabled', { kmsEnabled: event.target.checked }));
$('encryption-enabled').addEventListener('change', (event) =>
  patchRegionSetting('default encryption', { defaultEncryption: { enabled: event.target.checked } }));
$('encryption-key').addEventListener('change', (event) =>
  patchRegionSetting('default key', { defaultEncryption: { kmsKeyId: event.target.value || null } }));
$('region-defaultEncryptionSupported').addEventListener('change', (event) =>
  change('region', () => api('PATCH', `/regions/${enc(page.regionId)}`, { defaultEncryptionSupported: event.target.checked })));
$('region-status').addEventListener('change', (event) =>
  change('region', () => api('PATCH', `/regions/${enc(page.regionId)}`, { status: event.target.value })));
$('account').addEventListener('change', (event) => {
  page.accountId = event.target.value;
  sessionStorage.setItem('ecs-emulator-account', page.accountId);
  page.account = null;
  page.journalShown = '';
  refresh().then(fillTemplate);
});
$('region').addEventListener('change', (event) => {
  page.regionId = event.target.value;
  renderAccount();
  fillTemplate();
});
$('reset').addEventListener('click', () =>
  change('reset', async () => {
    await api('POST', '/reset');
    toast('The state is back to the one loaded at boot.', 'info');
  }));

// ---- disks ---------------------------------------------------------------------------------

const CATEGORIES = ['cloud', 'cloud_efficiency', 'cloud_ssd', 'cloud_essd', 'cloud_auto', 'cloud_essd_entry'];
// The newest disks only: an account may hold 100,000 (disks.md §5), a page cannot.
const DISKS_SHOWN = 50;

const byText = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** The region's disks in DescribeDisks' order: newest first, then by id descending. */
function disksInRegion() {
  return (page.account?.disks ?? [])
    .filter((disk) => disk.regionId === page.regionId)
    .sort((a, b) => byText(b.creationTime, a.creationTime) || byText(b.diskId, a.diskId));
}

/** The key a disk created now without `KMSKeyId` would get, when default encryption is on:
 * the configured key, else the region's service key (disks.md §3.2). */
function defaultKeyId(keys, setting) {
  if (!setting.defaultEncryption.enabled) return null;
  return setting.defaultEncryption.kmsKeyId ?? keys.find((k) => k.creator === 'Ecs')?.keyId ?? null;
}

function renderDisks(keys, setting) {
  const disks = disksInRegion();
  const shown = disks.slice(0, DISKS_SHOWN);
  const defaultKey = defaultKeyId(keys, setting);
  const notesOf = (keyId) => {
    const key = keys.find((k) => k.keyId === keyId);
    return [key?.creator === 'Ecs' ? 'service key' : null, ...(key?.aliases ?? []),
      keyId === defaultKey ? 'the default key' : null].filter(Boolean).join(', ');
  };
  const rows = shown.map((d) => [d.diskId, d.zoneId, d.category, d.performanceLevel, d.size,
    d.encrypted, d.kmsKeyId ?? '', d.kmsKeyId ? notesOf(d.kmsKeyId) : '']);
  const body = $('disks').tBodies[0];
  const shape = JSON.stringify(rows);
  if (body.dataset.shape !== shape) {
    body.replaceChildren(...rows.map(([id, zone, category, level, size, encrypted, keyId, notes]) =>
      el('tr', { 'data-disk-id': id, 'data-encrypted': String(encrypted), 'data-kms-key-id': keyId },
        el('td', {}, el('span', { class: 'mono nowrap', text: id }), el('br'),
          el('span', { class: 'muted small', text: zone })),
        el('td', {}, category, el('br'),
          el('span', { class: 'small', text: `${size} GiB${level ? ` · ${level}` : ''}` })),
        el('td', {}, el('span', { class: 'badge', 'data-kind': encrypted ? 'ok' : 'plain', text: encrypted ? 'yes' : 'no' }),
          keyId ? [el('br'), el('span', { class: 'mono nowrap', text: keyId })] : null,
          notes ? [el('br'), el('span', { class: 'muted small', text: notes })] : null),
        el('td', {}, el('button', {
          type: 'button',
          'aria-label': `Delete the disk ${id}`,
          text: 'Delete',
          onclick: () => deleteDisk(id),
        })))));
    body.dataset.shape = shape;
  }
  $('disks-count').textContent = !disks.length ? 'No disk in this region.'
    : disks.length > shown.length ? `The newest ${shown.length} of ${disks.length} disks.`
      : `${disks.length} disk${disks.length === 1 ? '' : 's'}.`;
  renderDiskForm(keys);
}

function renderDiskForm(keys) {
  const zones = page.regions.find((r) => r.regionId === page.regionId)?.zones ?? [];
  const zoneSelect = $('disk-zone');
  setOptions(zoneSelect, zones.map((z) => [z.zoneId, z.zoneId]),
    zones.some((z) => z.zoneId === zoneSelect.value) ? zoneSelect.value : zones[0]?.zoneId ?? '');
  // Every category, so a presenter can also show one a zone does not offer.
  const offered = zones.find((z) => z.zoneId === zoneSelect.value)?.diskCategories ?? [];
  const categorySelect = $('disk-category');
  setOptions(categorySelect,
    CATEGORIES.map((c) => [c, offered.includes(c) ? c : `${c} (not in this zone)`]),
    categorySelect.value || 'cloud_essd');
  const keySelect = $('disk-key');
  setOptions(keySelect,
    [['', 'none (not sent)'], ...keys.map((k) => [k.keyId, `${keyLabel(k)}${k.keyState === 'Enabled' ? '' : ` · ${k.keyState}`}`])],
    keys.some((k) => k.keyId === keySelect.value) ? keySelect.value : '');
}

/** One ECS call as the selected account's root, through /invoke like every call the page
 * makes; an API error is shown under the form, with its status, code and message. */
async function diskCall(action, params) {
  $('disk-error').textContent = '';
  const answer = await api('POST', '/invoke', { action, accountId: page.accountId, params });
  if (answer.httpStatus >= 400) {
    $('disk-error').replaceChildren(
      el('span', { class: 'badge', 'data-kind': 'error', text: `HTTP ${answer.httpStatus}` }), ' ',
      el('strong', { class: 'mono', id: 'disk-error-code' }, breakable(answer.code ?? '(no code)')), ' ',
      answer.message ?? '');
    return null;
  }
  return JSON.parse(answer.body);
}

function deleteDisk(diskId) {
  return change('delete disk', () => diskCall('DeleteDisk', { DiskId: diskId }));
}

$('disk-zone').addEventListener('change', () => renderDiskForm(keysInRegion()));
$('disk-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const params = {
    RegionId: page.regionId,
    ZoneId: $('disk-zone').value,
    DiskCategory: $('disk-category').value,
    Size: $('disk-size').value,
  };
  if ($('disk-encrypted').value) params.Encrypted = $('disk-encrypted').value;
  if ($('disk-key').value) params.KMSKeyId = $('disk-key').value;
  const button = $('disk-create');
  button.disabled = true;
  change('create disk', async () => {
    try {
      const created = await diskCall('CreateDisk', params);
      if (created) toast(`Created ${created.DiskId}.`, 'info');
    } finally {
      button.disabled = false;
    }
  });
});

// ---- try it --------------------------------------------------------------------------------

function renderActions() {
  const select = $('action');
  const groups = new Map();
  for (const action of page.actions) {
    if (!groups.has(action.product)) groups.set(action.product, []);
    groups.get(action.product).push(action);
  }
  select.replaceChildren(...[...groups].map(([product, actions]) =>
    el('optgroup', { label: `${product.toUpperCase()} ${actions[0].version}` },
      actions.map((a) => el('option', { value: `${a.version}/${a.action}`, text: a.action })))));
  select.value = '2014-05-26/ModifyDiskDefaultKMSKeyId';
  const names = [...new Set(page.actions.map((a) => a.action))].sort();
  $('fault-action').replaceChildren(el('option', { value: '', text: 'any' }),
    ...names.map((name) => el('option', { value: name, text: name })));
}

/** Parameters an action is usually called with, filled from the selected account and region. */
function fillTemplate() {
  const [, action] = $('action').value.split('/');
  const keys = keysInRegion().filter((k) => k.creator !== 'Ecs');
  const key = (keys.find((k) => k.keyState === 'Enabled') ?? keys[0])?.keyId ?? 'key-…';
  const zone = page.regions.find((r) => r.regionId === page.regionId)?.zones?.[0]?.zoneId ?? 'cn-hangzhou-h';
  const disk = disksInRegion()[0]?.diskId ?? 'd-…';
  const lines = [`RegionId=${page.regionId ?? ''}`];
  const add = {
    ModifyDiskDefaultKMSKeyId: [`KMSKeyId=${key}`],
    DescribeKey: [`KeyId=${key}`],
    EnableKey: [`KeyId=${key}`],
    DisableKey: [`KeyId=${key}`],
    ScheduleKeyDeletion: [`KeyId=${key}`, 'PendingWindowInDays=7'],
    CancelKeyDeletion: [`KeyId=${key}`],
    CreateKey: ['Description=made from the dashboard'],
    CreateAlias: ['AliasName=alias/demo', `KeyId=${key}`],
    DeleteAlias: ['AliasName=alias/demo'],
    CreateDisk: [`ZoneId=${zone}`, 'DiskCategory=cloud_essd', 'Size=40'],
    DeleteDisk: [`DiskId=${disk}`],
    ModifyDiskAttribute: [`DiskId=${disk}`, 'DiskName=demo-disk'],
    ResizeDisk: [`DiskId=${disk}`, 'NewSize=80'],
    AssumeRole: [`RoleArn=acs:ram::${page.accountId}:role/${page.account?.ramRoles?.[0]?.roleName ?? 'ecs-operator'}`,
      'RoleSessionName=dashboard'],
  }[action] ?? [];
  $('params').value = [...lines, ...add].join('\n');
}

function parseParams(text) {
  const params = {};
  for (const [index, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`line ${index + 1}: write Name=Value`);
    params[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return params;
}

function pretty(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

async function fire() {
  const [version, action] = $('action').value.split('/');
  let params;
  try {
    params = parseParams($('params').value);
  } catch (error) {
    toast(`Parameters: ${error.message}`);
    $('params').focus();
    return;
  }
  const button = $('fire');
  button.disabled = true;
  try {
    const answer = await api('POST', '/invoke', {
      action,
      version,
      accessKeyId: $('caller').value || undefined,
      signature: $('signature').value,
      params,
    });
    renderResult(answer);
  } catch (error) {
    if (error.status !== 401) toast(`Send: ${error.message}`);
  } finally {
    button.disabled = false;
  }
  await refresh();
}

function renderResult(answer) {
  const ok = answer.httpStatus < 400;
  const status = $('result-status');
  status.textContent = `HTTP ${answer.httpStatus}`;
  status.dataset.kind = ok ? 'ok' : 'error';
  $('result-code').replaceChildren(...breakable(ok ? 'Success' : (answer.code ?? '(no code)')));
  $('result-message').textContent = answer.message ?? '';
  $('result-request-id').textContent = answer.requestId ?? '—';
  $('result-content-type').textContent = answer.contentType;
  $('result-body').textContent = pretty(answer.body);
  const request = answer.request;
  $('result-request').textContent = [`${request.method} ${request.url}`,
    ...Object.entries(request.headers).map(([name, value]) => `${name}: ${value}`)].join('\n');
  $('result').hidden = false;
}

$('try-form').addEventListener('submit', (event) => {
  event.preventDefault();
  fire();
});
$('try-form').addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    fire();
  }
});
$('action').addEventListener('change', fillTemplate);

// ---- the journal ---------------------------------------------------------------------------

function timeOf(receivedAt) {
  const match = /T(\d\d:\d\d:\d\d)/.exec(receivedAt ?? '');
  return match ? match[1] : receivedAt ?? '';
}

/** `text` with a line-break opportunity after each dot (error codes are long). */
function breakable(text) {
  const parts = text.split('.');
  return parts.flatMap((part, index) => (index < parts.length - 1 ? [`${part}.`, el('wbr')] : [part]));
}

function renderJournal(entries) {
  const shown = entries
    .filter((e) => !$('journal-account-only').checked || e.accountId === page.accountId)
    .reverse();
  const key = shown.map((e) => e.requestId).join(' ') + [...page.expanded].join(' ');
  if (key === page.journalShown) return;
  page.journalShown = key;
  const body = $('journal').tBodies[0];
  body.replaceChildren(...shown.flatMap((entry) => {
    const open = page.expanded.has(entry.requestId);
    const ok = entry.httpStatus < 400;
    const row = el('tr', { 'data-request-id': entry.requestId, 'data-code': entry.code ?? 'ok', class: ok ? 'ok' : 'error' },
      el('td', {}, el('button', {
        type: 'button',
        class: 'link',
        'aria-expanded': open ? 'true' : 'false',
        'aria-label': `${open ? 'Hide' : 'Show'} the parameters of ${entry.action ?? 'the request'} at ${timeOf(entry.receivedAt)}`,
        text: timeOf(entry.receivedAt),
        onclick: () => {
          if (open) page.expanded.delete(entry.requestId);
          else page.expanded.add(entry.requestId);
          page.journalShown = '';
          renderJournal(entries);
          body.querySelector(`tr[data-request-id="${CSS.escape(entry.requestId)}"] button`)?.focus();
        },
      })),
      el('td', { text: entry.action ?? '—' }),
      el('td', { class: 'small' }, entry.accountId
        ? [el('span', { text: entry.principal ?? '' }), el('br'), el('span', { class: 'muted', text: entry.accountId })]
        : (entry.accessKeyId ?? '—')),
      el('td', { class: 'code' },
        el('span', { class: 'badge', 'data-kind': ok ? 'ok' : 'error', text: String(entry.httpStatus) }),
        ' ',
        breakable(entry.code ?? 'Success')));
    if (!open) return [row];
    const unread = new Set(entry.unreadParams);
    const params = Object.entries(entry.params).map(([name, value]) => {
      const item = el('li', { class: 'mono' }, `${name}=${value}`);
      return unread.has(name) ? el('li', { class: 'mono' }, el('mark', { class: 'unread', title: 'never read by the action', text: `${name}=${value}` })) : item;
    });
    const facts = [
      `RequestId ${entry.requestId}`,
      `signature ${entry.signature.scheme} ${entry.signature.verdict}`,
      `${entry.latencyMicros} µs`,
      entry.faultId ? `fault ${entry.faultId}` : null,
      entry.stateSeq !== null ? `stateSeq ${entry.stateSeq}` : null,
    ].filter(Boolean).join(' · ');
    return [row, el('tr', { class: 'details' }, el('td', { colspan: 4 },
      el('p', { class: 'small muted', text: facts }),
      el('ul', { class: 'plain params' }, params)))];
  }));
}

$('journal-account-only').addEventListener('change', () => { page.journalShown = ''; refresh(); });
$('journal-clear').addEventListener('click', () => change('clear journal', () => api('DELETE', '/requests')));

// ---- faults and snapshots ------------------------------------------------------------------

function renderFaults(faults) {
  $('faults').replaceChildren(...faults.map((fault) => el('li', { 'data-fault-id': fault.faultId },
    el('span', { class: 'mono', text: `${fault.action ?? 'any action'} → ${fault.code ?? `${fault.latencyMs} ms`}` }),
    el('span', { class: 'muted small', text: ` matched ${fault.matched}, fired ${fault.fired}${fault.times ? ` of ${fault.times}` : ''} ` }),
    el('button', {
      type: 'button',
      'aria-label': `Remove the fault ${fault.code ?? ''} on ${fault.action ?? 'any action'}`,
      text: 'Remove',
      onclick: () => change('remove fault', () => api('DELETE', `/faults/${enc(fault.faultId)}`)),
    }))));
  if (!faults.length) $('faults').replaceChildren(el('li', { class: 'muted', text: 'No fault rule.' }));
}

$('fault-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const rule = { code: $('fault-code').value.trim() };
  if ($('fault-action').value) rule.action = $('fault-action').value;
  if ($('fault-times').value) rule.times = Number($('fault-times').value);
  $('fault-error').textContent = '';
  change('add fault', async () => {
    try {
      await api('POST', '/faults', rule);
    } catch (error) {
      $('fault-error').textContent = error.message;
      throw error;
    }
  });
});
$('faults-clear').addEventListener('click', () => change('remove faults', () => api('DELETE', '/faults')));

function renderSnapshots(snapshots) {
  $('snapshots').replaceChildren(...snapshots.map((s) => el('li', {},
    el('span', { class: 'mono', text: s.name }),
    el('span', { class: 'muted small', text: ` ${s.createdAt} ` }),
    el('button', {
      type: 'button',
      'aria-label': `Restore the snapshot ${s.name}`,
      text: 'Restore',
      onclick: () => change('restore', async () => {
        await api('POST', `/snapshots/${enc(s.name)}/restore`);
        toast(`Restored ${s.name}.`, 'info');
      }),
    }),
    el('button', {
      type: 'button',
      'aria-label': `Delete the snapshot ${s.name}`,
      text: 'Delete',
      onclick: () => change('delete snapshot', () => api('DELETE', `/snapshots/${enc(s.name)}`)),
    }))));
  if (!snapshots.length) $('snapshots').replaceChildren(el('li', { class: 'muted', text: 'No snapshot.' }));
}

$('snapshot-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const name = $('snapshot-name').value.trim();
  change('save snapshot', async () => {
    await api('POST', `/snapshots/${enc(name)}`);
    $('snapshot-name').value = '';
    toast(`Saved ${name}.`, 'info');
  });
});

// ---- polling -------------------------------------------------------------------------------

let refreshing = null;

/** Reads everything the page shows, after any read in flight (so it sees what came before). */
async function refresh() {
  while (refreshing) await refreshing;
  refreshing = read().finally(() => { refreshing = null; });
  return refreshing;
}

async function read() {
  const epoch = page.epoch;
  const current = () => page.pending === 0 && page.epoch === epoch;
  try {
    // The account list every fifth read (and after every change: a reset or a restore can
    // change it); the rest every time.
    const lists = await Promise.all([
      page.tick++ % 5 === 0 || !page.accounts.length ? api('GET', '/accounts') : null,
      api('GET', '/regions'),
    ]);
    if (lists[0]) page.accounts = lists[0].accounts;
    page.regions = lists[1].regions;
    if (!page.accounts.some((a) => a.accountId === page.accountId)) {
      page.accountId = page.accounts[0]?.accountId ?? null;
    }
    if (!page.regions.some((r) => r.regionId === page.regionId)) {
      page.regionId = page.regions.some((r) => r.regionId === 'cn-hangzhou') ? 'cn-hangzhou' : page.regions[0]?.regionId;
    }
    const [account, sessions, faults, snapshots, journal] = await Promise.all([
      page.accountId ? api('GET', `/accounts/${enc(page.accountId)}`).catch(() => null) : null,
      page.accountId ? api('GET', `/sessions?accountId=${enc(page.accountId)}`).catch(() => null) : null,
      api('GET', '/faults'),
      api('GET', '/snapshots'),
      $('journal-pause').checked ? null : api('GET', '/requests?limit=100'),
    ]);
    if (!current()) return;
    page.account = account;
    page.sessions = sessions?.sessions ?? [];
    renderAccounts();
    renderAccount();
    renderFaults(faults.faults);
    renderSnapshots(snapshots.snapshots);
    if (journal) renderJournal(journal.requests);
  } catch (error) {
    if (error.status && error.status !== 401) toast(error.message);
  }
}

function poll() {
  clearTimeout(page.timer);
  page.timer = setTimeout(async () => {
    if (!document.hidden && !$('token-dialog').open) await refresh();
    poll();
  }, POLL_MS);
}

async function start() {
  try {
    const health = await api('GET', '/health');
    $('version').textContent = `v${health.version}`;
    page.actions = (await api('GET', '/invoke')).actions;
    const coverage = (await api('GET', '/coverage')).coverage;
    $('fault-codes').replaceChildren(...[...new Set(coverage.map((c) => c.code))].sort()
      .map((code) => el('option', { value: code })));
    renderActions();
    page.tick = 0;
    await refresh();
    fillTemplate();
    poll();
  } catch (error) {
    if (error.status !== 401) toast(error.message);
  }
}

start();
