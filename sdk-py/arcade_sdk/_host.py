"""Host services (wit `arcade:game/host`) as plain functions. Inside a
component ``arcade_sdk.component`` points them at the host; natively (the
test harness) they use a local splitmix64 stream, the host's algorithm, so
tests see the same dice as the server."""

import sys
from enum import Enum

_MASK = (1 << 64) - 1


class LogLevel(Enum):
    DEBUG = 0
    INFO = 1
    WARN = 2
    ERROR = 3


class _Native:
    def __init__(self):
        self.state = 0

    def seed(self, seed: int):
        self.state = seed & _MASK

    def random_u64(self) -> int:
        self.state = (self.state + 0x9E3779B97F4A7C15) & _MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        return z ^ (z >> 31)

    def log(self, level: LogLevel, message: str):
        print(f"[plugin {level.name}] {message}", file=sys.stderr)


_backend = _Native()


def _install(backend):
    """Replace the native stream and log (the component does, with the host's)."""
    global _backend
    _backend = backend


def _seed(seed: int):
    """A new room: the native stream restarts from its seed (the host seeds
    its own)."""
    _backend.seed(seed)


def random_u64() -> int:
    """The next value of the room's deterministic random stream."""
    return _backend.random_u64()


def random_below(n: int) -> int:
    """A uniformly distributed index in ``range(n)`` (n > 0) from the room
    stream, as the Rust SDK's ``random_below``."""
    return random_u64() % n


def log(level: LogLevel, message: str):
    """A line in the host's log (never shown to players)."""
    _backend.log(level, message)
