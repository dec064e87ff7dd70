"""componentize-py's entry module (the `app` in its command line): the
world's `rules` export, for the game in the project's `game.py`."""

from arcade_sdk.component import Rules  # noqa: F401
