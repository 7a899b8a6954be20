// /debug/gofer: a live page served from the binary (no CDN) that polls
// /debug/gofer/state once a second and draws the machine: Ps and what they
// run, Ms and where they are, goroutines by state, the netpoller, HTTP.
#include "gofer/debug.h"

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
</style></head><body>
<h1>Inside this gofer server <span id="updated"></span></h1>
<div class="grid" id="totals"></div>
<h2>Processors (P) — the right to run goroutines</h2><div class="grid" id="ps"></div>
<h2>Threads (M)</h2><div class="grid" id="ms"></div>
<h2>Goroutines by state</h2><table id="states"><tr><th>state</th><th>goroutines</th></tr></table>
<p><a href="/debug/goroutines">every goroutine</a> · <a href="/metrics">/metrics</a></p>
<script>
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
    card('', 'open connections', s.http ? s.http.open_connections : '–'),
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
