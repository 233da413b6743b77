// GenX dashboard, Analytics view (#analytics): energy per hour and per day, sessions per
// day, revenue per day and utilization per charger from /api/stats/*, drawn with uPlot
// (bundled from npm into vendor/, no CDN). Each chart has its exact figures beside it
// (a totals line, and a table of every bucket), read from the same JSON.
//
// Live: a `transaction.completed` event (Socket.IO, the socket app.js opened) refetches
// after a short debounce. The analytics role counts that transaction a moment later
// than the notifier announces it (its own queue, batches of up to
// GENX_ANALYTICS_BATCH_WAIT_MS), so until the figures include every completion heard of
// in the period, the view refetches with backoff (1 s .. 30 s). A reconnect refetches
// too, and the open view refreshes every minute (status-driven utilization).
//
// Uses from app.js: api(path) (JSON with the API token, asks for it on 401) and
// state.token.
(() => {
  'use strict';

  const kDebounceMs = 600;
  const kCatchUpDelaysMs = [1000, 2000, 4000, 8000, 15000, 30000];
  const kRefreshMs = 60000;
  const kChartHeight = 220;
  const kMaxFilledBuckets = 24 * 93; // fill empty hours/days up to this many, else sparse bars

  const $ = (id) => document.getElementById(id);
  const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));

  // Formatting: exact, locale-independent (an operator compares these with invoices) ----

  const kGroup = '\u202f'; // narrow no-break space: 12 345.678 reads the same everywhere
  const group = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, kGroup);
  const pad = (n, width) => String(n).padStart(width, '0');
  function fixedMinor(value, decimals) { // integer in 10^-decimals units -> "12 345.678"
    const sign = value < 0 ? '-' : '';
    const abs = Math.abs(Math.round(value));
    const unit = 10 ** decimals;
    return `${sign}${group(Math.floor(abs / unit))}.${pad(abs % unit, decimals)}`;
  }
  const fmtKwh = (wh) => `${fixedMinor(wh, 3)} kWh`;
  const fmtMoney = (minor, currency) => `${fixedMinor(minor, 2)} ${currency || ''}`.trim();
  const fmtPercent = (p) => `${Number(p).toFixed(2)} %`;
  const fmtKw = (w) => `${(Number(w) / 1000).toFixed(1)} kW`;
  const fmtDuration = (s) => `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60), 2)} min`;
  const sum = (rows, key) => rows.reduce((total, r) => total + Number(r[key] || 0), 0);

  // Local dates (YYYY-MM-DD) as calendar arithmetic, free of daylight-saving surprises.
  const dateOf = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}`;
  function addDays(date, days) {
    const [y, m, d] = date.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
  }
  const validDate = (s) => /^\d{4}-\d{2}-\d{2}$/.test(s) && addDays(s, 0) === s;
  function shortDate(date) {
    const [y, m, d] = date.split('-').map(Number);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString([], { month: 'short', day: 'numeric', timeZone: 'UTC' });
  }

  // View state ---------------------------------------------------------------------------

  const view = {
    visible: false,
    from: '', // YYYY-MM-DD, '' = open
    to: '', // exclusive
    data: null, // the last figures fetched
    renders: 0,
    fetching: null, // promise of the fetch in flight
    again: false, // another fetch asked for while one was in flight
    timer: null,
    periodic: null,
    // Completions heard of (stop times, ms) that the figures may not include yet.
    pending: [],
    completed: null, // sessionsCompleted of the last fetch for this period
    catchUp: 0,
  };
  const charts = {}; // name -> uPlot, for tests and the console (window.genxCharts)
  window.genxCharts = charts;

  function setPeriod(from, to, { fromUser = true } = {}) {
    view.from = from;
    view.to = to;
    $('an-from').value = from;
    $('an-to').value = to;
    view.pending = [];
    view.completed = null;
    view.catchUp = 0;
    for (const b of document.querySelectorAll('.an-presets button')) b.setAttribute('aria-pressed', 'false');
    if (fromUser) showPeriodInUrl();
  }

  // The address names the period, so it can be bookmarked or shared.
  function showPeriodInUrl() {
    const qs = query();
    history.replaceState(null, '', `#analytics${qs ? `?${qs}` : ''}`);
  }

  function preset(days) {
    const today = dateOf(new Date());
    if (days) setPeriod(addDays(today, 1 - days), addDays(today, 1));
    else setPeriod('', '');
    document.querySelector(`.an-presets button[data-days="${days}"]`)?.setAttribute('aria-pressed', 'true');
  }

  function query() {
    const q = new URLSearchParams();
    if (view.from) q.set('from', view.from);
    if (view.to) q.set('to', view.to);
    return q.toString();
  }

  // Fetching -----------------------------------------------------------------------------

  async function fetchFigures() {
    const q = query();
    const amp = q ? `&${q}` : '';
    const [summary, hourly, daily, sessions, revenue, utilization] = await Promise.all([
      api(`/api/stats/summary${q ? `?${q}` : ''}`),
      api(`/api/stats/energy?bucket=hour${amp}`),
      api(`/api/stats/energy?bucket=day${amp}`),
      api(`/api/stats/sessions?bucket=day${amp}`),
      api(`/api/stats/revenue?bucket=day${amp}`),
      api(`/api/stats/utilization${q ? `?${q}` : ''}`),
    ]);
    return { summary, hourly, daily, sessions, revenue, utilization, query: q };
  }

  function status(text, kind = '') {
    $('an-status').textContent = text;
    $('an-status').dataset.kind = kind;
  }

  // One fetch at a time; a request during a fetch runs once after it.
  async function refresh() {
    if (!view.visible) return;
    if (view.fetching) {
      view.again = true;
      return;
    }
    if (view.from && view.to && view.from >= view.to) {
      status('“From” must be before “To”.', 'error');
      return;
    }
    const pendingAtStart = view.pending.slice();
    view.fetching = fetchFigures();
    try {
      const data = await view.fetching;
      if (data.query !== query()) return; // the period changed meanwhile: a new fetch follows
      view.data = data;
      render(data);
      settle(data, pendingAtStart);
    } catch (err) {
      status(`Cannot load analytics: ${err.message}`, 'error');
    } finally {
      view.fetching = null;
      if (view.again) {
        view.again = false;
        refresh();
      }
    }
  }

  function refreshSoon(delay = kDebounceMs) {
    clearTimeout(view.timer);
    view.timer = setTimeout(refresh, delay);
  }

  // Did the figures catch up with the completions heard of before this fetch started?
  function settle(data, pendingAtStart) {
    const start = Date.parse(data.summary.periodStart);
    const end = Date.parse(data.summary.periodEnd);
    const open = !view.from && !view.to;
    const inPeriod = pendingAtStart.filter((t) => open || (t >= start && t < end)).length;
    const completed = data.summary.sessionsCompleted;
    const caughtUp = view.completed === null || completed >= view.completed + inPeriod;
    if (caughtUp || view.catchUp >= kCatchUpDelaysMs.length) {
      view.pending = view.pending.filter((t) => !pendingAtStart.includes(t));
      view.completed = completed;
      view.catchUp = 0;
      return;
    }
    refreshSoon(kCatchUpDelaysMs[view.catchUp]);
    view.catchUp += 1;
  }

  // Tracked only while the view is open: opening it fetches afresh anyway.
  function onCompleted(e) {
    if (!view.visible || view.pending.length >= 10000) return;
    const stopped = Date.parse(e?.stoppedAt || e?.timestamp || '');
    view.pending.push(Number.isFinite(stopped) ? stopped : Date.now());
    refreshSoon();
  }

  // Charts -------------------------------------------------------------------------------

  // Every card: a chart, the totals line (exact figures), a table of every bucket, CSV.
  const kCards = [
    { name: 'energy-hour', title: 'Energy per hour', color: '#0f766e', csv: 'energy?bucket=hour' },
    { name: 'energy-day', title: 'Energy per day', color: '#2563eb', csv: 'energy?bucket=day' },
    { name: 'sessions', title: 'Sessions per day', color: '#7c3aed', csv: 'sessions?bucket=day' },
    { name: 'revenue', title: 'Revenue per day', color: '#b45309', csv: 'revenue?bucket=day' },
    { name: 'utilization', title: 'Utilization per charger', color: '#15803d', csv: 'utilization' },
  ];

  function buildCards() {
    $('an-charts').innerHTML = kCards.map((c) => `
      <section class="card an-card" data-chart="${c.name}" data-testid="chart-${c.name}" data-color="${c.color}">
        <div class="card-head">
          <h2>${esc(c.title)}</h2>
          <button type="button" class="ghost an-csv" data-csv="${esc(c.csv)}" data-name="${c.name}">CSV</button>
        </div>
        <p class="an-total" data-testid="${c.name}-total">–</p>
        <div class="an-plot"></div>
        <p class="empty an-empty" hidden>No data in this period.</p>
        <details${c.name === 'utilization' ? ' open' : ''}><summary>Exact figures</summary>
          <div class="an-table-wrap"><table class="table an-table" data-testid="${c.name}-table"><thead></thead><tbody></tbody></table></div>
        </details>
      </section>`).join('');
    for (const b of $('an-charts').querySelectorAll('.an-csv')) {
      b.addEventListener('click', () => downloadCsv(b.dataset.csv, b.dataset.name));
    }
  }

  const card = (name) => $('an-charts').querySelector(`[data-chart="${name}"]`);

  function table(name, head, rows) {
    const t = card(name).querySelector('table');
    t.tHead.innerHTML = `<tr>${head.map(([label, num]) => `<th${num ? ' class="num"' : ''}>${esc(label)}</th>`).join('')}</tr>`;
    t.tBodies[0].innerHTML = rows.map((cells) => `<tr data-testid="${name}-row">${cells.map(([v, num, testid]) => `<td${num ? ' class="num"' : ''}${testid ? ` data-testid="${testid}"` : ''}>${esc(v)}</td>`).join('')}</tr>`).join('')
      || `<tr><td colspan="${head.length}" class="sub">No rows.</td></tr>`;
  }

  function total(name, text, data = {}) {
    const p = card(name).querySelector('.an-total');
    p.textContent = text;
    for (const [k, v] of Object.entries(data)) p.dataset[k] = String(v);
  }

  // The operator's time zone (GENX_TIMEZONE) for hour labels, when the browser knows it.
  function zoneOf(summary) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: summary.timeZone });
      return summary.timeZone;
    } catch {
      return undefined;
    }
  }

  function hourLabel(iso, zone) {
    return new Date(iso).toLocaleString([], {
      timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    });
  }

  // Bars at the middle of each UTC hour of the period (empty hours as 0).
  function hourSeries(rows, summary) {
    const byStart = new Map(rows.map((r) => [Date.parse(r.bucketStart), r]));
    const starts = [];
    let first = Date.parse(summary.periodStart);
    const end = Date.parse(summary.periodEnd);
    first -= ((first % 3600000) + 3600000) % 3600000;
    if (end > first && (end - first) / 3600000 <= kMaxFilledBuckets) {
      for (let t = first; t < end; t += 3600000) starts.push(t);
    } else {
      starts.push(...byStart.keys());
    }
    for (const t of byStart.keys()) if (!starts.includes(t)) starts.push(t);
    starts.sort((a, b) => a - b);
    return [starts.map((t) => t / 1000 + 1800), starts.map((t) => (byStart.get(t)?.energyWh ?? 0) / 1000)];
  }

  // The local dates of the period (from the inputs, else the rows), empty days as absent.
  function dayLabels(rowsList) {
    const dates = new Set(rowsList.flat().map((r) => r.bucket));
    const sorted = [...dates].sort();
    const first = view.from || sorted[0];
    const last = view.to ? addDays(view.to, -1) : sorted[sorted.length - 1];
    const out = [];
    if (first && last) {
      for (let d = first; d <= last && out.length <= kMaxFilledBuckets; d = addDays(d, 1)) out.push(d);
    }
    for (const d of sorted) if (!out.includes(d)) out.push(d);
    return out.sort();
  }

  // Hour ticks in the operator's zone: "14:00", and the date at midnight.
  function hourTicks(zone) {
    return (u, splits) => splits.map((ts) => {
      const d = new Date(ts * 1000);
      const hm = d.toLocaleTimeString([], { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      return hm === '00:00' ? d.toLocaleDateString([], { timeZone: zone, month: 'short', day: 'numeric' }) : hm;
    });
  }

  function plotOptions(c, xs, { width, labels, zone, value }) {
    const categorical = Boolean(labels);
    const bars = uPlot.paths.bars({ size: [0.7, 48], align: 0 });
    // Fixed x ranges: uPlot would widen a single point to a day (time) or to 0..10.
    const xRange = categorical
      ? () => [-0.5, Math.max(1, labels.length) - 0.5]
      : () => (xs.length ? [xs[0] - 1800, xs[xs.length - 1] + 1800] : [0, 3600]);
    return {
      width,
      height: kChartHeight,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { show: false } },
      tzDate: zone ? (ts) => uPlot.tzDate(new Date(ts * 1000), zone) : undefined,
      scales: {
        x: { time: !categorical, range: xRange },
        y: { range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        categorical
          ? { incrs: [1, 2, 5, 7, 10, 14, 20, 30, 50, 61, 100, 182, 365], values: (u, splits) => splits.map((i) => (Number.isInteger(i) && labels[i] !== undefined ? labels[i] : '')), size: 40 }
          : { values: hourTicks(zone), size: 40 },
        { values: (u, splits) => splits.map(value), size: 64 },
      ],
      series: [{}, { label: c.title, stroke: c.color, fill: c.color, width: 1, paths: bars, points: { show: false } }],
    };
  }

  // Empty buckets are drawn as no bar (null), not as a flat line.
  function draw(c, [xs, ys], opts) {
    const el = card(c.name);
    const target = el.querySelector('.an-plot');
    const width = Math.max(240, target.clientWidth || el.clientWidth - 36);
    el.querySelector('.an-empty').hidden = ys.some((v) => v > 0);
    charts[c.name]?.destroy();
    charts[c.name] = new uPlot(plotOptions(c, xs, { width, ...opts }), [xs, ys.map((v) => (v > 0 ? v : null))], target);
  }

  function render(d) {
    const { summary } = d;
    const currency = summary.currency;
    const zone = zoneOf(summary);

    // Headline figures of the period.
    $('an-kpi-energy').textContent = fmtKwh(summary.energyWh);
    $('an-kpi-energy').dataset.wh = String(summary.energyWh);
    $('an-kpi-sessions').textContent = String(summary.sessionsCompleted);
    $('an-kpi-revenue').textContent = fmtMoney(summary.revenueMinor, currency);
    $('an-kpi-revenue').dataset.minor = String(summary.revenueMinor);
    $('an-kpi-utilization').textContent = fmtPercent(summary.utilizationPercent);

    const [cHour, cDay, cSessions, cRevenue, cUtil] = kCards;

    // Energy per hour.
    const hourWh = sum(d.hourly, 'energyWh');
    const peak = Math.max(0, ...d.hourly.map((r) => Number(r.peakPowerW) || 0));
    total('energy-hour', `${fmtKwh(hourWh)} in ${d.hourly.filter((r) => r.energyWh > 0).length} h · peak ${fmtKw(peak)}`, { wh: hourWh });
    table('energy-hour', [['Hour'], ['Energy', true], ['Sessions completed', true], ['Average power', true], ['Peak power', true]],
      d.hourly.map((r) => [[hourLabel(r.bucketStart, zone)], [fmtKwh(r.energyWh), true, 'energy-wh'], [r.sessionsCompleted, true], [fmtKw(r.averagePowerW), true], [fmtKw(r.peakPowerW), true]]));
    draw(cHour, hourSeries(d.hourly, summary), { zone, value: (v) => `${+v.toFixed(3)} kWh` });

    // Energy per day.
    const dayWh = sum(d.daily, 'energyWh');
    total('energy-day', `${fmtKwh(dayWh)} in ${d.daily.filter((r) => r.energyWh > 0).length} d`, { wh: dayWh });
    table('energy-day', [['Day'], ['Energy', true], ['Sessions completed', true], ['Peak power', true]],
      d.daily.map((r) => [[r.bucket], [fmtKwh(r.energyWh), true, 'energy-wh'], [r.sessionsCompleted, true], [fmtKw(r.peakPowerW), true]]));
    const dayDates = dayLabels([d.daily, d.sessions, d.revenue]);
    const byDay = (rows, key, scale = 1) => {
      const m = new Map(rows.map((r) => [r.bucket, Number(r[key]) / scale]));
      return dayDates.map((date) => m.get(date) ?? 0);
    };
    const idx = dayDates.map((_, i) => i);
    const dayTicks = dayDates.map(shortDate);
    draw(cDay, [idx, byDay(d.daily, 'energyWh', 1000)], { labels: dayTicks, value: (v) => `${+v.toFixed(3)} kWh` });

    // Sessions per day.
    const completed = sum(d.sessions, 'sessionsCompleted');
    const started = sum(d.sessions, 'sessionsStarted');
    total('sessions', `${completed} completed · ${started} started · ${fmtDuration(sum(d.sessions, 'chargingSeconds'))} charging`, { completed, started });
    table('sessions', [['Day'], ['Started', true], ['Completed', true], ['Session time', true], ['Charging', true], ['Idle at the plug', true]],
      d.sessions.map((r) => [[r.bucket], [r.sessionsStarted, true], [r.sessionsCompleted, true, 'sessions-completed'], [fmtDuration(r.sessionSeconds), true], [fmtDuration(r.chargingSeconds), true], [fmtDuration(r.idleSeconds), true]]));
    draw(cSessions, [idx, byDay(d.sessions, 'sessionsCompleted')], { labels: dayTicks, value: (v) => (Number.isInteger(v) ? String(v) : '') });

    // Revenue per day (cents summed as integers).
    const minor = sum(d.revenue, 'revenueMinor');
    total('revenue', `${fmtMoney(minor, currency)} from ${sum(d.revenue, 'sessionsCompleted')} sessions`, { minor, currency });
    table('revenue', [['Day'], ['Sessions', true], ['Revenue', true]],
      d.revenue.map((r) => [[r.bucket], [r.sessionsCompleted, true], [fmtMoney(r.revenueMinor, r.currency), true, 'revenue']]));
    draw(cRevenue, [idx, byDay(d.revenue, 'revenueMinor', 100)], { labels: dayTicks, value: (v) => `${+v.toFixed(2)} ${currency}` });

    // Utilization per charger over the period.
    const util = [...d.utilization].sort((a, b) => a.chargePointId.localeCompare(b.chargePointId));
    total('utilization', `site ${fmtPercent(summary.utilizationPercent)} of ${summary.connectors} connectors · ${fmtDuration(summary.occupiedSeconds)} occupied`, { percent: summary.utilizationPercent });
    table('utilization', [['Charger'], ['Connectors', true], ['Utilization', true], ['Occupied', true], ['Charging', true], ['Idle', true], ['Faulted', true], ['Sessions', true], ['Energy', true]],
      util.map((r) => [[r.chargePointId, false, 'charger'], [r.connectors, true], [fmtPercent(r.utilizationPercent), true, 'utilization'], [fmtDuration(r.occupiedSeconds), true], [fmtDuration(r.chargingSeconds), true], [fmtDuration(r.idleSeconds), true], [fmtDuration(r.faultedSeconds), true], [r.sessionsCompleted, true], [fmtKwh(r.energyWh), true]]));
    draw(cUtil, [util.map((_, i) => i), util.map((r) => Number(r.utilizationPercent))], { labels: util.map((r) => r.chargePointId), value: (v) => `${+v.toFixed(2)} %` });

    view.renders += 1;
    $('analytics').dataset.renders = String(view.renders);
    const period = view.from || view.to ? `${view.from || '…'} – ${view.to || '…'}` : 'all time';
    status(`${period} (${summary.timeZone}) · updated ${new Date().toLocaleTimeString()}`);
  }

  function redrawAll() {
    if (view.visible && view.data) render(view.data);
  }

  async function downloadCsv(path, name) {
    const q = query();
    const url = `/api/stats/${path}${path.includes('?') ? '&' : '?'}format=csv${q ? `&${q}` : ''}`;
    const res = await fetch(url, { headers: state.token ? { Authorization: `Bearer ${state.token}` } : {} });
    if (!res.ok) {
      status(`CSV: HTTP ${res.status}`, 'error');
      return;
    }
    const link = document.createElement('a');
    link.href = URL.createObjectURL(await res.blob());
    link.download = `genx-${name}${view.from ? `-${view.from}` : ''}${view.to ? `-${view.to}` : ''}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  // Navigation: #analytics[?from=YYYY-MM-DD&to=YYYY-MM-DD] shows this view --------------

  function route() {
    const [name, qs] = location.hash.replace(/^#/, '').split('?');
    const show = name === 'analytics';
    document.body.dataset.view = show ? 'analytics' : 'overview';
    $('analytics').hidden = !show;
    for (const a of document.querySelectorAll('.views a')) {
      if (a.dataset.view === document.body.dataset.view) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    view.visible = show;
    clearInterval(view.periodic);
    if (!show) return;
    const params = new URLSearchParams(qs || '');
    const from = params.get('from') || '';
    const to = params.get('to') || '';
    if ((from || to) && (!from || validDate(from)) && (!to || validDate(to))) {
      if (from !== view.from || to !== view.to) setPeriod(from, to, { fromUser: false });
    } else if (!view.from && !view.to && !view.data) {
      preset(7);
    } else {
      showPeriodInUrl();
    }
    view.periodic = setInterval(refresh, kRefreshMs);
    refresh();
  }

  function init() {
    buildCards();
    for (const b of document.querySelectorAll('.an-presets button')) {
      b.addEventListener('click', () => {
        preset(Number(b.dataset.days));
        refresh();
      });
    }
    for (const id of ['an-from', 'an-to']) {
      $(id).addEventListener('change', () => {
        const from = $('an-from').value;
        const to = $('an-to').value;
        if ((from && !validDate(from)) || (to && !validDate(to))) return;
        setPeriod(from, to);
        refresh();
      });
    }
    let resizeTimer = null;
    window.addEventListener('resize', () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(redrawAll, 200);
    });
    window.addEventListener('hashchange', route);

    const attach = (socket) => {
      socket.on('transaction.completed', onCompleted);
      socket.on('connect', () => { if (view.visible && view.data) refreshSoon(); });
    };
    if (window.genxSocket) attach(window.genxSocket);
    else document.addEventListener('genx:socket', (e) => attach(e.detail), { once: true });
    route();
  }

  if (typeof uPlot !== 'function') {
    $('an-charts').innerHTML = '<p class="empty">Charts unavailable: uPlot missing (npm ci && npm run build in web/).</p>';
    return;
  }
  init();
})();
