"""Datasets: the catalogue (:mod:`.registry`), downloads (:mod:`.download`), imports
(:mod:`.importer`), zip safety (:mod:`.archive`) and atomic installs (:mod:`.install`).

Nothing here imports Textual or torch; the ratings loader is imported lazily (imports only).
"""

from engine.archive import check_zip, safe_extract
from engine.catalogue.download import MIRROR_ENV, download
from engine.catalogue.importer import import_dataset
from engine.catalogue.install import remove
from engine.catalogue.registry import (
    DatasetInfo,
    canonical_name,
    catalogue,
    default_dataset,
    demo_path,
    get,
    is_on_disk,
    local_path,
    names,
    resolve,
    short_name,
)

__all__ = [
    "MIRROR_ENV",
    "DatasetInfo",
    "canonical_name",
    "short_name",
    "catalogue",
    "check_zip",
    "default_dataset",
    "demo_path",
    "download",
    "get",
    "import_dataset",
    "is_on_disk",
    "local_path",
    "names",
    "remove",
    "resolve",
    "safe_extract",
]
