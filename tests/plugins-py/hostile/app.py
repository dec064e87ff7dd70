from wit_world import exports
from wit_world.imports import types


class Rules(exports.Rules):
    def info(self) -> types.GameInfo:
        return types.GameInfo("py-hostile", "0.1.0", "Test fixture: misbehaves on request", 1, 2, 0)
