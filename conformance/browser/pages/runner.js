// Runs one cross-origin request for the s3cors browser cases and reports what the browser allowed.
// spec = {api: "fetch"|"xhr", method, url, headers: {name: value}, credentials: "include"|"same-origin"|"omit",
//         body: string|null, read: [response header names to try to read], timeout_ms}
// result = {verdict: "allowed"|"blocked"|"error", status, readable: {name: value|null}, visible: [names],
//           error, api, ms}
"use strict";

function s3corsLog(line) {
  const log = document.getElementById("log");
  if (log) log.textContent += line + "\n";
}

function s3corsReadable(get, names) {
  const out = {};
  for (const name of names) out[name.toLowerCase()] = get(name);
  return out;
}

async function s3corsFetch(spec) {
  const init = {method: spec.method, headers: spec.headers || {}, credentials: spec.credentials || "same-origin",
                mode: "cors", cache: "no-store"};
  if (spec.body !== null && spec.body !== undefined) init.body = spec.body;
  let response;
  try {
    response = await fetch(spec.url, init);
  } catch (e) {
    return {verdict: "blocked", status: null, readable: {}, visible: [], error: String(e)};
  }
  try { await response.arrayBuffer(); } catch (e) { /* the body does not change the CORS verdict */ }
  const visible = [];
  response.headers.forEach((value, name) => visible.push(name));
  return {verdict: "allowed", status: response.status,
          readable: s3corsReadable((n) => response.headers.get(n), spec.read || []), visible: visible.sort(),
          error: null};
}

function s3corsXhr(spec) {
  return new Promise((resolve) => {
    const xhr = new XMLHttpRequest();
    xhr.open(spec.method, spec.url, true);
    xhr.withCredentials = spec.credentials === "include";
    for (const [name, value] of Object.entries(spec.headers || {})) xhr.setRequestHeader(name, value);
    xhr.onload = () => {
      const visible = xhr.getAllResponseHeaders().trim().split(/[\r\n]+/).filter((l) => l)
        .map((l) => l.split(":", 1)[0].trim().toLowerCase()).sort();
      resolve({verdict: "allowed", status: xhr.status,
               readable: s3corsReadable((n) => xhr.getResponseHeader(n), spec.read || []), visible: visible,
               error: null});
    };
    // A CORS refusal is a network error for XMLHttpRequest: status 0, onerror, nothing readable.
    xhr.onerror = () => resolve({verdict: "blocked", status: xhr.status || null, readable: {}, visible: [],
                                 error: "XMLHttpRequest network error (status 0)"});
    xhr.send(spec.body === undefined ? null : spec.body);
  });
}

async function s3corsRun(spec) {
  const started = performance.now();
  const timeout = new Promise((resolve) => setTimeout(
    () => resolve({verdict: "error", status: null, readable: {}, visible: [], error: "timed out in the page"}),
    spec.timeout_ms || 20000));
  const run = spec.api === "xhr" ? s3corsXhr(spec) : s3corsFetch(spec);
  const result = await Promise.race([run, timeout]);
  result.api = spec.api || "fetch";
  result.ms = Math.round(performance.now() - started);
  s3corsLog(`${result.api} ${spec.method} -> ${result.verdict} ${result.status ?? ""} ${result.error ?? ""}`);
  return result;
}
window.s3corsRun = s3corsRun;
