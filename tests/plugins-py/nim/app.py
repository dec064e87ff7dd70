from wit_world import exports
from wit_world.imports import types


class Rules(exports.Rules):
    def info(self) -> types.GameInfo:
        return types.GameInfo("py-nim", "0.1.0", "Nim for two, in Python: the last stone wins", 2, 2, 0)
