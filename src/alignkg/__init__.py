"""alignkg: measure how closely two states are aligned.

``alignkg.stages_frame()``, ``alignkg.events_frame()`` and ``alignkg.sources_frame()``
give the exports as pandas DataFrames (see :mod:`alignkg.frames`); pandas is imported
only when one of them is first used, so ``import alignkg`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = ["events_frame", "knowledge_graph", "sources_frame", "stages_frame"]

if TYPE_CHECKING:
    from alignkg.frames import events_frame, knowledge_graph, sources_frame, stages_frame
else:
    # Hidden from type checkers, which see the imports above instead; a module
    # __getattr__ would otherwise let any misspelt ``alignkg.x`` pass as ``object``.

    def __getattr__(name: str) -> object:
        if name in __all__:
            from alignkg import frames

            return getattr(frames, name)
        raise AttributeError(f"module 'alignkg' has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted([*globals(), *__all__])
