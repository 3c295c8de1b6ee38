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
    """Each run of `after` with the run of `before` on the same server, probe, view, users and round."""
    pairs = []
    for probe in after.probes():
        for server in after.servers():
            for kind in ("sync", "async"):
                rows = after.where(probe=probe, server=server, view_kind=kind)
                for row in sorted(rows, key=lambda r: (r.users, r.round)):
                    base = before.one(
                        probe=probe, server=server, view_kind=kind, users=row.users, round=row.round
                    )
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
        return "Not measured in this run (it has no runs of the `no-middleware` variant)."
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
    rounds: dict[tuple[str, str, str, int], list[tuple[ResultRow, ResultRow]]] = defaultdict(list)
    for stock, native in paired_rows(summary.variant("stock"), summary.variant("async-native")):
        rounds[(native.server, native.probe, native.view_kind, native.users)].append((stock, native))
    rows = []
    for (server, probe, kind, users), pairs in rounds.items():
        stock_rps, native_rps = mean([s.rps for s, _ in pairs]), mean([n.rps for _, n in pairs])
        stock_cpu = mean([s.server_cpu_ms_per_request for s, _ in pairs])
        native_cpu = mean([n.server_cpu_ms_per_request for _, n in pairs])
        rows.append(
            [
                server,
                probe,
                kind,
                users,
                number(stock_rps),
                number(native_rps),
                ratio(native_rps, stock_rps) + _by_round([(s.rps, n.rps) for s, n in pairs]),
                f"{stock_cpu * 1000:,.0f}",
                f"{native_cpu * 1000:,.0f}",
                ratio(native_cpu, stock_cpu)
                + _by_round([(s.server_cpu_ms_per_request, n.server_cpu_ms_per_request) for s, n in pairs]),
            ]
        )
    if not rows:
        return "Not measured in this run (it has no runs of the `stock` and `async-native` variants)."
    header = ["server", "probe", "view", "users", "req/s stock", "req/s async-native", "req/s ratio"]
    header += ["CPU µs/req stock", "CPU µs/req async-native", "CPU ratio"]
    return (
        "Each ASGI server started with `DJANGO_ASGI_STACK=stock` (Django's own request handler and "
        "middleware) and with `DJANGO_ASGI_STACK=async-native` (the project's async-native middleware, "
        "ServeStatic and pooled request thread), alternately, in rounds; WSGI servers do not read the "
        "switch. Figures are means over the rounds; ratios are async-native ÷ stock, each round's own in "
        "brackets: above 1 for requests per second, below 1 for CPU per request, mean the async-native "
        "stack does better.\n\n" + table(header, rows)
    )


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def _by_round(pairs: list[tuple[float, float]]) -> str:
    if len(pairs) < 2:
        return ""
    return " (" + ", ".join(ratio(after, before) for before, after in pairs) + ")"
