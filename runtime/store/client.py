"""RegistryClient: HTTP to one registry repository, with auth, TLS and error mapping in one place.

The base URL is ``https://<host>``, or ``http://`` when ``insecure`` (a name written
``http://…`` needs ``insecure``: plain http is never chosen silently). TLS is always verified;
``ca_bundle`` (or ``$LLMRT_CA_BUNDLE``) adds a private CA to the system's. Registry credentials
are only sent to the registry's own origin, never to a storage host a blob redirects to.
"""

from __future__ import annotations

import contextlib
import os
import ssl
from collections.abc import Callable, Iterable, Iterator

import httpx

from ..errors import RegistryAuthError, RegistryError
from .auth import Authenticator, Credentials
from .names import Name
from .transfer import TransferOptions

Body = bytes | Callable[[], Iterable[bytes]] | None


def ssl_context(ca_bundle: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """The system trust store, plus ``ca_bundle`` (or ``$LLMRT_CA_BUNDLE``) if given."""
    ctx = ssl.create_default_context()
    extra = ca_bundle or os.environ.get("LLMRT_CA_BUNDLE")
    if extra:
        ctx.load_verify_locations(cafile=os.fspath(extra))
    return ctx


class RegistryClient:
    def __init__(self, name: Name, *, insecure: bool = False,
                 credentials: Credentials | None = None,
                 ca_bundle: str | os.PathLike[str] | None = None,
                 options: TransferOptions | None = None,
                 http: httpx.Client | None = None) -> None:
        if name.scheme == "http" and not insecure:
            raise RegistryError(f"{name.host} was named with http://; pass insecure=True to use "
                                "plain http")
        self.name = name
        self.options = options or TransferOptions()
        self.base = f"{'http' if insecure else 'https'}://{name.host}"
        self._own_http = http is None
        self.http = http or httpx.Client(
            verify=ssl_context(ca_bundle), follow_redirects=False,
            timeout=httpx.Timeout(self.options.stall_timeout,
                                  connect=self.options.connect_timeout),
            limits=httpx.Limits(max_connections=self.options.max_parts + 4))
        self.auth = Authenticator(self.http, name.host, credentials=credentials,
                                  insecure=insecure)

    def url(self, path: str) -> str:
        return f"{self.base}/v2/{self.name.repository}/{path}"

    def same_origin(self, url: str | httpx.URL) -> bool:
        u, base = httpx.URL(url), httpx.URL(self.base)
        return (u.scheme, u.host, u.port) == (base.scheme, base.host, base.port)

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- requests -------------------------------------------------------------------------------

    def send(self, method: str, url: str | httpx.URL, *, headers: dict[str, str] | None = None,
             body: Body = None, scope: str = "pull",
             stream: bool = False) -> httpx.Response:
        """One request, answering an auth challenge once. ``body`` is bytes or a factory of
        chunks (so it can be sent again after a challenge). Transport errors propagate as
        httpx errors (callers decide about retries); auth failures raise RegistryAuthError."""
        scope = f"repository:{self.name.repository}:{scope}"
        for attempt in range(2):
            hdrs = dict(headers or {})
            if self.auth.header and self.same_origin(url):
                hdrs["Authorization"] = self.auth.header
            content = body() if callable(body) else body
            request = self.http.build_request(method, url, headers=hdrs, content=content)
            response = self.http.send(request, stream=stream)
            if response.status_code != 401 or not self.same_origin(url):
                return response
            response.read()
            response.close()
            if attempt == 1 or not self.auth.answer(response, scope):
                break
        raise RegistryAuthError(f"{self.name.host} refused {method} {httpx.URL(url).path} "
                                "(401 unauthorized)")

    @contextlib.contextmanager
    def stream(self, method: str, url: str | httpx.URL, **kw: object) -> Iterator[httpx.Response]:
        response = self.send(method, url, stream=True, **kw)  # type: ignore[arg-type]
        try:
            yield response
        finally:
            response.close()


def error_for(response: httpx.Response, what: str) -> RegistryError:
    """A RegistryError carrying the status and the registry's own error message."""
    detail = ""
    try:
        response.read()
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            detail = "; ".join(f"{e.get('code', '')}: {e.get('message', '')}" for e in errors)
        elif isinstance(body, dict) and "error" in body:
            detail = str(body["error"])
    except (ValueError, httpx.HTTPError):
        detail = response.text[:200] if not response.is_stream_consumed else ""
    exc = RegistryAuthError if response.status_code in (401, 403) else RegistryError
    return exc(f"{what}: {response.status_code} {response.reason_phrase}"
               + (f" ({detail})" if detail else ""))


RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


def check_retryable(exc: httpx.TransportError, what: str) -> None:
    """Raise a RegistryError at once for failures a retry cannot fix (TLS verification)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            raise RegistryError(f"{what}: TLS failed ({cause}); for a private CA pass ca_bundle "
                                "or set LLMRT_CA_BUNDLE") from exc
        cause = cause.__cause__ or cause.__context__
