"""The outgoing webhooks' settings: production requires https, the allow-list is explicit."""

from __future__ import annotations

import ipaddress

import pytest

from entrypoints.config import ConfigError, Settings

PRODUCTION = {
    "HOURBOOK_ENV": "production", "HOURBOOK_SECRET_KEY": "s" * 40, "REDIS_URL": "redis://r",
    "STRIPE_API_KEY": "sk_x", "STRIPE_WEBHOOK_SECRET": "whsec_x",
    "HOURBOOK_METRICS_TOKEN": "t" * 32,
}  # fmt: skip


def test_production_requires_https_and_allows_no_private_network_by_default() -> None:
    hooks = Settings.from_env(PRODUCTION).webhooks
    assert hooks.require_https is True
    assert hooks.allowed_networks == ()


def test_development_allows_plain_http_but_still_no_private_network() -> None:
    hooks = Settings.from_env({}).webhooks
    assert hooks.require_https is False
    assert hooks.allowed_networks == ()


def test_the_defaults_retry_for_three_days_and_disable_after_five_dead_deliveries() -> None:
    hooks = Settings.from_env({}).webhooks
    assert (hooks.retry_base_seconds, hooks.retry_cap_seconds) == (30, 6 * 3600)
    assert (hooks.retry_window_hours, hooks.disable_after, hooks.timeout_seconds) == (72, 5, 10)


def test_allowed_networks_are_read_from_the_environment() -> None:
    hooks = Settings.from_env(
        {"HOURBOOK_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32, 10.1.2.0/24"}
    ).webhooks
    assert hooks.allowed_networks == (
        ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.1.2.0/24")
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value"),
    [("HOURBOOK_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.1/8"),
     ("HOURBOOK_WEBHOOK_ALLOWED_NETWORKS", "everything"),
     ("HOURBOOK_WEBHOOK_DISABLE_AFTER", "0"),
     ("HOURBOOK_WEBHOOK_RETRY_WINDOW_HOURS", "-1")],
)  # fmt: skip
def test_malformed_webhook_settings_refuse_to_start(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: value})


def test_the_worker_sends_webhooks_every_two_seconds_and_the_embedded_runner_every_second() -> None:
    from adapters.jobs import inline_runner, rq_tasks, tasks

    assert ("deliver_webhooks", 2) in rq_tasks.SCHEDULE
    assert (tasks.deliver_webhooks, 1) in inline_runner.PERIODIC
