// The race page: sends a race to the server-side driver (/ws/race/, demo/consumers.py) or runs it
// from this browser, and draws one lane per request as the timings arrive. Both modes produce the
// same frames (docs/race.md), so one renderer draws both.

const root = document.getElementById("race");
const form = root.querySelector("[data-testid=race-form]");
const status = root.querySelector("[data-testid=status]");
const problem = root.querySelector("[data-testid=problem]");
const modeUsed = root.querySelector("[data-testid=mode-used]");
const lanesBox = root.querySelector("[data-testid=lanes]");
const runButton = root.querySelector("[data-testid=run]");

// Chromium opens at most six HTTP/1.1 connections per host; other browsers about the same.
const BROWSER_CONNECTIONS_PER_HOST = 6;
const GROUPS = {
  "def-wsgi": { stack: "wsgi", prefix: "sync" },
  "async-wsgi": { stack: "wsgi", prefix: "async" },
  "def-asgi": { stack: "asgi", prefix: "sync" },
  "async-asgi": { stack: "asgi", prefix: "async" },
  "blocking-asgi": { stack: "asgi", prefix: "async" },
};
const PALETTE = ["#0969da", "#bf3989", "#1a7f37", "#bc4c00", "#8250df", "#0a7b83", "#9a6700", "#cf222e"];

let socket = null;
let driverReady = false;
let race = null; // { mode, n, groups: Map(name -> group), workers: Map(pid -> colour) }
let drawScheduled = false;

// The socket ---------------------------------------------------------------------------------------

function socketUrl() {
  const { socketPath, socketPort } = root.dataset;
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const host = socketPort ? `${window.location.hostname}:${socketPort}` : window.location.host;
  return `${scheme}//${host}${socketPath}`;
}

function connect() {
  socket = new WebSocket(socketUrl());
  socket.addEventListener("message", (event) => handleFrame(JSON.parse(event.data)));
  socket.addEventListener("close", () => {
    driverReady = false;
    if (race?.mode === "server" && root.dataset.state === "running") finishRace(null, "the driver's socket closed");
    setStatus("Driver unreachable; retrying… (the browser mode still works)");
    setTimeout(connect, 3000);
  });
}

// Frames (from the driver, or made by runInBrowser) --------------------------------------------------

function handleFrame(frame) {
  switch (frame.type) {
    case "ready":
      driverReady = true;
      root.dataset.driverStacks = frame.stacks.join(",");
      setStatus(`Driver ready; it races: ${frame.stacks.join(" and ").toUpperCase()}.`);
      break;
    case "race.started":
      startRace(frame);
      break;
    case "lane":
      race?.groups.get(frame.group)?.lanes.push(frame);
      scheduleDraw();
      break;
    case "group.finished":
      if (race?.groups.has(frame.group)) race.groups.get(frame.group).finished = frame;
      scheduleDraw();
      break;
    case "group.skipped":
      if (race?.groups.has(frame.group)) race.groups.get(frame.group).skipped = frame.detail;
      scheduleDraw();
      break;
    case "race.finished":
      finishRace(frame);
      break;
    case "error":
      showProblem(`${frame.code}: ${frame.detail}`);
      if (root.dataset.state === "starting") {
        root.dataset.state = "idle";
        runButton.disabled = false;
      }
      break;
  }
}

function startRace(frame) {
  race = { mode: frame.mode, n: frame.n, groups: new Map(), workers: new Map() };
  for (const group of frame.groups) race.groups.set(group.group, { ...group, lanes: [], finished: null, skipped: null });
  root.dataset.state = "running";
  root.dataset.mode = frame.mode;
  modeUsed.hidden = false;
  modeUsed.textContent =
    frame.mode === "server"
      ? `Mode: server-side driver. The ASGI stack's event loop sent all ${frame.n} requests of a group at once.`
      : `Mode: from this browser. It opens about ${BROWSER_CONNECTIONS_PER_HOST} connections per host, so the ` +
        `${frame.n} requests of a group reached each server at most ${BROWSER_CONNECTIONS_PER_HOST} at a time.`;
  lanesBox.replaceChildren();
  setStatus(`Racing ${frame.n} × ${frame.probe}…`);
  scheduleDraw();
}

function finishRace(frame, why) {
  root.dataset.state = "finished";
  runButton.disabled = false;
  if (frame) root.dataset.wallMs = String(frame.wall_ms);
  const cut = frame?.timed_out ? " (cut short: the race hit its time limit)" : "";
  setStatus(why ? `Stopped: ${why}.` : `Done in ${seconds(frame.wall_ms)}${cut}.`);
  scheduleDraw();
}

// Drawing ----------------------------------------------------------------------------------------

function scheduleDraw() {
  if (drawScheduled) return;
  drawScheduled = true;
  requestAnimationFrame(() => {
    drawScheduled = false;
    draw();
  });
}

function groupOrigin(group) {
  return group.lanes.length ? Math.min(...group.lanes.map((lane) => lane.sent)) : 0;
}

function draw() {
  if (!race) return;
  // One time scale for every group, each group from its own first request: lanes compare across
  // quadrants at a glance, whichever order they ran in.
  let scaleMs = 1;
  for (const group of race.groups.values()) {
    const origin = groupOrigin(group);
    for (const lane of group.lanes) scaleMs = Math.max(scaleMs, lane.received - origin);
    if (group.finished?.predicted_ms) scaleMs = Math.max(scaleMs, group.finished.predicted_ms);
  }
  for (const [name, group] of race.groups) {
    let section = lanesBox.querySelector(`[data-group="${name}"]`);
    if (!section) {
      section = document.createElement("section");
      section.className = "group";
      section.dataset.group = name;
      section.dataset.stack = group.stack;
      lanesBox.append(section);
    }
    drawGroup(section, group, scaleMs);
  }
}

function colourOf(pid) {
  if (!race.workers.has(pid)) race.workers.set(pid, PALETTE[race.workers.size % PALETTE.length]);
  return race.workers.get(pid);
}

function svgElement(name, attributes) {
  const element = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

function drawGroup(section, group, scaleMs) {
  const heading = document.createElement("h2");
  heading.textContent = group.label;
  const path = document.createElement("code");
  path.textContent = group.path;
  heading.append(" ", path);
  const stats = document.createElement("p");
  stats.className = "stats";
  stats.dataset.testid = "stats";
  section.dataset.state = group.skipped ? "skipped" : group.finished ? "finished" : "running";
  if (group.skipped) {
    stats.textContent = `Not raced: ${group.skipped}.`;
    section.replaceChildren(heading, stats);
    return;
  }
  stats.textContent = statsText(group);
  if (group.finished) section.dataset.wallMs = String(group.finished.wall_ms);

  const rowHeight = Math.max(2, Math.min(8, Math.floor(320 / race.n)));
  const height = race.n * rowHeight;
  const svg = svgElement("svg", {
    viewBox: `0 0 1000 ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": `${group.lanes.length} of ${race.n} lanes`,
  });
  svg.style.height = `${height}px`;
  const x = (ms) => Math.max(0, Math.min(1000, (ms / scaleMs) * 1000));
  const origin = groupOrigin(group);
  for (const lane of group.lanes) {
    const y = lane.index * rowHeight;
    const middle = y + rowHeight / 2;
    if (lane.error) {
      svg.append(svgElement("rect", { x: x(lane.sent - origin), y, width: 4, height: rowHeight, fill: "#cf222e" }));
      continue;
    }
    svg.append(
      svgElement("line", {
        x1: x(lane.sent - origin), x2: x(lane.began - origin), y1: middle, y2: middle,
        stroke: "#afb8c1", "stroke-width": Math.max(1, rowHeight / 3),
      }),
      svgElement("rect", {
        x: x(lane.began - origin), y: y + rowHeight * 0.1,
        width: Math.max(1, x(lane.ended - origin) - x(lane.began - origin)), height: rowHeight * 0.8,
        fill: colourOf(lane.pid),
      }),
      svgElement("rect", { x: x(lane.received - origin), y, width: 2, height: rowHeight, fill: "#24292f" }),
    );
  }
  const predicted = group.finished?.predicted_ms;
  if (predicted) {
    svg.append(svgElement("line", {
      x1: x(predicted), x2: x(predicted), y1: 0, y2: height,
      stroke: "#24292f", "stroke-dasharray": "6 4", "stroke-width": 2, "vector-effect": "non-scaling-stroke",
    }));
  }
  const axis = document.createElement("p");
  axis.className = "axis";
  axis.append(Object.assign(document.createElement("span"), { textContent: "0 s" }),
    Object.assign(document.createElement("span"), { textContent: seconds(scaleMs) }));
  const legend = document.createElement("p");
  legend.className = "legend";
  legend.append(workersText(group));
  for (const pid of new Set(group.lanes.filter((lane) => !lane.error).map((lane) => lane.pid))) {
    const swatch = document.createElement("span");
    swatch.className = "swatch";
    swatch.style.background = colourOf(pid);
    legend.append(" ", swatch, ` pid ${pid}`);
  }
  section.replaceChildren(heading, stats, svg, axis, legend);
}

function statsText(group) {
  if (!group.finished) return `${group.lanes.length} of ${race.n} answered…`;
  const { wall_ms, requests_per_second, failed, limit, predicted_ms } = group.finished;
  const parts = [`${race.n} requests in ${seconds(wall_ms)}`, `${requests_per_second ?? "–"} req/s`];
  if (failed) parts.push(`${failed} failed`);
  const line = littlesLaw(limit, predicted_ms);
  return `${parts.join(" · ")}. ${line}`;
}

function littlesLaw(limit, predictedMs) {
  const why = `Limit: ${limit.why}`;
  if (predictedMs == null) return `${why}; no Little's-law line: this probe does not wait.`;
  const wait = seconds(limit.wait_ms);
  if (limit.slots == null) return `${why}: all N wait at once, about one wait (${wait}).`;
  const rate = (limit.slots / (limit.wait_ms / 1000)).toFixed(1);
  const source = { server: "read from the server", observed: "processes seen", browser: "the browser's cap" }[limit.source];
  return `${why} (${source}): ${limit.slots} at once ÷ ${wait} = ${rate} req/s at most, so ≥ ${seconds(predictedMs)}.`;
}

function workersText(group) {
  const pids = new Set(), threads = new Set();
  for (const lane of group.lanes) {
    if (lane.error) continue;
    pids.add(lane.pid);
    threads.add(`${lane.pid}/${lane.thread_id}`);
  }
  const processes = `${pids.size} process${pids.size === 1 ? "" : "es"}`;
  return `Served by ${processes} on ${threads.size} thread${threads.size === 1 ? "" : "s"}:`;
}

function seconds(ms) {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`;
}

function setStatus(text) {
  status.textContent = text;
}

function showProblem(text) {
  problem.textContent = text;
  problem.hidden = !text;
}

// The form -----------------------------------------------------------------------------------------

function raceFromForm() {
  const data = new FormData(form);
  const probe = data.get("probe");
  const params = {};
  if (["sleep", "cpu", "fanout"].includes(probe)) params.ms = Number(data.get("ms"));
  if (probe === "fanout") params.n = Number(data.get("fanout_n"));
  return {
    type: "race",
    probe,
    params,
    n: Number(data.get("n")),
    groups: data.getAll("groups"),
    order: data.get("order"),
  };
}

function syncFormToProbe() {
  const probe = form.elements.probe.value;
  form.elements.ms.disabled = !["sleep", "cpu", "fanout"].includes(probe);
  form.elements.fanout_n.disabled = probe !== "fanout";
  // The blocking view is sleep done wrong: it races only against sleep.
  const blocking = form.querySelector("input[value=blocking-asgi]");
  blocking.disabled = probe !== "sleep";
  if (blocking.disabled) blocking.checked = false;
}

form.elements.probe.addEventListener("change", syncFormToProbe);
form.addEventListener("submit", (event) => {
  event.preventDefault();
  showProblem("");
  const frame = raceFromForm();
  if (form.elements.mode.value === "browser") {
    runButton.disabled = true;
    runInBrowser(frame).finally(() => { runButton.disabled = false; });
    return;
  }
  if (!driverReady) {
    showProblem("The driver's socket is not open; try the browser mode, or open this page on the ASGI stack.");
    return;
  }
  root.dataset.state = "starting";
  runButton.disabled = true;
  socket.send(JSON.stringify(frame));
});

// Browser-direct mode: the same race from this page, through the browser's connection pool. -------

function stackBase(stack) {
  const port = root.dataset[`${stack}Port`];
  if (port) return `${window.location.protocol}//${window.location.hostname}:${port}`;
  // No port configured: the ASGI stack is this very server (runserver); there is no WSGI stack.
  return stack === "asgi" ? window.location.origin : null;
}

function pathFor(frame, name) {
  const query = new URLSearchParams(Object.entries(frame.params).map(([k, v]) => [k, String(v)])).toString();
  const probe = name === "blocking-asgi" ? "blocking" : frame.probe;
  return `/demo/${GROUPS[name].prefix}/${probe}/${query ? `?${query}` : ""}`;
}

function waitMs(frame, name) {
  if (frame.probe === "sleep") return frame.params.ms;
  if (frame.probe === "fanout") return GROUPS[name].prefix === "sync" ? frame.params.n * frame.params.ms : frame.params.ms;
  return null;
}

async function runInBrowser(frame) {
  const groups = frame.groups.filter((name) => name in GROUPS);
  if (!(frame.n >= 1 && frame.n <= 100) || !groups.length) {
    showProblem("Pick 1 to 100 requests and at least one lane group.");
    return;
  }
  const now = () => performance.timeOrigin + performance.now();
  const raceOrigin = now();
  const relative = (ms) => Math.round((ms - raceOrigin) * 10) / 10;
  handleFrame({
    type: "race.started", mode: "browser", probe: frame.probe, n: frame.n, order: frame.order,
    groups: groups.map((name) => ({
      group: name, label: form.querySelector(`input[value=${name}]`).parentElement.textContent.trim(),
      stack: GROUPS[name].stack, path: pathFor(frame, name), raced: Boolean(stackBase(GROUPS[name].stack)),
    })),
  });
  const runGroup = async (name) => {
    const base = stackBase(GROUPS[name].stack);
    if (!base) {
      handleFrame({ type: "group.skipped", group: name, detail: `no ${GROUPS[name].stack.toUpperCase()} stack to race here` });
      return;
    }
    const url = base + pathFor(frame, name);
    const answers = [];
    const started = now();
    await Promise.all(Array.from({ length: frame.n }, async (_, index) => {
      const sent = now();
      try {
        const response = await fetch(url, { cache: "no-store", credentials: "omit" });
        const received = now();
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const answer = await response.json();
        answers.push(answer);
        handleFrame({
          type: "lane", group: name, index, sent: relative(sent), received: relative(received),
          began: relative(answer.began_ms), ended: relative(answer.ended_ms), pid: answer.pid, thread: answer.thread,
          thread_id: answer.thread_id,
        });
      } catch (error) {
        handleFrame({ type: "lane", group: name, index, sent: relative(sent), received: relative(now()), error: String(error) });
      }
    }));
    const wall = now() - started;
    const pool = answers.find((answer) => answer.worker_pool)?.worker_pool;
    const wait = waitMs(frame, name);
    // What caps this group from here: the server's slots, or the browser's connections per host.
    const serverSlots = pool ? pool.slots : name === "blocking-asgi" ? new Set(answers.map((a) => a.pid)).size : null;
    const browserCaps = serverSlots == null || serverSlots > BROWSER_CONNECTIONS_PER_HOST;
    const slots = browserCaps ? BROWSER_CONNECTIONS_PER_HOST : serverSlots;
    const source = browserCaps ? "browser" : pool ? "server" : "observed";
    const why = browserCaps
      ? `this browser: about ${BROWSER_CONNECTIONS_PER_HOST} connections per host`
      : pool ? `${pool.server}: ${pool.processes} worker processes × ${pool.threads} thread(s)` : "one blocked event loop per process";
    handleFrame({
      type: "group.finished", group: name, wall_ms: Math.round(wall * 10) / 10, ok: answers.length,
      failed: frame.n - answers.length,
      requests_per_second: wall > 0 ? Math.round((answers.length / (wall / 1000)) * 10) / 10 : null,
      limit: { slots, source, why, wait_ms: wait },
      predicted_ms: wait == null ? null : Math.ceil(frame.n / slots) * wait,
    });
  };
  if (frame.order === "together") await Promise.all(groups.map(runGroup));
  else for (const name of groups) await runGroup(name);
  handleFrame({ type: "race.finished", wall_ms: Math.round((now() - raceOrigin) * 10) / 10, timed_out: false });
}

syncFormToProbe();
connect();
