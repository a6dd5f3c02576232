// The Vigil dashboard: one page, hash routes (#/hunting, #/chain, #/quarantine, #/agents, #/intel).
// Everything is built with DOM calls (no HTML strings), so alert contents are never interpreted as markup.

const SVG_NS = 'http://www.w3.org/2000/svg';
const TABLE_LIMIT = 100;
const LIVE_ROWS_MAX = 500;
const STAGE_ORDER = ['fim', 'verdict', 'prevention', 'response', 'quarantine', 'other'];
const STAGE_LABELS = {
  fim: 'File change', verdict: 'Verdict', prevention: 'Prevention', response: 'Response', quarantine: 'Quarantine', other: 'Other',
};

const session = { username: '', role: '', csrfToken: '' };
let leaving = false;

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

/** Creates an element: h('td', { class: 'x', 'data-testid': 'y', onclick: fn }, 'text', child). */
function h(tag, attributes = {}, ...children) {
  return build(document.createElement(tag), attributes, children);
}

function svg(tag, attributes = {}, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attributes, children);
}

function build(element, attributes, children) {
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

/** An error box (role="alert") and a status line for the results of actions. */
function messageBoxes() {
  const error = h('div', { class: 'error', role: 'alert', 'data-testid': 'error', hidden: true });
  const status = h('div', { class: 'message', role: 'status', 'data-testid': 'message', hidden: true });
  return {
    error,
    status,
    showError(text) {
      error.textContent = text;
      error.hidden = false;
    },
    showStatus(text) {
      status.textContent = text;
      status.hidden = false;
    },
    clear() {
      error.textContent = '';
      error.hidden = true;
      status.textContent = '';
      status.hidden = true;
    },
  };
}

function badge(text, kind) {
  return h('span', { class: `badge ${kind ?? ''}`.trim() }, text);
}

function levelBadge(level) {
  const n = Number(level);
  const kind = n >= 12 ? 'level-high' : n >= 7 ? 'level-medium' : 'level-low';
  return badge(level ?? '—', kind);
}

function ellipsis(text, testId) {
  return h('span', { class: 'ellipsis', title: text ?? '', 'data-testid': testId }, text ?? '');
}

// ---------------------------------------------------------------------------------------------------------------
// Times

/** Wazuh writes "+0000"; Date.parse wants "+00:00". */
function parseTime(value) {
  if (!value) return NaN;
  return Date.parse(String(value).replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

function pad(n) {
  return String(n).padStart(2, '0');
}

function formatTime(value) {
  const t = parseTime(value);
  if (Number.isNaN(t)) return value ?? '';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function timeCell(value) {
  return h('time', { datetime: value ?? '', title: value ?? '' }, formatTime(value));
}

// ---------------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=');
    if (key === name) return decodeURIComponent(rest.join('='));
  }
  return '';
}

function csrfToken() {
  return cookie('vigil_csrf') || session.csrfToken || sessionStorage.getItem('vigil.csrf') || '';
}

function toLogin() {
  if (leaving) return;
  leaving = true;
  const next = location.hash && location.hash.startsWith('#/') ? `?next=${encodeURIComponent(location.hash)}` : '';
  location.assign(`/login${next}`);
}

async function problemDetail(response) {
  const fallback = response.status === 403
    ? 'Forbidden: your role does not allow this (403).'
    : `The server answered ${response.status} ${response.statusText}.`.replace(' .', '.');
  try {
    const text = await response.text();
    try {
      const body = JSON.parse(text);
      return body.detail || body.title || fallback;
    } catch {
      return text.trim() || fallback;
    }
  } catch {
    return fallback;
  }
}

/** Fetches an API path; returns { status, data }. A 401 goes to the login page; other errors throw ApiError. */
async function request(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch {
    throw new ApiError(0, 'The manager cannot be reached.');
  }

  if (response.status === 401) {
    toLogin();
    throw new ApiError(401, 'Not logged in.');
  }
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
  if (response.status === 204) return { status: 204, data: null };
  const type = response.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await response.json() : await response.text();
  return { status: response.status, data };
}

async function api(path, options) {
  return (await request(path, options)).data;
}

function query(parameters) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(parameters)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

// ---------------------------------------------------------------------------------------------------------------
// Live alerts (server-sent events)

/** A live indicator element and an EventSource on /api/alerts/stream that reopens after it is closed. */
function liveStream(ctx, filter, onAlert) {
  const indicator = h('span', { class: 'live off', 'data-testid': 'live-indicator', title: 'New alerts arrive without reloading' },
    h('span', { class: 'dot', 'aria-hidden': 'true' }), h('span', { class: 'live-text' }, 'off'));
  let source = null;
  let retry = null;

  function set(state, text) {
    indicator.className = `live ${state}`;
    indicator.dataset.state = state;
    indicator.querySelector('.live-text').textContent = text;
  }

  function close() {
    clearTimeout(retry);
    if (source) source.close();
    source = null;
  }

  function open(q) {
    close();
    set('connecting', 'connecting…');
    source = new EventSource(`/api/alerts/stream${query({ q: q && q.trim() })}`);
    const current = source;
    current.addEventListener('open', () => set('on', 'live'));
    current.addEventListener('alert', (event) => {
      let item;
      try {
        item = JSON.parse(event.data);
      } catch {
        return;
      }
      onAlert(item);
    });
    current.addEventListener('error', () => {
      if (current !== source) return;
      if (current.readyState === EventSource.CLOSED) {
        set('off', 'disconnected');
        // A 401 closes the stream for good: check the session (a 401 here goes to the login page), then reopen.
        api('/api/me').catch(() => {});
        retry = setTimeout(() => {
          if (ctx.active && source === current) open(q);
        }, 5000);
      } else {
        set('connecting', 'reconnecting…');
      }
    });
  }

  function pause(text) {
    close();
    set('off', text);
  }

  ctx.onDispose(close);
  if (filter !== undefined) open(filter);
  return { indicator, open, pause, close };
}

// ---------------------------------------------------------------------------------------------------------------
// Threat Hunting

const RANGES = [
  ['now-15m', 'Last 15 minutes'],
  ['now-1h', 'Last 1 hour'],
  ['now-24h', 'Last 24 hours'],
  ['now-7d', 'Last 7 days'],
  ['now-30d', 'Last 30 days'],
  ['custom', 'Custom range'],
];

/** datetime-local value ("2026-11-28T10:00") for an ISO time, in local time. */
function toLocalInput(value) {
  const t = parseTime(value);
  if (Number.isNaN(t)) return '';
  const d = new Date(t);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function chainHref(agentId, file) {
  return `#/chain${query({ agent: agentId, file })}`;
}

async function renderHunting(ctx) {
  const initialRange = ctx.params.get('range') || 'now-24h';
  const boxes = messageBoxes();
  const input = h('input', {
    id: 'query', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'query-input',
    placeholder: 'rule.id: is one of 553,100092,87105,100201   ·   rule.level >= 10   ·   eicar',
  });
  input.value = ctx.params.get('q') ?? '';
  const range = h('select', { id: 'time-range', 'data-testid': 'time-range' },
    RANGES.map(([value, label]) => h('option', { value }, label)));
  range.value = RANGES.some(([value]) => value === initialRange) ? initialRange : 'now-24h';
  const from = h('input', { id: 'range-from', type: 'datetime-local', 'data-testid': 'range-from' });
  const to = h('input', { id: 'range-to', type: 'datetime-local', 'data-testid': 'range-to' });
  from.value = toLocalInput(ctx.params.get('from'));
  to.value = toLocalInput(ctx.params.get('to'));
  const custom = h('span', { class: 'custom-range', hidden: range.value !== 'custom' },
    h('label', { for: 'range-from' }, 'From'), from, h('label', { for: 'range-to' }, 'To'), to);
  const button = h('button', { type: 'submit', 'data-testid': 'search-button' }, 'Search');
  const form = h('form', { class: 'query-bar', role: 'search', 'data-testid': 'query-form' },
    h('label', { for: 'query', class: 'query-label' }, 'Query'), input,
    h('label', { for: 'time-range', class: 'visually-hidden' }, 'Time range'), range, custom, button);

  const total = h('span', { class: 'total', 'data-testid': 'total' }, '');
  const chart = h('div', { class: 'histogram', 'data-testid': 'histogram' });
  const tbody = h('tbody', { 'data-testid': 'alert-rows' });
  const empty = h('p', { class: 'empty', hidden: true }, 'No alerts in this time range.');
  const table = h('table', { class: 'alerts', 'data-testid': 'alert-table' },
    h('colgroup', {}, h('col', { class: 'c-time' }), h('col', { class: 'c-agent' }), h('col', { class: 'c-rule' }),
      h('col', { class: 'c-level' }), h('col', { class: 'c-description' }), h('col', { class: 'c-file' })),
    h('thead', {}, h('tr', {}, ['Time', 'Agent', 'Rule ID', 'Level', 'Description', 'File'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  const detail = h('aside', { class: 'detail', 'data-testid': 'alert-detail', hidden: true, 'aria-label': 'Alert detail' });

  let histogram = null;
  let count = 0;
  let searchSeq = 0;
  let isLive = false;
  const shown = new Set();
  const live = liveStream(ctx, undefined, (item) => onLiveAlert(item));

  ctx.view.append(form, boxes.error,
    h('div', { class: 'summary' }, total, live.indicator),
    chart, h('div', { class: 'table-wrap' }, table, empty), detail);

  range.addEventListener('change', () => {
    custom.hidden = range.value !== 'custom';
    if (range.value !== 'custom') search();
    else from.focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    search();
  });

  function currentRange() {
    if (range.value !== 'custom') return { from: range.value, to: 'now', relative: true };
    const start = parseTime(from.value);
    const end = to.value ? parseTime(to.value) : NaN;
    if (Number.isNaN(start)) throw new Error('Choose the start of the custom range.');
    if (!Number.isNaN(end) && end <= start) throw new Error('The end of the range must be after its start.');
    return {
      from: new Date(start).toISOString(),
      to: Number.isNaN(end) ? 'now' : new Date(end).toISOString(),
      relative: Number.isNaN(end),
    };
  }

  function rememberInUrl(q, r) {
    const parameters = { q, range: range.value };
    if (range.value === 'custom') {
      parameters.from = r.from;
      parameters.to = r.to === 'now' ? undefined : r.to;
    }
    history.replaceState(null, '', `#/hunting${query(parameters)}`);
  }

  function setTotal() {
    total.textContent = `${count.toLocaleString()} ${count === 1 ? 'alert' : 'alerts'}`;
  }

  async function search() {
    const seq = ++searchSeq;
    boxes.clear();
    let r;
    try {
      r = currentRange();
    } catch (e) {
      boxes.showError(e.message);
      return;
    }
    const q = input.value.trim();
    rememberInUrl(q, r);
    live.pause(r.relative ? 'connecting…' : 'paused (fixed range)');
    isLive = false;
    button.disabled = true;
    try {
      const [list, buckets] = await Promise.all([
        api(`/api/alerts${query({ q, from: r.from, to: r.to, limit: TABLE_LIMIT })}`),
        api(`/api/alerts/histogram${query({ q, from: r.from, to: r.to, buckets: 60 })}`),
      ]);
      if (seq !== searchSeq || !ctx.active) return;
      shown.clear();
      tbody.replaceChildren();
      hideDetail();
      for (const item of list.alerts ?? []) {
        shown.add(item.id);
        tbody.append(alertRow(item));
      }
      count = Number(list.total ?? (list.alerts ?? []).length);
      setTotal();
      empty.hidden = tbody.children.length > 0;
      histogram = buckets;
      drawHistogram(chart, histogram);
      if (r.relative) {
        isLive = true;
        live.open(q);
      }
    } catch (e) {
      if (seq !== searchSeq || !ctx.active) return;
      boxes.showError(e.message);
      shown.clear();
      tbody.replaceChildren();
      empty.hidden = true;
      count = 0;
      total.textContent = '';
      histogram = null;
      chart.replaceChildren();
      live.pause('off');
    } finally {
      if (seq === searchSeq) button.disabled = false;
    }
  }

  function onLiveAlert(item) {
    if (!isLive || !item || shown.has(item.id)) return;
    shown.add(item.id);
    const row = alertRow(item);
    row.classList.add('new');
    tbody.prepend(row);
    while (tbody.children.length > LIVE_ROWS_MAX) tbody.lastElementChild.remove();
    empty.hidden = true;
    count += 1;
    setTotal();
    if (histogram && Array.isArray(histogram.buckets) && histogram.buckets.length > 0) {
      addToHistogram(histogram, item.timestamp);
      drawHistogram(chart, histogram);
    }
  }

  function alertRow(item) {
    const agentName = item.agent ? `${item.agent.name ?? ''} (${item.agent.id ?? ''})` : '';
    const row = h('tr', {
      'data-testid': 'alert-row', 'data-alert-id': item.id, 'data-rule-id': item.rule?.id ?? '', 'data-file': item.file ?? '',
      tabindex: '0',
    },
    h('td', {}, timeCell(item.timestamp)),
    h('td', {}, ellipsis(agentName)),
    h('td', { class: 'mono' }, item.rule?.id ?? ''),
    h('td', {}, levelBadge(item.rule?.level)),
    h('td', {}, ellipsis(item.rule?.description ?? '')),
    h('td', { class: 'mono' }, ellipsis(item.file ?? '', 'alert-file')));
    row.addEventListener('click', () => showDetail(item, row));
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' || event.key === ' ') {
        event.preventDefault();
        showDetail(item, row);
      }
    });
    return row;
  }

  function hideDetail() {
    detail.hidden = true;
    detail.replaceChildren();
    for (const selected of tbody.querySelectorAll('tr.selected')) selected.classList.remove('selected');
  }

  async function showDetail(item, row) {
    hideDetail();
    row.classList.add('selected');
    const pre = h('pre', { class: 'json', 'data-testid': 'alert-json' }, item.alert ? JSON.stringify(item.alert, null, 2) : 'Loading…');
    const close = h('button', { type: 'button', class: 'secondary', 'data-testid': 'detail-close' }, 'Close');
    close.addEventListener('click', () => {
      hideDetail();
      row.focus();
    });
    const links = h('p', { class: 'links' });
    if (item.file && item.agent?.id !== undefined) {
      links.append(h('a', { href: chainHref(item.agent.id, item.file), 'data-testid': 'chain-link' }, 'Detection chain'));
    }
    detail.append(
      h('div', { class: 'detail-head' },
        h('h2', {}, `Rule ${item.rule?.id ?? ''}: ${item.rule?.description ?? ''}`), close),
      h('p', { class: 'muted' }, `${formatTime(item.timestamp)} · ${item.agent?.name ?? ''} · alert ${item.id}`),
      links, pre);
    detail.hidden = false;
    if (!item.alert) {
      try {
        const doc = await api(`/api/alerts/${encodeURIComponent(item.id)}`);
        pre.textContent = JSON.stringify(doc, null, 2);
      } catch (e) {
        pre.textContent = e.message;
      }
    }
  }

  await search();
  if (ctx.active && !input.value) input.focus();
}

function addToHistogram(histogram, timestamp) {
  const buckets = histogram.buckets;
  const interval = Number(histogram.intervalSeconds) * 1000;
  const start = parseTime(histogram.from ?? buckets[0].start);
  const t = parseTime(timestamp);
  let index = buckets.length - 1;
  if (!Number.isNaN(t) && !Number.isNaN(start) && interval > 0) {
    index = Math.floor((t - start) / interval);
    if (index < 0) return;
    index = Math.min(index, buckets.length - 1);
  }
  buckets[index].count = Number(buckets[index].count ?? 0) + 1;
}

/** Draws the histogram as SVG bars (one per bucket) with the time axis and the highest count as text. */
function drawHistogram(host, histogram) {
  const buckets = Array.isArray(histogram?.buckets) ? histogram.buckets : [];
  const width = 1000;
  const height = 100;
  const max = Math.max(1, ...buckets.map((b) => Number(b.count) || 0));
  const slot = buckets.length ? width / buckets.length : width;
  const gap = slot > 6 ? 1.5 : 0;
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: 'none', role: 'img', class: 'histogram-svg',
    'aria-label': `Alerts over time, ${buckets.length} intervals, at most ${max} in one`,
  });
  chart.append(svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'axis' }));
  buckets.forEach((bucket, i) => {
    const count = Number(bucket.count) || 0;
    const barHeight = count === 0 ? 0 : Math.max(2, (count / max) * (height - 4));
    chart.append(svg('rect', {
      x: (i * slot + gap / 2).toFixed(2), y: (height - barHeight).toFixed(2),
      width: Math.max(0.5, slot - gap).toFixed(2), height: barHeight.toFixed(2),
      class: 'bar', 'data-testid': 'histogram-bar', 'data-count': count, 'data-start': bucket.start ?? '',
    }, svg('title', {}, `${formatTime(bucket.start)}: ${count}`)));
  });
  const first = buckets[0]?.start;
  const interval = Number(histogram?.intervalSeconds) || 0;
  const last = buckets.length ? parseTime(buckets[buckets.length - 1].start) + interval * 1000 : NaN;
  host.replaceChildren(
    h('div', { class: 'histogram-max' }, `max ${max}`),
    chart,
    h('div', { class: 'histogram-axis' },
      h('span', {}, first ? formatTime(first) : ''),
      h('span', {}, interval ? `${formatInterval(interval)} per bar` : ''),
      h('span', {}, Number.isNaN(last) ? '' : formatTime(new Date(last).toISOString()))));
}

function formatInterval(seconds) {
  if (seconds % 86400 === 0) return `${seconds / 86400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  if (seconds % 60 === 0) return `${seconds / 60} min`;
  return `${seconds} s`;
}

// ---------------------------------------------------------------------------------------------------------------
// Detection chain

function stageRank(stage) {
  const index = STAGE_ORDER.indexOf(stage);
  return index < 0 ? STAGE_ORDER.length : index;
}

async function renderChain(ctx) {
  const agent = ctx.params.get('agent') ?? '';
  const file = ctx.params.get('file') ?? '';
  if (!agent || !file) {
    renderChainForm(ctx, agent, file);
    return;
  }

  const boxes = messageBoxes();
  const steps = h('ol', { class: 'chain', 'data-testid': 'chain' });
  const quarantineBody = h('tbody', {});
  const quarantineTable = h('table', { class: 'records', 'data-testid': 'chain-quarantine' },
    h('thead', {}, h('tr', {}, ['State', 'Path', 'SHA-256', 'Quarantined', 'Updated', 'Restored to'].map((c) => h('th', { scope: 'col' }, c)))),
    quarantineBody);
  const noQuarantine = h('p', { class: 'empty' }, 'No quarantine record for this file.');
  const live = liveStream(ctx, '', (item) => {
    if (concerns(item)) scheduleLoad();
  });
  ctx.view.append(
    h('p', { class: 'subject' }, 'Agent ', h('strong', { 'data-testid': 'chain-agent' }, agent), ' · ',
      h('span', { class: 'mono', 'data-testid': 'chain-file', title: file }, file), ' ', live.indicator),
    boxes.error,
    h('h2', {}, 'Steps'), steps,
    h('h2', {}, 'Quarantine records'), quarantineTable, noQuarantine);

  let timer = null;
  ctx.onDispose(() => clearTimeout(timer));
  const poll = setInterval(() => load(), 15000);
  ctx.onDispose(() => clearInterval(poll));

  function concerns(item) {
    if (!item || String(item.agent?.id ?? '') !== agent) return false;
    if (item.file === file) return true;
    return JSON.stringify(item.alert ?? {}).includes(JSON.stringify(file).slice(1, -1));
  }

  function scheduleLoad() {
    clearTimeout(timer);
    timer = setTimeout(() => load(), 300);
  }

  async function load() {
    let chain;
    try {
      chain = await api(`/api/chain${query({ agent, file })}`);
    } catch (e) {
      if (ctx.active) boxes.showError(e.message);
      return;
    }
    if (!ctx.active) return;
    boxes.clear();
    const ordered = (chain.steps ?? [])
      .map((step, index) => ({ step, index }))
      .sort((a, b) => stageRank(a.step.stage) - stageRank(b.step.stage) || a.index - b.index)
      .map(({ step }) => step);
    const ids = new Set(ordered.map((step) => step.alert?.id));
    steps.replaceChildren(...ordered.map((step) => chainStep(step, ids, steps)));
    if (ordered.length === 0) steps.append(h('li', { class: 'empty' }, 'No alerts for this file yet.'));
    const records = chain.quarantine ?? [];
    quarantineBody.replaceChildren(...records.map((item) => h('tr', {
      'data-testid': 'chain-quarantine-row', 'data-state': item.state, 'data-path': item.path,
    },
    h('td', {}, stateBadge(item.state)),
    h('td', { class: 'mono' }, ellipsis(item.path)),
    h('td', { class: 'mono' }, ellipsis(item.sha256)),
    h('td', {}, timeCell(item.quarantinedAt)),
    h('td', {}, timeCell(item.updatedAt)),
    h('td', { class: 'mono' }, ellipsis(item.restoredTo ?? '')))));
    quarantineTable.hidden = records.length === 0;
    noQuarantine.hidden = records.length > 0;
  }

  await load();
}

function chainStep(step, ids, list) {
  const alert = step.alert ?? {};
  const stage = STAGE_ORDER.includes(step.stage) ? step.stage : 'other';
  const cause = step.causedBy
    ? (ids.has(step.causedBy)
      ? h('button', { type: 'button', class: 'link', 'data-testid': 'caused-by', 'data-caused-by': step.causedBy }, `caused by ${step.causedBy}`)
      : h('span', { class: 'muted', 'data-testid': 'caused-by', 'data-caused-by': step.causedBy }, `caused by ${step.causedBy}`))
    : null;
  if (cause && cause.tagName === 'BUTTON') {
    cause.addEventListener('click', () => {
      const target = [...list.children].find((li) => li.dataset.alertId === step.causedBy);
      if (!target) return;
      target.scrollIntoView({ block: 'center', behavior: 'smooth' });
      target.classList.remove('flash');
      void target.offsetWidth;
      target.classList.add('flash');
    });
  }
  return h('li', {
    class: `step stage-${stage}`, 'data-testid': 'chain-step', 'data-stage': stage, 'data-rule-id': alert.rule?.id ?? '',
    'data-alert-id': alert.id ?? '',
  },
  h('div', { class: 'step-head' },
    badge(STAGE_LABELS[stage], `stage stage-${stage}`),
    h('span', { class: 'mono rule' }, `Rule ${alert.rule?.id ?? ''}`),
    levelBadge(alert.rule?.level),
    h('span', { class: 'description' }, alert.rule?.description ?? ''),
    timeCell(alert.timestamp)),
  step.engine
    ? h('div', { class: 'step-engine', 'data-testid': 'chain-engine' },
      h('span', { 'data-testid': 'chain-engine-name' }, step.engine.name === 'yara' ? 'YARA' : step.engine.name === 'clamav' ? 'ClamAV' : step.engine.name),
      h('span', { class: 'mono', 'data-testid': 'chain-engine-match' }, step.engine.match ?? '—'),
      h('span', { class: 'muted mono', 'data-testid': 'chain-engine-version', title: step.engine.version ?? '' },
        step.engine.version ? `version ${step.engine.version.length === 64 ? step.engine.version.slice(0, 12) : step.engine.version}` : 'version unknown'))
    : null,
  h('div', { class: 'step-meta' }, h('span', { class: 'muted' }, `alert ${alert.id ?? ''}`), cause),
  h('details', {}, h('summary', {}, 'Alert JSON'),
    h('pre', { class: 'json' }, JSON.stringify(alert.alert ?? alert, null, 2))));
}

function renderChainForm(ctx, agent, file) {
  const agentInput = h('input', { id: 'chain-agent', type: 'text', required: true, 'data-testid': 'chain-agent-input' });
  const fileInput = h('input', { id: 'chain-file', type: 'text', required: true, class: 'wide', 'data-testid': 'chain-file-input' });
  agentInput.value = agent;
  fileInput.value = file;
  const form = h('form', { class: 'query-bar' },
    h('label', { for: 'chain-agent' }, 'Agent ID'), agentInput,
    h('label', { for: 'chain-file' }, 'File'), fileInput,
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    location.hash = chainHref(agentInput.value.trim(), fileInput.value.trim());
  });
  ctx.view.append(h('p', { class: 'muted' }, 'Open a chain from an alert on the Threat Hunting page, or name the agent and the file.'), form);
}

// ---------------------------------------------------------------------------------------------------------------
// Quarantine

function stateBadge(state) {
  return badge(state ?? '', `state state-${state}`);
}

async function renderQuarantine(ctx) {
  const boxes = messageBoxes();
  const isAdmin = session.role === 'admin';
  const filter = h('select', { id: 'state-filter', 'data-testid': 'state-filter' },
    [['', 'All states'], ['quarantined', 'Quarantined'], ['restored', 'Restored'], ['deleted', 'Deleted']]
      .map(([value, label]) => h('option', { value }, label)));
  filter.value = ctx.params.get('state') ?? '';
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'Nothing in quarantine.');
  const table = h('table', { class: 'records', 'data-testid': 'quarantine-table' },
    h('colgroup', {}, h('col', { class: 'c-agent' }), h('col', { class: 'c-file' }), h('col', { class: 'c-hash' }),
      h('col', { class: 'c-state' }), h('col', { class: 'c-rule' }), h('col', { class: 'c-time' }), h('col', { class: 'c-time' }),
      h('col', { class: 'c-actions' })),
    h('thead', {}, h('tr', {}, ['Agent', 'Path', 'SHA-256', 'State', 'Rule', 'Quarantined', 'Updated', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
    tbody);
  ctx.view.append(
    h('div', { class: 'toolbar' }, h('label', { for: 'state-filter' }, 'State'), filter,
      isAdmin ? null : h('span', { class: 'muted', 'data-testid': 'viewer-note' }, 'Restoring and deleting need the admin role.')),
    boxes.error, boxes.status, h('div', { class: 'table-wrap' }, table, empty));
  filter.addEventListener('change', () => {
    history.replaceState(null, '', `#/quarantine${query({ state: filter.value })}`);
    load();
  });

  const timers = [];
  ctx.onDispose(() => timers.forEach(clearTimeout));
  const refresh = setInterval(load, 10000);
  ctx.onDispose(() => clearInterval(refresh));

  async function load() {
    let items;
    try {
      items = await api(`/api/quarantine${query({ state: filter.value })}`);
    } catch (e) {
      if (ctx.active) boxes.showError(e.message);
      return;
    }
    if (!ctx.active) return;
    tbody.replaceChildren(...items.map(row));
    empty.hidden = items.length > 0;
  }

  function row(item) {
    const actions = h('td', { class: 'actions' });
    if (item.state === 'quarantined') {
      const disabledTitle = isAdmin ? undefined : 'Only an admin can do this';
      const restore = h('button', { type: 'button', 'data-testid': 'restore-button', disabled: !isAdmin, title: disabledTitle }, 'Restore');
      const remove = h('button', { type: 'button', class: 'danger', 'data-testid': 'delete-button', disabled: !isAdmin, title: disabledTitle }, 'Delete');
      restore.addEventListener('click', () => act(item, 'restore', [restore, remove]));
      remove.addEventListener('click', () => {
        if (confirm(`Delete ${item.path} from quarantine for good?`)) act(item, 'delete', [restore, remove]);
      });
      actions.append(restore, remove);
    }
    return h('tr', {
      'data-testid': 'quarantine-row', 'data-state': item.state, 'data-path': item.path, 'data-id': item.id,
      'data-agent-id': item.agentId, 'data-sha256': item.sha256,
    },
    h('td', {}, ellipsis(`${item.agentName ?? ''} (${item.agentId ?? ''})`)),
    h('td', { class: 'mono' }, h('a', { href: chainHref(item.agentId, item.path), class: 'ellipsis', title: item.path }, item.path)),
    h('td', { class: 'mono' }, ellipsis(item.sha256)),
    h('td', {}, stateBadge(item.state)),
    h('td', { class: 'mono' }, item.ruleId ?? ''),
    h('td', {}, timeCell(item.quarantinedAt)),
    h('td', {}, timeCell(item.updatedAt)),
    actions);
  }

  async function act(item, action, buttons) {
    boxes.clear();
    buttons.forEach((b) => { b.disabled = true; });
    try {
      const { status, data } = await request(
        `/api/quarantine/${encodeURIComponent(item.agentId)}/${encodeURIComponent(item.id)}/${action}`, { method: 'POST' });
      const done = action === 'restore' ? 'Restored' : 'Deleted';
      const answer = data && typeof data === 'object' ? data : {};
      const where = action === 'restore' && answer.restoredTo ? ` to ${answer.restoredTo}` : '';
      const fallback = status === 202
        ? `${action === 'restore' ? 'Restore' : 'Delete'} of ${item.path} sent to agent ${item.agentName ?? item.agentId}; the list updates when it answers.`
        : `${done} ${item.path}${where}.`;
      boxes.showStatus(typeof answer.message === 'string' && answer.message ? answer.message : fallback);
      if (status === 202) {
        timers.push(setTimeout(load, 1500), setTimeout(load, 5000));
      }
    } catch (e) {
      boxes.showError(e.message);
    }
    await load();
  }

  await load();
}

// ---------------------------------------------------------------------------------------------------------------
// Agents

async function renderAgents(ctx) {
  const boxes = messageBoxes();
  const isAdmin = session.role === 'admin';
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'No agents.');
  const columns = ['ID', 'Name', 'Address', 'Version', 'Status', 'Last keep-alive'];
  if (isAdmin) columns.push('Actions');
  ctx.view.append(boxes.error, boxes.status, h('div', { class: 'table-wrap' },
    h('table', { class: 'records', 'data-testid': 'agents-table' },
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))), tbody), empty));

  async function load() {
    let agents;
    try {
      agents = await api('/api/agents');
    } catch (e) {
      if (ctx.active) boxes.showError(e.message);
      return;
    }
    if (!ctx.active) return;
    tbody.replaceChildren(...agents.map((agent) => {
      const cells = [
        h('td', { class: 'mono' }, agent.id),
        h('td', {}, ellipsis(agent.name)),
        h('td', { class: 'mono' }, agent.address ?? ''),
        h('td', {}, agent.version ?? ''),
        h('td', {}, badge(agent.status ?? 'unknown', `status status-${String(agent.status ?? 'unknown').toLowerCase().replace(/[^a-z]/g, '')}`)),
        h('td', {}, timeCell(agent.lastKeepAlive)),
      ];
      if (isAdmin) {
        const remove = h('button', { type: 'button', class: 'danger', 'data-testid': 'remove-agent-button' }, 'Remove');
        remove.addEventListener('click', async () => {
          if (!confirm(`Remove agent ${agent.name} (${agent.id})? It must enroll again to reconnect.`)) return;
          boxes.clear();
          remove.disabled = true;
          try {
            await request(`/api/agents/${encodeURIComponent(agent.id)}`, { method: 'DELETE' });
            boxes.showStatus(`Removed agent ${agent.name} (${agent.id}).`);
          } catch (e) {
            boxes.showError(e.message);
          }
          await load();
        });
        cells.push(h('td', { class: 'actions' }, remove));
      }
      return h('tr', { 'data-testid': 'agent-row', 'data-agent-id': agent.id, 'data-status': agent.status ?? '' }, cells);
    }));
    empty.hidden = agents.length > 0;
  }

  const refresh = setInterval(load, 15000);
  ctx.onDispose(() => clearInterval(refresh));
  await load();
}

// ---------------------------------------------------------------------------------------------------------------
// Intelligence

function quota(used, limit) {
  const u = Number(used ?? 0);
  if (limit === null || limit === undefined || Number(limit) <= 0) return `${u} used · no limit`;
  return `${u} / ${limit} used · ${Math.max(0, Number(limit) - u)} left`;
}

function hitRate(provider) {
  let rate = Number(provider.cacheHitRate);
  if (!Number.isFinite(rate)) {
    const total = Number(provider.cacheHits ?? 0) + Number(provider.cacheMisses ?? 0);
    rate = total ? Number(provider.cacheHits ?? 0) / total : NaN;
  }
  if (!Number.isFinite(rate)) return '—';
  return `${(rate <= 1 ? rate * 100 : rate).toFixed(1)} %`;
}

async function renderIntel(ctx) {
  const boxes = messageBoxes();
  const tbody = h('tbody', {});
  const empty = h('p', { class: 'empty', hidden: true }, 'No intelligence source is configured.');
  ctx.view.append(boxes.error, h('div', { class: 'table-wrap' },
    h('table', { class: 'records', 'data-testid': 'intel-table' },
      h('thead', {}, h('tr', {}, ['Source', 'Enabled', 'Per minute', 'Per day', 'Queue', 'Cache hits / misses', 'Cache hit rate', 'Waiting until']
        .map((c) => h('th', { scope: 'col' }, c)))), tbody), empty));

  async function load() {
    let providers;
    try {
      providers = await api('/api/intel');
    } catch (e) {
      if (ctx.active) boxes.showError(e.message);
      return;
    }
    if (!ctx.active) return;
    boxes.clear();
    tbody.replaceChildren(...providers.map((p) => h('tr', { 'data-testid': 'intel-row', 'data-name': p.name },
      h('td', {}, p.name),
      h('td', {}, p.enabled ? badge('enabled', 'status status-active') : badge('disabled', 'status status-disconnected')),
      h('td', { 'data-testid': 'intel-minute' }, quota(p.minuteUsed, p.minuteQuota)),
      h('td', { 'data-testid': 'intel-day' }, quota(p.dayUsed, p.dayQuota)),
      h('td', { 'data-testid': 'intel-queue' }, String(p.queueLength ?? 0)),
      h('td', {}, `${p.cacheHits ?? 0} / ${p.cacheMisses ?? 0}`),
      h('td', { 'data-testid': 'intel-hit-rate' }, hitRate(p)),
      h('td', {}, p.waitingUntil ? timeCell(p.waitingUntil) : '—'))));
    empty.hidden = providers.length > 0;
    await loadEngines();
  }

  // Detection engines (YARA, ClamAV) of this host and of the agents: version, state, retro-scan progress, files waiting,
  // last error, and the host they run on (an agent's as it last reported them).
  const engineBody = h('tbody', {});
  const engineWrap = h('div', { class: 'table-wrap', hidden: true },
    h('h2', {}, 'Detection engines'),
    h('table', { class: 'records', 'data-testid': 'engine-table' },
      h('thead', {}, h('tr', {}, ['Engine', 'Name', 'State', 'Version', 'Retro-scan', 'Waiting', 'Scans / cache hits', 'Last error', 'Host']
        .map((c) => h('th', { scope: 'col' }, c)))), engineBody));
  ctx.view.append(engineWrap);

  function retro(e) {
    const r = e.retroScan;
    if (!r) return 'not started';
    if (r.version !== e.version) return 'due (new version)';
    return `${r.finished ? 'done ' : ''}${r.done}/${r.total}, ${r.found} found`;
  }

  async function loadEngines() {
    let engines;
    try {
      engines = await api('/api/engines');
    } catch (e) {
      if (ctx.active) boxes.showError(e.message);
      return;
    }
    if (!ctx.active) return;
    engineWrap.hidden = engines.length === 0;
    engineBody.replaceChildren(...engines.map((e) => h('tr', { 'data-testid': 'engine-row', 'data-key': e.key, 'data-agent': e.agentId || '000' },
      h('td', {}, e.key),
      h('td', {}, e.name),
      h('td', { 'data-testid': 'engine-state' }, e.state === 'up' ? badge('up', 'status status-active') : badge(e.state, 'status status-disconnected')),
      h('td', { 'data-testid': 'engine-version', title: e.version || '' }, e.version ? (e.version.length === 64 ? e.version.slice(0, 12) : e.version) : '—'),
      h('td', { 'data-testid': 'engine-retro' }, retro(e)),
      h('td', {}, String(e.pending ?? 0)),
      h('td', {}, `${e.scans ?? 0} / ${e.cacheHits ?? 0}`),
      h('td', { 'data-testid': 'engine-error' }, e.lastError || '—'),
      h('td', { 'data-testid': 'engine-host', title: e.reportedAt ? `reported ${e.reportedAt}` : '' },
        !e.agentId || e.agentId === '000' ? 'this host' : `${e.agentName || ''} (${e.agentId})`))));
  }

  const refresh = setInterval(load, 5000);
  ctx.onDispose(() => clearInterval(refresh));
  await load();
}

// ---------------------------------------------------------------------------------------------------------------
// Routing and start

const ROUTES = {
  hunting: { title: 'Threat Hunting', render: renderHunting },
  chain: { title: 'Detection chain', render: renderChain },
  quarantine: { title: 'Quarantine', render: renderQuarantine },
  agents: { title: 'Agents', render: renderAgents },
  intel: { title: 'Intelligence', render: renderIntel },
};

let disposeView = null;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const mark = raw.indexOf('?');
  const name = mark < 0 ? raw : raw.slice(0, mark);
  return { name: name || 'hunting', params: new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1)) };
}

async function route() {
  if (disposeView) disposeView();
  disposeView = null;
  const { name, params } = parseHash();
  const page = ROUTES[name];
  if (!page) {
    history.replaceState(null, '', '#/hunting');
    route();
    return;
  }

  document.title = `${page.title} — Vigil`;
  document.getElementById('page-heading').textContent = page.title;
  for (const link of document.querySelectorAll('.nav a')) {
    if (link.dataset.route === name) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }

  const view = document.getElementById('view');
  view.replaceChildren();
  view.dataset.page = name;
  const disposers = [];
  const ctx = { view, params, active: true, onDispose: (fn) => disposers.push(fn) };
  disposeView = () => {
    ctx.active = false;
    for (const dispose of disposers) dispose();
  };
  try {
    await page.render(ctx);
  } catch (e) {
    if (!ctx.active) return;
    const boxes = messageBoxes();
    view.prepend(boxes.error);
    boxes.showError(e.message);
  }
}

function formatBytes(bytes) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const NUMBER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

function hostLabel(host) {
  return `Agent ${host.agentId} (${host.agentName})`;
}

/** One line for a scan under way: files, bytes, rates and (with a previous baseline) what is left. */
function scanLine(host) {
  const scan = host.scan;
  let text = `${hostLabel(host)}: ${scan.first ? 'first scan' : 'scan'} in progress: ${NUMBER.format(scan.files)} files, `
    + `${formatBytes(scan.bytes)}, ${NUMBER.format(scan.filesPerSecond)} files/s (${formatBytes(Math.round(scan.bytesPerSecond))}/s)`;
  if (scan.expectedFiles && scan.secondsLeft !== null && scan.secondsLeft !== undefined) {
    text += `, ${Math.round((100 * scan.files) / scan.expectedFiles)}% of the last baseline, about ${Math.round(scan.secondsLeft)} s left`;
  } else if (scan.first && !scan.expectedFiles) {
    text += ', first baseline (no estimate yet)';
  }
  return text;
}

/** The banner above every page: what each host is scanning and every limit it ran into, with the setting to change. */
function startStatusBanner() {
  const banner = document.getElementById('status-banner');
  let timer = null;

  async function poll() {
    let status;
    try {
      status = await api('/api/status');
    } catch {
      timer = setTimeout(poll, 10000);
      return;
    }
    const items = [];
    let scanning = false;
    for (const host of status.hosts) {
      if (host.scan) {
        scanning = true;
        items.push(h('div', { class: 'scan', 'data-testid': 'scan-progress', 'data-agent': host.agentId }, scanLine(host)));
      }
      for (const limit of host.limits) {
        const since = limit.since ? ` (reported ${formatTime(limit.since)})` : '';
        items.push(h('div', { class: 'limit', role: 'alert', 'data-testid': `limit-${limit.kind}`, 'data-agent': host.agentId },
          h('strong', {}, 'Limit reached: '), `${hostLabel(host)}: ${limit.message}${since}. Change: `,
          h('span', { class: 'setting', 'data-testid': 'limit-setting' }, limit.setting)));
      }
    }
    banner.replaceChildren(...items);
    banner.hidden = items.length === 0;
    timer = setTimeout(poll, scanning ? 2000 : 10000);
  }

  poll();
  return () => clearTimeout(timer);
}

async function logout() {
  try {
    await request('/api/logout', { method: 'POST' });
  } catch {
    // Going to the login page either way.
  }
  sessionStorage.removeItem('vigil.csrf');
  leaving = true;
  location.assign('/login');
}

async function start() {
  document.getElementById('logout').addEventListener('click', logout);
  let me;
  try {
    me = await api('/api/me');
  } catch (e) {
    if (e.status === 401) return;
    const boxes = messageBoxes();
    document.getElementById('view').replaceChildren(boxes.error);
    boxes.showError(e.message);
    return;
  }
  session.username = me.username;
  session.role = me.role;
  session.csrfToken = me.csrfToken ?? '';
  document.getElementById('user-name').textContent = me.username;
  document.getElementById('user-role').textContent = me.role;
  document.body.dataset.role = me.role;
  window.addEventListener('hashchange', route);
  startStatusBanner();
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/hunting');
  await route();
}

start();
