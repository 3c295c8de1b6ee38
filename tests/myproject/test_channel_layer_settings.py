"""The channel layer's Redis hosts come from the environment: one URL, several URLs (shards), or
sentinels that name the master. Each case imports the settings in a fresh interpreter, as a server
process would at start-up."""

import json
import subprocess

import pytest

from tests.myproject.fresh_settings import load_settings

# The layer as JSON, each host's retry (an object) shown as the number of retries it allows.
LAYER_AS_JSON = """{
    **settings.CHANNEL_LAYERS["default"],
    "CONFIG": {
        "hosts": [
            {**host, "retry": host["retry"].get_retries()}
            for host in settings.CHANNEL_LAYERS["default"].get("CONFIG", {}).get("hosts", [])
        ]
    },
}"""


def load_layer(**environment: str) -> subprocess.CompletedProcess:
    return load_settings(LAYER_AS_JSON, **environment)


def hosts_for(**environment: str) -> list:
    result = load_layer(**environment)
    assert result.returncode == 0, result.stderr
    layer = json.loads(result.stdout)
    assert layer["BACKEND"].startswith("channels_redis."), layer
    return layer["CONFIG"]["hosts"]


def test_one_redis_url_is_one_host():
    assert [host["address"] for host in hosts_for(REDIS_URL="redis://127.0.0.1:6379/0")] == [
        "redis://127.0.0.1:6379/0"
    ]


def test_comma_separated_redis_urls_shard_the_layer_in_the_given_order():
    hosts = hosts_for(REDIS_URL="redis://10.0.0.2:6379/0, redis://10.0.0.1:6380/0,")

    assert [host["address"] for host in hosts] == ["redis://10.0.0.2:6379/0", "redis://10.0.0.1:6380/0"]


@pytest.mark.parametrize(
    "environment",
    [{"REDIS_URL": "redis://10.0.0.2:6379/0,redis://10.0.0.1:6380/0"}, {"REDIS_SENTINELS": "10.0.0.1:26379"}],
)
def test_every_host_reconnects_once_when_its_pooled_connection_is_broken(environment):
    hosts = hosts_for(**environment)

    assert [host["retry"] for host in hosts] == [1] * len(hosts)


def test_sentinels_name_the_master_with_short_sentinel_timeouts():
    hosts = hosts_for(REDIS_SENTINELS="10.0.0.1:26379,10.0.0.2:26380,[::1]:26381")

    assert len(hosts) == 1
    assert hosts[0]["master_name"] == "mymaster"
    assert hosts[0]["sentinels"] == [["10.0.0.1", 26379], ["10.0.0.2", 26380], ["::1", 26381]]
    assert 0 < hosts[0]["sentinel_kwargs"]["socket_timeout"] <= 2


def test_sentinel_master_names_the_master_and_several_names_shard_over_several_masters():
    hosts = hosts_for(REDIS_SENTINELS="10.0.0.1:26379", REDIS_SENTINEL_MASTER="orders, chat")

    assert [host["master_name"] for host in hosts] == ["orders", "chat"]


@pytest.mark.parametrize("layer", ["RedisChannelLayer", "RedisPubSubChannelLayer"])
def test_both_redis_layers_take_the_sentinel_hosts(layer):
    hosts = hosts_for(REDIS_SENTINELS="10.0.0.1:26379", REDIS_CHANNEL_LAYER=layer)

    assert hosts[0]["master_name"] == "mymaster"


def test_empty_variables_mean_unset():
    result = load_layer(REDIS_URL="", REDIS_SENTINELS="", REDIS_SENTINEL_MASTER="")

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["BACKEND"] == "channels.layers.InMemoryChannelLayer"


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"REDIS_URL": "redis://127.0.0.1:6379/0,http://127.0.0.1:6380"}, "REDIS_URL must look like"),
        ({"REDIS_URL": "redis://127.0.0.1:6379/0,redis://127.0.0.1:x/0"}, "REDIS_URL is not a usable"),
        ({"REDIS_SENTINELS": "10.0.0.1"}, "REDIS_SENTINELS must be a comma-separated list of host:port"),
        ({"REDIS_SENTINELS": "10.0.0.1:26379,10.0.0.2:port"}, "REDIS_SENTINELS must be"),
        ({"REDIS_SENTINELS": "10.0.0.1:99999"}, "REDIS_SENTINELS must be"),
        ({"REDIS_SENTINELS": ":26379"}, "REDIS_SENTINELS must be"),
        (
            {"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_SENTINEL_MASTER": "a,,b"},
            "REDIS_SENTINEL_MASTER must",
        ),
        (
            {"REDIS_SENTINELS": "10.0.0.1:26379", "REDIS_URL": "redis://127.0.0.1:6379/0"},
            "REDIS_URL and REDIS_SENTINELS are both set",
        ),
    ],
)
def test_a_bad_redis_configuration_stops_start_up_naming_the_variable(environment, message):
    result = load_layer(**environment)

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {message}" in result.stderr
