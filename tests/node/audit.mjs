// The npm graphql-http audit (GraphQL over HTTP spec conformance) against a running gateway.
// Usage: node audit.mjs <url> <bearer token>. Prints one JSON line: every audit's id, name, status and reason.
// Every request carries the token: the gateway answers 401 to anything unauthenticated, before GraphQL.
import { auditServer } from 'graphql-http';

const [url, token] = process.argv.slice(2);
if (!url || !token) {
  console.error('usage: node audit.mjs <url> <bearer token>');
  process.exit(2);
}

function withToken(input, init = {}) {
  const headers = new Headers(init.headers || {});
  headers.set('authorization', `Bearer ${token}`);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: withToken });
const report = await Promise.all(results.map(async (r) => ({
  id: r.id,
  name: r.name,
  status: r.status,
  reason: r.status === 'ok' ? null : r.reason,
  response: r.status === 'ok' || !r.response ? null
    : { status: r.response.status, body: await r.response.text().catch(() => null) },
})));
console.log(JSON.stringify(report));
