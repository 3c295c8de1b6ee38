"""This process's own metrics (the tests run one process, so prometheus-client keeps them in memory)."""

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
