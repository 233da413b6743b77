// Firmware management on the dashboard (docs/firmware.md):
// - the charger page's Firmware panel: the charger's firmware version, its latest firmware
//   status, the last update request (with its campaign), the version installed at the boot
//   after the update, and the status history;
// - the Campaigns view (#campaigns[?campaign=ID]): every firmware campaign with its
//   progress, one campaign's targets (per charger: status, attempts, version after reboot),
//   a form to start a campaign, Retry failed and Cancel.
// Everything goes through the REST API; firmware.* events (Socket.IO) refresh it live,
// and the Campaigns view also reloads every 3 s while shown.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const kPollMs = 3000;
  const when = (t) => (t ? new Date(t).toLocaleString() : '–');
  const panel = { root: null, chargePointId: null, generation: 0, requested: 0, applied: 0 };
  const view = { visible: false, campaign: null, timer: null, requested: 0, applied: 0 };
  window.genxFirmware = view; // for tests and the console

  const send = apiSend;

  // ---- the charger page's panel ----

  function buildPanel() {
    const section = document.createElement('section');
    section.className = 'firmware';
    section.dataset.testid = 'charger-firmware';
    section.setAttribute('aria-label', 'Firmware');
    section.innerHTML = `
      <h3>Firmware</h3>
      <dl class="facts fw-facts" data-testid="firmware-facts"></dl>
      <table class="table">
        <thead><tr><th>When</th><th>What</th><th>Status</th></tr></thead>
        <tbody data-testid="firmware-history"></tbody>
      </table>`;
    const anchor = document.querySelector('[data-testid="charger-reservations"]') || document.getElementById('commands') ||
      $('detail-facts');
    anchor.after(section);
    return section;
  }

  async function loadPanel(cp) {
    const generation = panel.generation;
    // Loads overlap (one per firmware event, and they come in bursts): an answer older than
    // one already shown is dropped, so the status never goes back (Installing after Installed).
    const seq = ++panel.requested;
    let doc;
    try {
      doc = await api(`/api/chargers/${enc(cp)}/firmware?limit=20`);
    } catch {
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || seq < panel.applied) return;
    panel.applied = seq;
    const r = doc.request;
    const facts = [
      ['Version', `<span data-testid="firmware-version">${esc(doc.firmwareVersion ?? '–')}</span>`],
      ['Status', `<span class="badge" data-testid="firmware-status">${esc(doc.status ?? 'none reported')}</span> <span class="sub">${esc(when(doc.statusAt))}</span>`],
      ['Last request', r ? `${esc(r.action)} of <code>${esc(r.location)}</code> · ${esc(r.answer)} <span class="sub">${esc(when(r.requestedAt))}</span>` : '–'],
      ['Installed', doc.installedVersion ? `<span data-testid="firmware-installed">${esc(doc.installedVersion)}</span> <span class="sub">booted ${esc(when(doc.installedAt))}</span>` : '–'],
      ['Campaign', doc.campaign ? `<a href="#campaigns?campaign=${doc.campaign.id}" data-testid="firmware-campaign">#${doc.campaign.id} ${esc(doc.campaign.name)}</a> · ${esc(doc.campaign.targetStatus)}` : '–'],
    ];
    panel.root.querySelector('dl').innerHTML = facts.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
    panel.root.querySelector('tbody').innerHTML = (doc.history || []).map((h) => `<tr data-kind="${esc(h.kind)}">
      <td>${esc(when(h.at))}</td><td>${esc(h.action)}${h.requestId !== null ? ` <span class="sub">request ${h.requestId}</span>` : ''}</td>
      <td>${h.kind === 'boot' ? `booted with <b>${esc(h.status)}</b>` : esc(h.status)}</td></tr>`).join('')
      || '<tr><td colspan="3" class="sub">No firmware activity.</td></tr>';
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId } = ev.detail;
    if (!panel.root) panel.root = buildPanel();
    if (chargePointId !== panel.chargePointId) {
      panel.chargePointId = chargePointId;
      panel.generation += 1;
    }
    loadPanel(chargePointId);
  });

  // ---- the Campaigns view ----

  const kSteps = ['Pending', 'Sent', 'Downloading', 'Downloaded', 'Installing', 'Installed'];
  const kFailures = ['DownloadFailed', 'InstallationFailed', 'Rejected', 'Offline', 'Timeout'];

  function progressBar(c) {
    const total = Math.max(1, c.total);
    const failed = kFailures.reduce((n, s) => n + (c.counts[s] || 0), 0);
    const done = c.counts.Installed || 0;
    return `<progress class="share" max="${total}" value="${done}" aria-label="installed"></progress>
      <span data-testid="campaign-progress">${done}/${c.total} installed</span>${failed ? ` · <span class="fw-failed">${failed} failed</span>` : ''}${c.inProgress ? ` · ${c.inProgress} in progress` : ''}`;
  }

  // Refreshes overlap (the poll, the firmware events, the operator's actions and clicks):
  // an answer older than one already shown is dropped, so a campaign read before its
  // Cancel, or the campaign chosen before the last click, does not replace the newer one.
  function newer(seq) {
    if (seq < view.applied) return false;
    view.applied = seq;
    return true;
  }

  async function refreshView() {
    if (!view.visible) return;
    const seq = ++view.requested;
    let list;
    try {
      list = await api('/api/firmware/campaigns?limit=50');
    } catch (e) {
      $('fw-status').textContent = `could not load campaigns: ${e.message}`;
      return;
    }
    if (!newer(seq)) return;
    $('fw-campaigns').innerHTML = list.map((c) => `<tr data-testid="campaign-row" data-campaign="${c.id}" class="${c.id === view.campaign ? 'selected' : ''}">
      <td><a href="#campaigns?campaign=${c.id}">#${c.id}</a></td><td>${esc(c.name)}</td>
      <td><span class="badge" data-testid="campaign-status-${c.id}">${esc(c.status)}</span></td>
      <td>${progressBar(c)}</td><td>${c.maxConcurrent}</td><td>${esc(when(c.createdAt))}</td></tr>`).join('');
    $('fw-campaigns-empty').hidden = list.length > 0;
    if (view.campaign === null && list.length) view.campaign = list[0].id;
    $('fw-status').textContent = `updated ${new Date().toLocaleTimeString()}`;
    if (view.campaign !== null) await showCampaign(view.campaign, seq);
  }

  async function showCampaign(id, seq) {
    let c;
    try {
      c = await api(`/api/firmware/campaigns/${id}`);
    } catch {
      return;
    }
    if (!newer(seq)) return;
    const box = $('fw-campaign');
    box.hidden = false;
    box.dataset.campaign = String(c.id);
    $('fw-campaign-title').textContent = `Campaign #${c.id} · ${c.name}`;
    $('fw-campaign-facts').innerHTML = [
      ['Status', `<span class="badge" data-testid="campaign-status">${esc(c.status)}</span>`],
      ['Firmware', `<code>${esc(c.location)}</code>${c.signed ? ' (signed)' : ''}`],
      ['Progress', progressBar(c)],
      ['At most at once', String(c.maxConcurrent)],
      ['Targets', c.model ? `every charger of model ${esc(c.model)}` : `${c.total} chosen`],
    ].map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join('');
    $('fw-targets').innerHTML = c.targets.map((t) => {
      const failed = kFailures.includes(t.status);
      const step = kSteps.indexOf(t.status);
      return `<tr data-testid="target-row" data-charger="${esc(t.chargePointId)}" data-status="${esc(t.status)}">
        <td>${esc(t.chargePointId)}</td>
        <td><span class="badge${failed ? ' fw-failed' : t.status === 'Installed' ? ' online' : ''}" data-testid="target-status">${esc(t.status)}</span>
          ${step >= 0 ? `<progress max="${kSteps.length - 1}" value="${step}"></progress>` : ''}</td>
        <td>${esc(t.chargerStatus ?? '')}</td><td>${t.attempts}</td>
        <td data-testid="target-version">${esc(t.firmwareVersion ?? '')}</td>
        <td class="sub">${esc(t.detail ?? '')}</td></tr>`;
    }).join('');
    $('fw-retry').disabled = c.status === 'Cancelled' || !kFailures.some((s) => c.counts[s]);
    $('fw-cancel').disabled = c.status === 'Cancelled';
  }

  function showOutput(kind, text) {
    const out = $('fw-output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = text;
  }

  async function act(path, payload, what) {
    const { status, body } = await send('POST', path, payload);
    if (status === 200) {
      showOutput('ok', `${what}: campaign <b data-testid="fw-result-id">#${body.id}</b> <span class="cmd-status">${esc(body.status)}</span>`);
      view.campaign = body.id;
    } else {
      showOutput(status === 409 ? 'refused' : 'error', `<span data-testid="fw-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    }
    refreshView();
  }

  function route() {
    const [name, qs] = location.hash.replace(/^#/, '').split('?');
    const show = name === 'campaigns';
    $('campaigns').hidden = !show;
    clearInterval(view.timer);
    view.visible = show;
    if (!show) return;
    document.body.dataset.view = 'campaigns';
    for (const a of document.querySelectorAll('.views a')) {
      if (a.dataset.view === 'campaigns') a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const wanted = Number(new URLSearchParams(qs || '').get('campaign'));
    if (wanted > 0) view.campaign = wanted;
    view.timer = setInterval(refreshView, kPollMs);
    refreshView();
  }

  $('fw-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = ev.target.elements;
    const ids = f.targets.value.split(/[\s,]+/).filter(Boolean);
    const payload = { location: f.location.value.trim(), maxConcurrent: Number(f.maxConcurrent.value || 1) };
    if (f.name.value.trim()) payload.name = f.name.value.trim();
    if (f.model.value.trim()) payload.model = f.model.value.trim();
    else payload.chargePointIds = ids;
    act('/api/firmware/campaigns', payload, 'Started');
  });
  $('fw-retry').addEventListener('click', () => act(`/api/firmware/campaigns/${view.campaign}/retry`, {}, 'Retrying the failed chargers'));
  $('fw-cancel').addEventListener('click', () => act(`/api/firmware/campaigns/${view.campaign}/cancel`, {}, 'Cancelled'));
  $('fw-campaigns').addEventListener('click', (ev) => {
    const row = ev.target.closest('tr[data-campaign]');
    if (!row) return;
    ev.preventDefault();
    view.campaign = Number(row.dataset.campaign);
    history.replaceState(null, '', `#campaigns?campaign=${view.campaign}`);
    refreshView();
  });
  window.addEventListener('hashchange', route);

  document.addEventListener('genx:event', (ev) => {
    const { name, event } = ev.detail;
    if (!name.startsWith('firmware.')) return;
    if (panel.root && event.deviceId === panel.chargePointId) loadPanel(panel.chargePointId);
    if (view.visible) refreshView();
  });
  route();
})();
