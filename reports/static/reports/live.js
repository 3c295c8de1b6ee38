// The live publications page: each report.published frame becomes a new list item.
// Reconnecting, resuming with ?after= and dropping duplicates are ResumableSocket's job.
import { ResumableSocket } from "../js/resumable-socket.js";

const list = document.querySelector("[data-testid=publications]");
const stateLabel = document.querySelector("[data-testid=socket-state]");

const STATE_TEXT = {
  connecting: () => "connecting…",
  open: () => "live",
  waiting: (detail) => `disconnected; retrying in ${(detail.delayMs / 1000).toFixed(1)} s`,
  closed: () => "closed",
};

// One format for every time on the page, those the server rendered and those that arrive live:
// the UTC second the ISO `datetime` attribute names, as the reports count their days in UTC.
function showTime(time) {
  const iso = new Date(time.dateTime).toISOString();
  time.textContent = `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

list.querySelectorAll("time").forEach(showTime);

function showPublication(frame) {
  document.querySelector("[data-testid=no-publications]")?.remove();
  const item = document.createElement("li");
  item.dataset.id = String(frame.id);
  item.className = "fresh";
  const link = document.createElement("a");
  link.href = frame.report.url;
  link.textContent = frame.report.title;
  const time = document.createElement("time");
  time.dateTime = frame.report.published_at;
  showTime(time);
  item.append(link, " ", time);
  list.append(item);
}

const socket = new ResumableSocket("/ws/notifications/", {
  // Empty, or the ASGI stack's port when the WSGI stack served this page (see reports/views.py).
  port: list.dataset.socketPort,
  // The page was rendered with the publications up to this id; resuming after it means nothing
  // published between the render and the handshake is missed.
  after: Number(list.dataset.lastId),
  onItem(item) {
    if (item.type === "report.published") showPublication(item);
  },
  onStateChange(state, detail) {
    stateLabel.textContent = STATE_TEXT[state](detail);
    stateLabel.dataset.state = state;
  },
});
socket.start();
