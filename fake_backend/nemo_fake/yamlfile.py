"""Reading YAML documents (scenario files, cassettes): safe, and with libyaml's parser when
PyYAML was built with it, which reads a scenario file in a tenth of the pure-Python parser's
time (collecting the scenario catalogue took 0.2 s of every test process)."""

from __future__ import annotations

import yaml

Loader = type[yaml.SafeLoader] | type[yaml.CSafeLoader]
LOADER: Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str, loader: Loader = LOADER) -> tuple[object, yaml.Node | None]:
    """The document (None when empty) and its node tree, whose marks give line numbers, from
    one parse. A malformed document raises `yaml.YAMLError`, with a `problem_mark`: the
    pure-Python parser's, which quotes the line and points at the column (libyaml's does
    not), so a document libyaml refuses is parsed again by it."""
    reader = loader(text)
    try:
        node = reader.get_single_node()
        return (None if node is None else reader.construct_document(node)), node
    except yaml.YAMLError:
        if loader is yaml.SafeLoader:
            raise
        return parse(text, yaml.SafeLoader)
    finally:
        reader.dispose()


def load(text: str) -> object:
    """The document alone."""
    return parse(text)[0]
