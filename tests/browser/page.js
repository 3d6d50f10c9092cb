// The frontend of the browser test: what a single-page app on another origin does with usersvc,
// through fetch and nothing else, holding a bearer token. runFlow returns what the page saw at each
// step (status, the headers a script can read, the JSON body, or the error fetch threw); the test
// asserts on that. Loaded by page.html, served by browser_flow.mjs from its own origin.

const READABLE = ['etag', 'location', 'link', 'x-request-id', 'retry-after', 'www-authenticate', 'content-type'];

// One request; never throws: a refused CORS read shows up as {error: "TypeError: ..."}.
async function call(api, method, path, { token, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, cache: 'no-store', mode: 'cors' };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = init.headers['Content-Type'] || 'application/json';
    init.body = JSON.stringify(body);
  }
  const seen = { method, path };
  try {
    const res = await fetch(new URL(path, api), init);
    seen.status = res.status;
    seen.headers = {};
    for (const name of READABLE) {
      const value = res.headers.get(name);
      if (value !== null) seen.headers[name] = value;
    }
    const text = await res.text();
    seen.text = text;
    try { seen.json = text ? JSON.parse(text) : null; } catch { seen.json = undefined; }
  } catch (e) {
    seen.error = String(e);
  }
  return seen;
}

// rel="next" from a Link header, as a path relative to the API.
function nextLink(link) {
  const m = /<([^>]+)>\s*;\s*rel="?next"?/.exec(link || '');
  return m ? m[1] : null;
}

// The whole flow. Each step is recorded under its name, in order; later steps use what earlier ones read.
window.runFlow = async function runFlow(api, token, runId) {
  const steps = {};
  const email = `browser-${runId}@example.com`;
  const other = `browser-other-${runId}@example.com`;

  steps.create = await call(api, 'POST', '/users', { token, body: { name: 'Ada Browser', email, title: 'Countess' } });
  const location = steps.create.headers?.location;
  const etag1 = steps.create.headers?.etag;

  steps.read = await call(api, 'GET', location || '/users/missing', { token });

  steps.patch = await call(api, 'PATCH', location || '/users/missing', {
    token, body: { title: null, nick: 'ada' },
    headers: { 'Content-Type': 'application/merge-patch+json', 'If-Match': etag1 || '"1"' },
  });
  const etag2 = steps.patch.headers?.etag;

  steps.notModified = await call(api, 'GET', location || '/users/missing', {
    token, headers: { 'If-None-Match': etag2 || '"2"' },
  });

  steps.createOther = await call(api, 'POST', '/users', { token, body: { name: 'Other Browser', email: other } });

  steps.listFirst = await call(api, 'GET', '/users?limit=1', { token });
  const next = nextLink(steps.listFirst.headers?.link);
  steps.listNext = next ? await call(api, 'GET', next, { token }) : { error: 'no rel="next" link to follow' };

  steps.duplicate = await call(api, 'POST', '/users', { token, body: { name: 'Copy', email } });

  steps.stale = await call(api, 'PATCH', location || '/users/missing', {
    token, body: { title: 'stale' }, headers: { 'If-Match': etag1 || '"1"' },
  });

  steps.delete = await call(api, 'DELETE', location || '/users/missing', {
    token, headers: { 'If-Match': etag2 || '"2"' },
  });
  steps.readDeleted = await call(api, 'GET', location || '/users/missing', { token });
  if (steps.createOther.headers?.location)
    steps.deleteOther = await call(api, 'DELETE', steps.createOther.headers.location, { token });

  // Last: the same API without a token.
  steps.noToken = await call(api, 'GET', '/users?limit=1');
  return steps;
};

// From an origin the service does not list: the browser must refuse to hand over the answer.
// With a token the browser asks first (a preflight); without one it sends the GET and withholds the answer.
window.tryRead = async function tryRead(api, token) {
  return {
    read: await call(api, 'GET', '/users?limit=1', { token }),
    simple: await call(api, 'GET', '/healthz'),
  };
};
