"""loadtests/middleware_layer_cost.py: a middleware's hops and CPU, in process."""

from loadtests.middleware_layer_cost import main, measure


def test_axes_middleware_stays_on_the_event_loop():
    # Async-capable: it only hops to render the lockout page of a refused login.
    assert measure("axes.middleware.AxesMiddleware", passes=50, rounds=1).hops_per_request == 0


def test_a_middleware_mixin_hook_hops_to_a_thread_on_every_request():
    cost = measure("django.middleware.clickjacking.XFrameOptionsMiddleware", passes=50, rounds=1)

    assert cost.hops_per_request == 1


def test_the_async_native_subclass_of_it_does_not():
    cost = measure("async_native.middleware.XFrameOptionsMiddleware", passes=50, rounds=1)

    assert cost.hops_per_request == 0


def test_the_command_prints_both_figures(capsys, monkeypatch):
    monkeypatch.setenv("SERVER_INTERFACE", "asgi")

    assert main(["axes.middleware.AxesMiddleware", "--passes", "20"]) == 0

    assert "axes.middleware.AxesMiddleware: hops to a thread per request: 0; CPU per request:" in (
        capsys.readouterr().out
    )
