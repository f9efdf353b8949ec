"""Package data: the dataset catalogue and the bundled demo dataset."""

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent
