"""The report's comparisons: the headline figures, and each variant set against what it changes.

Each one sets two measurements of the same run side by side and states the figures and their
ratio; reading them is left to the reader (and to docs/results.md).
"""

from __future__ import annotations

from collections import defaultdict

from loadtests.report_tables import number, ratio, table
from loadtests.results_csv import ResultRow, Summary, wait_seconds

HEADLINE_USERS = 200


def headline_section(summary: Summary) -> str:
    """The figures the two interfaces are most often argued about, from the `default` variant."""
    lines = _waiting_lines(summary)
    fanout_lines = []
    for server in summary.servers():
        for kind in ("sync", "async"):
            row = summary.one(probe="fanout", server=server, view_kind=kind, users=1)
            if row:
                fanout_lines.append(f"{server} {kind} {number(row.p50_ms)} ms")
    if fanout_lines:
        lines.append(
            "- **fanout?n=5&ms=50, one user, p50**: "
            + "; ".join(fanout_lines)
            + " (one wait takes 50 ms, five in a row 250 ms)."
        )
    for probe in ("hello", "cpu"):
        best = {}
        for interface in ("wsgi", "asgi"):
            rows = summary.where(probe=probe, interface=interface)
            if rows:
                best[interface] = max(rows, key=lambda row: row.rps)
        if len(best) == 2:
            wsgi, asgi = best["wsgi"], best["asgi"]
            winner, loser = (wsgi, asgi) if wsgi.rps >= asgi.rps else (asgi, wsgi)
            lines.append(
                f"- **{probe}, best of each interface**: WSGI {wsgi.server} {wsgi.view_kind} "
                f"{number(wsgi.rps)} req/s @{wsgi.users}, ASGI {asgi.server} {asgi.view_kind} "
                f"{number(asgi.rps)} req/s @{asgi.users}: {winner.interface.upper()} ahead by "
                f"{winner.rps / loser.rps:.2f}x."
            )
    for server in summary.servers():
        lines += _blocking_lines(summary, server)
    return "\n".join(lines) if lines else "The probes these comparisons need were not part of this run."


def _waiting_lines(summary: Summary) -> list[str]:
    sleep_async = summary.one(probe="sleep", server="uvicorn", view_kind="async", users=HEADLINE_USERS)
    sleep_sync = summary.one(probe="sleep", server="gunicorn-sync", view_kind="sync", users=HEADLINE_USERS)
    hello = summary.one(probe="hello", server="uvicorn", view_kind="async", users=HEADLINE_USERS)
    if not (sleep_async and sleep_sync):
        return []
    times = sleep_async.rps / sleep_sync.rps if sleep_sync.rps else float("inf")
    lines = [
        f"- **sleep?ms=100 at {HEADLINE_USERS} users, Uvicorn async vs Gunicorn sync workers `def`**: "
        f"{number(sleep_async.rps)} vs {number(sleep_sync.rps)} req/s = **{times:.1f}x**."
    ]
    wait = wait_seconds(sleep_async.url)
    if hello and wait:
        littles_law = HEADLINE_USERS / wait
        bound = min(littles_law, hello.rps)
        lines.append(
            f"- **…and against its ceiling**: min(Little's law {HEADLINE_USERS} ÷ {wait:g} s = "
            f"{littles_law:,.0f}, Uvicorn's own async hello at {HEADLINE_USERS} users = {number(hello.rps)}) "
            f"= {number(bound)} req/s; reached **{sleep_async.rps / bound:.0%}**."
        )
    return lines


def _blocking_lines(summary: Summary, server: str) -> list[str]:
    lines = []
    blocking = summary.one(probe="blocking", server=server)
    sleeping = (
        summary.one(probe="sleep", server=server, view_kind="async", users=blocking.users)
        if blocking
        else None
    )
    if blocking and sleeping:
        lines.append(
            f"- **blocking on {server}, {blocking.users} users**: `time.sleep` in the async view "
            f"{number(blocking.rps)} req/s, p50 {number(blocking.p50_ms)} ms; "
            f"`await asyncio.sleep` {number(sleeping.rps)} req/s, p50 {number(sleeping.p50_ms)} ms."
        )
    neighbour = summary.one(probe="sleep-next-to-blocking", server=server)
    alone = (
        summary.one(probe="sleep", server=server, view_kind="async", users=neighbour.users)
        if neighbour
        else None
    )
    if neighbour and alone:
        lines.append(
            f"- **async sleep next to one blocking user on {server}, {neighbour.users} users**: "
            f"p50 {number(alone.p50_ms)} → {number(neighbour.p50_ms)} ms, "
            f"p99 {number(alone.p99_ms)} → {number(neighbour.p99_ms)} ms, "
            f"{number(alone.rps)} → {number(neighbour.rps)} req/s."
        )
    return lines


def paired_rows(before: Summary, after: Summary) -> list[tuple[ResultRow, ResultRow]]:
    """Each run of `after` with the run of `before` on the same server, probe, view and users."""
    pairs = []
    for probe in after.probes():
        for server in after.servers():
            for kind in ("sync", "async"):
                for row in sorted(
                    after.where(probe=probe, server=server, view_kind=kind), key=lambda r: r.users
                ):
                    base = before.one(probe=probe, server=server, view_kind=kind, users=row.users)
                    if base is not None:
                        pairs.append((base, row))
    return pairs


def middleware_section(summary: Summary) -> str:
    """The `default` variant against `no-middleware`: what Django's middleware costs each interface."""
    rows = []
    by_interface: dict[str, list[float]] = defaultdict(list)
    for full, bare in paired_rows(summary.variant("default"), summary.variant("no-middleware")):
        cost = full.server_cpu_ms_per_request - bare.server_cpu_ms_per_request
        if full.probe == "hello":  # the same probe on every server, so the interfaces compare like for like
            by_interface[full.interface].append(round(cost, 2))
        rows.append(
            [
                full.probe,
                full.server,
                full.interface,
                full.view_kind,
                full.users,
                number(full.rps),
                number(bare.rps),
                ratio(bare.rps, full.rps),
                f"{full.server_cpu_ms_per_request:.2f}",
                f"{bare.server_cpu_ms_per_request:.2f}",
                f"{cost:+.2f}",
            ]
        )
    if not rows:
        return "Not measured in this run (the `no-middleware` variant was not selected)."
    averages = ", ".join(
        f"**{interface.upper()}: {sum(costs) / len(costs):.2f} ms of server CPU per request**"
        for interface, costs in sorted(by_interface.items())
    )
    header = ["probe", "server", "interface", "view", "users", "req/s full", "req/s none"]
    header += ["speed-up without", "CPU ms/req full", "CPU ms/req none", "middleware cost"]
    return (
        "The same probe with the project's full middleware stack and with none "
        "(`DJANGO_BENCHMARK_WITHOUT_MIDDLEWARE=1`, which keeps only the async-native X-Interface header); "
        "the cost is the difference in server CPU per request.\n\n"
        + table(header, rows)
        + f"\n\nAverage cost of the middleware stack on `hello`: {averages}."
    )


def stack_section(summary: Summary) -> str:
    """`stock` against `async-native`: the two ASGI request stacks, per server, as ratios."""
    rows = [
        [
            native.server,
            native.probe,
            native.view_kind,
            native.users,
            number(stock.rps),
            number(native.rps),
            ratio(native.rps, stock.rps),
            f"{stock.server_cpu_ms_per_request * 1000:,.0f}",
            f"{native.server_cpu_ms_per_request * 1000:,.0f}",
            ratio(native.server_cpu_ms_per_request, stock.server_cpu_ms_per_request),
        ]
        for stock, native in paired_rows(summary.variant("stock"), summary.variant("async-native"))
    ]
    if not rows:
        return "Not measured in this run (the `stock` and `async-native` variants were not selected)."
    header = ["server", "probe", "view", "users", "req/s stock", "req/s async-native", "req/s ratio"]
    header += ["CPU µs/req stock", "CPU µs/req async-native", "CPU ratio"]
    return (
        "Each ASGI server started twice, back to back: with `DJANGO_ASGI_STACK=stock` (Django's own "
        "request handler and middleware) and with `DJANGO_ASGI_STACK=async-native` (the project's "
        "async-native middleware, ServeStatic and pooled request thread). WSGI servers do not read the "
        "switch. Ratios are async-native ÷ stock: above 1 for requests per second, below 1 for CPU per "
        "request, mean the async-native stack does better.\n\n" + table(header, rows)
    )
