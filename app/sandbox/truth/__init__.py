"""The sandbox's ground truth: what the hub should hold, derived from the simulators' own state.

``compare(store, sandbox, connectors)`` lists every difference between the hub's live
unified records and that truth; ``format_differences`` renders them for an assertion.
"""

from app.sandbox.truth.compare import SANDBOX_VENDOR, compare, ground_truth
from app.sandbox.truth.model import Difference, DifferenceKind, TruthRecord, format_differences

__all__ = [
    "SANDBOX_VENDOR",
    "Difference",
    "DifferenceKind",
    "TruthRecord",
    "compare",
    "format_differences",
    "ground_truth",
]
