"""The life cycle of every change the embedded AWS makes to moto.

A patch is a record: what it replaces (dotted paths), the moto versions it was written and
checked against, the upstream issue (or None: not reported upstream), what it fixes, and how to
install it. Installing goes through a Patcher that keeps every original, so a patch can be
uninstalled again (the canaries in tests/unit/test_moto_patches.py run moto without it and
show the original bug is still there).

moto is pinned exactly because these patches lean on its private names and argument
positions. The pin alone fails far from the cause when it moves: a replaced method that was
renamed is silently never called, a parameter that moved hands a patch the wrong value. So the
runtime refuses to start on a moto version the registry does not know, naming the patches to
re-check, and at install checks that every target still exists with the parameters a patch
depends on.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import inspect
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from arcadeflow.aws.interceptor import Forward, Interceptor
from arcadeflow.commands import CommandError

PatchKind = Literal["fix", "speed", "interceptor"]


class MotoPatchError(CommandError):
    """The runtime cannot patch this moto: the message says which patch and why."""


class UnsupportedMotoVersion(MotoPatchError):
    pass


class PatchTargetChanged(MotoPatchError):
    pass


class Patcher:
    """Replaces attributes of moto's modules and classes, keeping each original for restore()."""

    def __init__(self) -> None:
        # (owner, attribute, whether the owner itself defined it, its own value)
        self._saved: list[tuple[Any, str, bool, Any]] = []

    def replace(self, owner: Any, attribute: str, value: Any) -> Any:
        """Sets owner.attribute = value; returns what owner.attribute was (possibly inherited)."""
        own = vars(owner)
        previous = getattr(owner, attribute, None)
        self._saved.append((owner, attribute, attribute in own, own.get(attribute)))
        setattr(owner, attribute, value)
        return previous

    @property
    def replaced(self) -> list[tuple[Any, str, bool, Any]]:
        """(owner, attribute, whether the owner itself defined it, its own original value)."""
        return list(self._saved)

    def restore(self) -> None:
        for owner, attribute, was_own, value in reversed(self._saved):
            if was_own:
                setattr(owner, attribute, value)
            else:
                delattr(owner, attribute)  # it was inherited: uncover the inherited one again
        self._saved.clear()


@dataclass(frozen=True)
class MotoPatch:
    name: str
    fixes: str
    # "getmoto/moto#10076", or None when the bug is not reported upstream.
    upstream: str | None
    # Exact moto versions this patch was written for and checked against.
    moto_versions: tuple[str, ...]
    # Dotted paths of what it replaces (or, for an interceptor, of the moto code it routes around).
    targets: tuple[str, ...]
    kind: PatchKind
    # Replaces moto internals through the Patcher (kinds "fix" and "speed").
    apply: Callable[[Patcher], None] | None = None
    # Builds the request interceptor (kind "interceptor"), given the way on to moto.
    interceptor: Callable[[Forward], Interceptor] | None = None
    # Target -> the parameter names the patch relies on, in order (it passes or reads by position).
    signatures: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if (self.kind == "interceptor") != (self.interceptor is not None) or (
            self.kind != "interceptor" and self.apply is None
        ):
            raise ValueError(f"patch {self.name}: an interceptor builds one; other kinds apply")


def resolve(dotted: str) -> Any:
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = dotted.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return value
    raise ImportError(dotted)


def installed_moto_version() -> str:
    return importlib.metadata.version("moto")


def parameter_names(function: Any) -> tuple[str, ...]:
    return tuple(inspect.signature(function).parameters)


class Registry:
    def __init__(self, patches: tuple[MotoPatch, ...]):
        names = [p.name for p in patches]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"patch names registered twice: {sorted(duplicates)}")
        self.patches = patches
        self._by_name = {p.name: p for p in patches}
        self._installed: dict[str, Patcher] = {}

    def __iter__(self) -> Iterator[MotoPatch]:
        return iter(self.patches)

    def get(self, name: str) -> MotoPatch:
        return self._by_name[name]

    @property
    def known_versions(self) -> frozenset[str]:
        """The moto versions every patch was written for."""
        versions = [set(p.moto_versions) for p in self.patches]
        return frozenset(set.intersection(*versions)) if versions else frozenset()

    def check_version(self, version: str | None = None) -> None:
        version = version or installed_moto_version()
        unchecked = [p for p in self.patches if version not in p.moto_versions]
        if not unchecked:
            return
        lines = "\n".join(
            f"  - {p.name} ({p.kind}, written for moto {', '.join(p.moto_versions)}): {p.fixes}"
            for p in unchecked
        )
        raise UnsupportedMotoVersion(
            f"moto {version} is installed, but the embedded AWS's moto patches were written for moto "
            f"{', '.join(sorted(self.known_versions)) or '(none in common)'}. Install the version in "
            f"pyproject.toml, or re-check these patches against moto {version} (run their canaries in "
            f"tests/unit/test_moto_patches.py) and add it to their moto_versions:\n{lines}"
        )

    def check_targets(self, patch: MotoPatch) -> None:
        for target in patch.targets:
            try:
                resolve(target)
            except (ImportError, AttributeError) as exc:
                raise PatchTargetChanged(
                    f"moto patch {patch.name}: its target {target} no longer exists in moto "
                    f"{installed_moto_version()} ({exc}); the patch must be re-written or removed"
                ) from exc
        for target, expected in patch.signatures.items():
            found = parameter_names(resolve(target))
            if found != expected:
                raise PatchTargetChanged(
                    f"moto patch {patch.name}: {target} takes ({', '.join(found)}) in moto "
                    f"{installed_moto_version()}, but the patch relies on ({', '.join(expected)})"
                )

    def is_installed(self, name: str) -> bool:
        return name in self._installed

    def patcher(self, name: str) -> Patcher:
        """The Patcher of an installed patch: what it replaced."""
        return self._installed[name]

    def install(self, name: str) -> None:
        """Installs one replacing patch (idempotent)."""
        patch = self.get(name)
        if patch.apply is None:
            raise ValueError(f"patch {name} is an interceptor: the embedded AWS's front installs it")
        if name in self._installed:
            return
        self.check_targets(patch)
        patcher = Patcher()
        try:
            patch.apply(patcher)
        except Exception:
            patcher.restore()
            raise
        self._installed[name] = patcher

    def uninstall(self, name: str) -> None:
        patcher = self._installed.pop(name, None)
        if patcher is not None:
            patcher.restore()

    def install_all(self, interceptors: list[Interceptor], forward: Forward) -> None:
        """What the runtime calls once at start: refuses an unknown moto before changing anything,
        installs every replacing patch, and appends every interceptor to the front's list."""
        self.check_version()
        for patch in self.patches:
            if not self.is_installed(patch.name):  # an installed one's targets are its own now
                self.check_targets(patch)
        for patch in self.patches:
            if patch.interceptor is not None:
                interceptors.append(patch.interceptor(forward))
            else:
                self.install(patch.name)

    def uninstall_all(self) -> None:
        for name in reversed(list(self._installed)):
            self.uninstall(name)

    @contextmanager
    def installed(self, name: str) -> Iterator[None]:
        """The patch installed for the duration; as it was found afterwards."""
        was = self.is_installed(name)
        self.install(name)
        try:
            yield
        finally:
            if not was:
                self.uninstall(name)

    @contextmanager
    def uninstalled(self, name: str) -> Iterator[None]:
        """moto without the patch for the duration; as it was found afterwards."""
        was = self.is_installed(name)
        self.uninstall(name)
        try:
            yield
        finally:
            if was:
                self.install(name)
