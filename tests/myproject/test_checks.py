import logging

from django.test import override_settings

from myproject.checks import warn_if_channel_layer_is_process_local

REDIS_LAYER = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": []}}}
MEMORY_LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def test_a_server_with_the_in_memory_layer_warns(caplog, monkeypatch):
    monkeypatch.setattr("sys.argv", ["gunicorn", "myproject.wsgi:application"])
    with override_settings(CHANNEL_LAYERS=MEMORY_LAYER), caplog.at_level(logging.WARNING, "myproject"):
        assert warn_if_channel_layer_is_process_local("wsgi") is True

    assert "REDIS_URL is not set" in caplog.text
    assert "WSGI" in caplog.text


def test_runserver_with_the_in_memory_layer_does_not_warn(caplog, monkeypatch):
    monkeypatch.setattr("sys.argv", ["manage.py", "runserver"])
    with override_settings(CHANNEL_LAYERS=MEMORY_LAYER), caplog.at_level(logging.WARNING, "myproject"):
        assert warn_if_channel_layer_is_process_local("asgi") is False

    assert caplog.text == ""


def test_a_server_with_the_redis_layer_does_not_warn(monkeypatch):
    monkeypatch.setattr("sys.argv", ["uvicorn", "myproject.asgi:application"])
    with override_settings(CHANNEL_LAYERS=REDIS_LAYER):
        assert warn_if_channel_layer_is_process_local("asgi") is False
