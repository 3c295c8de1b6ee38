"""Who is in each chat room, kept right across every ASGI process that serves the room.

Each process tracks its own connections (`ProcessPresence`, one per event loop). The shared record
is a presence store:

- `RedisPresenceStore` when the channel layer runs on Redis (on its first shard): per room, a
  sorted set whose members are "<channel name> <username>" and whose scores are expiry times. A
  heartbeat pushes the expiry of this process's members forward every TTL/3 seconds. When a process
  dies, nobody refreshes its members and they expire: the next heartbeat of any process still
  serving the room removes them and broadcasts the new list, so a crashed server does not leave
  ghosts behind.
- `LocalPresenceStore` otherwise (runserver, unit tests): the same rules in this process's memory.

Each change of a room's list of names bumps the room's version, read in the same atomic step as the
list. Presence events carry it, and a consumer ignores an event older than the last one it showed:
two joins on two processes whose broadcasts cross on the way cannot leave a stale list on screen.

Only signed-in users are listed; anonymous readers are counted nowhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Literal, Protocol

from channels.layers import get_channel_layer
from django.conf import settings

from chat.protocol import presence_event, room_group
from myproject.realtime.layer import LAYER_ERRORS, redis_without_retries
from myproject.realtime.per_event_loop import PerEventLoop
from myproject.redis_clients import RedisHost, channel_layer_hosts

logger = logging.getLogger(__name__)

# A presence update is one small script: an answer slower than this means Redis is in trouble.
STORE_TIMEOUT_SECONDS = 2.0
# What a store (or the channel layer, for the broadcast) raises when Redis is unreachable.
STORE_ERRORS = LAYER_ERRORS

Mode = Literal["add", "refresh", "remove"]


@dataclass(frozen=True)
class PresenceSnapshot:
    version: int
    users: list[str]
    changed: bool


class PresenceStore(Protocol):
    async def update(self, room: str, mode: Mode, members: Collection[str]) -> PresenceSnapshot:
        """Add, refresh (only those still there) or remove members; drop expired ones; return the
        room's users, whether the list of names changed, and its version."""
        ...

    async def close(self) -> None: ...


def member_of(channel_name: str, username: str) -> str:
    # Channel names never contain a space, so the first space ends the channel name.
    return f"{channel_name} {username}"


def _users(members: Collection[str]) -> list[str]:
    return sorted({member.split(" ", 1)[1] for member in members})


class LocalPresenceStore:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.time):
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        self.members: dict[str, dict[str, float]] = {}
        self.versions: dict[str, int] = {}

    async def update(self, room: str, mode: Mode, members: Collection[str]) -> PresenceSnapshot:
        now = self.clock()
        current = self.members.setdefault(room, {})
        before = _users(current)
        for member in members:
            if mode == "remove":
                current.pop(member, None)
            elif mode == "add" or member in current:
                current[member] = now + self.ttl_seconds
        for member, expires in list(current.items()):
            if expires <= now:
                del current[member]
        after = _users(current)
        if not current:
            del self.members[room]
        version = self.versions.get(room, int(now * 1000))
        if after != before:
            version += 1
        self.versions[room] = version
        return PresenceSnapshot(version=version, users=after, changed=after != before)

    async def close(self) -> None:
        pass


# Runs inside Redis, so reading the old list, changing it and bumping the version is one atomic
# step even with several processes updating the same room at once.
UPDATE_SCRIPT = """
-- KEYS[1]: the room's members (sorted set; score = expiry time); KEYS[2]: the room's version
-- ARGV: now, new expiry, seconds to keep both keys, first version, mode, members...
local function users()
  local seen, names = {}, {}
  for _, member in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
    local name = string.match(member, '^%S+ (.*)$')
    if name and not seen[name] then
      seen[name] = true
      names[#names + 1] = name
    end
  end
  table.sort(names)
  return names
end
local before = table.concat(users(), '\\n')
local mode = ARGV[5]
for i = 6, #ARGV do
  if mode == 'remove' then
    redis.call('ZREM', KEYS[1], ARGV[i])
  elseif mode == 'add' then
    redis.call('ZADD', KEYS[1], ARGV[2], ARGV[i])
  else
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], ARGV[i])
  end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
local after = users()
local changed = table.concat(after, '\\n') ~= before
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('SET', KEYS[2], ARGV[4])
end
local version
if changed then
  version = redis.call('INCR', KEYS[2])
else
  version = tonumber(redis.call('GET', KEYS[2]))
end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {version, changed and 1 or 0, after}
"""


class RedisPresenceStore:
    def __init__(self, host: RedisHost, ttl_seconds: float, clock: Callable[[], float] = time.time):
        self.ttl_seconds = ttl_seconds
        self.clock = clock
        # When Redis is gone the heartbeat should say so within seconds, so that clients are told
        # to reconnect instead of waiting on a silent room.
        self.redis = redis_without_retries(host, STORE_TIMEOUT_SECONDS)
        self.script = self.redis.register_script(UPDATE_SCRIPT)

    async def update(self, room: str, mode: Mode, members: Collection[str]) -> PresenceSnapshot:
        now = self.clock()
        keep_seconds = max(60, int(self.ttl_seconds * 4))
        version, changed, users = await self.script(
            keys=[f"chat:presence:{room}", f"chat:presence:{room}:version"],
            args=[now, now + self.ttl_seconds, keep_seconds, int(now * 1000), mode, *members],
        )
        return PresenceSnapshot(
            version=int(version), users=[name.decode() for name in users], changed=bool(changed)
        )

    async def close(self) -> None:
        await self.redis.aclose()


@dataclass(eq=False)
class LocalConnection:
    """One WebSocket connection of this process, as presence sees it."""

    room: str
    channel_name: str
    username: str | None
    # Closes the socket, telling the client to come back later: called when the presence store
    # (Redis) stops answering, because the room's broadcasts have then stopped too.
    lost: Callable[[], Awaitable[None]]

    @property
    def members(self) -> list[str]:
        return [member_of(self.channel_name, self.username)] if self.username else []


class ProcessPresence:
    """This process's connections per room, kept alive in the shared store by a heartbeat."""

    def __init__(self, store: PresenceStore, heartbeat_seconds: float):
        self.store = store
        self.heartbeat_seconds = heartbeat_seconds
        self.rooms: dict[str, dict[str, LocalConnection]] = {}
        self._heartbeat: asyncio.Task | None = None

    async def join(self, connection: LocalConnection) -> PresenceSnapshot:
        self.rooms.setdefault(connection.room, {})[connection.channel_name] = connection
        try:
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                snapshot = await self.store.update(connection.room, "add", connection.members)
        except BaseException:
            self._forget(connection)
            raise
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.create_task(
                self._beat_while_connected(), name="chat-presence-heartbeat"
            )
        return snapshot

    async def leave(self, connection: LocalConnection) -> PresenceSnapshot | None:
        """Forget a connection; the new snapshot when the store had to change, else None."""
        if not self._forget(connection) or not connection.members:
            return None
        async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
            return await self.store.update(connection.room, "remove", connection.members)

    async def beat(self) -> None:
        """Refresh this process's members in every room it serves; broadcast rooms whose list
        changed because another process's members expired."""
        for room, connections in list(self.rooms.items()):
            members = [member for connection in connections.values() for member in connection.members]
            async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
                snapshot = await self.store.update(room, "refresh", members)
            if snapshot.changed:
                await broadcast_presence(room, snapshot)

    async def _beat_while_connected(self) -> None:
        while self.rooms:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self.beat()
            except STORE_ERRORS as error:
                logger.warning(
                    "chat presence: Redis did not answer (%r); closing this process's chat sockets", error
                )
                await self._drop_everyone()

    async def _drop_everyone(self) -> None:
        connections = [connection for room in self.rooms.values() for connection in room.values()]
        self.rooms.clear()
        # All at once, and one failing close cannot keep the others open.
        results = await asyncio.gather(
            *(connection.lost() for connection in connections), return_exceptions=True
        )
        for failure in (result for result in results if isinstance(result, Exception)):
            logger.warning("chat presence: could not close a socket (%r)", failure)

    def _forget(self, connection: LocalConnection) -> bool:
        room = self.rooms.get(connection.room, {})
        if room.pop(connection.channel_name, None) is None:
            return False
        if not room:
            del self.rooms[connection.room]
        if not self.rooms and self._heartbeat is not None and self._heartbeat is not asyncio.current_task():
            self._heartbeat.cancel()
            self._heartbeat = None
        return True


async def broadcast_presence(room: str, snapshot: PresenceSnapshot) -> None:
    layer = get_channel_layer()
    assert layer is not None, "settings.CHANNEL_LAYERS always names a default layer"
    async with asyncio.timeout(STORE_TIMEOUT_SECONDS):
        await layer.group_send(room_group(room), presence_event(snapshot.version, snapshot.users))


def _new_process_presence() -> ProcessPresence:
    ttl = settings.CHAT_PRESENCE_TTL_SECONDS
    hosts = channel_layer_hosts()
    # Every process must agree on where a room's presence lives: with shards, on the first.
    store = RedisPresenceStore(hosts[0], ttl) if hosts else LocalPresenceStore(ttl)
    return ProcessPresence(store, heartbeat_seconds=ttl / 3)


# One ProcessPresence per event loop, which under a server is one per process.
_process_presence = PerEventLoop(_new_process_presence)


def process_presence() -> ProcessPresence:
    return _process_presence.get()
