"""The environment's HTTP settings (proxy variables, requests' CA bundle variables), read once, in the main thread.

pytest sets and removes PYTEST_CURRENT_TEST in the main thread for every test. A thread that iterates os.environ
meanwhile fails with KeyError when that variable goes between the name and its value. urllib's proxy lookup does
iterate os.environ, and requests runs it for every request it sends. Requests sent ahead run in other threads,
so they use the settings read here instead, with requests' rules."""

from __future__ import annotations

import os
import urllib.request
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from requests.utils import address_in_network, is_ipv4_address, is_valid_cidr


@dataclass(frozen=True)
class HttpEnvironment:
    """Proxies by scheme (http_proxy, HTTPS_PROXY, all_proxy ...), no_proxy and the CA bundle requests would use."""

    proxies: dict[str, str] = field(default_factory=dict)
    no_proxy: str = ""
    ca_bundle: str | None = None

    @classmethod
    def read(cls) -> HttpEnvironment:
        """The settings of the environment now (call it where nothing changes the environment meanwhile)."""
        proxies = urllib.request.getproxies_environment()
        no_proxy = proxies.pop("no", "")
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None
        return cls(proxies, no_proxy, ca_bundle)

    def verify(self, verify: bool | str) -> bool | str:
        """What requests verifies TLS with: a bundle named in the environment replaces the default one."""
        return self.ca_bundle if verify is True and self.ca_bundle else verify

    def proxies_for(self, url: str) -> dict[str, str]:
        """The proxies requests would use for url (none when no_proxy names its host)."""
        if not self.proxies or self._bypasses(url):
            return {}
        return dict(self.proxies)

    def _bypasses(self, url: str) -> bool:
        """requests' no_proxy rules (requests.utils.should_bypass_proxies), on the settings read."""
        parsed = urlsplit(url)
        host = parsed.hostname
        if host is None:
            return True
        entries = [entry for entry in self.no_proxy.replace(" ", "").split(",") if entry]
        if is_ipv4_address(host):
            if any(address_in_network(host, entry) if is_valid_cidr(entry) else host == entry for entry in entries):
                return True
        else:
            with_port = f"{host}:{parsed.port}" if parsed.port else host
            for entry in (entry.lstrip(".") for entry in entries):
                if entry in (host, with_port) or host.endswith("." + entry) or with_port.endswith("." + entry):
                    return True
        # Then urllib's own rules ("*", a host with a port), as requests asks them last.
        return bool(urllib.request.proxy_bypass_environment(host, {"no": self.no_proxy} if self.no_proxy else {}))
