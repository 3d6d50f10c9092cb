// Checks recorded HTTP exchanges against the OpenAPI 3.1 document, with Ajv's JSON Schema 2020-12
// validator (the dialect OpenAPI 3.1 uses) on the document's own schemas.
//
//   node check_exchanges.mjs OPENAPI_JSON EXCHANGES_JSONL   one line per failing exchange, then
//                                                           "contract: N exchanges, M failed"; exit 1 on any
//   node check_exchanges.mjs --self-test OPENAPI_JSON       feeds fixtures/*.jsonl: every good exchange must
//                                                           pass, every bad one fail for its stated reason
//
// An exchange is a line of tests/support/record_proxy.py's output. For each one:
// - the request finds its operation (path template, then method). No path: the document's
//   x-usersvc-other-requests.unknownPath answer (404); a path without that method: otherMethod (405).
// - the request is checked: path, query and header parameters against their schemas, a required body,
//   its media type and its schema. A request the contract refuses must get a 4xx answer (never 2xx,
//   3xx or 5xx); one it accepts may get any answer the operation documents.
// - the response is checked: the status is documented for the operation; every required header is
//   there and every documented header matches its schema; no undocumented header beyond the
//   transport's own (Date, Content-Length, Content-Type, Connection, Keep-Alive, Transfer-Encoding);
//   the media type and the body against the documented content (no body for HEAD, 204 and 304).
// - two rules the document states in prose: X-Request-Id echoes a sane request id, and an error
//   body's requestId equals the X-Request-Id header.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Ajv2020 = require("ajv/dist/2020").default;
const addFormats = require("ajv-formats");

const TRANSPORT_HEADERS = new Set(["date", "content-length", "content-type", "connection", "keep-alive", "transfer-encoding"]);
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function makeChecker(doc) {
  const ajv = new Ajv2020({ strict: false, validateSchema: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, "doc");
  const validators = new Map();

  const escape = (s) => String(s).replace(/~/g, "~0").replace(/\//g, "~1");
  const resolve = (obj) => {
    let pointer = null;
    while (obj && typeof obj.$ref === "string") {
      pointer = obj.$ref.slice(1);
      obj = pointer.split("/").slice(1).reduce((o, k) => o[k.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
    }
    return { obj, pointer };
  };
  // Validates value against the schema at the JSON pointer; returns null or an error text.
  const validate = (pointer, value) => {
    let v = validators.get(pointer);
    if (!v) {
      v = ajv.getSchema("doc#" + pointer);
      validators.set(pointer, v);
    }
    if (v(value)) return null;
    return v.errors.slice(0, 3).map((e) => `${e.instancePath || "(root)"} ${e.message}${e.params && e.params.allowedValues ? " " + JSON.stringify(e.params.allowedValues) : ""}`).join("; ");
  };

  const templates = Object.keys(doc.paths).map((t) => ({
    template: t,
    segments: t.split("/").slice(1),
    literal: t.split("/").filter((s) => !s.startsWith("{")).length,
  }));
  const matchPath = (path) => {
    if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1); // one trailing slash is ignored
    const segs = path.split("/").slice(1);
    let best = null;
    for (const t of templates) {
      if (t.segments.length !== segs.length) continue;
      const params = {};
      let ok = true;
      for (let i = 0; i < segs.length && ok; i++) {
        const m = /^\{(.+)\}$/.exec(t.segments[i]);
        if (m) {
          if (segs[i] === "") ok = false;
          else {
            try { params[m[1]] = decodeURIComponent(segs[i]); } catch { ok = false; }
          }
        } else ok = t.segments[i] === segs[i];
      }
      if (ok && (!best || t.literal > best.t.literal)) best = { t, params };
    }
    return best && { template: best.t.template, params: best.params };
  };

  const header = (headers, name) => {
    const found = (headers || []).filter(([k]) => k.toLowerCase() === name.toLowerCase());
    return found.length ? found[found.length - 1][1] : undefined;
  };
  const mediaType = (v) => (v || "").split(";")[0].trim().toLowerCase();
  const coerce = (schema, text) => {
    const s = resolve(schema).obj || {};
    if ((s.type === "integer" || s.type === "number") && /^-?[0-9]+(\.[0-9]+)?$/.test(text)) return Number(text);
    return text;
  };
  const parseQuery = (q) => {
    const out = {};
    for (const part of q ? q.split("&") : []) {
      if (!part) continue;
      const [k, ...rest] = part.split("=");
      const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, " ")); } catch { return null; } };
      const key = dec(k);
      if (key !== null && !(key in out)) out[key] = dec(rest.join("=")); // the first occurrence wins, as in the service
    }
    return out;
  };
  const body = (text) => (text && text.startsWith("base64:") ? null : text);

  // Returns a list of problems (empty when the exchange keeps the contract).
  return function check(ex) {
    const problems = [];
    if (ex.problem) problems.push(`recording: ${ex.problem}`);
    if (!ex.method) return problems;
    if (ex.status === null || ex.status === undefined) {
      problems.push("no response to a request that arrived");
      return problems;
    }
    const [rawPath, query = ""] = ex.target.split(/\?(.*)/s);
    const match = matchPath(rawPath);
    const method = ex.method.toLowerCase();
    let op = null, opPointer = null, requestBad = [];
    let responses;
    if (!match) {
      responses = { [ex.status === 404 ? "404" : "(unknown path)"]: { $ref: "#/x-usersvc-other-requests/unknownPath" } };
      if (ex.status !== 404) problems.push(`unknown path ${rawPath}: expected 404 not_found, got ${ex.status}`);
    } else if (!doc.paths[match.template][method] || method === "parameters") {
      responses = { "405": { $ref: "#/x-usersvc-other-requests/otherMethod" } };
      if (ex.status !== 405) problems.push(`${ex.method} is not an operation of ${match.template}: expected 405, got ${ex.status}`);
    } else {
      const item = doc.paths[match.template];
      op = item[method];
      opPointer = `/paths/${escape(match.template)}/${method}`;
      responses = op.responses;
      // ---- the request ----
      const params = [...(item.parameters || []).map((p, i) => [p, `/paths/${escape(match.template)}/parameters/${i}`]),
                      ...(op.parameters || []).map((p, i) => [p, `${opPointer}/parameters/${i}`])];
      const query_ = parseQuery(query);
      for (const [p0, at] of params) {
        const { obj: p, pointer } = resolve(p0);
        const base = pointer || at;
        let value;
        if (p.in === "path") value = match.params[p.name];
        else if (p.in === "query") value = query_[p.name];
        else if (p.in === "header") value = header(ex.requestHeaders, p.name);
        if (value === undefined) {
          if (p.required) requestBad.push(`${p.in} parameter ${p.name} is required`);
          continue;
        }
        if (value === null) { requestBad.push(`${p.in} parameter ${p.name} is not validly encoded`); continue; }
        const err = validate(`${base}/schema`, coerce(p.schema, value));
        if (err) requestBad.push(`${p.in} parameter ${p.name}=${JSON.stringify(value).slice(0, 60)}: ${err}`);
      }
      if (op.requestBody) {
        const rb = resolve(op.requestBody).obj;
        const text = body(ex.requestBody);
        if (!ex.requestBody) {
          if (rb.required) requestBad.push("a request body is required");
        } else {
          const mt = mediaType(header(ex.requestHeaders, "content-type"));
          if (!rb.content[mt]) requestBad.push(`request media type '${mt}' is not one of ${Object.keys(rb.content).join(", ")}`);
          else {
            let parsed;
            try { parsed = JSON.parse(text); } catch { requestBad.push("the request body is not JSON"); }
            if (parsed !== undefined) {
              const err = validate(`${opPointer}/requestBody/content/${escape(mt)}/schema`, parsed);
              if (err) requestBad.push(`request body: ${err}`);
            }
          }
        }
      }
      if (requestBad.length && !(ex.status >= 400 && ex.status < 500))
        problems.push(`the request breaks the contract (${requestBad.join("; ")}) but got ${ex.status}, not a 4xx`);
    }

    // ---- the response ----
    const documented = responses[String(ex.status)];
    if (!documented) {
      problems.push(`status ${ex.status} is not documented for ${ex.method} ${match ? match.template : rawPath} (documented: ${Object.keys(responses).join(", ")})`);
      return problems;
    }
    const { obj: resp, pointer: rp } = resolve(documented);
    const respPointer = rp || `${opPointer}/responses/${ex.status}`;
    const documentedHeaders = new Map(Object.keys(resp.headers || {}).map((k) => [k.toLowerCase(), k]));
    for (const [lname, name] of documentedHeaders) {
      const { obj: h, pointer: hp } = resolve(resp.headers[name]);
      const value = header(ex.responseHeaders, lname);
      if (value === undefined) {
        if (h.required) problems.push(`response header ${name} is required`);
        continue;
      }
      const err = validate(`${hp || `${respPointer}/headers/${escape(name)}`}/schema`, value);
      if (err) problems.push(`response header ${name}: ${JSON.stringify(value)}: ${err}`);
    }
    for (const [name] of ex.responseHeaders || []) {
      const l = name.toLowerCase();
      if (!TRANSPORT_HEADERS.has(l) && !documentedHeaders.has(l)) problems.push(`response header ${name} is not documented for ${ex.status}`);
    }
    const text = body(ex.responseBody);
    const noBody = ex.method === "HEAD" || ex.status === 204 || ex.status === 304;
    if (noBody) {
      if (ex.responseBody) problems.push(`a ${ex.method} ${ex.status} answer must have no body`);
    } else if (!resp.content) {
      if (ex.responseBody) problems.push(`status ${ex.status} documents no body, got one`);
    } else {
      const mt = mediaType(header(ex.responseHeaders, "content-type"));
      if (!resp.content[mt]) problems.push(`response media type '${mt}' is not one of ${Object.keys(resp.content).join(", ")}`);
      else if (mt === "application/json") {
        let parsed;
        try { parsed = JSON.parse(text); } catch { problems.push("the response body is not JSON"); }
        if (parsed !== undefined) {
          const err = validate(`${respPointer}/content/${escape(mt)}/schema`, parsed);
          if (err) problems.push(`response body: ${err}`);
          const rid = header(ex.responseHeaders, "x-request-id");
          if (ex.status >= 400 && parsed && typeof parsed === "object" && parsed.requestId !== rid)
            problems.push(`error requestId ${JSON.stringify(parsed.requestId)} differs from X-Request-Id ${JSON.stringify(rid)}`);
        }
      } else if (!text) problems.push(`an empty ${mt} body`);
    }
    const sent = header(ex.requestHeaders, "x-request-id");
    const got = header(ex.responseHeaders, "x-request-id");
    if (sent !== undefined && SANE_REQUEST_ID.test(sent) && got !== sent)
      problems.push(`X-Request-Id ${JSON.stringify(sent)} was not echoed (got ${JSON.stringify(got)})`);
    return problems;
  };
}

function describe(ex) {
  const b = (t) => (t ? ` ${t.length > 300 ? t.slice(0, 300) + "..." : t}` : "");
  return `${ex.method} ${ex.target}${b(ex.requestBody)} -> ${ex.status}${b(ex.responseBody)}`;
}

function main(argv) {
  if (argv[0] === "--self-test") {
    const doc = JSON.parse(readFileSync(argv[1], "utf8"));
    const check = makeChecker(doc);
    const dir = join(dirname(fileURLToPath(import.meta.url)), "fixtures");
    let passed = 0, failed = 0;
    for (const file of readdirSync(dir).filter((f) => f.endsWith(".jsonl")).sort()) {
      readFileSync(join(dir, file), "utf8").split("\n").forEach((line, i) => {
        if (!line.trim()) return;
        const ex = JSON.parse(line);
        const problems = check(ex);
        const where = `${file}:${i + 1} (${ex.why})`;
        const ok = ex.expect === undefined ? problems.length === 0
          : problems.some((p) => p.includes(ex.expect));
        if (ok) passed++;
        else {
          failed++;
          console.log(`FAIL ${where}: expected ${ex.expect === undefined ? "no problem" : `a problem with '${ex.expect}'`}, got ${JSON.stringify(problems)}`);
        }
      });
    }
    console.log(`contract self-test: ${passed} passed, ${failed} failed`);
    return failed === 0 && passed > 0 ? 0 : 1;
  }
  const [docPath, exchangesPath] = argv;
  const check = makeChecker(JSON.parse(readFileSync(docPath, "utf8")));
  let n = 0, bad = 0;
  for (const line of readFileSync(exchangesPath, "utf8").split("\n")) {
    if (!line.trim()) continue;
    const ex = JSON.parse(line);
    n++;
    const problems = check(ex);
    if (problems.length) {
      bad++;
      console.log(`contract: conn ${ex.conn} #${ex.seq}: ${describe(ex)}: ${problems.join(" | ")}`);
    }
  }
  console.log(`contract: ${n} exchanges, ${bad} failed`);
  return bad === 0 && n > 0 ? 0 : 1;
}

process.exitCode = main(process.argv.slice(2));
