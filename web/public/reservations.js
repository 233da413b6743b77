// Reservations on the charger page (docs/reservations.md): the charger's reservations
// (active first), a form to reserve a connector for an id tag until a time, and a Cancel
// button per active reservation. Everything goes through the REST API resource
// endpoints; reservation.* events (and the charger's Reserved status) refresh it live.
//
// Loaded after app.js and uses its globals (state, $, esc, api, askToken). app.js
// announces the detail view (`genx:detail`) and every live event (`genx:event`).
'use strict';

(() => {
  const enc = encodeURIComponent;
  const panel = { root: null, chargePointId: null, generation: 0, requested: 0, applied: 0 };

  function build() {
    const section = document.createElement('section');
    section.className = 'reservations';
    section.dataset.testid = 'charger-reservations';
    section.setAttribute('aria-label', 'Reservations');
    section.innerHTML = `
      <h3>Reservations</h3>
      <form class="cmd res-form" novalidate data-testid="reserve-form">
        <h4>Reserve a connector</h4>
        <label for="res-connector">Connector (0 = any)</label>
        <input id="res-connector" name="connectorId" type="number" step="1" inputmode="numeric" value="1" data-testid="reserve-connector">
        <label for="res-idtag">Id tag</label>
        <input id="res-idtag" name="idTag" type="text" maxlength="20" autocomplete="off" data-testid="reserve-idtag">
        <label for="res-minutes">For (minutes)</label>
        <input id="res-minutes" name="minutes" type="number" step="1" min="1" value="30" data-testid="reserve-minutes">
        <button type="submit" data-testid="reserve-submit">Reserve</button>
      </form>
      <output class="cmd-output" data-testid="reserve-output" aria-live="polite" hidden></output>
      <table class="table">
        <thead><tr><th>Reservation</th><th>Connector</th><th>Id tag</th><th>Until</th><th>Status</th><th></th></tr></thead>
        <tbody data-testid="reservations-rows"></tbody>
      </table>`;
    section.querySelector('form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      reserve(ev.target);
    });
    section.addEventListener('click', (ev) => {
      const button = ev.target.closest('button[data-cancel]');
      if (button) cancel(Number(button.dataset.cancel));
    });
    const commands = document.getElementById('commands');
    (commands || $('detail-facts')).after(section);
    return section;
  }

  const send = apiSend;

  function show(kind, html) {
    const out = panel.root.querySelector('.cmd-output');
    out.hidden = false;
    out.dataset.state = kind;
    out.innerHTML = html;
  }

  async function reserve(form) {
    const cp = panel.chargePointId;
    const minutes = Number(form.elements.minutes.value || 0);
    const payload = {
      connectorId: Number(form.elements.connectorId.value),
      idTag: form.elements.idTag.value.trim(),
      expiryDate: new Date(Date.now() + Math.max(1, minutes) * 60000).toISOString(),
    };
    show('pending', 'Sending ReserveNow…');
    const { status, body } = await send('POST', `/api/chargers/${enc(cp)}/reservations`, payload);
    if (cp !== panel.chargePointId) return;
    if (status === 200) {
      show('ok', `Reservation <b data-testid="reserve-result-id">#${body.id}</b> <span class="cmd-status" data-testid="reserve-status">${esc(body.status)}</span> until ${esc(new Date(body.expiryDate).toLocaleString())}`);
    } else {
      const answered = body.reservation?.status;
      show(status === 409 ? 'refused' : 'error',
        `${answered ? `<span class="cmd-status" data-testid="reserve-status">${esc(answered)}</span> · ` : ''}<span data-testid="reserve-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    }
    load(cp);
  }

  async function cancel(id) {
    const cp = panel.chargePointId;
    show('pending', `Sending CancelReservation for #${id}…`);
    const { status, body } = await send('DELETE', `/api/reservations/${id}`);
    if (cp !== panel.chargePointId) return;
    if (status === 200) show('ok', `Reservation #${id} <span class="cmd-status" data-testid="reserve-status">${esc(body.status)}</span>`);
    else show('error', `<span data-testid="reserve-error">${esc(body.error || `HTTP ${status}`)}</span>`);
    load(cp);
  }

  async function load(cp) {
    const generation = panel.generation;
    // Loads overlap (the live events, the charger page, the operator's Reserve and Cancel):
    // an answer older than one already shown is dropped, so a list read before a cancel
    // never brings the reservation back as active.
    const seq = ++panel.requested;
    let list = [];
    try {
      list = await api(`/api/chargers/${enc(cp)}/reservations?limit=20`);
    } catch {
      return;
    }
    if (generation !== panel.generation || cp !== panel.chargePointId || seq < panel.applied) return;
    panel.applied = seq;
    list.sort((a, b) => Number(b.active) - Number(a.active) || b.id - a.id);
    panel.root.querySelector('tbody').innerHTML = list.map((r) => `<tr data-testid="reservation-${r.id}" data-status="${esc(r.status)}">
      <td><b>#${r.id}</b></td><td>${r.connectorId === 0 ? 'any' : r.connectorId}</td><td>${esc(r.idTag)}</td>
      <td>${esc(new Date(r.expiryDate).toLocaleString())}</td>
      <td><span class="badge${r.active ? ' online' : ''}" data-testid="reservation-status-${r.id}">${esc(r.status)}</span>${r.transactionId ? ` <span class="sub">session #${r.transactionId}</span>` : ''}</td>
      <td>${r.active ? `<button type="button" class="ghost" data-cancel="${r.id}" data-testid="reservation-cancel-${r.id}">Cancel</button>` : ''}</td></tr>`).join('')
      || '<tr><td colspan="6" class="sub">No reservations.</td></tr>';
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
    if (panel.root && event.deviceId === panel.chargePointId && name.startsWith('reservation.')) load(panel.chargePointId);
  });
})();
