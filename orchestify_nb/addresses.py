"""Cloud metadata addresses: where a ``base_url`` must not point, whoever builds the provider.

A cloud VM's metadata service (``169.254.169.254`` and its kin) answers anyone on the machine
and hands out the instance's own credentials; a ``base_url`` pointing there, by mistake or
planted in a shared config, would send it our API key and headers, and lets a notebook be used
to read what the service returns. The config loader refuses such a URL at its line and the
providers refuse it when built in Python, both through ``metadata_address_problem`` (below
both, like ``redaction``). Names are compared as written, without DNS: a host name that
*resolves* to such an address is not caught here.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from urllib.parse import urlsplit

__all__ = ["ALLOW_OPTION", "metadata_address_problem"]

#: The provider setting that lets a base_url point at such an address anyway.
ALLOW_OPTION = "allow_metadata_address"

#: Host names of the metadata services (GCP, Azure, AWS/OpenStack aliases), compared lowercased
#: and without a trailing dot.
_METADATA_NAMES = frozenset(
    {
        "metadata.google.internal",
        "metadata.goog",
        "metadata",
        "metadata.azure.com",
        "instance-data",
        "instance-data.ec2.internal",
    }
)
#: Metadata addresses (the link-local ranges are refused whole besides): AWS/GCP/Azure/OpenStack's
#: and ECS's IPv4 ones, AWS's and GCP's IPv6 ones, Alibaba Cloud's, Azure's WireServer.
_METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(text)
    for text in (
        "169.254.169.254",
        "169.254.170.2",
        "fd00:ec2::254",
        "fd20:ce::254",
        "100.100.100.200",
        "168.63.129.16",
    )
)
#: What the C library reads as an IPv4 address besides dotted quads: ``2852039166``,
#: ``0xa9fea9fe``, ``0251.0376.0251.0376``, ``169.254.43518``. HTTP clients hand such a host
#: to the resolver, which accepts these spellings too.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def metadata_address_problem(url: str) -> str | None:
    """Why ``url`` must not receive a key (its host is a cloud metadata service or a
    link-local address, in any spelling), or ``None`` when it may."""
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return None  # not a URL at all: the URL checks say so
    if not host:
        return None
    if host in _METADATA_NAMES:
        return f"its host {host} is a cloud metadata service"
    address = _as_address(host)
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address in _METADATA_ADDRESSES:
        return f"its host is {address}, a cloud metadata address"
    if address.is_link_local:
        return f"its host is {address}, a link-local address (where cloud metadata services live)"
    return None


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.partition("%")[0])  # an IPv6 zone does not matter
    except ValueError:
        pass
    if _LEGACY_IPV4.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None
