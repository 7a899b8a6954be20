// /debug/gofer: a live page served from the binary (no CDN) that polls
// /debug/gofer/state once a second and draws the machine: Ps and what they
// run, Ms and where they are, goroutines by state, the netpoller, HTTP —
// and, from /debug/gofer/journeys, the last requests' journeys as timelines.
#include "gofer/debug.h"

#include "debug/handlers.h"

namespace gofer::debug {
namespace {

constexpr std::string_view kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>gofer — inside this server</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 1rem} h2{font-size:1rem;margin:1.2rem 0 .4rem}
.grid{display:flex;flex-wrap:wrap;gap:.6rem}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.5rem .8rem;min-width:9rem}
.card b{display:block;font-size:1.4rem}
.p{border-left:4px solid #4a8}.m{border-left:4px solid #48c}.idle{opacity:.55}
table{border-collapse:collapse;background:#fff} td,th{border:1px solid #ddd;padding:.2rem .6rem;text-align:left}
#updated{color:#888;font-size:.85rem}
.journey{background:#fff;border:1px solid #ddd;border-radius:6px;margin:.3rem 0;padding:.3rem .6rem}
.journey summary{cursor:pointer;display:flex;align-items:center;gap:.8rem}
.journey summary span{min-width:16rem;font-family:ui-monospace,monospace;font-size:.85rem}
.journey ol{font-size:.85rem;margin:.4rem 0;padding-left:1.4rem} .journey li small{color:#888;display:inline-block;min-width:5rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin:0 .2rem 0 .8rem;vertical-align:middle}
</style></head><body>
<h1>Inside this gofer server <span id="updated"></span></h1>
<div class="grid" id="totals"></div>
<h2>Processors (P) — the right to run goroutines</h2><div class="grid" id="ps"></div>
<h2>Threads (M)</h2><div class="grid" id="ms"></div>
<h2>Goroutines by state</h2><table id="states"><tr><th>state</th><th>goroutines</th></tr></table>
<h2>Last requests — each one's journey through this server</h2>
<p id="jstatus"></p>
<p class="legend"><i style="background:#4a8"></i>goroutine running<i style="background:#eb4"></i>runnable, waiting for a P
<i style="background:#ccc"></i>parked<i style="background:#58c"></i>handler · ticks: <b style="color:#c80">epoll</b>
<b style="color:#36c">read</b> <b style="color:#c36">write</b> ·
<label><input type="checkbox" id="hideown" checked> hide this page's own polling</label></p>
<div id="journeys"></div>
<p><a href="/debug/goroutines">every goroutine</a> · <a href="/metrics">/metrics</a> ·
<a href="/debug/gofer/journeys">journeys (JSON)</a></p>
<script>
const esc = s => String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
const fmtNs = ns => ns < 1e4 ? (ns / 1e3).toFixed(1) + ' µs' : ns < 1e7 ? Math.round(ns / 1e3) + ' µs' : (ns / 1e6).toFixed(1) + ' ms';
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
  const own = j => /^GET \/debug\/gofer\/(state|journey)/.test(j.request);
  const list = r.journeys.filter(j => !(document.getElementById('hideown').checked && own(j))).reverse().slice(0, 20);
  document.getElementById('jstatus').innerHTML = (r.tracing ? 'Tracing is <b>on</b>.' :
    'Tracing is off: run <code>gofer serve --explain</code>, or <button id="rec">trace 5 s</button>.') +
    ' <span id="recout"></span>';
  const b = document.getElementById('rec');
  if (b) b.onclick = async () => {
    b.disabled = true; document.getElementById('recout').textContent = 'recording…';
    const blob = await (await fetch('/debug/trace?seconds=5')).blob();
    const a = document.createElement('a'); a.href = URL.createObjectURL(blob); a.download = 'gofer-trace.json';
    a.textContent = 'gofer-trace.json'; const out = document.getElementById('recout');
    out.replaceChildren('Perfetto trace: ', a, ' (open it in ui.perfetto.dev)');
  };
  const open = new Set([...document.querySelectorAll('.journey[open]')].map(d => d.dataset.key));
  document.getElementById('journeys').replaceChildren(...list.map(j => {
    const d = document.createElement('details'); d.className = 'journey';
    d.dataset.key = j.begin_ns + ':' + j.fd; if (open.has(d.dataset.key)) d.open = true;
    d.innerHTML = `<summary><span>${esc(j.request)} → ${j.status} · fd ${j.fd} #${j.number} · G${j.goroutine} · ${fmtNs(j.duration_ns)}</span>${timeline(j)}</summary>` +
      '<ol>' + j.steps.map(s => `<li><small>+${fmtNs(s.t)}</small> ${esc(s.text)}</li>`).join('') + '</ol>';
    return d;
  }));
}
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
  const totals = document.getElementById('totals'); totals.replaceChildren(
    card('', 'goroutines', s.goroutines),
    card('', 'open connections', s.http ? s.http.open_connections : '–',
         s.http ? `${s.http.parked_connections} parked idle (no goroutine stack)` : ''),
    card('', 'requests / s', s.http ? (last && last.s.http ? ((s.http.requests - last.s.http.requests) * 1000 / (now - last.t)).toFixed(0) : '…') : '–',
         s.http ? `${s.http.requests} in all` : ''),
    card('', 'poller wake-ups / s', rate('netpoll_wakeups', s.netpoll_wakeups), `${s.netpoll_fds} fds watched`),
    card('', 'steals / s', rate('steals', s.steals)),
    card('', 'global run queue', s.global_runq));
  document.getElementById('ps').replaceChildren(...s.ps.map(p => {
    const m = s.ms.find(m => m.p === p.id);
    const running = m && m.goroutine ? `runs goroutine ${m.goroutine} on M${m.id}` : (m ? `M${m.id} looking for work` : 'idle');
    return card('p' + (m ? '' : ' idle'), 'P' + p.id, p.runq + ' queued', `${running} · ${p.timers} timers`);
  }));
  document.getElementById('ms').replaceChildren(...s.ms.map(m => card('m' + (m.p < 0 && !m.in_netpoll ? ' idle' : ''), 'M' + m.id,
    m.in_netpoll ? 'epoll_wait' : (m.goroutine ? 'G' + m.goroutine : (m.p >= 0 ? 'scheduling' : 'asleep')),
    m.p >= 0 ? 'holds P' + m.p : 'no P')));
  const t = document.getElementById('states');
  t.replaceChildren(t.rows[0], ...Object.entries(s.goroutines_by_state).map(([k, v]) => {
    const r = document.createElement('tr'); r.innerHTML = `<td>${k}</td><td>${v}</td>`; return r; }));
  document.getElementById('updated').textContent = '· updated ' + new Date().toLocaleTimeString();
  last = {s, t: now};
}
tick(); setInterval(tick, 1000);
journeys(); setInterval(journeys, 1000);
</script></body></html>
)HTML";

}  // namespace

void register_handlers(http::ServeMux& mux, const http::Server* server) {
  mux.handle_func("GET /debug/gofer", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/html; charset=utf-8");
    w.write(kPage);
  });
  mux.handle_func("GET /debug/gofer/state", [server](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "application/json");
    w.header().set("Cache-Control", "no-store");
    w.write(state_json(server));
  });
  mux.handle_func("GET /debug/gofer/journeys", &detail::serve_journeys);
  mux.handle_func("GET /debug/trace", &detail::serve_trace);
  mux.handle_func("GET /debug/goroutines", [](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain; charset=utf-8");
    w.write(goroutine_dump());
  });
  mux.handle_func("GET /metrics", [server](http::ResponseWriter& w, http::Request&) {
    w.header().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    w.write(metrics_text(server));
  });
}

}  // namespace gofer::debug
