"""Names a package exports from its modules, each imported when first used: `import nemo_fake`
(or loading the pytest plugin) costs nothing of the web stack until something needs it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping, MutableMapping


def lazy_exports(
    package: str, homes: Mapping[str, tuple[str, ...]], namespace: MutableMapping[str, object]
) -> Callable[[str], object]:
    """The module `__getattr__` of `package` (assign it: `__getattr__ = lazy_exports(...)`),
    whose exported names live in `homes` (module -> names): a name is imported from its module
    on first use, then kept in `namespace` (the package's globals) as an ordinary attribute."""
    home_of = {name: module for module, names in homes.items() for name in names}

    def find(name: str) -> object:
        home = home_of.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value
        return value

    return find


def listing(namespace: Mapping[str, object], exported: Collection[str]) -> Callable[[], list[str]]:
    """The module `__dir__` of a package with lazy exports: its globals and every exported name,
    imported yet or not."""
    return lambda: sorted({*namespace, *exported})
