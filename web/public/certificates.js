// Certificates and security events on the charger page (docs/security.md "Charger
// certificates and security events"): the certificates the charger reported installed
// (Refresh asks it again, Delete removes one), the certificates GenX's CA signed for it
// (Renew asks the charger for a new CSR), and its security events with a type filter and
// paging. Everything goes through the REST API; certificate.* and security.event events
// refresh it live.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken). app.js
// announces the detail view (`genx:detail`) and every live event (`genx:event`).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const kPage = 10;
  const panel = { root: null, chargePointId: null, generation: 0, offset: 0,
    certificates: { requested: 0, applied: 0 }, events: { requested: 0, applied: 0 } };
  // Loads overlap (the live events, the charger page, the operator's buttons): an answer
  // older than one already shown is dropped, so a certificate read before its Delete does
  // not come back, and a page or filter asked before the last one does not replace it.
  function newer(loads, seq) {
    if (seq < loads.applied) return false;
    loads.applied = seq;
    return true;
  }

  function build() {
    const section = document.createElement('section');
    section.className = 'certificates';
    section.dataset.testid = 'charger-certificates';
    section.setAttribute('aria-label', 'Certificates and security events');
    section.innerHTML = `
      <h3>Certificates</h3>
      <div class="cmd-row">
        <button type="button" data-action="refresh" data-testid="certificates-refresh">Ask the charger (GetInstalledCertificateIds)</button>
        <button type="button" data-action="renew" data-testid="certificates-renew">Renew its certificate (ExtendedTriggerMessage)</button>
      </div>
      <output class="cmd-output" data-testid="certificates-output" aria-live="polite" hidden></output>
      <h4>Installed on the charger</h4>
      <table class="table">
        <thead><tr><th>Type</th><th>Serial number</th><th>Issuer name hash</th><th>Reported</th><th></th></tr></thead>
        <tbody data-testid="installed-rows"></tbody>
      </table>
      <h4>Signed by GenX for this charger</h4>
      <table class="table">
        <thead><tr><th>Serial number</th><th>Subject</th><th>Valid until</th><th>Charger's answer</th></tr></thead>
        <tbody data-testid="issued-rows"></tbody>
      </table>
      <h3>Security events</h3>
      <form class="cmd sec-filter" novalidate data-testid="security-filter">
        <label for="sec-type">Type</label>
        <input id="sec-type" name="type" type="text" autocomplete="off" placeholder="any" data-testid="security-type">
        <button type="submit" data-testid="security-filter-submit">Filter</button>
      </form>
      <table class="table">
        <thead><tr><th>When</th><th>Type</th><th>Details</th><th>Source</th></tr></thead>
        <tbody data-testid="security-rows"></tbody>
      </table>
      <div class="cmd-row">
        <button type="button" class="ghost" data-action="newer" data-testid="security-newer">Newer</button>
        <span class="sub" data-testid="security-range"></span>
        <button type="button" class="ghost" data-action="older" data-testid="security-older">Older</button>
      </div>`;
    section.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      panel.offset = 0;
      loadEvents(panel.chargePointId);
    });
    section.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-action], button[data-delete]');
      if (!button) return;
      if (button.dataset.delete) remove(button.dataset.delete);
      else if (button.dataset.action === 'refresh') command('refresh', 'GetInstalledCertificateIds');
      else if (button.dataset.action === 'renew') command('renew', 'ExtendedTriggerMessage SignChargePointCertificate');
      else if (button.dataset.action === 'older') { panel.offset += kPage; loadEvents(panel.chargePointId); }
      else if (button.dataset.action === 'newer') { panel.offset = Math.max(0, panel.offset - kPage); loadEvents(panel.chargePointId); }
    });
    const after = document.querySelector('section.reservations') || document.getElementById('commands') || $('detail-facts');
    after.after(section);
    return section;
  }

  const send = (method, path) => apiSend(method, path);

  function show(kind, html) {
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = html;
  }

  async function command(what, label) {
    const cp = panel.chargePointId;
    show('pending', `Sending ${esc(label)}…`);
    const { status, body } = await send('POST', `/api/chargers/${enc(cp)}/certificates/${what}`);
    if (cp !== panel.chargePointId) return;
    if (status === 200) show('ok', `${esc(label)}: <span class="cmd-status" data-testid="certificates-status">${esc(body.status ?? 'answered')}</span>`);
    else show('error', `<span data-testid="certificates-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    loadCertificates(cp);
  }

  async function remove(serial) {
    const cp = panel.chargePointId;
    show('pending', `Sending DeleteCertificate for ${esc(serial)}…`);
    const { status, body } = await send('DELETE', `/api/chargers/${enc(cp)}/certificates/${enc(serial)}`);
    if (cp !== panel.chargePointId) return;
    if (status === 200) show('ok', `DeleteCertificate: <span class="cmd-status" data-testid="certificates-status">${esc(body.status)}</span>`);
    else show('error', `<span data-testid="certificates-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    loadCertificates(cp);
  }

  const when = (t) => esc(new Date(t).toLocaleString());

  async function loadCertificates(cp) {
    const generation = panel.generation;
    const seq = ++panel.certificates.requested;
    let doc;
    try {
      doc = await api(`/api/chargers/${enc(cp)}/certificates`);
    } catch {
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || !newer(panel.certificates, seq)) return;
    panel.root.querySelector('[data-testid="installed-rows"]').innerHTML = doc.installed.map((c) => `<tr data-testid="installed-${esc(c.certificateHashData.serialNumber)}">
      <td>${esc(c.certificateType)}</td><td><code>${esc(c.certificateHashData.serialNumber)}</code></td>
      <td><code title="${esc(c.certificateHashData.issuerNameHash)}">${esc(c.certificateHashData.issuerNameHash.slice(0, 16))}…</code></td>
      <td>${when(c.updatedAt)}</td>
      <td><button type="button" class="ghost" data-delete="${esc(c.certificateHashData.serialNumber)}" data-testid="installed-delete-${esc(c.certificateHashData.serialNumber)}">Delete</button></td></tr>`).join('')
      || '<tr><td colspan="5" class="sub">None reported (ask the charger).</td></tr>';
    panel.root.querySelector('[data-testid="issued-rows"]').innerHTML = doc.issued.map((c) => `<tr data-testid="issued-${esc(c.serialNumber)}">
      <td><code>${esc(c.serialNumber)}</code></td><td>${esc(c.subject)}</td><td>${when(c.notAfter)}</td>
      <td><span class="badge${c.status === 'Accepted' ? ' online' : ''}" data-testid="issued-status-${esc(c.serialNumber)}">${esc(c.status)}</span></td></tr>`).join('')
      || '<tr><td colspan="4" class="sub">None yet.</td></tr>';
  }

  async function loadEvents(cp) {
    const generation = panel.generation;
    const seq = ++panel.events.requested;
    const type = panel.root.querySelector('[data-testid="security-type"]').value.trim();
    const headers = state.token ? { Authorization: `Bearer ${state.token}` } : {};
    let res;
    let list;
    try {
      res = await fetch(`/api/chargers/${enc(cp)}/security-events?limit=${kPage}&offset=${panel.offset}${type ? `&type=${enc(type)}` : ''}`, { headers });
      list = await res.json();
    } catch {
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || !res.ok || !newer(panel.events, seq)) return;
    const total = Number(res.headers.get('X-Total-Count') || list.length);
    panel.root.querySelector('[data-testid="security-rows"]').innerHTML = list.map((e) => `<tr data-testid="security-event-${e.id}" data-type="${esc(e.type)}">
      <td>${when(e.timestamp)}</td><td><b>${esc(e.type)}</b></td><td>${esc(e.techInfo ?? '')}</td>
      <td><span class="badge">${esc(e.source === 'csms' ? 'GenX' : 'charger')}</span></td></tr>`).join('')
      || '<tr><td colspan="4" class="sub">No security events.</td></tr>';
    panel.root.querySelector('[data-testid="security-range"]').textContent = total === 0 ? ''
      : `${panel.offset + 1}–${panel.offset + list.length} of ${total}`;
    panel.root.querySelector('[data-action="newer"]').disabled = panel.offset === 0;
    panel.root.querySelector('[data-action="older"]').disabled = panel.offset + list.length >= total;
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId } = ev.detail;
    if (!panel.root) panel.root = build();
    if (chargePointId !== panel.chargePointId) {
      panel.chargePointId = chargePointId;
      panel.generation += 1;
      panel.offset = 0;
      const out = panel.root.querySelector('.cmd-output');
      out.hidden = true;
      out.innerHTML = '';
    }
    loadCertificates(chargePointId);
    loadEvents(chargePointId);
  });

  document.addEventListener('genx:event', (ev) => {
    const { name, event } = ev.detail;
    if (!panel.root || event.deviceId !== panel.chargePointId) return;
    if (name.startsWith('certificate.')) loadCertificates(panel.chargePointId);
    if (name === 'security.event' || name === 'certificate.rejected') loadEvents(panel.chargePointId);
  });
})();
