"""The sync engine: ``run_sync`` (prepare -> plan -> apply, page by page) and the scheduler around it."""

from app.sync.engine import run_sync
from app.sync.runs import close_interrupted_runs
from app.sync.scheduler import SyncScheduler

__all__ = ["SyncScheduler", "close_interrupted_runs", "run_sync"]
