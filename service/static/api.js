// The facade's REST API and SSE streams, as the dashboard uses them.
// Every call carries the bearer token once one is known; a 401 asks for it and retries.

const TOKEN_KEY = "skillworks.apiToken";

export class ApiError extends Error {
  /** An answer other than 2xx: `body` is the facade's `{error, code, details?}`. */
  constructor(status, body) {
    super(body?.error || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }

  get fieldErrors() {
    return this.body.details?.errors || [];
  }

  get suggestions() {
    return this.body.details?.suggestions || [];
  }
}

let askForToken = async () => null;

/** Install the function that asks the user for a token (resolves to it, or null if declined). */
export function onTokenNeeded(ask) {
  askForToken = ask;
}

export function storedToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** fetch() with the token; on 401 asks for one and tries again until answered otherwise. */
export async function apiFetch(path, { method = "GET", body, headers = {}, signal } = {}) {
  for (;;) {
    const token = storedToken();
    const response = await fetch(path, {
      method,
      signal,
      headers: {
        Accept: "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status !== 401) return response;
    const supplied = await askForToken(token ? "The API token was not accepted." : "This facade needs an API token.");
    if (!supplied) return response;
    sessionStorage.setItem(TOKEN_KEY, supplied);
  }
}

/** A JSON call: the parsed body, or an ApiError. */
export async function apiJson(path, options) {
  const response = await apiFetch(path, options);
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { error: text || response.statusText };
  }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

/** Open an SSE stream (POST or GET); resolves to the response once it is known to be a stream. */
export async function openStream(path, options) {
  const response = await apiFetch(path, { ...options, headers: { ...options.headers, Accept: "text/event-stream" } });
  if (!response.ok) {
    const body = await response.json().catch(() => ({ error: response.statusText }));
    throw new ApiError(response.status, body);
  }
  return response;
}

/** The events of an SSE response, as `{id, data}` with `data` parsed from JSON. */
export async function* readEvents(response) {
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = parseEvent(buffer.slice(0, end));
      buffer = buffer.slice(end + 2);
      if (event) yield event;
    }
  }
}

function parseEvent(block) {
  let id = null;
  const data = [];
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = Number(value);
    if (field === "data") data.push(value);
  }
  return data.length ? { id, data: JSON.parse(data.join("\n")) } : null;
}
