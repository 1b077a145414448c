"""The synthetic extract generator: a model of NDTMS treatment records and the Police
National Computer, written as a delivery that meets the raw file contract (EXTRACTS.md),
with the truth it was drawn from beside it.

    config = SynthConfig.for_scale("demo")   # or "tiny", "national"; dataclasses.replace
    delivery_dir = generate_delivery(config, out=Path("data/landing"), seed=7)

Exports `SynthConfig`, `SCALES`, `generate_delivery`, `truth_dir`.
"""

from .config import SCALES, SynthConfig
from .delivery import generate_delivery, truth_dir

__all__ = ["SCALES", "SynthConfig", "generate_delivery", "truth_dir"]
