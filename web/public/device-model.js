// An OCPP 2.0.1 station's device model on the charger page (docs/ocpp201.md "Device
// model"): every component, variable and attribute the station reported (NotifyReport),
// searchable, with a button that asks the station for a full report (GetBaseReport) and
// shows the new model once it is stored. A 1.6 charger has no device model: the panel
// is hidden for it.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken). app.js
// announces the detail view (`genx:detail`).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const panel = { root: null, chargePointId: null, generation: 0, rows: [], updatedAt: null, requested: 0, applied: 0 };

  function build() {
    const section = document.createElement('section');
    section.className = 'device-model';
    section.dataset.testid = 'device-model';
    section.setAttribute('aria-label', 'Device model');
    section.innerHTML = `
      <div class="dm-head">
        <h3>Device model</h3>
        <span class="muted" data-testid="dm-count"></span>
      </div>
      <div class="dm-tools">
        <input type="search" data-testid="dm-search" aria-label="Search the device model" placeholder="Search component, variable or value" autocomplete="off" maxlength="100">
        <button type="button" class="ghost" data-testid="dm-report">Ask for a full report</button>
      </div>
      <output class="cmd-output" data-testid="dm-output" aria-live="polite" hidden></output>
      <table class="table dm-table">
        <thead><tr><th>Component</th><th>Variable</th><th>Attribute</th><th>Value</th><th>Mutability</th><th>Type</th></tr></thead>
        <tbody data-testid="dm-rows"></tbody>
      </table>`;
    section.querySelector('input').addEventListener('input', render);
    section.querySelector('button').addEventListener('click', askReport);
    const after = document.querySelector('[data-testid="charger-reservations"]') || document.getElementById('commands') || $('detail-facts');
    after.after(section);
    return section;
  }

  const where = (r) => [r.evseId != null ? `EVSE ${r.evseId}` : '', r.connectorId != null && r.connectorId >= 0 ? `connector ${r.connectorId}` : '']
    .filter(Boolean).join(' · ');
  const kind = (r) => {
    const c = r.characteristics && typeof r.characteristics === 'object' ? r.characteristics : {};
    return [c.dataType, c.unit].filter(Boolean).join(', ');
  };
  const text = (r) => [r.component, r.componentInstance, where(r), r.variable, r.variableInstance, r.attributeType, r.value, r.mutability, kind(r)]
    .join(' ').toLowerCase();

  function render() {
    const q = panel.root.querySelector('input').value.trim().toLowerCase();
    const rows = q ? panel.rows.filter((r) => text(r).includes(q)) : panel.rows;
    const count = panel.root.querySelector('[data-testid="dm-count"]');
    count.textContent = panel.rows.length
      ? `${q ? `${rows.length} of ` : ''}${panel.rows.length} variables · reported ${panel.updatedAt ? new Date(panel.updatedAt).toLocaleString() : '–'}`
      : '';
    panel.root.querySelector('tbody').innerHTML = rows.map((r) => `<tr data-testid="dm-row" data-component="${esc(r.component)}" data-variable="${esc(r.variable)}">
      <td><b>${esc(r.component)}</b>${r.componentInstance ? ` <span class="sub">${esc(r.componentInstance)}</span>` : ''}${where(r) ? `<div class="sub">${esc(where(r))}</div>` : ''}</td>
      <td>${esc(r.variable)}${r.variableInstance ? ` <span class="sub">${esc(r.variableInstance)}</span>` : ''}</td>
      <td>${esc(r.attributeType)}</td>
      <td class="dm-value" data-testid="dm-value">${r.value == null ? '<span class="sub">–</span>' : esc(r.value)}</td>
      <td>${esc(r.mutability || '')}${r.constant ? ' <span class="sub">constant</span>' : ''}</td>
      <td class="sub">${esc(kind(r))}</td></tr>`).join('')
      || `<tr><td colspan="6" class="sub" data-testid="dm-empty">${panel.rows.length ? 'No variable matches.' : 'No device model reported yet: ask for a full report.'}</td></tr>`;
  }

  // Loads the stored model; true when it was reported at or after `since`.
  async function load(cp, since) {
    const generation = panel.generation;
    // Loads overlap (the charger page's, the report wait's): an answer older than one already
    // shown is dropped, so a model read before the report never replaces the one after it.
    const seq = ++panel.requested;
    let model;
    try {
      model = await api(`/api/chargers/${enc(cp)}/device-model`);
    } catch {
      return false;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || seq < panel.applied) return false;
    panel.applied = seq;
    const rows = model.variables || [];
    rows.sort((a, b) => a.component.localeCompare(b.component) || (a.evseId ?? -1) - (b.evseId ?? -1)
      || (a.connectorId ?? -1) - (b.connectorId ?? -1) || a.variable.localeCompare(b.variable)
      || String(a.attributeType).localeCompare(String(b.attributeType)));
    panel.rows = rows;
    panel.updatedAt = rows.reduce((m, r) => (r.updatedAt > (m || '') ? r.updatedAt : m), null);
    render();
    return since ? panel.updatedAt != null && panel.updatedAt >= since : true;
  }

  function show(kind, html) {
    const out = panel.root.querySelector('output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = html;
  }

  async function askReport() {
    const cp = panel.chargePointId;
    const since = new Date(Date.now() - 1000).toISOString();
    const requestId = Math.floor(Math.random() * 1e9);
    show('pending', 'Sending GetBaseReport…');
    const sent = state.token;
    const headers = { 'Content-Type': 'application/json' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    const res = await fetch(`/api/chargers/${enc(cp)}/commands/GetBaseReport`, {
      method: 'POST', headers, body: JSON.stringify({ requestId, reportBase: 'FullInventory' }),
    });
    if (res.status === 401) {
      await askToken(sent);
      return askReport();
    }
    let body = {};
    try { body = await res.json(); } catch { /* empty */ }
    if (cp !== panel.chargePointId) return;
    const status = body.response?.status ?? body.status;
    if (!res.ok) return show('error', `<span data-testid="dm-error">${esc(body.error || `HTTP ${res.status}`)}</span>`);
    if (status !== 'Accepted') return show('refused', `The station answered <span class="cmd-status" data-testid="dm-status">${esc(status ?? JSON.stringify(body))}</span>`);
    show('pending', 'The station <span class="cmd-status" data-testid="dm-status">Accepted</span>; waiting for its report…');
    // The report arrives as NotifyReport after the answer: look for it for up to 30 s.
    for (let i = 0; i < 30 && cp === panel.chargePointId; i += 1) {
      if (await load(cp, since)) {
        show('ok', `Report received: <b data-testid="dm-received">${panel.rows.length}</b> variables`);
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
    if (cp === panel.chargePointId) show('refused', 'No report arrived within 30 s.');
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId, charger } = ev.detail;
    if (!panel.root) panel.root = build();
    const v201 = (charger?.ocppVersion || '1.6') === '2.0.1';
    panel.root.hidden = !v201;
    if (chargePointId !== panel.chargePointId) {
      panel.chargePointId = chargePointId;
      panel.generation += 1;
      panel.rows = [];
      panel.updatedAt = null;
      panel.root.querySelector('input').value = '';
      const out = panel.root.querySelector('output');
      out.hidden = true;
      out.innerHTML = '';
      render();
    }
    if (v201) load(chargePointId);
  });
})();
