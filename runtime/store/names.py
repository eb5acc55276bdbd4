"""Model names as Ollama parses them: ``[scheme://][host/][namespace/]model[:tag]``.

Missing parts take Ollama's defaults (``registry.ollama.ai``, ``library``, ``latest``). A part is
1-80 characters (a host up to 350) of ``[A-Za-z0-9_.-]`` starting with ``[A-Za-z0-9_]``; a
namespace has no ``.``; only a host may hold ``:`` (its port). So no valid part is empty, ``.``,
``..`` or holds a ``/``: a name can never address a path outside the store. Lookup ignores case
(``Name.key``); the parts keep the case they were written with.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import InvalidName

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_PART = r"[A-Za-z0-9_][A-Za-z0-9_.\-]{0,79}"
_VALID = {
    "host": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-:]{0,349}"),
    "namespace": re.compile(r"[A-Za-z0-9_][A-Za-z0-9_\-]{0,79}"),
    "model": re.compile(_PART),
    "tag": re.compile(_PART),
}


@dataclass(frozen=True, slots=True)
class Name:
    """A complete model name. Build one with :func:`parse_name`."""

    host: str
    namespace: str
    model: str
    tag: str
    #: ``http`` only when the name was written ``http://…``; the store path never includes it.
    scheme: str = field(default="https", compare=False)

    def __str__(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def parts(self) -> tuple[str, str, str, str]:
        return (self.host, self.namespace, self.model, self.tag)

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The case-insensitive identity: two names with equal keys are the same model."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    @property
    def repository(self) -> str:
        """``namespace/model``: the repository path a registry knows this model by."""
        return f"{self.namespace}/{self.model}"

    def display_shortest(self) -> str:
        """Ollama's ``DisplayShortest``: default host and namespace dropped, tag always kept."""
        if self.host.lower() != DEFAULT_HOST:
            return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"
        if self.namespace.lower() != DEFAULT_NAMESPACE:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.model}:{self.tag}"


def parse_name(text: str) -> Name:
    """Parse and fill a name; raise :class:`InvalidName` naming the bad part."""
    if not isinstance(text, str) or not text:
        raise InvalidName("a model name is required")
    scheme = "https"
    rest = text
    if "://" in rest:
        scheme, rest = rest.split("://", 1)
        if scheme not in ("http", "https"):
            raise InvalidName(f"invalid model name {text!r}: unknown scheme {scheme!r}")
    tag = DEFAULT_TAG
    if rest.rfind(":") > rest.rfind("/"):
        rest, tag = rest.rsplit(":", 1)
    pieces = rest.split("/")
    if len(pieces) == 1:
        host, namespace, model = DEFAULT_HOST, DEFAULT_NAMESPACE, pieces[0]
    elif len(pieces) == 2:
        host, (namespace, model) = DEFAULT_HOST, pieces
    else:
        host, namespace, model = "/".join(pieces[:-2]), pieces[-2], pieces[-1]
    for kind, value in (("host", host), ("namespace", namespace), ("model", model),
                        ("tag", tag)):
        if not _VALID[kind].fullmatch(value):
            raise InvalidName(f"invalid model name {text!r}: bad {kind} {value!r}")
    return Name(host, namespace, model, tag, scheme)


def is_valid_name(text: str) -> bool:
    try:
        parse_name(text)
    except InvalidName:
        return False
    return True
