"""``python -m arcade_sdk build PROJECT -o OUT.wasm``: a game project (its
``game.py``) built into a component with componentize-py.

``--stub-wasi``: the component imports nothing but ``arcade:game/host``
(the standard library's WASI calls are stubbed inside it), which is all
the server links. ``--raw`` builds a project that implements the WIT
bindings itself (its own ``app.py`` and ``rules.py``) instead of the SDK's.
"""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

SDK_ROOT = Path(__file__).resolve().parent.parent


def componentize_py() -> str:
    beside = Path(sys.executable).parent / "componentize-py"
    if beside.exists():
        return str(beside)
    found = shutil.which("componentize-py")
    if not found:
        sys.exit("componentize-py is not installed: pip install componentize-py==0.25.1")
    return found


def build(project: Path, out: Path, wit: Path, raw: bool) -> int:
    if not raw and not (project / "game.py").is_file():
        sys.exit(f"{project}: no game.py (the module with the @export Game)")
    paths = [project] if raw else [project, SDK_ROOT, SDK_ROOT / "glue"]
    command = [componentize_py(), "-d", str(wit), "-w", "game", "componentize", "--stub-wasi"]
    for path in paths:
        command += ["-p", str(path)]
    command += ["app", "-o", str(out)]
    return subprocess.run(command, cwd=project).returncode


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m arcade_sdk", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="build a project's game.py into a component")
    b.add_argument("project", type=Path, nargs="?", default=Path("."))
    b.add_argument("-o", "--out", type=Path, required=True)
    b.add_argument(
        "--wit",
        type=Path,
        default=Path(os.environ.get("ARCADE_WIT", SDK_ROOT.parent / "wit" / "arcade.wit")),
        help="the contract (default: wit/arcade.wit beside the SDK)",
    )
    b.add_argument("--raw", action="store_true", help="the project has its own app.py and rules.py")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    return build(args.project.resolve(), out, args.wit.resolve(), args.raw)


if __name__ == "__main__":
    sys.exit(main())
