#!/usr/bin/env node
// The REST floor for bench/peers.mjs: a bare node:http server with a `pg` pool answering the same
// one-order query as viewgate's GET /api/v2/app/_table/orders/{id}, as JSON, with nothing else
// (no auth, policy, audit, cache, metrics or logging). What is left of viewgate's time above this
// is viewgate's own work.
//   node bench/peers/floor-server.mjs <port> <postgres url>
// GET /orders/{id} -> 200 {"resource":[row]} or 404; anything else -> 404. Listens on 127.0.0.1 only.
import { createServer } from 'node:http';
import pg from 'pg';

const [port, url] = process.argv.slice(2);
if (!port || !url) {
  console.error('usage: node bench/peers/floor-server.mjs <port> <postgres url>');
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max: 10 });
const ORDER = 'SELECT order_id, customer_id, total_amount, status, created_at FROM orders WHERE order_id = $1';

const server = createServer(async (req, res) => {
  const m = /^\/orders\/(\d{1,18})$/.exec(req.url ?? '');
  if (req.method !== 'GET' || !m) return send(res, 404, { error: 'GET /orders/{id} only' });
  try {
    const r = await pool.query(ORDER, [m[1]]);
    if (r.rowCount === 0) return send(res, 404, { error: `no order ${m[1]}` });
    send(res, 200, { resource: r.rows });
  } catch (err) {
    send(res, 500, { error: String(err?.message ?? err) });
  }
});

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

server.listen(Number(port), '127.0.0.1', () => console.log(`floor server listening on 127.0.0.1:${port}`));
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
