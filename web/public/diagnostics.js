// Diagnostics on the charger page (docs/diagnostics.md): ask the charger for its
// diagnostics (GetDiagnostics) or a log (GetLog) uploaded to GenX, follow each request's
// status live (diagnostics.status.changed), and download a received file. The download
// goes through fetch with the operator's token (a plain link could not carry it) and is
// handed to the browser as a file.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken). app.js
// announces the detail view (`genx:detail`) and every live event (`genx:event`).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const panel = { root: null, chargePointId: null, generation: 0, requested: 0, applied: 0 };

  function build() {
    const section = document.createElement('section');
    section.className = 'diagnostics';
    section.dataset.testid = 'charger-diagnostics';
    section.setAttribute('aria-label', 'Diagnostics');
    section.innerHTML = `
      <h3>Diagnostics</h3>
      <form class="cmd diag-form" novalidate data-testid="diagnostics-form">
        <h4>Ask for a file</h4>
        <label for="diag-kind">What</label>
        <select id="diag-kind" name="kind" data-testid="diagnostics-kind">
          <option value="Diagnostics">Diagnostics (GetDiagnostics)</option>
          <option value="DiagnosticsLog">Diagnostics log (GetLog)</option>
          <option value="SecurityLog">Security log (GetLog)</option>
        </select>
        <button type="submit" data-testid="diagnostics-submit">Request upload</button>
      </form>
      <output class="cmd-output" data-testid="diagnostics-output" aria-live="polite" hidden></output>
      <table class="table">
        <thead><tr><th>Request</th><th>What</th><th>Asked</th><th>Status</th><th>File</th></tr></thead>
        <tbody data-testid="diagnostics-rows"></tbody>
      </table>`;
    section.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      request(ev.target);
    });
    section.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-download]');
      if (button) download(Number(button.dataset.download), button.dataset.name);
    });
    const anchor = document.querySelector('[data-testid="charger-reservations"]') || document.getElementById('commands') || $('detail-facts');
    anchor.after(section);
    return section;
  }

  const send = apiSend;

  function show(kind, html) {
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = html;
  }

  async function request(form) {
    const cp = panel.chargePointId;
    const kind = form.elements.kind.value;
    show('pending', `Sending ${kind === 'Diagnostics' ? 'GetDiagnostics' : 'GetLog'}…`);
    const { status, body } = await send('POST', `/api/chargers/${enc(cp)}/diagnostics`, { kind });
    if (cp !== panel.chargePointId) return;
    if (status === 200) {
      show('ok', `Request <b data-testid="diagnostics-result-id">#${body.id}</b> <span class="cmd-status" data-testid="diagnostics-status">${esc(body.status)}</span>: the charger uploads to GenX`);
    } else {
      const answered = body.diagnostics?.status || (body.id ? body.status : undefined);
      show(status === 409 ? 'refused' : 'error',
        `${answered ? `<span class="cmd-status" data-testid="diagnostics-status">${esc(answered)}</span> · ` : ''}<span data-testid="diagnostics-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    }
    load(cp);
  }

  async function download(id, name) {
    const sent = state.token;
    const headers = {};
    if (sent) headers.Authorization = `Bearer ${sent}`;
    const res = await fetch(`/api/diagnostics/${id}/file`, { headers });
    if (res.status === 401) {
      await askToken(sent);
      return download(id, name);
    }
    if (!res.ok) {
      let error = `HTTP ${res.status}`;
      try { error = (await res.json()).error || error; } catch { /* empty */ }
      show('error', `<span data-testid="diagnostics-error">${esc(error)}</span>`);
      return undefined;
    }
    const url = URL.createObjectURL(await res.blob());
    const link = document.createElement('a');
    link.href = url;
    link.download = name || `diagnostics-${id}.bin`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    return undefined;
  }

  const failed = (s) => ['Failed', 'Rejected', 'UploadFailed', 'UploadFailure', 'BadMessage', 'PermissionDenied', 'NotSupportedOperation'].includes(s);
  const size = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

  async function load(cp) {
    const generation = panel.generation;
    // Loads overlap (one per status event, the charger page, the operator's request): an
    // answer older than one already shown is dropped, so a request's status never goes
    // back (an Uploaded file left showing Uploading, without its Download button).
    const seq = ++panel.requested;
    let list = [];
    try {
      list = await api(`/api/chargers/${enc(cp)}/diagnostics?limit=20`);
    } catch {
      // The api did not answer: try again while this charger's panel is open.
      setTimeout(() => { if (generation === panel.generation && seq === panel.requested) load(cp); }, 2000);
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || seq < panel.applied) return;
    panel.applied = seq;
    panel.root.querySelector('tbody').innerHTML = list.map((d) => `<tr data-testid="diagnostics-${d.id}" data-status="${esc(d.status)}">
      <td><b>#${d.id}</b></td><td>${esc(d.kind)}</td><td>${esc(new Date(d.createdAt).toLocaleString())}</td>
      <td><span class="badge${d.received ? ' online' : failed(d.status) ? ' offline' : ''}" data-testid="diagnostics-status-${d.id}">${esc(d.status)}</span>${d.detail ? ` <span class="sub" data-testid="diagnostics-detail-${d.id}">${esc(d.detail)}</span>` : ''}</td>
      <td>${d.received ? `<button type="button" class="ghost" data-download="${d.id}" data-name="${esc(d.fileName || '')}" data-testid="diagnostics-download-${d.id}">Download</button> <span class="sub">${esc(d.fileName || '')} · ${size(d.fileSize)}</span>` : '<span class="sub">—</span>'}</td></tr>`).join('')
      || '<tr><td colspan="5" class="sub">No diagnostics requested.</td></tr>';
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId, charger } = ev.detail;
    if (!panel.root) panel.root = build();
    // OCPP 2.0.1 has no GetDiagnostics: a 2.0.1 station is asked for its logs (GetLog).
    const kind = panel.root.querySelector('select[name="kind"]');
    const v201 = charger?.ocppVersion === '2.0.1';
    kind.querySelector('option[value="Diagnostics"]').disabled = v201;
    if (v201 && kind.value === 'Diagnostics') kind.value = 'DiagnosticsLog';
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
    if (panel.root && event.deviceId === panel.chargePointId && name === 'diagnostics.status.changed') load(panel.chargePointId);
  });
})();
