// A webhook receiver as a user of Jobs would write one: a plain Node HTTP server on loopback that verifies every request
// with the independent `standardwebhooks` package (not the service's own code). Started by tests (WebhookReceiver.cs).
//
//   POST /hook/{name}           a delivery: verified with the secret set for {name}; answers the next code of its plan
//                               (then 200), or 401 when verification fails; a 0 in the plan never answers (the
//                               request hangs until the sender gives up or dies)
//   PUT  /control/{name}        {"secret": "whsec_…", "plan": [500, 500]}: the secret and the codes to answer first
//   GET  /control/received      every delivery seen: name, webhook-id/-timestamp/-signature, verified, error, body, answered
//   POST /control/verify/{name} {"body": "…", "headers": {…}}: verifies without recording (for tampered requests)
//
// Prints {"port": N} on its first line once listening.
'use strict';
const http = require('node:http');
const { Webhook } = require('standardwebhooks');

const hooks = new Map();
const received = [];

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function verify(name, body, headers) {
  const hook = hooks.get(name);
  if (!hook) {
    return { verified: false, error: `no secret for ${name}` };
  }
  try {
    new Webhook(hook.secret).verify(body, headers);
    return { verified: true, error: null };
  } catch (e) {
    return { verified: false, error: String(e && e.message ? e.message : e) };
  }
}

function send(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(value === undefined ? '' : JSON.stringify(value));
}

const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://127.0.0.1');
    const parts = url.pathname.split('/').filter(Boolean);
    const body = await readBody(req);
    if (req.method === 'POST' && parts[0] === 'hook' && parts.length === 2) {
      const name = parts[1];
      const result = verify(name, body, req.headers);
      const hook = hooks.get(name);
      const answered = !result.verified ? 401 : (hook.plan.length > 0 ? hook.plan.shift() : 200);
      received.push({
        name,
        id: req.headers['webhook-id'] || null,
        timestamp: req.headers['webhook-timestamp'] || null,
        signature: req.headers['webhook-signature'] || null,
        contentType: req.headers['content-type'] || null,
        verified: result.verified,
        error: result.error,
        body,
        answered,
      });
      if (answered === 0) {
        return; // hold the request open
      }
      return send(res, answered, { ok: answered < 300 });
    }
    if (req.method === 'PUT' && parts[0] === 'control' && parts.length === 2) {
      const config = JSON.parse(body);
      hooks.set(parts[1], { secret: config.secret, plan: Array.isArray(config.plan) ? config.plan.slice() : [] });
      return send(res, 204);
    }
    if (req.method === 'GET' && url.pathname === '/control/received') {
      return send(res, 200, received);
    }
    if (req.method === 'POST' && parts[0] === 'control' && parts[1] === 'verify' && parts.length === 3) {
      const request = JSON.parse(body);
      return send(res, 200, verify(parts[2], request.body, request.headers));
    }
    return send(res, 404, { error: 'unknown route' });
  } catch (e) {
    return send(res, 500, { error: String(e) });
  }
});

server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: server.address().port }) + '\n');
});
process.stdin.on('end', () => process.exit(0)); // the test's end closes stdin
process.stdin.resume();
