// The local authorization list on the charger page (docs/local-list.md): the charger's
// list status (in sync or not, the version GenX sent and the one the charger reported,
// the last answer) with a "Push list" button (POST /api/chargers/{id}/local-list/push)
// and "Ask version" (POST .../local-list/version). locallist.status.changed events
// refresh it live.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken). app.js
// announces the detail view (`genx:detail`) and every live event (`genx:event`).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const panel = { root: null, chargePointId: null, generation: 0, requested: 0, applied: 0 };

  function build() {
    const section = document.createElement('section');
    section.className = 'local-list';
    section.dataset.testid = 'charger-local-list';
    section.setAttribute('aria-label', 'Local list');
    section.innerHTML = `
      <h3>Local list</h3>
      <dl class="ll-facts">
        <dt>Status</dt><dd><span class="badge" data-testid="local-list-status">…</span></dd>
        <dt>Version sent</dt><dd data-testid="local-list-sent">—</dd>
        <dt>Version reported</dt><dd data-testid="local-list-reported">—</dd>
        <dt>Entries</dt><dd data-testid="local-list-entries">—</dd>
        <dt>Last answer</dt><dd data-testid="local-list-answer">—</dd>
      </dl>
      <div class="ll-actions">
        <button type="button" data-action="push" data-testid="local-list-push">Push list</button>
        <button type="button" class="ghost" data-action="version" data-testid="local-list-version">Ask version</button>
      </div>
      <output class="cmd-output" data-testid="local-list-output" aria-live="polite" hidden></output>`;
    section.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-action]');
      if (button) act(button.dataset.action);
    });
    const after = document.querySelector('[data-testid="charger-reservations"]') || document.getElementById('commands') || $('detail-facts');
    after.after(section);
    return section;
  }

  const send = (path) => apiSend('POST', path);

  function show(kind, html) {
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = html;
  }

  async function act(action) {
    const cp = panel.chargePointId;
    show('pending', action === 'push' ? 'Pushing the local list…' : 'Sending GetLocalListVersion…');
    const { status, body } = await send(`/api/chargers/${enc(cp)}/local-list/${action}`);
    if (cp !== panel.chargePointId) return;
    if (status === 200 && action === 'push') {
      const sends = (body.sends || []).map((s) => `${esc(s.updateType)} v${s.listVersion} (${s.entries})`).join(', ');
      show('ok', `<span class="cmd-status" data-testid="local-list-result">${esc(body.localList.status)}</span> · ${sends || 'nothing to send'}`);
    } else if (status === 200) {
      show('ok', `Version <b data-testid="local-list-result">${body.listVersion}</b>`);
    } else {
      show(status === 409 ? 'refused' : 'error', `<span data-testid="local-list-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    }
    // The answer holds the state after the push or the version check: a load still in
    // flight may have read it before (a version change sends no status event to fix it).
    if (body.localList) {
      panel.applied = ++panel.requested;
      render(body.localList);
    } else {
      load(cp);
    }
  }

  function render(s) {
    const q = (id) => panel.root.querySelector(`[data-testid="${id}"]`);
    const badge = q('local-list-status');
    badge.textContent = s.status;
    badge.className = `badge${s.inSync ? ' online' : ''}`;
    badge.dataset.status = s.status;
    q('local-list-sent').textContent = s.sentVersion ?? '—';
    q('local-list-reported').textContent = s.reportedVersion ?? '—';
    q('local-list-entries').textContent = `${s.entries} held · ${s.listEntries} in the list${s.pendingChanges ? ` · ${s.pendingChanges} to send` : ''}`;
    q('local-list-answer').textContent = s.lastAnswer ?? '—';
  }

  async function load(cp) {
    const generation = panel.generation;
    // Loads overlap (one per status event, the charger page): an answer older than one
    // already shown is dropped, so the status never goes back to one read before a change.
    const seq = ++panel.requested;
    let s;
    try {
      s = await api(`/api/chargers/${enc(cp)}/local-list`);
    } catch {
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || seq < panel.applied) return;
    panel.applied = seq;
    render(s);
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId } = ev.detail;
    if (!panel.root) panel.root = build();
    if (chargePointId !== panel.chargePointId) {
      panel.chargePointId = chargePointId;
      panel.generation += 1;
      const out = panel.root.querySelector('.cmd-output');
      out.hidden = true;
      out.innerHTML = '';
    }
    load(chargePointId);
  });

  document.addEventListener('genx:event', (ev) => {
    const { name, event } = ev.detail;
    if (panel.root && event.deviceId === panel.chargePointId && name === 'locallist.status.changed') load(panel.chargePointId);
  });
})();
