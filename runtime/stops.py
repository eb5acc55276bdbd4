"""Stop strings matched across piece boundaries; text that might start a stop is held back."""

from __future__ import annotations


class StopMatcher:
    def __init__(self, stops: list[str]) -> None:
        self.stops = [s for s in stops if s]
        self._held = ""

    def push(self, text: str) -> tuple[str, bool]:
        """Add generated text; return (text safe to emit, whether a stop string was hit)."""
        if not self.stops:
            return text, False
        buf = self._held + text
        hit = min((i for s in self.stops if (i := buf.find(s)) >= 0), default=-1)
        if hit >= 0:
            self._held = ""
            return buf[:hit], True
        keep = 0
        for s in self.stops:
            for n in range(min(len(s) - 1, len(buf)), keep, -1):
                if buf.endswith(s[:n]):
                    keep = n
                    break
        self._held = buf[len(buf) - keep:] if keep else ""
        return buf[: len(buf) - keep], False

    def flush(self) -> str:
        """Held-back text, released when generation ends without a stop."""
        held, self._held = self._held, ""
        return held
