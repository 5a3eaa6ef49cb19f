"""Where the vendors' published specs and samples live: ``../shared/vendor-specs`` beside the
repository (as on every developer machine and in CI), or ``$PASSERELLE_VENDOR_SPECS``."""

from __future__ import annotations

import os
from pathlib import Path

VENDOR_SPECS = Path(
    os.environ.get("PASSERELLE_VENDOR_SPECS") or Path(__file__).resolve().parents[2] / "shared" / "vendor-specs"
)
SAMPLES = VENDOR_SPECS / "samples"
