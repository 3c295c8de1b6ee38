"""METRICS_ALLOW_FROM is refused at start when it cannot be read, or would open /metrics to all."""

import pytest

from tests.myproject.fresh_settings import load_settings

# Each case imports the settings in a child Python, as a server process would at start-up.
pytestmark = pytest.mark.live


def test_metrics_allow_from_reads_a_comma_separated_list_of_networks():
    result = load_settings("settings.METRICS_ALLOW_FROM", METRICS_ALLOW_FROM="10.0.0.0/8, 172.29.80.0/24")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["10.0.0.0/8", "172.29.80.0/24"]'


@pytest.mark.parametrize(
    ("value", "message"),
    [("*", "not '*'"), ("10.0.0.0/33", "METRICS_ALLOW_FROM is not a list of networks")],
)
def test_an_unusable_metrics_allow_from_is_refused_naming_the_variable(value, message):
    result = load_settings("settings.METRICS_ALLOW_FROM", METRICS_ALLOW_FROM=value)

    assert result.returncode != 0
    assert "METRICS_ALLOW_FROM" in result.stderr
    assert message in result.stderr
