"""Settings for `make bench-tax` only: the steps between Django's stock ASGI stack and the
async_native package's, so that the benchmark can show what each step buys.

A benchmark server runs with DJANGO_SETTINGS_MODULE=loadtests.asgi_tax_steps and BENCH_ASGI_TAX_STEP
set to one of the steps below. A real deployment picks a whole stack with DJANGO_ASGI_STACK.
"""

import os

from async_native import middleware_in_place_of
from myproject.settings import *  # noqa: F403
from myproject.settings import MIDDLEWARE as DJANGOS_MIDDLEWARE

STEP = os.environ["BENCH_ASGI_TAX_STEP"]

# Django's handler in both steps: the package's handler (pooled request thread, signals' hops only
# when they have work, CSRF's process_view on the loop) is the step after them.
ASGI_STACK = "stock"
ASYNC_NATIVE_MIDDLEWARE = middleware_in_place_of(DJANGOS_MIDDLEWARE)

if STEP == "loop-middleware":
    # Security, Common, CSRF, XFrame and Messages on the loop, ServeStatic instead of WhiteNoise;
    # Session and Auth still Django's, so each still costs its hops.
    MIDDLEWARE = [
        native if native.rsplit(".", 1)[1] not in {"SessionMiddleware", "AuthenticationMiddleware"} else stock
        for native, stock in zip(ASYNC_NATIVE_MIDDLEWARE, DJANGOS_MIDDLEWARE, strict=True)
    ]
elif STEP == "loop-session-auth":
    MIDDLEWARE = ASYNC_NATIVE_MIDDLEWARE
else:
    raise ValueError(f"BENCH_ASGI_TAX_STEP must be loop-middleware or loop-session-auth, not {STEP!r}")
