"""Step 3, compare: each test's outcome in the stock run against the substituted run, every
difference listed test by test, and the line that sums both runs up."""

from collections import Counter
from typing import Any


def differences(stock: dict[str, str], substituted: dict[str, str]) -> list[tuple[str, str, str]]:
    """(test id, stock outcome, substituted outcome) for each test that ended differently or ran in
    one run only."""
    return [
        (test_id, stock.get(test_id, "not run"), substituted.get(test_id, "not run"))
        for test_id in sorted(stock.keys() | substituted.keys())
        if stock.get(test_id) != substituted.get(test_id)
    ]


def tally(outcomes: dict[str, str]) -> str:
    counts = Counter(outcome.split(":")[0] for outcome in outcomes.values())
    return "/".join(f"{count} {outcome}" for outcome, count in sorted(counts.items()))


def summary(stock: dict[str, str], substituted: dict[str, str]) -> str:
    tests = len(stock.keys() | substituted.keys())
    found = len(differences(stock, substituted))
    return f"{tests} tests, stock: {tally(stock)}, substituted: {tally(substituted)}, differences: {found}"


def report(version: str, runs: dict[str, dict[str, Any]]) -> int:
    """Print what each run cost, every difference with what each run said of it, and the summary;
    the exit status: 1 if any test ended differently."""
    stock, substituted = runs["stock"]["outcomes"], runs["substituted"]["outcomes"]

    print(f"\n==== Django {version}'s tests: stock against substituted ====")
    for variant, run in runs.items():
        print(f"{variant}: {run['wall_seconds']:.0f} s wall, {run['cpu_seconds']:.0f} CPU s")
    for test_id, stock_outcome, substituted_outcome in differences(stock, substituted):
        print(f"DIFFERENT {test_id}\n  stock:       {stock_outcome}\n  substituted: {substituted_outcome}")
        for variant, run in runs.items():
            if test_id in run["details"]:
                print(f"  {variant} said: {run['details'][test_id]}")
    print(summary(stock, substituted))
    return 1 if differences(stock, substituted) else 0
