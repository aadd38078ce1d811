"""The implementation under test, and how to put other code in its place.

Every comparison reads the NumPy side through ``ctx.impl`` (``scratch`` by default), e.g.
``ctx.impl.activations.sigmoid`` or ``ctx.impl.layers.Linear``. :func:`with_overrides` builds an
implementation that is ``scratch`` except for the names given, so a user's function, layer or
optimizer — or a deliberately broken one in the tests — runs through exactly the same comparisons.
"""

from __future__ import annotations

import difflib
from types import ModuleType, SimpleNamespace


def _namespace_of(module: ModuleType) -> SimpleNamespace:
    return SimpleNamespace(**{k: v for k, v in vars(module).items() if not k.startswith("__")})


def with_overrides(overrides: dict, base=None) -> SimpleNamespace:
    """A copy of ``base`` (default ``scratch``) with dotted names replaced.

    >>> impl = with_overrides({"activations.sigmoid": my_sigmoid})
    >>> impl.activations.sigmoid is my_sigmoid
    True

    The base's submodules are copied into namespaces, so ``scratch`` itself is never modified.
    A name the base does not have is an error (with the closest name suggested): a misspelled
    override would otherwise leave the base's object under test. ``impl.__replaced__`` lists the
    names replaced, and the implementation's ``__name__`` says so (the report prints it).
    """
    if base is None:
        import scratch as base
    impl = SimpleNamespace(__name__=f"{getattr(base, '__name__', 'impl')} with overrides",
                           **{k: v for k, v in vars(base).items() if not k.startswith("__")})
    for dotted, obj in overrides.items():
        parts = dotted.split(".")
        if len(parts) != 2:
            raise ValueError(f"override names are 'submodule.name', e.g. 'activations.sigmoid'; got {dotted!r}")
        sub, name = parts
        if not hasattr(impl, sub):
            raise ValueError(f"the implementation has no submodule {sub!r}; it has "
                             f"{sorted(k for k, v in vars(impl).items() if isinstance(v, (ModuleType, SimpleNamespace)))}")
        space = getattr(impl, sub)
        if not hasattr(space, name):
            names = [k for k in vars(space) if not k.startswith("_")]
            close = difflib.get_close_matches(name, names, n=1)
            raise ValueError(f"the implementation's {sub} has no {name!r}"
                             + (f"; did you mean {sub}.{close[0]}?" if close else f"; it has {sorted(names)}"))
        if isinstance(space, ModuleType):
            space = _namespace_of(space)
            setattr(impl, sub, space)
        setattr(space, name, obj)
    impl.__replaced__ = sorted(overrides)
    impl.__name__ = f"{getattr(base, '__name__', 'impl')} with {', '.join(impl.__replaced__)} replaced"
    return impl
