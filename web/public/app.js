// GenX operator dashboard. Loads the current state from the REST API once, then keeps it
// live from the Socket.IO notifier (no reload, no polling except queue depths). Plain
// browser JavaScript: no framework, no build step beyond copying socket.io-client.
//
// The fleet can be tens of thousands of chargers: the page holds one page of them (at
// most 200 rows) from GET /api/chargers (search, status filter, sort, paging done by the
// database) and the counts from GET /api/chargers/summary. A live event changes the row
// on screen; any status or connection event refreshes the counts (one small request,
// debounced), never the whole fleet.
'use strict';

const state = {
  token: new URLSearchParams(location.search).get('token') || localStorage.getItem('genx.token') || '',
  chargers: new Map(), // chargePointId -> charger (REST shape) + online: the page on screen only
  view: { q: '', status: '', sort: 'id', offset: 0, limit: 100 }, // what the page shows
  total: 0, // chargers matching the view (X-Total-Count)
  summary: null, // GET /api/chargers/summary
  sessions: new Map(), // transactionId -> active session
  selected: null,
  events: 0,
};
// Charger states, most urgent first (the api's ranking; docs/api.md).
const kStatusRank = ['Faulted', 'Unavailable', 'Charging', 'SuspendedEVSE', 'SuspendedEV', 'Finishing', 'Preparing', 'Reserved', 'Available'];
const kFeedMax = 80;

const $ = (id) => document.getElementById(id);
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

async function apiResponse(path) {
  const sent = state.token;
  const res = await fetch(path, { headers: sent ? { Authorization: `Bearer ${sent}` } : {} });
  if (res.status === 401) {
    await askToken(sent);
    return apiResponse(path);
  }
  if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
  return res;
}
async function api(path) {
  return (await apiResponse(path)).json();
}

// A write (or any method) with the API token; asks for the token on 401 and tries again.
// {status, body}: the body is the answer's JSON, {} when it has none. The panels show the
// api's own status and error, so a refusal is returned, not thrown.
async function apiSend(method, path, payload) {
  const sent = state.token;
  const headers = { 'Content-Type': 'application/json' };
  if (sent) headers.Authorization = `Bearer ${sent}`;
  const res = await fetch(path, { method, headers, body: payload === undefined ? undefined : JSON.stringify(payload) });
  if (res.status === 401) {
    await askToken(sent);
    return apiSend(method, path, payload);
  }
  let body = {};
  try { body = await res.json(); } catch { /* an empty answer */ }
  return { status: res.status, body };
}

// One prompt however many requests were refused at once (each waits for the same answer).
// `refused` is the token a refused request carried: when the operator has entered another
// one since (a slow request, such as the queue poll, sent before the new token came back
// after it), the request is simply tried again with the new token instead of asking twice.
let tokenPrompt = null;
function askToken(refused = state.token) {
  if (!tokenPrompt && refused !== state.token) return Promise.resolve();
  tokenPrompt ??= new Promise((resolve) => {
    const dialog = $('token-dialog');
    $('token-form').onsubmit = () => {
      state.token = $('token-input').value.trim();
      localStorage.setItem('genx.token', state.token);
      tokenPrompt = null;
      resolve();
    };
    if (!dialog.open) dialog.showModal();
  });
  return tokenPrompt;
}

// Formatting ---------------------------------------------------------------------------

function ago(iso) {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (s < 5) return 'just now';
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }) : '–');
const kwh = (wh) => (wh == null ? '–' : `${(wh / 1000).toFixed(2)} kWh`);
const kw = (w) => (w == null ? '–' : `${(w / 1000).toFixed(1)} kW`);

// Rendering ----------------------------------------------------------------------------

function connectorChips(charger) {
  const list = (charger.connectors || []).filter((c) => c.connectorId !== 0)
    .sort((a, b) => a.connectorId - b.connectorId);
  if (!list.length) return '<span class="sub">no status yet</span>';
  return `<div class="connectors">${list.map((c) => `<span class="chip" data-status="${esc(c.status)}" data-testid="connector-${esc(charger.chargePointId)}-${c.connectorId}"><b>${c.connectorId}</b>${esc(c.status)}${c.errorCode && c.errorCode !== 'NoError' ? ` · ${esc(c.errorCode)}` : ''}</span>`).join('')}</div>`;
}

// The OCPP version a charger booted with, as a small tag (1.6 and 2.0.1 side by side).
function versionTag(charger) {
  const v = charger.ocppVersion || '1.6';
  return `<span class="ocpp-version" data-version="${esc(v)}" data-testid="charger-ocpp-version">OCPP ${esc(v)}</span>`;
}

// The charger's state from its connectors: the most urgent one.
function chargerStatus(charger) {
  let best = null;
  for (const c of charger.connectors || []) {
    const rank = (w) => { const i = kStatusRank.indexOf(w); return i < 0 ? kStatusRank.length : i; };
    if (best == null || rank(c.status) < rank(best)) best = c.status;
  }
  return best;
}

function renderChargers() {
  const rows = [...state.chargers.values()];
  $('chargers').innerHTML = rows.map((c) => `
    <tr class="clickable" data-cp="${esc(c.chargePointId)}" data-testid="charger-row">
      <td><div class="cp-id" data-testid="charger-id">${esc(c.chargePointId)}</div><div class="sub">${esc(c.vendor || '')} ${versionTag(c)}</div></td>
      <td><span class="badge ${c.online ? 'online' : 'offline'}" data-testid="charger-state">${c.online ? 'Online' : 'Offline'}</span>${c.status ? `<span class="badge status" data-status="${esc(c.status)}" data-testid="charger-status">${esc(c.status)}</span>` : ''}</td>
      <td>${connectorChips(c)}</td>
      <td>${esc(c.model || '–')}<div class="sub">${esc(c.firmwareVersion ? `fw ${c.firmwareVersion}` : '')}</div></td>
      <td title="${esc(c.lastSeenAt || '')}">${ago(c.lastSeenAt)}</td>
    </tr>`).join('');
  const filtered = state.view.q || state.view.status;
  $('chargers-empty').hidden = rows.length > 0;
  if (!rows.length && filtered) $('chargers-empty').textContent = 'No charger matches.';
  const { offset, limit } = state.view;
  $('page-info').textContent = rows.length
    ? `${(offset + 1).toLocaleString()}–${(offset + rows.length).toLocaleString()} of ${state.total.toLocaleString()}`
    : `0 of ${state.total.toLocaleString()}`;
  $('page-prev').disabled = offset === 0;
  $('page-next').disabled = offset + limit >= state.total;
  for (const tr of $('chargers').querySelectorAll('tr')) tr.onclick = () => openDetail(tr.dataset.cp);
}

// The counts: figures and one filter button per status, each with its count as text.
function renderSummary() {
  const s = state.summary;
  if (!s) return;
  $('kpi-online').textContent = `${s.online.toLocaleString()} / ${s.total.toLocaleString()}`;
  $('chargers-count').textContent = `${s.online.toLocaleString()} of ${s.total.toLocaleString()} online`;
  const faulted = s.byStatus.Faulted || 0;
  $('kpi-faulted').textContent = faulted.toLocaleString();
  $('kpi-faulted-card').classList.toggle('alert', faulted > 0);
  const others = Object.keys(s.byStatus).filter((w) => w !== 'Faulted')
    .sort((a, b) => (kStatusRank.indexOf(a) >>> 0) - (kStatusRank.indexOf(b) >>> 0));
  const filters = [['', 'All', s.total], ['Faulted', 'Faulted', faulted], ['offline', 'Offline', s.offline], ['online', 'Online', s.online],
    ...others.filter((w) => s.byStatus[w] > 0 || ['Available', 'Charging', 'Unavailable'].includes(w)).map((w) => [w, w, s.byStatus[w]])];
  $('charger-filters').innerHTML = filters.map(([value, label, n]) =>
    `<button type="button" data-status="${esc(value)}" data-testid="filter-${esc(value || 'all')}" aria-pressed="${state.view.status === value}">${esc(label)} <span class="count">${n.toLocaleString()}</span></button>`).join('');
  for (const b of $('charger-filters').querySelectorAll('button')) {
    b.onclick = () => setView({ status: b.dataset.status, offset: 0 });
  }
}

function renderSessions() {
  const rows = [...state.sessions.values()].sort((a, b) => b.id - a.id);
  $('sessions').innerHTML = rows.map((s) => `
    <tr class="clickable" data-cp="${esc(s.chargePointId)}" data-testid="session-row" data-transaction="${s.id}">
      <td><b>#${s.id}</b></td>
      <td>${esc(s.chargePointId)}<div class="sub">connector ${s.connectorId}</div></td>
      <td>${esc(s.idTag)}</td>
      <td>${time(s.startedAt)}<div class="sub">${ago(s.startedAt)}</div></td>
      <td class="num" data-testid="session-energy">${kwh(s.energyWh)}</td>
      <td class="num" data-testid="session-power">${kw(s.powerW)}</td>
    </tr>`).join('');
  $('sessions-empty').hidden = rows.length > 0;
  for (const tr of $('sessions').querySelectorAll('tr')) tr.onclick = () => openDetail(tr.dataset.cp);
  $('kpi-sessions').textContent = String(rows.length);
  const power = rows.reduce((sum, s) => sum + (s.powerW || 0), 0);
  const energy = rows.reduce((sum, s) => sum + (s.energyWh || 0), 0);
  $('kpi-power').textContent = kw(power);
  $('kpi-energy').textContent = kwh(energy);
}

function renderQueues(queues) {
  const max = Math.max(10, ...queues.map((q) => q.messages || 0));
  $('queues').innerHTML = queues.map((q) => {
    const dlq = q.name.endsWith('.dlq');
    const depth = q.messages == null ? '?' : q.messages.toLocaleString();
    return `<li class="${dlq ? 'dlq' : ''} ${q.messages ? 'nonzero' : ''}" data-queue="${esc(q.name)}">
      <span class="qname" title="${esc(q.name)}">${esc(q.name)}</span><span class="qdepth">${depth}</span>
      <span class="bar"><span data-width="${Math.min(100, ((q.messages || 0) / max) * 100)}"></span></span>
      <span class="qmeta">${q.messages == null ? 'unavailable' : `${q.consumers} consumer${q.consumers === 1 ? '' : 's'}`}${dlq ? ' · dead letters' : ''}</span>
    </li>`;
  }).join('');
  // Widths through the CSSOM: the Content-Security-Policy forbids inline style attributes.
  for (const bar of $('queues').querySelectorAll('[data-width]')) bar.style.width = `${bar.dataset.width}%`;
  const main = queues[0];
  const dlq = queues.find((q) => q.name.endsWith('.dlq'));
  $('kpi-queue').textContent = main?.messages == null ? '–' : main.messages.toLocaleString();
  $('kpi-dlq').textContent = dlq?.messages == null ? '–' : dlq.messages.toLocaleString();
  $('kpi-dlq-card').classList.toggle('alert', Boolean(dlq?.messages));
}

function describe(name, e) {
  switch (name) {
    case 'charger.connected': return ['connection', 'Connected', ''];
    case 'charger.disconnected': return ['connection', 'Disconnected', ''];
    case 'charger.status.changed': return [e.status === 'Faulted' ? 'error' : 'status', `Connector ${e.connectorId}: ${e.status}`, e.previousStatus ? `was ${e.previousStatus}` : ''];
    case 'charging.started': return ['charging', `Session #${e.transactionId} started`, `connector ${e.connectorId} · ${e.idTag}`];
    case 'charging.stopped': return ['charging', `Session #${e.transactionId} stopped`, e.reason || ''];
    case 'transaction.completed': return ['charging', `Session #${e.transactionId} completed`, `${kwh(e.energyWh)} in ${Math.round((e.durationSeconds || 0) / 60)} min`];
    case 'meter.values': return ['meter', 'Meter values', [e.powerW != null ? kw(e.powerW) : '', e.energyWh != null ? kwh(e.energyWh) : '', e.soc != null ? `SoC ${e.soc}%` : ''].filter(Boolean).join(' · ')];
    case 'error.occurred': return ['error', e.code || 'Error', e.message || ''];
    case 'command.sent': return ['command', `${e.action} sent`, ''];
    case 'command.completed': return [e.httpStatus === 200 ? 'command' : 'error', `${e.action}: ${e.httpStatus === 200 ? e.response?.status ?? 'answered' : e.errorCode ?? e.outcome}`, e.httpStatus === 200 ? '' : e.error || ''];
    case 'reservation.created': return ['status', `Reservation #${e.reservationId} accepted`, `connector ${e.connectorId} · ${e.idTag}`];
    case 'reservation.used': return ['charging', `Reservation #${e.reservationId} used`, `session #${e.transactionId}`];
    case 'reservation.expired': return ['status', `Reservation #${e.reservationId} expired`, `connector ${e.connectorId} · ${e.idTag}`];
    case 'reservation.cancelled': return ['status', `Reservation #${e.reservationId} cancelled`, `connector ${e.connectorId} · ${e.idTag}`];
    case 'diagnostics.status.changed': return ['status', `${e.kind} #${e.diagnosticsId}: ${e.status}`, e.detail || e.fileName || `from ${e.source}`];
    case 'locallist.status.changed': return ['status', `Local list ${e.status}`, `was ${e.previousStatus}${e.lastAnswer ? ` · ${e.lastAnswer}` : ''}`];
    case 'security.event': return ['error', `Security event: ${e.securityEventType}`, e.techInfo || ''];
    case 'certificate.rejected': return ['error', 'Certificate request rejected', e.reason || ''];
    case 'certificate.signed': return ['status', `Certificate ${e.serialNumber} signed`, `charger: ${e.status}`];
    case 'certificate.installed': return ['status', `${e.certificateType} installed`, e.serialNumber || ''];
    case 'certificate.deleted': return ['status', `Certificate ${e.serialNumber} deleted`, ''];
    default: return ['other', name, ''];
  }
}

function addFeed(name, e) {
  const [kind, what, detail] = describe(name, e);
  const li = document.createElement('li');
  li.dataset.kind = kind;
  li.dataset.event = name;
  li.innerHTML = `<span class="mark"></span><span class="what">${esc(e.deviceId || '')} · ${esc(what)}</span><span class="when">${time(e.timestamp)}</span>${detail ? `<span class="detail">${esc(detail)}</span>` : ''}`;
  const feed = $('feed');
  feed.prepend(li);
  while (feed.children.length > kFeedMax) feed.lastElementChild.remove();
  $('feed-empty').hidden = true;
  state.events += 1;
  $('feed-count').textContent = `${state.events} received`;
}

// Detail view --------------------------------------------------------------------------

// Opens overlap (the operator's clicks, the selected charger's session and connection
// events): an answer older than one already shown is dropped, so sessions read before a
// start or a stop never replace those read after it (nor reach the Stop form's prefill).
let detailRequested = 0;
let detailApplied = 0;
async function openDetail(cp) {
  state.selected = cp;
  const seq = ++detailRequested;
  let charger;
  let sessions;
  try {
    [charger, sessions] = await Promise.all([
      api(`/api/chargers/${encodeURIComponent(cp)}`),
      api(`/api/transactions?chargerId=${encodeURIComponent(cp)}&limit=20`),
    ]);
  } catch {
    // The api did not answer (restarting, database unavailable): try again while it is open.
    setTimeout(() => { if (state.selected === cp && seq === detailRequested) openDetail(cp); }, 2000);
    return;
  }
  if (state.selected !== cp || seq < detailApplied) return;
  detailApplied = seq;
  $('detail').hidden = false;
  $('detail-title').textContent = cp;
  const fact = (k, v) => `<div><dt>${k}</dt><dd>${esc(v ?? '–')}</dd></div>`;
  $('detail-facts').innerHTML = [
    fact('Protocol', `OCPP ${charger.ocppVersion || '1.6'}`),
    fact('Vendor', charger.vendor), fact('Model', charger.model), fact('Serial', charger.serialNumber),
    fact('Firmware', charger.firmwareVersion), fact('Registration', charger.registrationStatus),
    fact('Last boot', charger.lastBootAt && new Date(charger.lastBootAt).toLocaleString()),
    fact('Last seen', ago(state.chargers.get(cp)?.lastSeenAt || charger.lastSeenAt)),
    fact('State', (state.chargers.get(cp)?.online ?? charger.online) ? 'Online' : 'Offline'),
    fact('Status', state.chargers.get(cp)?.status ?? charger.status),
  ].join('');
  $('detail-sessions').innerHTML = sessions.map((t) => `<tr>
    <td><b>#${t.id}</b>${t.active ? ' <span class="badge online">active</span>' : ''}${t.ocppTransactionId ? `<div class="sub" data-testid="detail-ocpp-tx">${esc(t.ocppTransactionId)}</div>` : ''}</td><td>${t.connectorId}</td><td>${esc(t.idTag)}</td>
    <td>${t.startedAt ? new Date(t.startedAt).toLocaleString() : '–'}</td><td>${t.stoppedAt ? new Date(t.stoppedAt).toLocaleString() : '–'}</td>
    <td class="num">${kwh(t.energyWh)}</td><td>${esc(t.stopReason || '')}</td></tr>`).join('')
    || '<tr><td colspan="7" class="sub">No sessions yet.</td></tr>';
  $('detail').scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  document.dispatchEvent(new CustomEvent('genx:detail', { detail: { chargePointId: cp, charger, sessions } }));
}
$('detail-close').onclick = () => { state.selected = null; $('detail').hidden = true; };

// Live updates -------------------------------------------------------------------------

// Counts after events: one summary request per second at most, whatever the event rate.
let summaryTimer = null;
function refreshSummarySoon() {
  if (summaryTimer) return;
  summaryTimer = setTimeout(async () => {
    summaryTimer = null;
    const before = state.summary?.total;
    await loadSummary().catch(() => {});
    // A new charger: a page that is not full may now show it (a small page, not the fleet).
    if (state.summary && state.summary.total !== before && state.chargers.size < state.view.limit) loadChargers().catch(() => {});
  }, 1000);
}

function touch(cp, timestamp) {
  const c = state.chargers.get(cp);
  if (!c) return null; // not on screen: only the counts change
  c.lastSeenAt = timestamp || new Date().toISOString();
  return c;
}

// Events received while a load is in flight: its answer was read before some of them, so
// they are applied again on top of it (a charger that went offline, or a session that
// stopped, during a reload is not brought back by the reload's older answer).
const loadJournals = new Set();
function journalWhile() {
  const events = [];
  loadJournals.add(events);
  return { events, end: () => loadJournals.delete(events) };
}

// An event's effect on the chargers and sessions held (no rendering): what it changed.
function applyEvent(name, e) {
  const cp = e.deviceId;
  const c = cp ? touch(cp, e.timestamp) : null;
  let sessions = false;
  switch (name) {
    case 'charger.connected': if (c) c.online = true; break;
    case 'charger.disconnected': if (c) c.online = false; break;
    case 'charger.status.changed':
      if (c) {
        c.online = true;
        c.connectors = c.connectors || [];
        const existing = c.connectors.find((x) => x.connectorId === e.connectorId);
        if (existing) Object.assign(existing, { status: e.status, errorCode: e.errorCode });
        else c.connectors.push({ connectorId: e.connectorId, status: e.status, errorCode: e.errorCode });
        c.connectors.sort((x, y) => x.connectorId - y.connectorId);
        c.status = chargerStatus(c);
      }
      break;
    case 'charging.started':
      state.sessions.set(e.transactionId, {
        id: e.transactionId, chargePointId: cp, connectorId: e.connectorId, idTag: e.idTag,
        meterStart: e.meterStart, startedAt: e.timestamp, energyWh: 0, powerW: null,
      });
      sessions = true;
      break;
    case 'meter.values': {
      const s = state.sessions.get(e.transactionId);
      if (s) {
        if (e.energyWh != null) s.energyWh = Math.max(0, e.energyWh - (s.meterStart || 0));
        if (e.powerW != null) s.powerW = e.powerW;
        sessions = true;
      }
      break;
    }
    case 'charging.stopped':
    case 'transaction.completed':
      sessions = state.sessions.delete(e.transactionId);
      break;
    default: break;
  }
  return { charger: c, sessions };
}

function onEvent(name, e) {
  if (!e || typeof e !== 'object') return;
  for (const journal of loadJournals) journal.push([name, e]);
  addFeed(name, e);
  document.dispatchEvent(new CustomEvent('genx:event', { detail: { name, event: e } }));
  const cp = e.deviceId;
  const changed = applyEvent(name, e);
  if (changed.sessions) renderSessions();
  if (changed.charger) renderChargers();
  if (/^charger\.(status\.changed|connected|disconnected)$/.test(name)) refreshSummarySoon();
  if (cp && cp === state.selected && /^(charging|transaction|charger\.(connected|disconnected))/.test(name)) openDetail(cp);
}

function setLive(kind, text) {
  $('live').dataset.state = kind;
  $('live-text').textContent = text;
}

function connectLive(config) {
  if (typeof io !== 'function') {
    setLive('offline', 'Live updates unavailable: socket.io client missing (npm ci && npm run build in web/)');
    return;
  }
  const url = `${location.protocol}//${location.hostname}:${config.notifyPort}`;
  const socket = io(url, { path: config.notifyPath, auth: { token: state.token } });
  window.genxSocket = socket;
  document.dispatchEvent(new CustomEvent('genx:socket', { detail: socket })); // analytics.js listens
  socket.on('connect', () => {
    setLive('live', 'Live');
    // Whatever happened while we were away: reload the view once.
    loadAll();
  });
  socket.on('disconnect', () => setLive('offline', 'Reconnecting…'));
  socket.on('connect_error', (err) => setLive('offline', err.message === 'unauthorized' ? 'Not authorized' : 'Live updates unavailable, retrying…'));
  socket.onAny(onEvent);
}

// Loading ------------------------------------------------------------------------------

function viewQuery() {
  const { q, status, sort, offset, limit } = state.view;
  const p = new URLSearchParams({ limit: String(limit), offset: String(offset), sort });
  if (q) p.set('q', q);
  if (status) p.set('status', status);
  return p.toString();
}

// The page of the current view. Answers of older views (the operator typed on) are dropped.
let viewSerial = 0;
async function loadChargers() {
  const serial = ++viewSerial;
  const journal = journalWhile();
  try {
    const res = await apiResponse(`/api/chargers?${viewQuery()}`);
    const list = await res.json();
    if (serial !== viewSerial) return;
    state.total = Number(res.headers.get('X-Total-Count') ?? list.length);
    const next = new Map();
    for (const c of list) {
      const old = state.chargers.get(c.chargePointId);
      if (old?.lastSeenAt && (!c.lastSeenAt || old.lastSeenAt > c.lastSeenAt)) c.lastSeenAt = old.lastSeenAt;
      next.set(c.chargePointId, c);
    }
    state.chargers = next;
    for (const [name, e] of journal.events) if (/^charger\./.test(name)) applyEvent(name, e);
    renderChargers();
    document.dispatchEvent(new CustomEvent('genx:loaded', { detail: { what: 'chargers' } }));
  } finally {
    journal.end();
  }
}

async function loadSummary() {
  state.summary = await api('/api/chargers/summary');
  renderSummary();
}

function setView(change) {
  Object.assign(state.view, change);
  renderSummary(); // the pressed filter
  loadChargers().catch((err) => console.error(err));
}

let searchTimer = null;
$('charger-search').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => setView({ q: $('charger-search').value.trim(), offset: 0 }), 200);
});
$('charger-sort').addEventListener('change', () => setView({ sort: $('charger-sort').value, offset: 0 }));
$('page-size').addEventListener('change', () => setView({ limit: Number($('page-size').value), offset: 0 }));
$('page-prev').addEventListener('click', () => setView({ offset: Math.max(0, state.view.offset - state.view.limit) }));
$('page-next').addEventListener('click', () => {
  if (state.view.offset + state.view.limit < state.total) setView({ offset: state.view.offset + state.view.limit });
});

// Latest energy (Wh delivered) and power (W) of a session from its stored meter values.
function latestReadings(tx) {
  const scale = (m) => (/^k/i.test(m.unit || '') ? 1000 : 1);
  let energy = null;
  let power = null;
  for (const m of tx.meterValues || []) {
    const v = Number(m.value) * scale(m);
    if (!Number.isFinite(v)) continue;
    if (m.measurand === 'Energy.Active.Import.Register' || (!m.measurand && /Wh$/i.test(m.unit || 'Wh'))) energy = v;
    if (m.measurand === 'Power.Active.Import') power = v;
  }
  return { energyWh: energy == null ? 0 : Math.max(0, energy - (tx.meterStart || 0)), powerW: power };
}

async function loadSessions() {
  const journal = journalWhile();
  try {
    const list = await api('/api/transactions?active=true&limit=200');
    const next = new Map();
    await Promise.all(list.map(async (t) => {
      const live = state.sessions.get(t.id);
      const stored = live ? null : latestReadings(await api(`/api/transactions/${t.id}`).catch(() => ({})));
      // A live session keeps its live figures, even while it has no power reading (null).
      const figures = live ?? stored;
      next.set(t.id, { ...t, energyWh: figures.energyWh, powerW: figures.powerW });
    }));
    state.sessions = next;
    for (const [name, e] of journal.events) if (/^(charging|meter|transaction)\./.test(name)) applyEvent(name, e);
    renderSessions();
    document.dispatchEvent(new CustomEvent('genx:loaded', { detail: { what: 'sessions' } }));
  } finally {
    journal.end();
  }
}

async function loadQueues() {
  try {
    renderQueues(await api('/api/queues'));
  } catch {
    // the next tick retries; the card keeps the last values
  }
}

// The fleet's page and counts first (the first screen), then the sessions and queues.
async function loadAll() {
  await Promise.all([loadChargers(), loadSummary()]);
  await Promise.all([loadSessions(), loadQueues()]);
}

async function main() {
  const config = await api('/api/config');
  $('ocpp-url').textContent = `ws://${location.hostname}:${config.gatewayPort}/ocpp/ID`;
  if (config.authRequired && !state.token) await askToken();
  await loadAll();
  connectLive(config);
  setInterval(loadQueues, 3000);
  setInterval(renderChargers, 15000); // "last seen" ages
}

main().catch((err) => {
  setLive('offline', 'Cannot reach the GenX API');
  console.error(err);
});
