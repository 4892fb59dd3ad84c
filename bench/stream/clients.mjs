// Holds N server-sent event streams (one per token of a file) from one process, and reports
// the commit-to-client latency of the notification.created events they receive (receipt time
// minus the notification's createdAt, the creating transaction's start: an upper bound).
//   node clients.mjs BASE TOKENS_FILE N SECONDS   ->  one JSON line on stdout
import http from 'node:http';
import fs from 'node:fs';

const [base, file, n, seconds] = process.argv.slice(2);
const tokens = fs.readFileSync(file, 'utf8').trim().split('\n').slice(0, Number(n));
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
let open = 0;
let failed = 0;
const latencies = [];
let measuring = false;
const started = Date.now();
await new Promise((resolve) => {
  let pending = tokens.length;
  const done = () => { if (--pending === 0) resolve(); };
  for (const t of tokens) {
    const req = http.get(`${base}/api/notifications/stream?access_token=${t}`, { agent }, (res) => {
      if (res.statusCode !== 200) { failed++; res.resume(); return done(); }
      open++;
      done();
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          if (measuring && block.includes('event: notification.created')) {
            const m = /"createdAt": "([^"]+)"/.exec(block);
            if (m) latencies.push(Date.now() - Date.parse(m[1]));
          }
        }
      });
      res.on('error', () => {});
    });
    req.on('error', () => { failed++; done(); });
  }
});
process.stderr.write(`${open} streams open, ${failed} failed, in ${Date.now() - started} ms\n`);
process.stdout.write(JSON.stringify({ event: 'open', open, failed }) + '\n');
// The driver says when to measure (a line "measure" on stdin) and when to report ("report").
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  for (const line of d.split('\n')) {
    if (line === 'measure') { latencies.length = 0; measuring = true; }
    if (line === 'report') {
      measuring = false;
      const s = [...latencies].sort((a, b) => a - b);
      const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))] : null);
      process.stdout.write(JSON.stringify({ event: 'report', received: s.length, p50: q(0.5), p99: q(0.99) }) + '\n');
    }
    if (line === 'exit') process.exit(0);
  }
});
setTimeout(() => process.exit(0), Number(seconds) * 1000);
