"""Which URLs webhooks may call: public addresses only, unless allow-listed; https if required."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

import pytest

from adapters.webhooks_out.addresses import UrlPolicy, UrlRefused


def resolving_to(*addresses: str) -> UrlPolicy:
    def resolve(host: str, port: int) -> Sequence[str]:
        return addresses

    return UrlPolicy(require_https=True, resolver=resolve)


def test_a_public_address_is_the_target_connected_to() -> None:
    target = resolving_to("93.184.216.34").check("https://hooks.example.com:8443/in?x=1")
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com", 8443, "/in?x=1", "93.184.216.34"
    )  # fmt: skip


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254", "::1",
     "fe80::1", "fd00:ec2::254", "100.64.0.1", "0.0.0.0", "::ffff:127.0.0.1", "224.0.0.1"],  # noqa: S104
)  # fmt: skip
def test_a_host_resolving_to_a_non_public_address_is_refused(address: str) -> None:
    with pytest.raises(UrlRefused, match="public"):
        resolving_to(address).check("https://hooks.example.com/")


def test_one_non_public_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UrlRefused):
        resolving_to("93.184.216.34", "10.0.0.1").check("https://hooks.example.com/")


def test_an_allow_listed_network_may_be_called() -> None:
    policy = UrlPolicy(
        require_https=False, allowed_networks=(ipaddress.ip_network("127.0.0.1/32"),)
    )
    assert policy.check("http://127.0.0.1:9000/hooks").address == "127.0.0.1"
    with pytest.raises(UrlRefused):
        policy.check("http://127.0.0.2:9000/hooks")


def test_https_is_required_when_the_policy_says_so() -> None:
    with pytest.raises(UrlRefused, match="https"):
        resolving_to("93.184.216.34").check("http://hooks.example.com/")


@pytest.mark.parametrize(
    "url",
    ["ftp://hooks.example.com/", "https://user:pw@hooks.example.com/", "https:///path",
     "https://hooks.example.com:99999/", "https://hooks.example.com/" + "a" * 2000],
)  # fmt: skip
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused):
        resolving_to("93.184.216.34").check(url)


def test_a_host_that_does_not_resolve_is_refused() -> None:
    def fail(host: str, port: int) -> Sequence[str]:
        raise OSError("Name or service not known")

    with pytest.raises(UrlRefused, match="does not resolve"):
        UrlPolicy(resolver=fail).check("https://nowhere.invalid/")


def test_a_name_rebound_to_a_private_address_after_creation_is_refused_at_delivery() -> None:
    answers = [["93.184.216.34"], ["127.0.0.1"]]

    def rebinding(host: str, port: int) -> Sequence[str]:
        return answers.pop(0)

    policy = UrlPolicy(resolver=rebinding)
    assert policy.check("https://hooks.example.com/").address == "93.184.216.34"  # creation
    with pytest.raises(UrlRefused, match=r"127\.0\.0\.1"):
        policy.check("https://hooks.example.com/")  # delivery
