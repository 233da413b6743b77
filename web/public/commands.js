// Remote commands on the charger page: buttons for what an operator does every day
// (start, stop, reset, unlock) and a compact form for the other OCPP 1.6 commands GenX
// sends. Everything goes through the REST API (README, "Remote commands"); the
// charger's answer, or why there is none, is shown in one <output>. One command at a
// time: the buttons are disabled until the api answers.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken, time). app.js
// announces the detail view (`genx:detail`, with the charger and its recent sessions) and
// every live event (`genx:event`) as DOM events on document; nothing else couples them.
'use strict';

(() => {
  // Enumerations and lengths from the official OCPP 1.6 JSON schemas.
  const kResetTypes = ['Soft', 'Hard'];
  const kAvailabilityTypes = ['Operative', 'Inoperative'];
  const kTriggerMessages = ['BootNotification', 'DiagnosticsStatusNotification', 'FirmwareStatusNotification',
    'Heartbeat', 'MeterValues', 'StatusNotification'];
  // Configuration keys of the Core profile, offered as suggestions (with those the
  // charger reported).
  const kCoreKeys = ['AllowOfflineTxForUnknownId', 'AuthorizationCacheEnabled', 'AuthorizeRemoteTxRequests',
    'BlinkRepeat', 'ClockAlignedDataInterval', 'ConnectionTimeOut', 'HeartbeatInterval', 'LightIntensity',
    'LocalAuthorizeOffline', 'LocalPreAuthorize', 'MaxEnergyOnInvalidId', 'MeterValuesAlignedData',
    'MeterValuesSampledData', 'MeterValueSampleInterval', 'MinimumStatusDuration', 'ResetRetries',
    'StopTransactionOnEVSideDisconnect', 'StopTransactionOnInvalidId', 'StopTxnAlignedData',
    'StopTxnSampledData', 'TransactionMessageAttempts', 'TransactionMessageRetryInterval',
    'UnlockConnectorOnEVSideDisconnect', 'WebSocketPingInterval'];
  // Answers that mean "done" (or will be done); any other status is a refusal.
  const kGoodStatus = new Set(['Accepted', 'Unlocked', 'Scheduled', 'RebootRequired']);
  const kStatusNotes = {
    Scheduled: 'the charger applies it after the current transaction',
    RebootRequired: 'takes effect after the charger reboots',
    UnlockFailed: 'the charger tried and failed to unlock',
    NotSupported: 'the charger has no lock on this connector',
    NotImplemented: 'the charger cannot send this message',
    UnknownVendorId: 'the charger does not know this vendor id',
    UnknownMessageId: 'the charger does not know this message id',
  };
  const kLogMax = 10;

  // The "More commands" form: one entry per command, fields as in its schema.
  // type: int (a number), text, select (an enumeration), list (comma-separated strings).
  const kMore = {
    ChangeAvailability: [
      { name: 'connectorId', label: 'Connector (0 = whole charger)', type: 'int', value: '0' },
      { name: 'type', label: 'Availability', type: 'select', options: kAvailabilityTypes },
    ],
    ChangeConfiguration: [
      { name: 'key', label: 'Key', type: 'text', maxLength: 50, suggest: true },
      { name: 'value', label: 'Value', type: 'text', maxLength: 500, keepEmpty: true },
    ],
    GetConfiguration: [
      { name: 'key', label: 'Keys (comma-separated; empty = all)', type: 'list', suggest: true },
    ],
    ClearCache: [],
    DataTransfer: [
      { name: 'vendorId', label: 'Vendor id', type: 'text', maxLength: 255 },
      { name: 'messageId', label: 'Message id (optional)', type: 'text', maxLength: 50 },
      { name: 'data', label: 'Data (optional)', type: 'text' },
    ],
    TriggerMessage: [
      { name: 'requestedMessage', label: 'Message', type: 'select', options: kTriggerMessages },
      { name: 'connectorId', label: 'Connector (optional)', type: 'int' },
    ],
  };

  const panel = {
    root: null,
    chargePointId: null,
    generation: 0, // bumped when another charger is shown: late answers are dropped
    pending: false,
    seq: 0, // answers shown so far (lets a test tell one answer from the next)
  };

  const options = (list) => list.map((o) => `<option value="${esc(o)}">${esc(o)}</option>`).join('');
  const enc = encodeURIComponent;

  function fieldHtml(action, f) {
    const id = `cmd-${action}-${f.name}`;
    const testid = `cmd-field-${f.name}`;
    let input;
    if (f.type === 'select') {
      input = `<select id="${id}" name="${f.name}" data-testid="${testid}">${options(f.options)}</select>`;
    } else {
      const kind = f.type === 'int' ? 'type="number" step="1" inputmode="numeric"' : 'type="text"';
      const max = f.maxLength ? ` maxlength="${f.maxLength}"` : '';
      const list = f.suggest ? ' list="cmd-config-keys" autocomplete="off"' : '';
      input = `<input id="${id}" name="${f.name}" ${kind}${max}${list} value="${esc(f.value ?? '')}" data-testid="${testid}">`;
    }
    return `<label for="${id}">${esc(f.label)}</label>${input}`;
  }

  function build() {
    const section = document.createElement('section');
    section.className = 'commands';
    section.id = 'commands';
    section.dataset.testid = 'charger-commands';
    section.setAttribute('aria-label', 'Commands');
    section.innerHTML = `
      <h3>Commands</h3>
      <div class="cmd-quick">
        <form class="cmd" data-command="start" novalidate>
          <h4>Start charging</h4>
          <label for="cmd-start-connector">Connector</label>
          <input id="cmd-start-connector" name="connectorId" type="number" step="1" inputmode="numeric" value="1" data-testid="start-connector">
          <label for="cmd-start-idtag">Id tag</label>
          <input id="cmd-start-idtag" name="idTag" type="text" maxlength="20" autocomplete="off" data-testid="start-idtag">
          <button type="submit" data-testid="cmd-start">Start charging</button>
        </form>
        <form class="cmd" data-command="stop" novalidate>
          <h4>Stop charging</h4>
          <label for="cmd-stop-tx">Transaction</label>
          <input id="cmd-stop-tx" name="transactionId" type="number" step="1" inputmode="numeric" list="cmd-active-tx" data-testid="stop-transaction">
          <datalist id="cmd-active-tx"></datalist>
          <p class="cmd-hint" data-testid="stop-hint">No active session known.</p>
          <button type="submit" data-testid="cmd-stop">Stop charging</button>
        </form>
        <form class="cmd" data-command="reset" novalidate>
          <h4>Reset</h4>
          <label for="cmd-reset-type">Type</label>
          <select id="cmd-reset-type" name="type" data-testid="reset-type">${options(kResetTypes)}</select>
          <p class="cmd-hint">Hard reboots at once and ends any session; it asks first.</p>
          <button type="submit" data-testid="cmd-reset">Reset</button>
        </form>
        <form class="cmd" data-command="unlock" novalidate>
          <h4>Unlock connector</h4>
          <label for="cmd-unlock-connector">Connector</label>
          <input id="cmd-unlock-connector" name="connectorId" type="number" step="1" inputmode="numeric" value="1" data-testid="unlock-connector">
          <button type="submit" data-testid="cmd-unlock">Unlock</button>
        </form>
      </div>
      <form class="cmd cmd-more" data-command="more" novalidate>
        <h4>More commands</h4>
        <label for="cmd-more-action">Command</label>
        <select id="cmd-more-action" name="action" data-testid="cmd-action">${options(Object.keys(kMore))}</select>
        <div class="cmd-fields" data-testid="cmd-fields"></div>
        <button type="submit" data-testid="cmd-send">Send</button>
      </form>
      <datalist id="cmd-config-keys"></datalist>
      <output class="cmd-output" data-testid="command-output" aria-live="polite" hidden></output>
      <h4 class="cmd-log-head">Recent commands <span class="muted">from anyone, live</span></h4>
      <ol class="cmd-log" data-testid="command-log"></ol>
      <p class="cmd-hint cmd-log-empty">None since this page opened.</p>`;

    const dialog = document.createElement('dialog');
    dialog.id = 'cmd-confirm';
    dialog.dataset.testid = 'confirm-dialog';
    dialog.innerHTML = `
      <form method="dialog">
        <h2>Hard reset?</h2>
        <p class="cmd-confirm-text"></p>
        <div class="cmd-confirm-buttons">
          <button type="submit" value="cancel" class="ghost" data-testid="confirm-cancel">Cancel</button>
          <button type="submit" value="confirm" class="danger" data-testid="confirm-ok">Hard reset</button>
        </div>
      </form>`;
    document.body.append(dialog);

    const more = section.querySelector('form[data-command="more"]');
    more.elements.action.addEventListener('change', () => renderMoreFields(more));
    renderMoreFields(more);
    for (const form of section.querySelectorAll('form')) {
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        submit(form);
      });
      // A field the api named as wrong stays marked until it is edited.
      form.addEventListener('input', (ev) => ev.target.removeAttribute?.('aria-invalid'));
    }
    section.querySelector('#cmd-stop-tx').addEventListener('input', (ev) => { ev.target.dataset.edited = '1'; });
    $('detail-facts').after(section);
    return section;
  }

  function renderMoreFields(form) {
    const action = form.elements.action.value;
    const fields = kMore[action];
    form.querySelector('.cmd-fields').innerHTML = fields.length
      ? fields.map((f) => fieldHtml(action, f)).join('')
      : '<p class="cmd-hint">No parameters.</p>';
  }

  // Form values -> the command's JSON payload. Empty optional fields are left out; the
  // api checks the payload against the schema and names any field that is wrong.
  function intValue(text) {
    const t = String(text).trim();
    return /^-?\d+$/.test(t) ? Number(t) : t;
  }

  function readFields(form, fields) {
    const payload = {};
    for (const f of fields) {
      const raw = form.elements[f.name].value;
      if (f.type === 'int') {
        if (raw.trim() !== '') payload[f.name] = intValue(raw);
      } else if (f.type === 'list') {
        const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
        if (items.length) payload[f.name] = items;
      } else if (raw !== '' || f.keepEmpty) {
        payload[f.name] = raw;
      }
    }
    return payload;
  }

  // The everyday buttons in the form of the charger's OCPP version (a 2.0.1 station gets
  // RequestStart/StopTransaction, its own transaction id, EVSE ids; docs/ocpp201.md).
  function in201(command) {
    const p = command.payload;
    switch (command.action) {
      case 'RemoteStartTransaction': {
        const payload = { idToken: { idToken: p.idTag ?? '', type: 'Central' }, remoteStartId: Math.floor(Math.random() * 1e9) };
        if (p.connectorId > 0) payload.evseId = p.connectorId;
        return { ...command, action: 'RequestStartTransaction', payload };
      }
      case 'RemoteStopTransaction': {
        const t = (panel.sessions || []).find((s) => s.id === p.transactionId);
        return { ...command, action: 'RequestStopTransaction', payload: { transactionId: t?.ocppTransactionId ?? String(p.transactionId ?? '') } };
      }
      case 'Reset':
        return { ...command, payload: { type: p.type === 'Hard' ? 'Immediate' : 'OnIdle' } };
      case 'UnlockConnector':
        return { ...command, payload: { evseId: p.connectorId, connectorId: 1 } };
      default:
        return command;
    }
  }

  function commandOf(form) {
    const command = commandOf16(form);
    return panel.v201 && form.dataset.command ? in201(command) : command;
  }

  function commandOf16(form) {
    const cp = enc(panel.chargePointId);
    const el = form.elements;
    switch (form.dataset.command) {
      case 'start': {
        const payload = readFields(form, [{ name: 'connectorId', type: 'int' }, { name: 'idTag', type: 'text' }]);
        return { action: 'RemoteStartTransaction', label: 'Start charging', path: `/api/chargers/${cp}/start`, payload };
      }
      case 'stop':
        return { action: 'RemoteStopTransaction', label: 'Stop charging', path: `/api/chargers/${cp}/stop`,
          payload: readFields(form, [{ name: 'transactionId', type: 'int' }]) };
      case 'reset':
        return { action: 'Reset', label: `Reset (${el.type.value})`, path: `/api/chargers/${cp}/reset`,
          payload: { type: el.type.value }, confirm: el.type.value === 'Hard' };
      case 'unlock':
        return { action: 'UnlockConnector', label: 'Unlock connector', path: `/api/chargers/${cp}/unlock`,
          payload: readFields(form, [{ name: 'connectorId', type: 'int' }]) };
      default: {
        const action = el.action.value;
        return { action, label: action, path: `/api/chargers/${cp}/commands/${enc(action)}`,
          payload: readFields(form, kMore[action]) };
      }
    }
  }

  function confirmHardReset(cp) {
    const dialog = $('cmd-confirm');
    dialog.querySelector('.cmd-confirm-text').textContent =
      `${cp} reboots at once; a session in progress ends without waiting for the car.`;
    return new Promise((resolve) => {
      dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true });
      dialog.returnValue = '';
      dialog.showModal();
    });
  }

  async function post(path, payload) {
    const sent = state.token;
    const headers = { 'Content-Type': 'application/json' };
    if (sent) headers.Authorization = `Bearer ${sent}`;
    const res = await fetch(path, { method: 'POST', headers, body: JSON.stringify(payload) });
    const text = await res.text();
    let body = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = { error: text };
    }
    return { status: res.status, body: body && typeof body === 'object' ? body : { value: body }, sent };
  }

  function setPending(on) {
    panel.pending = on;
    panel.root.setAttribute('aria-busy', String(on));
    for (const b of panel.root.querySelectorAll('button')) b.disabled = on;
  }

  function show(state_, head, bodyHtml, httpStatus) {
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = false;
    out.dataset.seq = String(++panel.seq);
    out.dataset.state = state_;
    if (httpStatus) out.dataset.http = String(httpStatus); else delete out.dataset.http;
    out.innerHTML = `<div class="cmd-out-head">${head}</div>${bodyHtml ? `<div class="cmd-out-body">${bodyHtml}</div>` : ''}`;
  }

  async function submit(form) {
    if (panel.pending || !panel.chargePointId) return;
    const cp = panel.chargePointId;
    const generation = panel.generation;
    for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    const cmd = commandOf(form);
    if (cmd.confirm && !(await confirmHardReset(cp))) {
      show('cancelled', `<b>${esc(cmd.label)}</b> cancelled`, 'Nothing was sent.');
      return;
    }
    setPending(true);
    show('pending', `<b>${esc(cmd.label)}</b> · ${esc(cp)}`, 'Waiting for the charger’s answer…');
    let result;
    try {
      result = await post(cmd.path, cmd.payload);
    } catch (err) {
      result = { status: 0, body: { error: err.message } };
    }
    if (generation !== panel.generation) return; // another charger is shown now
    setPending(false);
    render(form, cmd, cp, result);
    if (result.status === 401 || result.status === 403) askToken(result.sent);
    if (result.status === 200 && cmd.action === 'GetConfiguration') suggestKeys(result.body.configurationKey);
  }

  // The api's answer in words an operator can act on.
  function render(form, cmd, cp, { status, body }) {
    const head = (what) => `<b>${esc(cmd.label)}</b> · ${esc(cp)} · ${time(new Date().toISOString())}${what ? ` — ${what}` : ''}`;
    const error = esc(body.error || '');
    switch (status) {
      case 200: {
        const answer = body.status;
        const kind = answer === undefined || kGoodStatus.has(answer) ? 'ok' : 'refused';
        const note = kStatusNotes[answer] ? ` <span class="sub">(${esc(kStatusNotes[answer])})</span>` : '';
        const status_ = answer === undefined ? esc(summary(cmd.action, body))
          : `<span class="cmd-status" data-testid="command-status">${esc(answer)}</span>${note}`;
        show(kind, head(status_), resultDetails(cmd.action, body), status);
        return;
      }
      case 400: {
        const field = /^([A-Za-z_]\w*)/.exec(body.error || '')?.[1];
        const input = field ? form.querySelector(`[name="${field}"]`) : null;
        if (input) input.setAttribute('aria-invalid', 'true');
        show('error', head('not sent'), `Invalid input: <span data-testid="command-error">${error}</span>`, status);
        return;
      }
      case 401:
        show('error', head('not authorized'), 'The API token is missing or wrong. Enter it, then send again.', status);
        return;
      case 403:
        show('error', head('not allowed'), `This API token may only read; commands need an operator token. Enter one, then send again. <span class="sub">${error}</span>`, status);
        return;
      case 404:
        show('error', head('charger offline'), `${esc(cp)} is not connected to any gateway, so nothing was sent.`, status);
        return;
      case 429:
        show('error', head('charger busy'), `Other commands are already waiting for ${esc(cp)}; try again in a moment. <span class="sub">${error}</span>`, status);
        return;
      case 502:
        if (body.errorCode) {
          show('error', head(`refused with CALLERROR <span class="cmd-status" data-testid="command-error-code">${esc(body.errorCode)}</span>`),
            body.errorDescription ? esc(body.errorDescription) : 'No description given.', status);
        } else {
          show('error', head('no usable answer'), error, status);
        }
        return;
      case 503:
        show('error', head('not sent'), `GenX could not hand the command to RabbitMQ: ${error}`, status);
        return;
      case 504:
        show('error', head('no answer in time'), `${error}. The charger may still carry it out.`, status);
        return;
      case 0:
        show('error', head('not sent'), `Cannot reach the GenX API: ${error}`);
        return;
      default:
        show('error', head(`HTTP ${status}`), error, status);
    }
  }

  function summary(action, body) {
    if (action !== 'GetConfiguration') return 'answered';
    const count = (list, one) => {
      const n = Array.isArray(list) ? list.length : 0;
      return `${n} ${one}${n === 1 ? '' : 's'}`;
    };
    const unknown = Array.isArray(body.unknownKey) && body.unknownKey.length ? `, ${count(body.unknownKey, 'unknown key')}` : '';
    return `${count(body.configurationKey, 'key')}${unknown}`;
  }

  function resultDetails(action, body) {
    if (action === 'GetConfiguration') {
      const keys = Array.isArray(body.configurationKey) ? body.configurationKey : [];
      const unknown = Array.isArray(body.unknownKey) ? body.unknownKey : [];
      const rows = keys.map((k) => `<tr><td><code>${esc(k.key)}</code></td><td>${esc(k.value ?? '–')}</td><td>${k.readonly ? 'read-only' : 'writable'}</td></tr>`).join('');
      return `${keys.length
        ? `<table class="table cmd-config" data-testid="config-table"><thead><tr><th>Key</th><th>Value</th><th>Access</th></tr></thead><tbody>${rows}</tbody></table>`
        : '<p>No keys reported.</p>'}${unknown.length ? `<p data-testid="config-unknown">Unknown keys: ${unknown.map((k) => `<code>${esc(k)}</code>`).join(', ')}</p>` : ''}`;
    }
    if (action === 'DataTransfer' && body.data !== undefined) {
      return `Data: <code data-testid="command-data">${esc(body.data)}</code>`;
    }
    return '';
  }

  function suggestKeys(reported) {
    const known = new Set(kCoreKeys);
    for (const k of reported || []) if (k && typeof k.key === 'string') known.add(k.key);
    $('cmd-config-keys').innerHTML = [...known].sort().map((k) => `<option value="${esc(k)}"></option>`).join('');
  }

  // Stop: the newest active transaction of this charger, unless the operator typed one.
  function prefillStop(sessions) {
    const active = (sessions || []).filter((t) => t.active);
    const input = $('cmd-stop-tx');
    const next = active.length ? String(active[0].id) : '';
    if (!input.dataset.edited || input.value === '') {
      input.value = next;
      delete input.dataset.edited;
    }
    $('cmd-active-tx').innerHTML = active.map((t) => `<option value="${t.id}"></option>`).join('');
    panel.root.querySelector('[data-testid="stop-hint"]').textContent = active.length
      ? `Active: ${active.map((t) => `#${t.id} on connector ${t.connectorId}`).join(', ')}.`
      : 'No active session known.';
  }

  function logCompleted(e) {
    const li = document.createElement('li');
    li.dataset.action = e.action || '';
    li.dataset.http = String(e.httpStatus ?? '');
    const ok = e.httpStatus === 200;
    const answer = ok ? (e.response?.status ?? 'answered') : (e.errorCode ? `CALLERROR ${e.errorCode}` : (e.outcome || `HTTP ${e.httpStatus}`));
    li.className = ok && (e.response?.status === undefined || kGoodStatus.has(e.response.status)) ? 'ok' : 'bad';
    li.innerHTML = `<span class="when">${time(e.timestamp)}</span><b>${esc(e.action)}</b><span>${esc(answer)}</span>`;
    const log = panel.root.querySelector('.cmd-log');
    log.prepend(li);
    while (log.children.length > kLogMax) log.lastElementChild.remove();
    panel.root.querySelector('.cmd-log-empty').hidden = true;
  }

  function showCharger(cp) {
    panel.chargePointId = cp;
    panel.generation += 1;
    setPending(false);
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = true;
    out.innerHTML = '';
    panel.root.querySelector('.cmd-log').innerHTML = '';
    panel.root.querySelector('.cmd-log-empty').hidden = false;
    for (const el of panel.root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    delete $('cmd-stop-tx').dataset.edited;
    $('cmd-stop-tx').value = '';
    suggestKeys([]);
    api(`/api/chargers/${enc(cp)}/configuration`)
      .then((config) => { if (panel.chargePointId === cp) suggestKeys(config.configurationKey); })
      .catch(() => {}); // suggestions only
  }

  document.addEventListener('genx:detail', (ev) => {
    const { chargePointId, sessions, charger } = ev.detail;
    if (!panel.root) panel.root = build();
    panel.v201 = charger?.ocppVersion === '2.0.1';
    panel.sessions = sessions;
    if (chargePointId !== panel.chargePointId) showCharger(chargePointId);
    prefillStop(sessions);
  });

  document.addEventListener('genx:event', (ev) => {
    const { name, event } = ev.detail;
    if (name === 'command.completed' && panel.root && event.deviceId === panel.chargePointId) logCompleted(event);
  });
})();
