"""Stateful local simulators of every vendor API, and the runner that serves them together.

The runner is imported lazily (``from app.sandbox.runner import start_sandbox``) so that
importing one simulator does not import the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from app.sandbox.runner import Sandbox, main, run_sandbox, start_sandbox

__all__ = ["Sandbox", "main", "run_sandbox", "start_sandbox"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from app.sandbox import runner

        return getattr(runner, name)
    raise AttributeError(name)
