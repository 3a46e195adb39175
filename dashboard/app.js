// ki2api dashboard. Plain JavaScript, no build step: it reads /dashboard/api/… (the same JSON any
// client can read with an API key) every few seconds and draws it; charts by uPlot, served by the
// gateway itself. The key lives in this tab's sessionStorage and travels as a header only.

const REFRESH_MS = 4000;
const $ = (id) => document.getElementById(id);
const store = {
  get key() { return sessionStorage.getItem('ki2api.key') ?? ''; },
  set key(value) { value ? sessionStorage.setItem('ki2api.key', value) : sessionStorage.removeItem('ki2api.key'); },
  get admin() { return sessionStorage.getItem('ki2api.admin') ?? ''; },
  set admin(value) { value ? sessionStorage.setItem('ki2api.admin', value) : sessionStorage.removeItem('ki2api.admin'); },
};

/** A DOM element: h('div', { class: 'x', onclick }, child, 'text', …). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

class HttpError extends Error {
  constructor(status, body) {
    super(body?.error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.error?.code;
  }
}

async function api(path, { method = 'GET', body, admin = false } = {}) {
  const headers = { authorization: `Bearer ${store.key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (admin) headers['x-admin-key'] = store.admin;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json().catch(() => undefined);
  if (!response.ok) {
    // A wrong admin key is forgotten, so the page asks for it again.
    if (response.status === 403 && json?.error?.code === 'admin_key_invalid') store.admin = '';
    throw new HttpError(response.status, json);
  }
  return json;
}

// ------------------------------------------------------------------ theme

function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  localStorage.setItem('ki2api.theme', theme);
  for (const chart of Object.values(charts)) chart?.redraw();
}
const initialTheme = localStorage.getItem('ki2api.theme') ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
document.documentElement.dataset.theme = initialTheme;
$('theme').addEventListener('click', () => applyTheme(document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark'));

// ------------------------------------------------------------------ key

function showLogin(message) {
  $('board').hidden = true;
  $('forget').hidden = true;
  $('login').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message ?? '';
  $('key').focus();
}

$('key-form').addEventListener('submit', (event) => {
  event.preventDefault();
  store.key = $('key').value.trim();
  $('key').value = '';
  void refresh();
});
$('forget').addEventListener('click', () => {
  store.key = '';
  store.admin = '';
  showLogin();
});

// ------------------------------------------------------------------ accounts

let overview;
const pendingRemoval = new Set();

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const day = (iso) => (iso ? new Date(iso).toLocaleDateString() : '—');
const stateText = (a) => (a.state === 'cooling_down' ? `resting until ${when(a.cooldown_until)}` : a.state);

function creditBar(usage) {
  if (!usage) return h('p', { class: 'muted' }, 'Credits: not reported yet');
  const share = usage.limit > 0 ? Math.min(1, usage.used / usage.limit) : 0;
  const fill = h('span', { class: share >= 1 ? 'full' : share >= 0.8 ? 'high' : '' });
  fill.style.width = `${(share * 100).toFixed(1)}%`;
  return h(
    'div',
    { class: 'credits' },
    h('div', { class: 'row' }, h('span', {}, `Credits ${usage.used} / ${usage.limit}`), h('span', { class: 'muted' }, `${usage.plan ?? ''} · resets ${day(usage.resets_at)}`)),
    h('div', { class: 'bar', role: 'meter', 'aria-valuenow': usage.used, 'aria-valuemin': 0, 'aria-valuemax': usage.limit, 'data-share': share.toFixed(3) }, fill),
  );
}

function accountCard(account, admin, accountsDir) {
  const saved = accountsDir && account.source.startsWith(accountsDir);
  const actions =
    admin &&
    h(
      'div',
      { class: 'row' },
      h('button', { type: 'button', class: 'ghost small', 'data-action': 'refresh', onclick: () => act(account.fingerprint, 'refresh') }, 'Refresh'),
      saved &&
        h(
          'button',
          {
            type: 'button',
            class: 'danger small',
            'data-action': 'remove',
            onclick: (event) => {
              if (!pendingRemoval.has(account.fingerprint)) {
                pendingRemoval.add(account.fingerprint);
                event.target.textContent = 'Really remove?';
                return;
              }
              pendingRemoval.delete(account.fingerprint);
              void act(account.fingerprint, 'remove');
            },
          },
          pendingRemoval.has(account.fingerprint) ? 'Really remove?' : 'Remove',
        ),
    );
  return h(
    'article',
    { class: 'account', 'data-account': account.fingerprint },
    h('div', { class: 'row' }, h('strong', { class: 'mono' }, account.fingerprint), h('span', { class: `badge ${account.state}`, 'data-state': account.state }, stateText(account))),
    h('div', { class: 'muted' }, `${account.login_kind ?? 'login'} · ${account.endpoint ?? '?'} · ${account.region ?? ''}`),
    h('div', { class: 'muted' }, `Token expires ${when(account.expires_at)}`),
    creditBar(account.usage),
    account.models ? h('div', { class: 'chips' }, account.models.map((m) => h('span', { class: 'chip' }, m))) : h('p', { class: 'muted' }, 'Models: the built-in list (Kiro has not said yet)'),
    account.problem && h('p', { class: 'problem' }, account.problem),
    account.fix && h('p', { class: 'fix' }, account.fix),
    actions,
  );
}

async function act(fingerprint, action) {
  try {
    const result = await api(`/dashboard/api/accounts/${encodeURIComponent(fingerprint)}/${action}`, { method: 'POST', admin: true });
    flow(h('p', {}, result.done));
  } catch (error) {
    flow(h('p', { class: 'error' }, error.message));
  }
  await refresh();
}

function renderOverview(data) {
  overview = data;
  const healthy = data.accounts.filter((a) => a.state === 'healthy').length;
  $('status-dot').className = `dot ${healthy > 0 ? 'ok' : 'bad'}`;
  $('about').textContent = `${data.version} · up ${duration(data.uptime_seconds)}`;
  $('accounts-summary').textContent = `${healthy} of ${data.accounts.length} healthy`;
  const adminOn = data.admin.enabled && store.admin !== '';
  const list = data.accounts.filter((a) => !(a.state === 'unusable' && a.problem?.startsWith('no token file')));
  $('accounts').replaceChildren(...(list.length ? list.map((a) => accountCard(a, adminOn, data.settings.accounts_dir)) : [h('p', { class: 'muted' }, 'No account yet. Log in to the Kiro IDE, run `ki2api login`, or add one here (with ADMIN_KEY).')]));
  $('readonly-note').hidden = data.admin.enabled;
  $('readonly-note').textContent = data.admin.enabled ? '' : `Read-only: ${data.admin.how}`;
  $('admin').hidden = !data.admin.enabled;
  $('admin-form').hidden = !data.admin.enabled || store.admin !== '';
  $('add-account').hidden = !adminOn;
  renderConnect(data.connect);
  $('settings').replaceChildren(
    ...Object.entries({
      'Rate limit': data.settings.rate_limit_rpm ? `${data.settings.rate_limit_rpm}/min per key` : 'off',
      'Concurrent streams': data.settings.max_concurrent_streams || 'no limit',
      'Body limit': `${Math.round(data.settings.body_limit_bytes / 1048576)} MB`,
      'Upstream retries': data.settings.upstream_retries,
      'Answer cache': data.settings.cache_ttl_seconds ? `${data.settings.cache_ttl_seconds} s` : 'off',
      'Stored responses': `${data.settings.responses_ttl_seconds} s`,
      'Saved accounts': data.settings.accounts_dir,
      Started: when(data.started_at),
    }).flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, String(value))]),
  );
}

function duration(seconds) {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)} h`;
  return `${Math.round(seconds / 86400)} days`;
}

function renderConnect({ base_url: base, key_hint: hint }) {
  const key = `${hint || '<key>'} (your API key)`;
  $('connect').replaceChildren(
    h('p', {}, 'Base URL ', h('code', {}, `${base}/v1`), ' (Anthropic clients: ', h('code', {}, base), '), key ', h('code', {}, key), '.'),
    h('h3', {}, 'Claude Code'),
    h('pre', {}, `export ANTHROPIC_BASE_URL=${base}\nexport ANTHROPIC_API_KEY=<your key>\nexport ANTHROPIC_MODEL=claude-sonnet-4-5-20250929\nclaude`),
    h('h3', {}, 'Codex (~/.codex/config.toml)'),
    h('pre', {}, `model = "claude-sonnet-4-5-20250929"\nmodel_provider = "ki2api"\n\n[model_providers.ki2api]\nname = "ki2api"\nbase_url = "${base}/v1"\nenv_key = "KI2API_KEY"\nwire_api = "responses"\nsupports_websockets = false`),
    h('h3', {}, 'Cline, Roo, Kilo Code'),
    h('pre', {}, `Provider: OpenAI Compatible\nBase URL: ${base}/v1\nAPI key:  <your key>\nModel:    claude-sonnet-4-5-20250929`),
    h('h3', {}, 'openai SDK'),
    h('pre', {}, `new OpenAI({ baseURL: '${base}/v1', apiKey: '<your key>' })`),
  );
}

// ------------------------------------------------------------------ adding accounts

$('admin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  store.admin = $('admin-key').value.trim();
  $('admin-key').value = '';
  void refresh();
});

function flow(...content) {
  $('login-flow').hidden = false;
  $('login-flow').replaceChildren(...content);
}

async function watchLogin(state) {
  for (;;) {
    if (state.state === 'done') {
      flow(h('p', { 'data-login': 'done' }, `Added account ${state.account_id}. It serves within seconds.`));
      await refresh();
      return;
    }
    if (state.state === 'failed') return flow(h('p', { class: 'error', 'data-login': 'failed' }, state.message));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    state = await api(`/dashboard/api/logins/${state.login_id}`, { admin: true });
  }
}

async function deviceLogin(body) {
  try {
    const state = await api('/dashboard/api/logins/device', { method: 'POST', body, admin: true });
    flow(
      h('p', {}, 'Open ', h('a', { href: state.verification_url, target: '_blank', rel: 'noopener noreferrer', 'data-login': 'link' }, state.verification_url), ', check that it shows this code, and allow:'),
      h('p', { class: 'code', 'data-login': 'code' }, state.user_code),
      h('p', { class: 'muted' }, 'Waiting for you to allow it…'),
    );
    await watchLogin(state);
  } catch (error) {
    flow(h('p', { class: 'error' }, error.message));
  }
}

async function socialLogin(idp) {
  try {
    const state = await api('/dashboard/api/logins/social', { method: 'POST', body: { idp }, admin: true });
    const input = h('input', { id: 'callback', placeholder: 'kiro://kiro.kiroAgent/authenticate-success?code=…' });
    const message = h('p', { class: 'error', hidden: true });
    flow(
      h('p', {}, 'Sign in at ', h('a', { href: state.login_url, target: '_blank', rel: 'noopener noreferrer', 'data-login': 'link' }, idp === 'google' ? 'Google' : 'GitHub'), '. The browser then ends on a kiro://… address it cannot open: paste it here.'),
      input,
      h(
        'button',
        {
          type: 'button',
          onclick: async () => {
            try {
              await watchLogin(await api(`/dashboard/api/logins/${state.login_id}/callback`, { method: 'POST', body: { callback: input.value.trim() }, admin: true }));
            } catch (error) {
              message.hidden = false;
              message.textContent = error.message;
            }
          },
        },
        'Finish',
      ),
      message,
    );
  } catch (error) {
    flow(h('p', { class: 'error' }, error.message));
  }
}

$('add-builder').addEventListener('click', () => void deviceLogin({}));
$('add-idc').addEventListener('click', () => void deviceLogin({ start_url: $('idc-url').value.trim(), ...($('idc-region').value.trim() && { region: $('idc-region').value.trim() }) }));
$('add-google').addEventListener('click', () => void socialLogin('google'));
$('add-github').addEventListener('click', () => void socialLogin('github'));
$('add-import').addEventListener('click', async () => {
  try {
    const result = await api('/dashboard/api/accounts/import', { method: 'POST', body: { refresh_token: $('import-token').value.trim() }, admin: true });
    $('import-token').value = '';
    flow(h('p', { 'data-login': 'done' }, `Added account ${result.account_id}. ${result.done}`));
    await refresh();
  } catch (error) {
    flow(h('p', { class: 'error' }, error.message));
  }
});

// ------------------------------------------------------------------ traffic

const charts = {};
const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

function chart(id, series, data) {
  const el = $(id);
  const width = Math.max(280, el.clientWidth);
  if (charts[id]) {
    charts[id].setData(data);
    if (Math.abs(charts[id].width - width) > 4) charts[id].setSize({ width, height: 200 });
    return;
  }
  const axis = () => ({ stroke: () => css('--muted'), grid: { stroke: () => css('--line'), width: 1 }, ticks: { stroke: () => css('--line') } });
  charts[id] = new uPlot({ width, height: 200, series: [{}, ...series], axes: [axis(), axis()], scales: { x: { time: true } }, cursor: { drag: { x: false, y: false } } }, data, el);
}

function renderTraffic({ minutes, failures }) {
  const x = minutes.map((m) => Date.parse(m.start) / 1000);
  const sum = (m, face) => m.requests[face]['2xx'] + m.requests[face]['4xx'] + m.requests[face]['5xx'];
  const failed = (m) => ['chat', 'messages', 'responses'].reduce((n, f) => n + m.requests[f]['4xx'] + m.requests[f]['5xx'], 0);
  const total = minutes.reduce((n, m) => n + sum(m, 'chat') + sum(m, 'messages') + sum(m, 'responses'), 0);
  const credits = minutes.reduce((n, m) => n + m.credits, 0);
  const tokensIn = minutes.reduce((n, m) => n + m.tokens_in, 0);
  const tokensOut = minutes.reduce((n, m) => n + m.tokens_out, 0);
  $('traffic-summary').textContent = `${total} requests · ${tokensIn} tokens in, ${tokensOut} out · ${credits.toFixed(2)} credits`;
  $('traffic-summary').dataset.total = String(total);
  chart(
    'chart-requests',
    [
      { label: 'chat', stroke: '#3b5bdb', width: 2 },
      { label: 'messages', stroke: '#e8590c', width: 2 },
      { label: 'responses', stroke: '#2f9e44', width: 2 },
      { label: 'failed', stroke: '#c92a2a', width: 1, dash: [4, 4] },
    ],
    [x, minutes.map((m) => sum(m, 'chat')), minutes.map((m) => sum(m, 'messages')), minutes.map((m) => sum(m, 'responses')), minutes.map(failed)],
  );
  chart(
    'chart-latency',
    [
      { label: 'p50', stroke: '#3b5bdb', width: 2, points: { show: true, size: 5 } },
      { label: 'p95', stroke: '#ae3ec9', width: 2, points: { show: true, size: 5 } },
      { label: 'first token p50', stroke: '#2f9e44', width: 2, points: { show: true, size: 5 } },
    ],
    [x, minutes.map((m) => m.latency_ms?.p50 ?? null), minutes.map((m) => m.latency_ms?.p95 ?? null), minutes.map((m) => m.ttft_ms?.p50 ?? null)],
  );
  chart(
    'chart-tokens',
    [
      { label: 'in', stroke: '#1c7ed6', width: 2 },
      { label: 'out', stroke: '#f08c00', width: 2 },
    ],
    [x, minutes.map((m) => m.tokens_in), minutes.map((m) => m.tokens_out)],
  );
  const rows = failures.map((f) =>
    h('tr', {}, h('td', {}, new Date(f.at).toLocaleTimeString()), h('td', { class: 'mono' }, `${f.method} ${f.route}`), h('td', {}, f.model ?? '—'), h('td', { class: 'mono' }, f.account ?? '—'), h('td', {}, String(f.status)), h('td', { class: 'message' }, h('code', {}, f.code), ' ', f.message)),
  );
  $('failures').tBodies[0].replaceChildren(...rows);
  $('failures').hidden = failures.length === 0;
  $('no-failures').hidden = failures.length > 0;
}

// ------------------------------------------------------------------ refresh loop

let timer;
async function refresh() {
  clearTimeout(timer);
  if (!store.key) return showLogin();
  try {
    const [data, traffic] = await Promise.all([api('/dashboard/api/overview'), api('/dashboard/api/traffic')]);
    $('login').hidden = true;
    $('board').hidden = false;
    $('forget').hidden = false;
    renderOverview(data);
    renderTraffic(traffic);
  } catch (error) {
    if (error.status === 401) {
      store.key = '';
      return showLogin(`That key is not accepted: ${error.message}`);
    }
    $('about').textContent = `cannot reach the gateway (${error.message}); retrying`;
    $('status-dot').className = 'dot bad';
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

addEventListener('resize', () => overview && void refresh());
void refresh();
