// The /demo/wire/ page: make the recorded requests, fetch their traces, draw them.
// Everything from the server is put on the page with textContent: shown as text, never run as HTML.

const root = document.getElementById("wire");
const settings = root.dataset;
const ENVIRON_GROUPS = [
  ["cgi", "CGI variables", "What the request says about itself and where it arrived (CGI's names)."],
  ["http", "HTTP_* headers", "Each request header, upper-cased, with - turned into _."],
  ["wsgi", "wsgi.* keys", "The interface's own keys: its version, the body stream, how the server runs the application."],
  ["server", "The server's own keys", "Extensions a server may add, named with a prefix of its own."],
];
// The trace of a socket is stored once the application has seen websocket.disconnect, a moment
// after the browser's close event: ask again for a few seconds (a busy server) before giving up.
const TRACE_TRIES = 20;
const TRACE_RETRY_MS = 300;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(name, text, state) {
  const status = root.querySelector(`[data-testid=${name}-status]`);
  status.textContent = text;
  status.dataset.state = state;
}

function table(testid, columns, rows) {
  const wrapper = element("div", "scroll");
  const node = element("table");
  node.dataset.testid = testid;
  const head = node.createTHead().insertRow();
  for (const column of columns) head.append(element("th", null, column));
  const body = node.createTBody();
  for (const row of rows) {
    const line = body.insertRow();
    line.dataset.key = row[0];
    row.forEach((cell, index) => line.append(element("td", ["key", "value", "type"][index], cell)));
  }
  wrapper.append(node);
  return wrapper;
}

function heading(text, hint) {
  const fragment = document.createDocumentFragment();
  fragment.append(element("h3", null, text));
  if (hint) fragment.append(element("p", "hint", hint));
  return fragment;
}

function traceUrl(token) {
  return settings.traceUrl.replace(settings.tokenPlaceholder, encodeURIComponent(token));
}

async function fetchTrace(token, tries = 1) {
  for (let attempt = 1; ; attempt += 1) {
    const response = await fetch(traceUrl(token), { cache: "no-store" });
    if (response.ok) return response.json();
    if (attempt >= tries) throw new Error(`the trace could not be fetched (${response.status})`);
    await new Promise((resolve) => setTimeout(resolve, TRACE_RETRY_MS));
  }
}

// One ASGI event as a line: direction, type, and the sizes and flags rather than the bytes.
function eventLine(event) {
  const parts = [event.direction, event.type];
  if (event.status !== undefined) parts.push(`status=${event.status}`);
  if (event.headers) parts.push(`headers: ${event.headers.length}`);
  if (event.body_bytes !== undefined) parts.push(`body: ${event.body_bytes} bytes`);
  if (event.more_body !== undefined) parts.push(`more_body=${event.more_body}`);
  if (event.text_chars !== undefined) parts.push(`text (${event.text_chars} chars): ${event.text_preview}`);
  if (event.bytes_bytes !== undefined) parts.push(`bytes: ${event.bytes_bytes}`);
  if (event.code !== undefined) parts.push(`code=${event.code}`);
  const item = element("li", event.direction, parts.join("  "));
  item.dataset.type = event.type;
  return item;
}

function eventList(testid, trace) {
  const list = element("ol", "events");
  list.dataset.testid = testid;
  for (const event of trace.events) list.append(eventLine(event));
  if (trace.events_dropped) list.append(element("li", "hint", `… and ${trace.events_dropped} more`));
  return list;
}

function drawScope(container, trace) {
  const scope = trace.scope;
  container.append(heading("scope", "The connection's description, handed over once, before any event."));
  container.append(table("scope", ["key", "value", "type"], scope.entries.map((item) => [item.key, item.value, item.type])));
  container.append(heading("scope[\"headers\"]", "A list of (name, value) byte pairs, names lower-cased, in the order they came."));
  container.append(table("scope-headers", ["name", "value"], scope.headers));
}

function drawWsgi(container, trace) {
  for (const [group, title, hint] of ENVIRON_GROUPS) {
    const rows = trace.environ[group].map((item) => [item.key, item.value, item.type]);
    if (!rows.length) continue;
    container.append(heading(`environ: ${title}`, hint));
    container.append(table(`environ-${group}`, ["key", "value", "type"], rows));
  }
  const call = trace.start_response;
  container.append(heading("start_response(status, headers)", "The call Django made, before returning the body."));
  const status = element("p", null);
  status.append("status: ", element("code", null, call.status));
  status.dataset.testid = "start-response-status";
  container.append(status);
  container.append(table("start-response-headers", ["name", "value"], call.headers));
  container.append(element("p", "hint",
    `Then the body: ${trace.body.chunks} chunk(s), ${trace.body.bytes} bytes. The recorder added ${trace.added_header} after Django's headers.`));
}

function drawAsgiHttp(container, trace) {
  drawScope(container, trace);
  container.append(heading("Events", "In the order they crossed the interface."));
  container.append(eventList("http-events", trace));
  if (trace.waiting_receives) {
    container.append(element("p", "hint",
      "receive() was awaited once more and still waiting when the response ended: Django listens for http.disconnect while the view runs, then cancels that wait."));
  }
  const start = trace.events.find((event) => event.type === "http.response.start");
  if (start) {
    container.append(heading("http.response.start headers", `As Django sent them; the recorder added ${trace.added_header}.`));
    container.append(table("response-headers", ["name", "value"], start.headers));
  }
}

async function captureHttp() {
  const container = root.querySelector("[data-testid=http-trace]");
  try {
    const response = await fetch(settings.captureUrl, { cache: "no-store" });
    if (response.status === 429) {
      // Over the capture budget: the answer says which one, and when to try again.
      root.dataset.refused = (await response.json()).error;
      setStatus("http", root.dataset.refused, "failed");
      return;
    }
    const token = response.headers.get(settings.traceHeader);
    if (!token) {
      setStatus("http", `The answer carries no ${settings.traceHeader} header: this server does not run the project's entry point (myproject/wsgi.py or asgi.py), so nothing recorded the request.`, "failed");
      return;
    }
    const trace = await fetchTrace(token);
    if (trace.interface === "wsgi") drawWsgi(container, trace);
    else drawAsgiHttp(container, trace);
    setStatus("http", `GET ${settings.captureUrl}, as the ${trace.interface.toUpperCase()} server handed it over:`, "shown");
    root.dataset.httpInterface = trace.interface;
  } catch (error) {
    setStatus("http", `The capture failed: ${error.message}`, "failed");
  }
}

function socketAddress() {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const host = settings.socketPort ? `${window.location.hostname}:${settings.socketPort}` : window.location.host;
  return `${scheme}//${host}${settings.socketPath}`;
}

function exchange() {
  // Resolves with the trace's token once the server has closed the socket.
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketAddress());
    let first = true;
    let token = null;
    socket.addEventListener("message", (message) => {
      if (!first) return; // the echoes: the trace shows them
      first = false;
      token = JSON.parse(message.data).token;
      for (let number = 1; number <= Number(settings.echoFrames); number += 1) socket.send(`ping ${number}`);
    });
    socket.addEventListener("close", (event) => {
      if (token) resolve(token);
      else if (!first) reject(new Error("the socket named no trace: this server does not run myproject/asgi.py's recorder"));
      else reject(new Error(event.code === 1006 ? "the socket could not be opened" : `closed with ${event.code}`));
    });
  });
}

async function captureSocket() {
  const container = root.querySelector("[data-testid=socket-trace]");
  try {
    const token = await exchange();
    const trace = await fetchTrace(token, TRACE_TRIES);
    drawScope(container, trace);
    container.append(heading("Events", "The whole exchange, from the handshake to the close."));
    container.append(eventList("socket-events", trace));
    setStatus("socket", `${socketAddress()}, as the ASGI server handed it over:`, "shown");
  } catch (error) {
    // A browser never sees why a handshake was refused: a refused capture above is the likely why.
    const why = root.dataset.refused ? ` (${root.dataset.refused})` : "";
    setStatus("socket", `The WebSocket exchange failed: ${error.message}${why}`, "failed");
  }
}

captureHttp();
captureSocket();
