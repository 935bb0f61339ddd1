#!/usr/bin/env node
// The REST floor for bench/peers.mjs: a bare node:http server with a `pg` pool answering the same
// one-order query as viewgate's GET /api/v2/app/_table/orders/{id}, and with a `mysql2` pool the
// same one-customer query as GET /api/v2/crm/_table/customers/{id}, as JSON, with nothing else (no
// auth, policy, audit, cache, metrics or logging). What is left of viewgate's time above this is
// viewgate's own work.
//   node bench/peers/floor-server.mjs <port> <postgres url> [<mysql url>]
//   node bench/peers/floor-server.mjs --fastify <port> <postgres url> [<mysql url>]
// GET /orders/{id} (PostgreSQL) and GET /customers/{id} (MySQL/MariaDB, with a mysql url) ->
// 200 {"resource":[row]} or 404; anything else -> 404. Listens on 127.0.0.1 only.
// With --fastify the same routes are served by a bare Fastify app (no hooks, no plugins) instead of
// node:http: what the framework viewgate is built on costs by itself (bench/cpu.mjs floor_fastify).
import { createServer } from 'node:http';
import Fastify from 'fastify';
import mysql from 'mysql2';
import pg from 'pg';

const args = process.argv.slice(2);
const onFastify = args[0] === '--fastify';
const [port, url, mysqlUrl] = onFastify ? args.slice(1) : args;
if (!port || !url) {
  console.error('usage: node bench/peers/floor-server.mjs [--fastify] <port> <postgres url> [<mysql url>]');
  process.exit(2);
}
const pool = new pg.Pool({ connectionString: url, max: 10 });
const ORDER = 'SELECT order_id, customer_id, total_amount, status, created_at FROM orders WHERE order_id = $1';
// mysql2's prepared statements (`execute`), cached per connection, as its docs recommend for parameters.
const crm = mysqlUrl ? mysql.createPool({ uri: mysqlUrl, connectionLimit: 10 }).promise() : undefined;
const CUSTOMER = 'SELECT customer_id, tenant_id, email, full_name, is_active, created_at FROM customers WHERE customer_id = ?';

const ROUTES = [
  [/^\/orders\/(\d{1,18})$/, async (id) => (await pool.query(ORDER, [id])).rows],
  ...(crm ? [[/^\/customers\/(\d{1,18})$/, async (id) => (await crm.execute(CUSTOMER, [id]))[0]]] : []),
];

const fastify = onFastify ? Fastify({ logger: false }) : undefined;
fastify?.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: 'GET /orders/{id} or /customers/{id} only' }));
fastify?.get('/*', async (req, reply) => {
  const route = ROUTES.find(([re]) => re.test(req.url));
  if (!route) return reply.code(404).send({ error: 'GET /orders/{id} or /customers/{id} only' });
  const id = route[0].exec(req.url)[1];
  try {
    const rows = await route[1](id);
    if (rows.length === 0) return reply.code(404).send({ error: `no row ${id}` });
    return reply.header('content-type', 'application/json').send(JSON.stringify({ resource: rows }));
  } catch (err) {
    return reply.code(500).send({ error: String(err?.message ?? err) });
  }
});
await fastify?.ready();

const server =
  fastify?.server ??
  createServer(async (req, res) => {
    const route = req.method === 'GET' ? ROUTES.find(([re]) => re.test(req.url ?? '')) : undefined;
    if (!route) return send(res, 404, { error: 'GET /orders/{id} or /customers/{id} only' });
    const id = route[0].exec(req.url)[1];
    try {
      const rows = await route[1](id);
      if (rows.length === 0) return send(res, 404, { error: `no row ${id}` });
      send(res, 200, { resource: rows });
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
const stop = () => server.close(() => Promise.all([pool.end(), crm?.end()]).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
