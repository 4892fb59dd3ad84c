// The delivery latency (issue 15): from a create's commit to its webhook call at a receiver.
// POSTs LATENCY_N creates, one every LATENCY_INTERVAL_MS, through a running server with its
// delivery workers, to a webhook on this receiver; a create has committed when its answer
// arrives, so the latency of each is the receiver's arrival time minus that answer's time (one
// clock: this process). Prints "p50 p99 max arrived n" (milliseconds; arrived of n).
//
// env: BASE (the server), TOKEN (notifications:send), RECEIVER_PORT, LATENCY_N (default 300),
// LATENCY_INTERVAL_MS (default 20), LATENCY_USERS (default 100: users u1..uN)
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';

const n = Number(process.env.LATENCY_N ?? 300);
const interval = Number(process.env.LATENCY_INTERVAL_MS ?? 20);
const users = Number(process.env.LATENCY_USERS ?? 100);
const committed = new Map();
const arrived = new Map();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const receiver = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    const at = performance.now();
    try {
      const id = JSON.parse(body).data?.id;
      if (id && !arrived.has(id)) arrived.set(id, at);
    } catch { /* not ours */ }
    res.end('ok');
  });
});
await new Promise((r) => receiver.listen(Number(process.env.RECEIVER_PORT), '127.0.0.1', r));

for (let i = 0; i < n; i += 1) {
  const res = await fetch(`${process.env.BASE}/api/notifications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${process.env.TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ userId: `u${(i % users) + 1}`, title: `latency ${i}` }),
  });
  const at = performance.now();
  const created = await res.json();
  if (res.status === 201) committed.set(created.id, at);
  await sleep(interval);
}
const end = performance.now() + 10000;
while (arrived.size < committed.size && performance.now() < end) await sleep(20);
receiver.closeAllConnections?.();
receiver.close();

const waits = [...committed].filter(([id]) => arrived.has(id)).map(([id, at]) => arrived.get(id) - at).sort((a, b) => a - b);
const pct = (p) => (waits.length ? waits[Math.min(waits.length - 1, Math.ceil((p / 100) * waits.length) - 1)] : NaN);
console.log([pct(50), pct(99), waits[waits.length - 1]].map((v) => v.toFixed(1)).join(' '), arrived.size, n);
