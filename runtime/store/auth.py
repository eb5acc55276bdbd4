"""Registry authentication.

On a 401 the registry's ``WWW-Authenticate`` challenge says what it wants:

* ``Bearer realm=…,service=…,scope=…``: a token from the realm, which may be on another host
  (Docker Hub, ghcr, Harbor), fetched with Basic credentials when we have some;
* ``Basic``: the credentials themselves.

Credentials come from the caller, else ``LLMRT_REGISTRY_USERNAME``/``LLMRT_REGISTRY_PASSWORD``
(for the registry being talked to), else the netrc file (``$NETRC`` or ``~/.netrc``) entry of the
host asked. A plain-http realm is only used when the transfer is ``insecure``.
"""

from __future__ import annotations

import base64
import netrc
import os
import re
from dataclasses import dataclass
from pathlib import Path

import httpx

from ..errors import RegistryAuthError, RegistryError


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str

    def basic(self) -> str:
        raw = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(raw).decode()


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str
    params: dict[str, str]


_CHALLENGE = re.compile(r"\s*([A-Za-z][A-Za-z0-9_-]*)\s*(.*)", re.S)
_PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)\s*,?')


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a ``WWW-Authenticate`` header."""
    m = _CHALLENGE.match(header or "")
    if m is None:
        return None
    params = {}
    for key, value in _PARAM.findall(m.group(2)):
        if value.startswith('"'):
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        params[key.lower()] = value
    return Challenge(m.group(1).lower(), params)


def netrc_credentials(host: str) -> Credentials | None:
    """The netrc entry for ``host`` (``host:port`` first, then the bare host name)."""
    path = Path(os.environ.get("NETRC") or Path.home() / ".netrc")
    try:
        entries = netrc.netrc(str(path))
    except (OSError, netrc.NetrcParseError):
        return None
    for machine in (host, host.rsplit(":", 1)[0]):
        found = entries.authenticators(machine)
        if found and found[0]:
            return Credentials(found[0], found[2] or "")
    return None


def env_credentials() -> Credentials | None:
    user = os.environ.get("LLMRT_REGISTRY_USERNAME")
    return Credentials(user, os.environ.get("LLMRT_REGISTRY_PASSWORD", "")) if user else None


class Authenticator:
    """Holds the Authorization header for one registry; answers its challenges."""

    def __init__(self, http: httpx.Client, registry_host: str, *,
                 credentials: Credentials | None = None, insecure: bool = False) -> None:
        self.http = http
        self.registry_host = registry_host
        self.insecure = insecure
        self.credentials = credentials or env_credentials()
        self.header: str | None = None
        self._tokens: dict[tuple[str, str, str], str] = {}

    def _creds_for(self, host: str) -> Credentials | None:
        return self.credentials or netrc_credentials(host)

    def answer(self, response: httpx.Response, scope: str) -> bool:
        """Update the header from a 401; False when there is nothing new to try."""
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return False
        old = self.header
        if challenge.scheme == "basic":
            creds = self._creds_for(self.registry_host)
            if creds is None:
                raise RegistryAuthError(f"{self.registry_host} wants a user name and password "
                                        "(LLMRT_REGISTRY_USERNAME/PASSWORD or ~/.netrc)")
            self.header = creds.basic()
        elif challenge.scheme == "bearer":
            self.header = "Bearer " + self._token(challenge, scope, refresh=old is not None)
        else:
            return False
        return self.header != old

    def _token(self, challenge: Challenge, scope: str, *, refresh: bool) -> str:
        realm = challenge.params.get("realm", "")
        url = httpx.URL(realm)
        if url.scheme not in ("http", "https") or not url.host:
            raise RegistryAuthError(f"token realm {realm!r} is not an http(s) URL")
        if url.scheme == "http" and not self.insecure:
            raise RegistryAuthError(f"token realm {realm} is plain http; use insecure to allow it")
        service = challenge.params.get("service", "")
        scope = challenge.params.get("scope", scope)
        key = (realm, service, scope)
        if key in self._tokens and not refresh:
            return self._tokens[key]
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        realm_host = url.host + (f":{url.port}" if url.port else "")
        creds = self._creds_for(realm_host)
        headers = {"Authorization": creds.basic()} if creds else {}
        try:
            r = self.http.get(url, params=params, headers=headers)
        except httpx.TransportError as exc:
            raise RegistryError(f"token service {realm} unreachable: {exc}") from exc
        if r.status_code in (401, 403):
            raise RegistryAuthError(f"token service {realm} refused us ({r.status_code})")
        if r.status_code != 200:
            raise RegistryError(f"token service {realm} answered {r.status_code}: {r.text[:200]}")
        try:
            body = r.json()
            token = body.get("token") or body.get("access_token")
        except ValueError:
            token = None
        if not isinstance(token, str) or not token:
            raise RegistryAuthError(f"token service {realm} sent no token")
        self._tokens[key] = token
        return token
