"""Detection: indicators declared once, compiled to SQL, scored with explanations."""

from sentinelle.detect.catalogue import Catalogue, Indicator, load_catalogue
from sentinelle.detect.run import DetectionRun, detect

__all__ = ["Catalogue", "DetectionRun", "Indicator", "detect", "load_catalogue"]
