"""componentize-py looks for the exported `room` resource as the class
`Room` in a module named after its interface, `rules`."""

from arcade_sdk.component import Room  # noqa: F401
