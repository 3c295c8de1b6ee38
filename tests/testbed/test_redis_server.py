"""The one Redis starter: the URL given, or an embedded Redis of its own."""

import pytest

from testbed.redis_server import RedisServer, redis_url


def test_a_given_url_is_used_as_it_is_and_nothing_starts(tmp_path):
    with redis_url(tmp_path, given="redis://redis.example:6379/2") as url:
        assert url == "redis://redis.example:6379/2"

    assert not list(tmp_path.iterdir())  # no Redis log: nothing was started


@pytest.mark.live
def test_without_a_url_an_embedded_redis_answers_and_stops_on_exit(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    with redis_url(tmp_path) as url:
        port = int(url.rsplit(":", 1)[1].split("/")[0])
        probe = RedisServer(tmp_path, port=port)
        assert probe.answers()

    assert not probe.answers()
