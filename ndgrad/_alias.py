"""`import torch` answered by ndgrad: the import hook behind `ndgrad run` and `ndgrad.use_as_torch()`.

While the alias is on (only inside the process that turned it on; nothing is installed), a finder at the
front of ``sys.meta_path`` resolves ``torch``, ``torch.*`` and ``torchvision*`` to ndgrad's modules,
reprs and class modules read ``torch.`` as PyTorch's do (``torch.Size([3])``, ``<class 'torch.Tensor'>``),
and a name ndgrad lacks raises an error naming it. Plain ``import ndgrad`` keeps ``ndgrad.``.

This file sits at the bottom of the package (stdlib imports only): _dtype and _printing read
`PUBLIC` to spell reprs, and modules raise `missing(...)` for names they lack.
"""
from __future__ import annotations

import sys
import types
from importlib.machinery import ModuleSpec
from typing import Any

# The package name reprs use for ndgrad's objects: "ndgrad", or "torch" while the alias is on.
PUBLIC = "ndgrad"

# The PyTorch release whose API ndgrad follows: `torch.__version__` under the alias.
TORCH_API_VERSION = "2.13.0"

# Each torch-family top-level name and the ndgrad package that answers it (None: not provided).
# Longest ndgrad names first, so `ndgrad.vision.x` maps back to `torchvision.x`, not `torch.vision.x`.
FAMILY: dict[str, str | None] = {"torchvision": "ndgrad.vision", "torch": "ndgrad",
                                 "torchaudio": None, "torchtext": None, "torchdata": None, "functorch": None}

_active = False
_renamed: dict[type, str] = {}           # class -> its __module__ before the alias renamed it
_injected: list[types.ModuleType] = []   # modules given a missing-name __getattr__
_wrapped_getattr: dict[types.ModuleType, Any] = {}
_saved_modules: dict[str, types.ModuleType] = {}  # real torch modules set aside while the alias is on
_proxy: types.ModuleType | None = None
_finder: "_Finder | None" = None


def active() -> bool:
    """Whether `import torch` currently resolves to ndgrad in this process."""
    return _active


def public_name(name: str) -> str:
    """An ndgrad module name as the running program spells it ('ndgrad.nn' -> 'torch.nn' under the alias)."""
    if not _active:
        return name
    for top, pkg in FAMILY.items():
        if pkg is not None and (name == pkg or name.startswith(pkg + ".")):
            return top + name[len(pkg):]
    return name


def ndgrad_name(name: str) -> str | None:
    """The ndgrad module behind a torch-family module name ('torch.nn' -> 'ndgrad.nn'); None if unmapped."""
    top, dot, rest = name.partition(".")
    pkg = FAMILY.get(top)
    return None if pkg is None else pkg + dot + rest


def missing(module: str, name: str, obj: Any = None) -> AttributeError:
    """The AttributeError for a name a module lacks; under the alias it says what ndgrad does not implement."""
    if _active:
        msg = f"ndgrad does not implement {public_name(module)}.{name} yet"
    else:
        msg = f"module '{module}' has no attribute '{name}'"
    return AttributeError(msg, name=name, obj=obj)


def set_module(module: str, *objs: Any) -> None:
    """Give public classes (and functions) the module PyTorch reports for them, e.g. 'ndgrad.nn.modules.batchnorm'."""
    for obj in objs:
        obj.__module__ = module
        if _active and isinstance(obj, type):
            _rename(obj)


# ---------------------------------------------------------------------------------------------------------
# renaming classes and marking missing names in ndgrad's modules
# ---------------------------------------------------------------------------------------------------------
def _rename(cls: type) -> None:
    mod = cls.__dict__.get("__module__")
    if isinstance(mod, str) and (mod == "ndgrad" or mod.startswith("ndgrad.")):
        new = public_name(mod)
        if new != mod:
            _renamed.setdefault(cls, mod)
            cls.__module__ = new


def _adopt(module: types.ModuleType) -> None:
    """Rename the classes of one loaded ndgrad module and give it the alias's missing-name error."""
    for value in list(vars(module).values()):
        if isinstance(value, type):
            _rename(value)
    if module in _wrapped_getattr or module in _injected:
        return
    own = vars(module).get("__getattr__")
    if own is None:
        module.__getattr__ = _missing_getattr(module)  # type: ignore[attr-defined]
        _injected.append(module)
    elif not getattr(own, "_ndgrad_alias", False):
        _wrapped_getattr[module] = own
        module.__getattr__ = _missing_getattr(module, own)  # type: ignore[attr-defined]


def _missing_getattr(module: types.ModuleType, own: Any = None) -> Any:
    modname = module.__name__

    def __getattr__(name: str) -> Any:
        if own is not None:
            try:
                return own(name)
            except AttributeError as e:
                if not (e.name == name or str(e).endswith(f"attribute '{name}'")):
                    raise
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(f"module '{modname}' has no attribute '{name}'", name=name, obj=module)
        raise missing(modname, name, module) from None
    __getattr__._ndgrad_alias = True  # type: ignore[attr-defined]
    return __getattr__


def _loaded_ndgrad_modules() -> list[types.ModuleType]:
    return [m for n, m in list(sys.modules.items())
            if isinstance(m, types.ModuleType) and (n == "ndgrad" or n.startswith("ndgrad."))]


# ---------------------------------------------------------------------------------------------------------
# the import hook
# ---------------------------------------------------------------------------------------------------------
class _AliasLoader:
    """Loads `torch.x` as the existing module `ndgrad.x` (the same object: identity is kept)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._spec: Any = None

    def create_module(self, spec: ModuleSpec) -> types.ModuleType:
        import importlib
        if self.target == "ndgrad":
            return _torch_module()
        module = importlib.import_module(self.target)
        self._spec = module.__spec__
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        # the import system set module.__spec__ to the alias's spec: give ndgrad's module its own back
        if self._spec is not None:
            module.__spec__ = self._spec


class _AdoptingLoader:
    """Wraps the loader of an ndgrad module imported while the alias is on, to rename its classes."""

    def __init__(self, loader: Any) -> None:
        self._loader = loader

    def create_module(self, spec: ModuleSpec) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self._loader.exec_module(module)
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        if _active:
            _adopt(module)

    def __getattr__(self, name: str) -> Any:  # get_source, get_resource_reader, ... of the real loader
        return getattr(self._loader, name)


class _Finder:
    """sys.meta_path entry: torch-family names -> ndgrad modules; ndgrad's own modules get adopted."""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top == "ndgrad":
            return self._adopting_spec(fullname, path, target) if fullname != "ndgrad" else None
        if top not in FAMILY:
            return None
        real = ndgrad_name(fullname)
        if real == "ndgrad":
            return ModuleSpec(fullname, _AliasLoader(real), is_package=True)
        spec = None
        if real is not None:
            import importlib.util
            try:
                spec = importlib.util.find_spec(real)
            except ModuleNotFoundError as e:
                if not (e.name and real.startswith(e.name)):
                    raise
        if spec is None:
            raise ModuleNotFoundError(f"ndgrad does not implement {fullname} yet", name=fullname)
        return ModuleSpec(fullname, _AliasLoader(real), is_package=spec.submodule_search_locations is not None)

    def _adopting_spec(self, fullname: str, path: Any, target: Any) -> ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _AdoptingLoader(spec.loader)
                return spec
        return None


class _TorchModule(types.ModuleType):
    """`torch` under the alias: its own name and version; every other attribute is ndgrad's."""

    def __getattr__(self, name: str) -> Any:
        import ndgrad
        if name == "__all__":
            return [n for n in dir(ndgrad) if not n.startswith("_")]
        return getattr(ndgrad, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__") and name.endswith("__"):
            super().__setattr__(name, value)
        else:
            import ndgrad
            setattr(ndgrad, name, value)

    def __delattr__(self, name: str) -> None:
        import ndgrad
        delattr(ndgrad, name)

    def __dir__(self) -> list[str]:
        import ndgrad
        return sorted(set(dir(ndgrad)) | set(vars(self)))


def _torch_module() -> types.ModuleType:
    global _proxy
    if _proxy is None:
        import ndgrad
        from .torch_version import TorchVersion
        m = _TorchModule("torch", ndgrad.__doc__)
        m.__file__ = ndgrad.__file__
        m.__path__ = list(ndgrad.__path__)
        m.__package__ = "torch"
        m.__spec__ = ModuleSpec("torch", _AliasLoader("ndgrad"), is_package=True)
        m.__loader__ = m.__spec__.loader
        m.__version__ = TorchVersion(TORCH_API_VERSION)
        _proxy = m
    return _proxy


def _is_family(name: str) -> bool:
    return name.partition(".")[0] in FAMILY


def enable() -> None:
    """Turn the alias on in this process (idempotent). See `ndgrad.use_as_torch`."""
    global _active, _finder, PUBLIC
    if _active:
        return
    import ndgrad  # noqa: F401  (the proxy and the renaming need the package loaded)
    real = {n: m for n, m in sys.modules.items() if _is_family(n)}
    if real:
        import warnings
        warnings.warn("use_as_torch(): PyTorch was already imported; names bound to it before this call still "
                      "refer to PyTorch", RuntimeWarning, stacklevel=3)
        for n in real:
            del sys.modules[n]
        _saved_modules.update(real)
    _active = True
    PUBLIC = "torch"
    for module in _loaded_ndgrad_modules():
        _adopt(module)
    _finder = _Finder()
    sys.meta_path.insert(0, _finder)
    sys.modules["torch"] = _torch_module()
    _patch_spawn()


def disable() -> None:
    """Turn the alias off: `torch` is PyTorch again (when installed) and reprs say `ndgrad.`."""
    global _active, _finder, PUBLIC
    if not _active:
        return
    _active = False
    PUBLIC = "ndgrad"
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    _finder = None
    for n in [n for n in sys.modules if _is_family(n)]:
        del sys.modules[n]
    sys.modules.update(_saved_modules)
    _saved_modules.clear()
    for cls, mod in _renamed.items():
        cls.__module__ = mod
    _renamed.clear()
    for module in _injected:
        vars(module).pop("__getattr__", None)
    _injected.clear()
    for module, own in _wrapped_getattr.items():
        module.__getattr__ = own  # type: ignore[attr-defined]
    _wrapped_getattr.clear()


def _patch_spawn() -> None:
    """Processes started with the 'spawn' or 'forkserver' method re-import the program's __main__ in a
    fresh interpreter: turn the alias on there too before anything imports torch."""
    import os
    try:
        from multiprocessing import spawn
    except ImportError:  # pragma: no cover - platforms without multiprocessing
        return
    if getattr(spawn.get_command_line, "_ndgrad_alias", False):
        return
    original = spawn.get_command_line
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def get_command_line(**kwds: Any) -> list[str]:
        cmd = list(original(**kwds))
        if _active and "-c" in cmd:
            i = cmd.index("-c") + 1
            cmd[i] = f"import sys; sys.path.insert(0, {root!r}); import ndgrad._alias as _a; _a.enable(); {cmd[i]}"
        return cmd
    get_command_line._ndgrad_alias = True  # type: ignore[attr-defined]
    spawn.get_command_line = get_command_line
