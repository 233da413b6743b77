// GenX dashboard, Sites view (#sites[?site=ID]): a site's grid limit, what GenX allocated
// and what the chargers measure, charted over time, and each session's share
// (docs/smart-charging.md). Live: GET /api/sites/{id} every 2 s and at once on a
// site.allocation.changed event (Socket.IO, the socket app.js opened); the chart keeps the
// last 10 minutes seen by this page.
//
// The settings card creates or changes a site (PUT /api/sites/{id}: a limit in A per phase
// or in kW, phases, the minimum per session) and puts chargers in it or takes them out
// (PUT/DELETE /api/sites/{id}/chargers/{cp}); the api's own error is shown as it came.
//
// Uses from app.js: api(path) (JSON with the API token, asks for it on 401) and
// apiSend(method, path, payload) for the writes.
(() => {
  'use strict';

  const kPollMs = 2000;
  const kKeepMs = 10 * 60 * 1000;
  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const amps = (a) => `${Number(a).toFixed(1)} A`;

  const view = { visible: false, site: '', history: [], chart: null, timer: null, sites: [], editing: '', creating: false, requested: 0, applied: 0 };
  window.genxSites = view; // for tests and the console

  function route() {
    const [name, qs] = location.hash.replace(/^#/, '').split('?');
    const show = name === 'sites';
    $('sites').hidden = !show;
    clearInterval(view.timer);
    view.visible = show;
    if (!show) return;
    document.body.dataset.view = 'sites';
    for (const a of document.querySelectorAll('.views a')) {
      if (a.dataset.view === 'sites') a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const wanted = new URLSearchParams(qs || '').get('site') || '';
    if (wanted && wanted !== view.site) select(wanted);
    view.timer = setInterval(refresh, kPollMs);
    refresh();
  }

  function select(id) {
    view.site = id;
    view.history = [];
    if (view.chart) view.chart.setData([[], [], [], []]);
  }

  async function refresh() {
    if (!view.visible) return;
    // Refreshes overlap (the poll, the live event, an operator's change): an answer older
    // than one already shown is dropped, so a list read before a change never replaces
    // the one read after it.
    const seq = ++view.requested;
    try {
      const sites = await api('/api/sites');
      if (seq < view.applied) return;
      view.applied = seq;
      view.sites = sites;
      const sel = $('site-select');
      sel.innerHTML = view.sites.map((s) => `<option value="${esc(s.id)}">${esc(s.name)} (${esc(s.id)})</option>`).join('');
      $('sites-empty').hidden = view.sites.length > 0;
      if (!view.site || !view.sites.some((s) => s.id === view.site)) {
        if (view.sites.length) select(view.sites[0].id);
      }
      sel.value = view.site;
      const site = view.sites.find((s) => s.id === view.site);
      if (site) show(site);
      if (site && !view.creating && view.editing !== site.id) fillForm(site);
      if (site && !view.creating) showMembers(site);
      $('site-status').textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      $('site-status').textContent = `could not load sites: ${e.message}`;
    }
  }

  function show(site) {
    const limit = site.limitA ?? site.maxCurrentA;
    const watts = site.maxPowerW === null || site.maxPowerW === undefined ? '' : ` (${(site.maxPowerW / 1000).toFixed(1)} kW)`;
    $('site-limit').textContent = `${amps(limit)} × ${site.phases}${watts}`;
    $('site-allocated').textContent = amps(site.allocatedA);
    $('site-measured').textContent = amps(site.measuredA);
    const paused = site.allocations.filter((a) => a.paused).length;
    $('site-sessions').textContent = `${site.allocations.length} (${paused})`;
    $('site-rows').innerHTML = site.allocations.map((a) => {
      const share = limit > 0 ? (100 * a.limitA) / limit : 0;
      return `<tr data-charger="${esc(a.chargePointId)}" data-paused="${a.paused}">
        <td>${esc(a.chargePointId)}</td><td>${esc(a.transactionId)}</td>
        <td data-testid="site-limit-a">${a.paused ? 'paused (0 A)' : amps(a.limitA)}</td>
        <td>${a.measuredA === null ? '–' : amps(a.measuredA)}</td>
        <td><progress class="share" max="100" value="${share.toFixed(1)}"></progress> ${share.toFixed(1)} %</td>
        <td data-testid="site-priority">${esc(a.priority ?? 0)}</td>
        <td>${esc(a.status)}${a.rateUnit === 'W' ? ' (in W)' : ''}</td></tr>`;
    }).join('');
    $('site-rows-empty').hidden = site.allocations.length > 0;
    const now = Date.now() / 1000;
    view.history.push([now, limit, site.allocatedA, site.measuredA]);
    view.history = view.history.filter((p) => p[0] >= now - kKeepMs / 1000);
    draw();
  }

  function draw() {
    const data = [0, 1, 2, 3].map((i) => view.history.map((p) => p[i]));
    if (typeof uPlot !== 'function') return;
    if (!view.chart) {
      const el = $('site-chart');
      view.chart = new uPlot({
        width: Math.max(320, el.clientWidth || 800),
        height: 220,
        series: [{}, { label: 'limit', stroke: '#dc2626', width: 2 }, { label: 'allocated', stroke: '#0f766e', width: 2 },
          { label: 'measured', stroke: '#2563eb', width: 2 }],
        axes: [{}, { label: 'A' }],
      }, data, el);
    } else {
      view.chart.setData(data);
    }
  }

  // ---- Settings: the site's limit and its chargers --------------------------------------

  const send = apiSend;

  function message(kind, text) {
    const el = $('site-message');
    el.dataset.state = kind;
    el.textContent = text;
  }

  // The form shows the selected site (once per selection: typing is not overwritten).
  function fillForm(site) {
    view.editing = site.id;
    const f = $('site-form').elements;
    f.id.value = site.id;
    f.id.readOnly = true;
    f.name.value = site.name;
    const kw = site.maxPowerW !== null && site.maxPowerW !== undefined;
    f.unit.value = kw ? 'kW' : 'A';
    f.limit.value = kw ? site.maxPowerW / 1000 : site.maxCurrentA;
    f.phases.value = String(site.phases);
    f.min.value = site.minCurrentA;
  }

  // The site's chargers, as of every refresh (nothing is typed there).
  function showMembers(site) {
    $('site-members').innerHTML = site.chargers.map((cp) => `<li data-member="${esc(cp)}">${esc(cp)}
      <button type="button" data-remove="${esc(cp)}" data-testid="site-member-remove" aria-label="Take ${esc(cp)} out of the site">×</button></li>`).join('');
  }

  // A new site: the form stays the operator's until it is saved (no refresh fills it).
  $('site-new').addEventListener('click', () => {
    view.creating = true;
    view.editing = '';
    const f = $('site-form');
    f.reset();
    f.elements.id.readOnly = false;
    $('site-members').innerHTML = '';
    f.elements.id.focus();
    message('', '');
  });

  $('site-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const id = f.id.value.trim();
    const limit = Number(f.limit.value);
    const body = { name: f.name.value.trim() || id, phases: Number(f.phases.value), minCurrentA: Number(f.min.value) };
    if (f.unit.value === 'kW') body.maxPowerW = Math.round(limit * 1000);
    else body.maxCurrentA = limit;
    const r = await send('PUT', `/api/sites/${encodeURIComponent(id)}`, body);
    if (r.status !== 200 && r.status !== 201) {
      message('error', `Not saved (HTTP ${r.status}): ${r.body.error || 'no reason given'}`);
      return;
    }
    message('ok', r.status === 201 ? `Site ${id} created` : `Site ${id} saved`);
    view.creating = false;
    select(id);
    view.editing = '';
    history.replaceState(null, '', `#sites?site=${encodeURIComponent(id)}`);
    refresh();
  });

  $('site-member-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!view.site) { message('error', 'Save a site first'); return; }
    const cp = ev.target.elements.cp.value.trim();
    const r = await send('PUT', `/api/sites/${encodeURIComponent(view.site)}/chargers/${encodeURIComponent(cp)}`);
    if (r.status !== 200) {
      message('error', `${cp} not added (HTTP ${r.status}): ${r.body.error || 'no reason given'}`);
      return;
    }
    message('ok', `${cp} is in ${view.site}`);
    ev.target.reset();
    view.editing = '';
    refresh();
  });

  $('site-members').addEventListener('click', async (ev) => {
    const button = ev.target.closest('button[data-remove]');
    if (!button) return;
    const cp = button.dataset.remove;
    const r = await send('DELETE', `/api/sites/${encodeURIComponent(view.site)}/chargers/${encodeURIComponent(cp)}`);
    if (r.status !== 200 && r.status !== 204) {
      message('error', `${cp} not taken out (HTTP ${r.status}): ${r.body.error || 'no reason given'}`);
      return;
    }
    message('ok', `${cp} left ${view.site}`);
    view.editing = '';
    refresh();
  });

  $('site-select').addEventListener('change', (e) => {
    select(e.target.value);
    history.replaceState(null, '', `#sites?site=${encodeURIComponent(view.site)}`);
    refresh();
  });
  window.addEventListener('hashchange', route);
  const attach = (socket) => socket.on('site.allocation.changed', (e) => { if (e.siteId === view.site) refresh(); });
  if (window.genxSocket) attach(window.genxSocket);
  else document.addEventListener('genx:socket', (e) => attach(e.detail), { once: true });
  route();
})();
