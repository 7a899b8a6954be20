// /debug/gofer's script: every second it polls /debug/gofer/state (the cards:
// what the machine does now), /debug/gofer/series (the charts: what it did
// over the last minutes, kept by the server) and /debug/gofer/journeys (the
// last requests' journeys). The charts are uPlot's; window.gofer exposes
// them and the history for the browser test (tests/browser).
'use strict';
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
const fmtNs = ns => ns < 1e4 ? (ns / 1e3).toFixed(1) + ' µs' : ns < 1e7 ? Math.round(ns / 1e3) + ' µs' : (ns / 1e6).toFixed(1) + ' ms';
const $ = id => document.getElementById(id);

// ---- the charts ------------------------------------------------------------

const M_STATES = ['running', 'spinning', 'netpoll', 'futex', 'blocking'];
const M_STATE_LABELS = {running: 'running goroutines', spinning: 'spinning (looking for work)',
                        netpoll: 'asleep in epoll_wait', futex: 'asleep on a futex', blocking: 'in blocking()'};
const M_STATE_COLORS = {running: '#3a9a5b', spinning: '#e0a526', netpoll: '#5b8fd6', futex: '#c9d3df', blocking: '#c0504d'};
const G_STATES = [['running', '#3a9a5b'], ['runnable', '#e0a526'], ['io_wait', '#5b8fd6'], ['chan', '#8e6cc0'],
                  ['sleep', '#9fb4c8'], ['sync', '#d07bb0'], ['blocking', '#c0504d'], ['other', '#aaaaaa']];
const P_COLORS = ['#3a9a5b', '#5b8fd6', '#e0a526', '#c0504d', '#8e6cc0', '#2aa198', '#d07bb0', '#777777'];
const num = (v, digits = 0) => v == null ? '–' : Number(v).toLocaleString('en-US', {maximumFractionDigits: digits});
const pct = v => v == null ? '–' : (v * 100).toFixed(0) + '%';
const ms = v => v == null ? '–' : v < 1e-3 ? +(v * 1e6).toPrecision(3) + ' µs' : v < 1 ? +(v * 1e3).toPrecision(3) + ' ms' : +v.toPrecision(3) + ' s';
const mib = v => v == null ? '–' : (v / 1048576).toFixed(1) + ' MiB';

// What each chart draws from the history `h`: a list of series
// {label, color, values, format} and, for stacked charts, stack: true (the
// areas are drawn on top of each other, the first at the bottom).
const CHARTS = [
  {id: 'requests', title: 'Requests per second, by status', stack: true,
   series: h => [['2xx', '#3a9a5b'], ['3xx', '#5b8fd6'], ['4xx', '#e0a526'], ['5xx', '#c0504d'], ['1xx', '#999999']]
     .map(([k, color]) => ({label: k, color, values: h.requests[k], format: num}))},
  {id: 'latency', title: 'Latency of the requests completed in each point', note: 'log scale', log: true,
   series: h => [['p50', '#3a9a5b'], ['p99', '#e0a526'], ['p999', '#c0504d']]
     .map(([k, color]) => ({label: k === 'p999' ? 'p99.9' : k, color, values: h.latency_s[k], format: ms}))},
  {id: 'goroutines', title: 'Goroutines by state', stack: true,
   series: h => G_STATES.map(([k, color]) => ({label: k.replace('_', ' '), color, values: h.goroutines[k], format: num}))},
  {id: 'connections', title: 'HTTP connections',
   series: h => [{label: 'open', color: '#5b8fd6', values: h.connections.open, format: num},
                 {label: 'parked idle (no goroutine)', color: '#9fb4c8', values: h.connections.parked, format: num}]},
  {id: 'poller', title: 'Poller wake-ups and steals per second',
   series: h => [{label: 'epoll_wait returns', color: '#5b8fd6', values: h.netpoll_wakeups, format: num},
                 {label: 'steals between Ps', color: '#e0a526', values: h.steals, format: num}]},
  {id: 'pbusy', title: 'Processors (P): busy', note: 'held by an M', range: [0, 1], axis: pct,
   series: h => h.p_busy.map((values, i) => ({label: 'P' + i, color: P_COLORS[i % P_COLORS.length], values, format: pct}))},
  {id: 'threads', title: 'Threads (M): where their time goes', note: 'Ms in each state', stack: true,
   series: h => M_STATES.map(k => ({label: M_STATE_LABELS[k], color: M_STATE_COLORS[k], values: h.threads[k], format: v => num(v, 2)}))},
  {id: 'cpu', title: 'CPU time of the process', note: '1 = a core', stack: true,
   series: h => [{label: 'user', color: '#3a9a5b', values: h.cpu.user, format: v => num(v, 3)},
                 {label: 'system (kernel)', color: '#c0504d', values: h.cpu.system, format: v => num(v, 3)}]},
  {id: 'memory', title: 'Resident memory and open file descriptors', two: true,
   series: h => [{label: 'RSS', color: '#8e6cc0', values: h.rss_bytes, format: mib},
                 {label: 'fds', color: '#777777', values: h.fds, format: num, scale: 'fds'}]},
];

// The load started/stopped moments, drawn as dashed lines on every chart.
function eventLines() {
  return {hooks: {draw: [u => {
    const ctx = u.ctx, {left, top, width, height} = u.bbox, dpr = devicePixelRatio || 1;
    for (const e of history ? history.events : []) {
      const x = Math.round(u.valToPos(e.t, 'x', true));
      if (x < left || x > left + width) continue;
      const started = e.what === 'load started', color = started ? '#1a7f4b' : '#b33';
      ctx.save();
      ctx.strokeStyle = ctx.fillStyle = color;
      ctx.lineWidth = dpr;
      ctx.setLineDash([4 * dpr, 3 * dpr]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      // "started" on the first line, right of its line; "stopped" on the
      // second, left of its line when there is no room on the right.
      ctx.font = `${10 * dpr}px system-ui,sans-serif`;
      const label = started ? 'load started' : 'stopped', w = ctx.measureText(label).width;
      const lx = started || x + 3 * dpr + w < left + width ? x + 3 * dpr : x - 3 * dpr - w;
      ctx.fillText(label, lx, top + (started ? 11 : 23) * dpr);
      ctx.restore();
    }
  }]}};
}

let history = null;      // the series as /debug/gofer/series gives it, merged point by point
let resolution = 'fine';
const charts = {};       // id → {def, plot}
window.gofer = {charts, get history() { return history; }};

// uPlot's data: [t, …one array per series]; stacked series are summed
// bottom-up and drawn top-down, so each area covers only its own band.
function chartData(def, series) {
  const data = [history.t];
  if (!def.stack) return data.concat(series.map(s => s.values));
  const sums = [];
  let below = history.t.map(() => 0);
  for (const s of series) {
    below = below.map((b, i) => b + (s.values[i] ?? 0));
    sums.push(below);
  }
  return data.concat(sums.reverse());
}

// The legend shows a series' own value (not a stack's running sum): at the
// cursor, or the latest when the cursor is elsewhere.
const legendValue = s => (u, v, si, i) => s.format(s.values[i ?? s.values.length - 1]);

function plotOptions(def, series, width) {
  const ordered = def.stack ? [...series].reverse() : series;
  const span = history.interval_s * (resolution === 'fine' ? 300 : 60);
  return {
    width, height: 170,
    legend: {live: true},
    cursor: {sync: {key: 'gofer'}, drag: {x: false, y: false}},
    scales: {
      // The whole window once it is full; until then what there is (at least
      // a minute), so that a young server's story is not squeezed to the right.
      x: {time: true, range: (u, min, max) => [max - Math.min(span, Math.max(60 * history.interval_s, max - min)), max]},
      y: def.log ? {distr: 3} : def.range ? {range: def.range} : {range: (u, min, max) => [0, Math.max(max, 1)]},
      ...(def.two ? {fds: {range: (u, min, max) => [0, Math.max(max, 10)]}} : {}),
    },
    axes: [
      {stroke: '#555', grid: {stroke: '#eee'}},
      {stroke: '#555', grid: {stroke: '#eee'}, size: 72,
       values: (u, vals) => vals.map(v => def.axis ? def.axis(v) : ordered[0].format(v))},
      ...(def.two ? [{scale: 'fds', side: 1, stroke: '#777', grid: {show: false}, size: 48}] : []),
    ],
    series: [{}].concat(ordered.map((s, k) => ({
      label: s.label, stroke: s.color, width: 1.5, scale: s.scale || 'y', spanGaps: false,
      fill: def.stack ? s.color + 'cc' : undefined, points: {show: false},
      value: legendValue(s),
    }))),
    plugins: [eventLines()],
  };
}

function drawCharts() {
  const box = $('charts');
  for (const def of CHARTS) {
    const series = def.series(history);
    let c = charts[def.id];
    // A new P or M series (or a new history) needs a new plot; otherwise new data.
    if (c && c.labels !== series.map(s => s.label).join()) {
      c.plot.destroy();
      c.el.remove();
      c = null;
    }
    if (!c) {
      const el = document.createElement('div');
      el.className = 'chart';
      el.id = 'chart-' + def.id;
      el.innerHTML = `<h4>${esc(def.title)}${def.note ? ` <span class="note">(${esc(def.note)})</span>` : ''}</h4>`;
      box.appendChild(el);
      const width = Math.max(300, el.clientWidth - 12);
      c = charts[def.id] = {def, el, labels: series.map(s => s.label).join(),
                            plot: new uPlot(plotOptions(def, series, width), chartData(def, series), el)};
    } else {
      // The legend's value() reads the series it was made with: refresh them.
      const ordered = def.stack ? [...series].reverse() : series;
      c.plot.series.slice(1).forEach((ps, k) => { ps.value = legendValue(ordered[k]); });
      c.plot.setData(chartData(def, series));
    }
    c.el.dataset.points = history.t.length;
  }
  drawThreadStrip();
}

// A row per M: each point coloured by the state it spent most of that time in.
function drawThreadStrip() {
  const box = $('mstrip');
  const rows = history.ms, n = history.t.length;
  const W = Math.max(300, box.clientWidth - 90), rowH = 14, labelW = 70;
  let canvas = box.querySelector('canvas');
  if (!canvas) {
    canvas = document.createElement('canvas');
    box.appendChild(canvas);
    const legend = document.createElement('div');
    legend.className = 'legend';
    legend.innerHTML = M_STATES.map(k => `<i style="background:${M_STATE_COLORS[k]}"></i>${esc(M_STATE_LABELS[k])}`).join(' ');
    box.appendChild(legend);
  }
  const dpr = devicePixelRatio || 1, H = rows.length * rowH + 4;
  canvas.width = (W + labelW) * dpr; canvas.height = H * dpr;
  canvas.style.width = (W + labelW) + 'px'; canvas.style.height = H + 'px';
  const ctx = canvas.getContext('2d');
  ctx.scale(dpr, dpr);
  ctx.font = '11px system-ui,sans-serif';
  // As wide as the charts' time axis: the window, or at least a minute until it is full.
  const slots = Math.min(resolution === 'fine' ? 300 : 60, Math.max(60, n)), cell = W / slots;
  rows.forEach((m, r) => {
    ctx.fillStyle = '#333';
    ctx.fillText('M' + m.id, 4, r * rowH + 11);
    for (let i = 0; i < n; i++) {
      let best = null, most = 0;
      for (const k of M_STATES) if ((m[k][i] ?? 0) > most) { most = m[k][i]; best = k; }
      if (!best) continue;
      ctx.fillStyle = M_STATE_COLORS[best];
      ctx.fillRect(labelW + (slots - n + i) * cell, r * rowH + 1, Math.max(1, cell - 0.5), rowH - 3);
    }
  });
  box.dataset.points = n;
  box.dataset.threads = rows.length;
}

// The moments load started and stopped, in words, from the history's events.
function tellStory() {
  const evs = history.events, el = $('story');
  const last = history.t.length - 1;
  const now = last < 0 ? '' : ` Now: ${num(history.requests.total[last])} requests/s, CPU ${num(history.cpu.user[last] + history.cpu.system[last], 3)} cores, ` +
    `${num(history.threads.netpoll[last], 2)} M asleep in epoll_wait, ${num(history.threads.futex[last], 2)} on a futex.`;
  if (evs.length === 0) {
    el.innerHTML = `No load in this window (load: ${history.load_rps} requests/s or more).${esc(now)}`;
    return;
  }
  el.innerHTML = evs.map(e => `<span class="ev ${e.what === 'load started' ? 'started' : 'stopped'}">${esc(e.what)} at ${new Date(e.t * 1000).toLocaleTimeString()}</span>`).join('') + esc(now);
}

// Appends the points of `d` (the answer to ?since=) to the history and
// drops those beyond the window.
function merge(h, d) {
  if (!h) return d;
  if (d.t.length === 0) return h;
  const n = h.t.length, m = d.t.length;
  const nulls = k => Array(k).fill(null);
  h.t = h.t.concat(d.t);
  for (const g of ['requests', 'latency_s', 'goroutines', 'connections', 'threads', 'cpu'])
    for (const k in d[g]) h[g][k] = (h[g][k] || nulls(n)).concat(d[g][k]);
  for (const k of ['dt_s', 'netpoll_wakeups', 'steals', 'rss_bytes', 'fds']) h[k] = h[k].concat(d[k]);
  for (let i = 0; i < Math.max(h.p_busy.length, d.p_busy.length); i++)
    h.p_busy[i] = (h.p_busy[i] || nulls(n)).concat(d.p_busy[i] || nulls(m));
  const byId = new Map(h.ms.map(x => [x.id, x]));
  for (const x of d.ms) {
    const old = byId.get(x.id);
    for (const k of M_STATES) x[k] = old ? old[k].concat(x[k]) : nulls(n).concat(x[k]);
    byId.set(x.id, x);
  }
  for (const x of byId.values()) if (x[M_STATES[0]].length < n + m) for (const k of M_STATES) x[k] = x[k].concat(nulls(m));
  h.ms = [...byId.values()].sort((a, b) => a.id - b.id);
  h.events = h.events.concat(d.events);
  const keep = resolution === 'fine' ? 300 : 60, drop = h.t.length - keep;
  if (drop > 0) {
    const cut = a => a.splice(0, drop);
    cut(h.t);
    for (const g of ['requests', 'latency_s', 'goroutines', 'connections', 'threads', 'cpu']) Object.values(h[g]).forEach(cut);
    for (const k of ['dt_s', 'netpoll_wakeups', 'steals', 'rss_bytes', 'fds']) cut(h[k]);
    h.p_busy.forEach(cut);
    for (const x of h.ms) M_STATES.forEach(k => cut(x[k]));
    h.events = h.events.filter(e => e.t >= h.t[0] - h.interval_s);
  }
  return h;
}

let seriesBusy = false;
async function pollSeries() {
  if (seriesBusy) return;
  seriesBusy = true;
  try {
    const since = history && history.t.length ? history.t[history.t.length - 1] : 0;
    const r = await fetch(`/debug/gofer/series?since=${since}${resolution === 'coarse' ? '&coarse=1' : ''}`, {cache: 'no-store'});
    if (r.status === 404) {
      $('story').innerHTML = 'No history on this server: it keeps one when the program creates a ' +
        '<code>gofer::debug::SeriesRecorder</code> and passes it to <code>register_handlers</code> (<code>gofer serve</code> does).';
      return;
    }
    const d = await r.json();
    history = merge(history, d);
    if (history.t.length > 0) {
      drawCharts();
      tellStory();
    } else {
      $('story').textContent = 'Waiting for the first point (one a ' + (resolution === 'fine' ? 'second' : 'minute') + ')…';
    }
  } catch (e) {
    // The server went away or answered garbage: try again next second.
  } finally {
    seriesBusy = false;
  }
}

$('range').onchange = () => {
  resolution = $('range').value;
  history = null;
  for (const id in charts) { charts[id].plot.destroy(); charts[id].el.remove(); delete charts[id]; }
  $('mstrip').replaceChildren();
  pollSeries();
};

// ---- what the machine does now (/debug/gofer/state) ------------------------

let last = null;
function card(cls, title, value, sub) {
  const d = document.createElement('div'); d.className = 'card ' + cls;
  d.innerHTML = `<span>${title}</span><b>${value}</b><small>${sub || ''}</small>`; return d;
}
async function tick() {
  let s;
  try { s = await (await fetch('/debug/gofer/state', {cache: 'no-store'})).json(); } catch (e) { return; }
  const now = performance.now();
  const rate = (k, v) => last ? ((v - last.s[k]) * 1000 / (now - last.t)).toFixed(0) : '…';
  $('totals').replaceChildren(
    card('', 'goroutines', s.goroutines),
    card('', 'open connections', s.http ? s.http.open_connections : '–',
         s.http ? `${s.http.parked_connections} parked idle (no goroutine stack)` : ''),
    card('', 'requests / s', s.http ? (last && last.s.http ? ((s.http.requests - last.s.http.requests) * 1000 / (now - last.t)).toFixed(0) : '…') : '–',
         s.http ? `${s.http.requests} in all` : ''),
    card('', 'poller wake-ups / s', rate('netpoll_wakeups', s.netpoll_wakeups), `${s.netpoll_fds} fds watched`),
    card('', 'steals / s', rate('steals', s.steals)),
    card('', 'global run queue', s.global_runq));
  $('ps').replaceChildren(...s.ps.map(p => {
    const m = s.ms.find(m => m.p === p.id);
    const running = m && m.goroutine ? `runs goroutine ${m.goroutine} on M${m.id}` : (m ? `M${m.id} looking for work` : 'idle');
    return card('p' + (m ? '' : ' idle'), 'P' + p.id, p.runq + ' queued', `${running} · ${p.timers} timers`);
  }));
  const where = m => m.state === 'netpoll' ? 'epoll_wait' : m.state === 'futex' ? 'asleep' : m.state === 'blocking' ? 'blocking()' :
    m.goroutine ? 'G' + m.goroutine : m.state === 'spinning' ? 'spinning' : 'scheduling';
  $('ms').replaceChildren(...s.ms.map(m => card('m' + (m.state === 'futex' ? ' idle' : ''), 'M' + m.id, where(m),
    m.p >= 0 ? 'holds P' + m.p : 'no P')));
  const t = $('states');
  t.replaceChildren(t.rows[0], ...Object.entries(s.goroutines_by_state).map(([k, v]) => {
    const r = document.createElement('tr'); r.innerHTML = `<td>${esc(k)}</td><td>${v}</td>`; return r; }));
  $('updated').textContent = '· updated ' + new Date().toLocaleTimeString();
  last = {s, t: now};
}

// ---- the last requests' journeys -------------------------------------------

const tickColor = {netpoll: '#c80', read: '#36c', write: '#c36', accept: '#383', request: '#222', response: '#a22'};
// One journey as an SVG timeline: the serving goroutine's state (running,
// runnable, parked) on the top row, the handler below, ticks for syscalls
// and epoll reports. Hover anything for the step in words.
function timeline(j) {
  const W = 560, d = Math.max(j.duration_ns, 1), x = t => 4 + t / d * (W - 8);
  let svg = '', state = null, from = 0;
  const colors = {running: '#4a8', runnable: '#eb4', parked: '#ccc'};
  const close = (t, why) => { if (state) svg += `<rect x="${x(from)}" y="3" width="${Math.max(1, x(t) - x(from))}" height="11" fill="${colors[state]}"><title>${state} ${fmtNs(t - from)}${why}</title></rect>`; };
  const set = (t, st, why) => { close(t, why); state = st; from = t; };
  let handler = null;
  for (const s of j.steps) {
    if (s.g === j.goroutine) {
      if (s.kind === 'create' || s.kind === 'unpark') set(s.t, 'runnable', '');
      else if (s.kind === 'run') set(s.t, 'running', '');
      else if (s.kind === 'park' || s.kind === 'handoff') set(s.t, 'parked', '');
      else if (s.kind === 'exit') set(s.t, null, '');
      else if (!state && s.kind !== 'netpoll') set(s.t, 'running', '');
    }
    if (s.kind === 'handler_start') handler = s.t;
    if (s.kind === 'handler_end' && handler !== null) {
      svg += `<rect x="${x(handler)}" y="16" width="${Math.max(1, x(s.t) - x(handler))}" height="8" fill="#58c"><title>handler ${fmtNs(s.t - handler)}</title></rect>`;
      handler = null;
    }
    if (tickColor[s.kind]) svg += `<rect x="${x(s.t) - 0.75}" y="0" width="1.5" height="27" fill="${tickColor[s.kind]}"><title>+${fmtNs(s.t)} ${esc(s.text)}</title></rect>`;
  }
  close(d, '');
  return `<svg width="${W}" height="27" role="img">${svg}</svg>`;
}
async function journeys() {
  let r;
  try { r = await (await fetch('/debug/gofer/journeys', {cache: 'no-store'})).json(); } catch (e) { return; }
  const own = j => /^GET \/debug\/gofer\/(state|journey|series)/.test(j.request);
  const list = r.journeys.filter(j => !($('hideown').checked && own(j))).reverse().slice(0, 20);
  $('jstatus').innerHTML = (r.tracing ? 'Tracing is <b>on</b>.' :
    'Tracing is off: run <code>gofer serve --explain</code>, or <button id="rec">trace 5 s</button>.') +
    ' <span id="recout"></span>';
  const b = $('rec');
  if (b) b.onclick = async () => {
    b.disabled = true; $('recout').textContent = 'recording…';
    const blob = await (await fetch('/debug/trace?seconds=5')).blob();
    const a = document.createElement('a'); a.href = URL.createObjectURL(blob); a.download = 'gofer-trace.json';
    a.textContent = 'gofer-trace.json';
    $('recout').replaceChildren('Perfetto trace: ', a, ' (open it in ui.perfetto.dev)');
  };
  const open = new Set([...document.querySelectorAll('.journey[open]')].map(d => d.dataset.key));
  $('journeys').replaceChildren(...list.map(j => {
    const d = document.createElement('details'); d.className = 'journey';
    d.dataset.key = j.begin_ns + ':' + j.fd; if (open.has(d.dataset.key)) d.open = true;
    d.innerHTML = `<summary><span>${esc(j.request)} → ${j.status} · fd ${j.fd} #${j.number} · G${j.goroutine} · ${fmtNs(j.duration_ns)}</span>${timeline(j)}</summary>` +
      '<ol>' + j.steps.map(s => `<li><small>+${fmtNs(s.t)}</small> ${esc(s.text)}</li>`).join('') + '</ol>';
    return d;
  }));
}

tick(); setInterval(tick, 1000);
pollSeries(); setInterval(pollSeries, 1000);
journeys(); setInterval(journeys, 1000);
