/**
 * ResumableSocket: a WebSocket that reconnects by itself and resumes where it left off.
 *
 * Shared by the chat room page (chat/static/chat/room.js) and the live publications page. The
 * server side of the bargain: every frame that carries items gives each item an integer `id`
 * that only grows, and a handshake with `?after=<id>` first sends the items after that id.
 *
 *   import { ResumableSocket } from "/static/js/resumable-socket.js";
 *
 *   const socket = new ResumableSocket("/ws/chat/lobby/", {
 *     onItem(item, frame) {},          // each item with a new `id`, never the same id twice
 *     onFrame(frame) {},               // every frame, after its new items went to onItem
 *     onStateChange(state, detail) {}, // see STATES below
 *   });
 *   socket.start();
 *   socket.send({ type: "message", text: "hi" });  // true if handed to an open socket
 *   socket.lastId;                                   // highest id seen, or null
 *   socket.state;                                    // the current state
 *   socket.close();                                  // for good: no more reconnects
 *
 * The URL may be a path (same host as the page, ws: or wss: to match http: or https:) or an
 * absolute ws:// or wss:// URL. Options, all optional:
 *
 *   port           open the socket on this port of the page's host instead of the page's own
 *                  (default "": the page's own); a page the WSGI stack served passes the ASGI
 *                  stack's, since Gunicorn cannot hold a WebSocket
 *   after          id to resume after on the first connection (default null: no ?after=)
 *   itemsOf(frame) the id-carrying items of a frame; the default takes `frame.messages` when it
 *                  is an array (a chat history) or else the frame itself when it has an integer `id`
 *   minDelayMs     first reconnect delay cap (default 500)
 *   maxDelayMs     largest reconnect delay cap (default 15000)
 *   stableAfterMs  how long a connection must stay open before the backoff starts over (5000)
 *   connectTimeoutMs  give up on a handshake that has not completed after this long (10000)
 *   maxRemembered  ids kept for de-duplication (default 5000; older ones are summarised by a floor)
 *
 * States: "connecting" (a handshake is under way), "open", "waiting" (closed; detail gives
 * { delayMs, attempt, code, reason } before the next try), "closed" (close() was called).
 */

const DEFAULTS = {
  port: "",
  after: null,
  itemsOf: defaultItemsOf,
  onItem: () => {},
  onFrame: () => {},
  onStateChange: () => {},
  minDelayMs: 500,
  maxDelayMs: 15000,
  stableAfterMs: 5000,
  connectTimeoutMs: 10000,
  maxRemembered: 5000,
};

export const STATES = Object.freeze(["connecting", "open", "waiting", "closed"]);

function defaultItemsOf(frame) {
  if (Array.isArray(frame.messages)) return frame.messages;
  if (Number.isInteger(frame.id)) return [frame];
  return [];
}

/** The WebSocket URL for `path` on this page's host (or an absolute ws:/wss: URL unchanged), on
 * `port` instead of the page's own when one is given. */
export function socketUrl(path, base = window.location.href, port = "") {
  const url = new URL(path, base);
  if (url.protocol === "http:") url.protocol = "ws:";
  if (url.protocol === "https:") url.protocol = "wss:";
  if (port) url.port = String(port);
  return url;
}

/** Full jitter: a random delay between 0 and the exponential cap, so that clients dropped at the
 * same moment (a server restart) do not all come back at the same moment. */
export function backoffDelay(attempt, minDelayMs, maxDelayMs, random = Math.random) {
  const cap = Math.min(maxDelayMs, minDelayMs * 2 ** attempt);
  return Math.floor(random() * cap);
}

export class ResumableSocket {
  constructor(url, options = {}) {
    this.options = { ...DEFAULTS, ...options };
    this.url = socketUrl(url, window.location.href, this.options.port);
    this.lastId = this.options.after;
    this.state = null;
    this._seen = new Set();
    this._floor = this.lastId ?? -Infinity;
    this._attempt = 0;
    this._socket = null;
    this._timers = new Set();
    this._closedForGood = false;
    this._onOnline = () => this._reconnectNow();
  }

  start() {
    this._closedForGood = false;
    window.addEventListener("online", this._onOnline);
    this._connect();
    return this;
  }

  send(frame) {
    if (!this._socket || this._socket.readyState !== WebSocket.OPEN) return false;
    this._socket.send(JSON.stringify(frame));
    return true;
  }

  close() {
    this._closedForGood = true;
    window.removeEventListener("online", this._onOnline);
    this._clearTimers();
    if (this._socket) this._socket.close(1000, "closed by the page");
    this._socket = null;
    this._setState("closed");
  }

  _connect() {
    const url = new URL(this.url);
    if (this.lastId !== null) url.searchParams.set("after", String(this.lastId));
    this._setState("connecting");
    const socket = new WebSocket(url);
    this._socket = socket;
    const giveUp = this._later(this.options.connectTimeoutMs, () => {
      if (socket.readyState === WebSocket.CONNECTING) socket.close();
    });

    socket.addEventListener("open", () => {
      this._clearTimer(giveUp);
      this._later(this.options.stableAfterMs, () => {
        if (this._socket === socket && socket.readyState === WebSocket.OPEN) this._attempt = 0;
      });
      this._setState("open");
    });
    socket.addEventListener("message", (event) => {
      if (this._socket === socket) this._receive(event.data);
    });
    socket.addEventListener("close", (event) => {
      this._clearTimer(giveUp);
      if (this._socket !== socket || this._closedForGood) return;
      this._socket = null;
      this._scheduleReconnect(event.code, event.reason);
    });
  }

  _receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      console.warn("ResumableSocket: ignoring a frame that is not JSON", data);
      return;
    }
    if (frame === null || typeof frame !== "object") return;
    for (const item of this.options.itemsOf(frame)) {
      if (!Number.isInteger(item.id) || this._alreadySeen(item.id)) continue;
      this._remember(item.id);
      this.options.onItem(item, frame);
    }
    this.options.onFrame(frame);
  }

  _alreadySeen(id) {
    return id <= this._floor || this._seen.has(id);
  }

  _remember(id) {
    this._seen.add(id);
    if (this.lastId === null || id > this.lastId) this.lastId = id;
    if (this._seen.size > this.options.maxRemembered) {
      // Forget the oldest half; anything at or below the highest forgotten id counts as seen.
      const forget = [...this._seen].slice(0, Math.floor(this._seen.size / 2));
      for (const old of forget) this._seen.delete(old);
      this._floor = Math.max(this._floor, ...forget);
    }
  }

  _scheduleReconnect(code, reason) {
    const { minDelayMs, maxDelayMs } = this.options;
    const delayMs = backoffDelay(this._attempt, minDelayMs, maxDelayMs);
    this._attempt += 1;
    this._setState("waiting", { delayMs, attempt: this._attempt, code, reason });
    this._later(delayMs, () => this._connect());
  }

  _reconnectNow() {
    if (this._closedForGood || this.state !== "waiting") return;
    this._clearTimers();
    this._attempt = 0;
    this._connect();
  }

  _setState(state, detail = {}) {
    this.state = state;
    this.options.onStateChange(state, detail);
  }

  _later(delayMs, callback) {
    const timer = setTimeout(() => {
      this._timers.delete(timer);
      callback();
    }, delayMs);
    this._timers.add(timer);
    return timer;
  }

  _clearTimer(timer) {
    clearTimeout(timer);
    this._timers.delete(timer);
  }

  _clearTimers() {
    for (const timer of this._timers) clearTimeout(timer);
    this._timers.clear();
  }
}
