"""Model files of older versions: one explicit upgrade step per format version.

Each step of :data:`UPGRADES` turns a version-``n`` header and its tensors into version
``n + 1``, in place; :func:`upgrade` runs them in order up to
:data:`engine.model.fileformat.FORMAT_VERSION`:

- 1: the calibration is a positional list of 4, 7, 8 or 9 weights;
- 2: the calibration is a ``{feature: weight}`` dict (:mod:`engine.model.calibration`);
- 3: an ``item_title_hashes`` tensor (the movies' titles, hashed) may be present, so that a
  model is not used on another catalogue whose movies share its IDs;
- 4: the dense ``lateral`` weights (movies²) and the stars' ``neighbour_*`` tensors are gone;
  the movie-to-movie part is sparse (``item_item_partners``, ``item_item_weights``, each
  movies × k, and the header's ``item_item_gamma``), and the calibration has a ``seen``
  feature in place of the neighbours one;
- 5: the calibration has a ``partners`` feature, and the header may hold the match's own
  ``match_calibration`` (fitted without it; absent or null: the calibration);
- 6: the header's ``rate_weight``, ``rate_prior`` and ``rate_share``: the person's own term
  of the like log-odds (:meth:`engine.model.rbm.RBM.like_offset`);
- 7: the file holds a ``checksum`` of its header and tensors (:mod:`engine.model.fileformat`),
  checked on load; older files have none and load without it.
"""

from __future__ import annotations

from collections.abc import Callable

from engine.errors import ModelError
from engine.model import calibration as cal
from engine.model.fileformat import FORMAT_VERSION


def _upgrade_v1(header: dict, blob: dict) -> None:
    """Version 1 -> 2: the positional calibration weights become named ones."""
    header["calibration"] = cal.from_positional(header["calibration"])


def _upgrade_v2(header: dict, blob: dict) -> None:
    """Version 2 -> 3: files may hold ``item_title_hashes``; older ones have none (the titles
    of their movies are unknown, so a check of the data they are used on skips them)."""


def _upgrade_v3(header: dict, blob: dict) -> None:
    """Version 3 -> 4: the dense lateral weights become the sparse movie-to-movie part (each
    movie keeps its 100 strongest partners, as :mod:`engine.model.itemitem` fits them; no
    per-person factor, as before); the neighbours tensors are dropped (their calibration
    weight with them) and the seen feature gets weight 0."""
    lateral = blob.pop("lateral", None)
    blob.pop("neighbour_items", None)
    blob.pop("neighbour_sims", None)
    if isinstance(header.get("calibration"), dict):
        header["calibration"] = cal.upgrade(header["calibration"])
    header["item_item_gamma"] = 0.0
    if lateral is not None:
        blob.update(_sparse_partners(lateral, header.get("n_items")))


def _sparse_partners(lateral, n) -> dict:
    """The dense ``lateral`` weights' 100 strongest partners of each movie (by size: a
    negative weight counts as much as a positive one; with n <= 101 movies every other movie
    stays a partner and the scores are unchanged)."""
    import torch

    fits = isinstance(lateral, torch.Tensor) and isinstance(n, int)
    if not fits or lateral.shape != (n, n):
        got = tuple(lateral.shape) if isinstance(lateral, torch.Tensor) else "none"
        raise ValueError(f"lateral has shape {got}, the header says ({n}, {n})")
    if lateral.dtype not in (torch.float32, torch.float64):
        raise ValueError(f"lateral is {lateral.dtype}, not float32 or float64")
    k = max(1, min(100, n - 1))
    pulls = lateral.float().T  # row j: the pulls on movie j
    idx = pulls.abs().topk(k, dim=1).indices
    return {
        "item_item_partners": idx.contiguous(),
        "item_item_weights": pulls.gather(1, idx).contiguous(),
    }


def _upgrade_v4(header: dict, blob: dict) -> None:
    """Version 4 -> 5: the calibration gains the partners feature, with weight 0 (the file's
    P(like) is unchanged)."""
    if isinstance(header.get("calibration"), dict):
        header["calibration"] = cal.upgrade(header["calibration"])


def _upgrade_v5(header: dict, blob: dict) -> None:
    """Version 5 -> 6: no person's own like term (weight 0: the file's log-odds are
    unchanged)."""
    header.update(rate_weight=0.0, rate_prior=0.0, rate_share=0.5)


def _upgrade_v6(header: dict, blob: dict) -> None:
    """Version 6 -> 7: the file has no checksum to check (version 7 files are checked before
    any upgrade, in :func:`engine.model.fileformat.verify_checksum`); nothing changes."""


#: ``{version: step}``: each step upgrades a header and its tensors, in place, by one version.
UPGRADES: dict[int, Callable[[dict, dict], None]] = {
    1: _upgrade_v1,
    2: _upgrade_v2,
    3: _upgrade_v3,
    4: _upgrade_v4,
    5: _upgrade_v5,
    6: _upgrade_v6,
}


def upgrade(path: object, header: dict, blob: dict) -> None:
    """Bring a header and its tensors up to :data:`FORMAT_VERSION`, one step per version
    (:class:`ModelError` for a version this rbm-tui cannot read or a step that fails)."""
    version = check_version(path, header)
    while version < FORMAT_VERSION:
        try:
            UPGRADES[version](header, blob)
        except (KeyError, TypeError, ValueError) as e:
            raise ModelError(
                f"{path}: cannot upgrade the model file from version {version} ({e})"
            ) from None
        version += 1
        header["format_version"] = version


def check_version(path: object, header: dict) -> int:
    """The header's format version, refused unless 1 to :data:`FORMAT_VERSION`."""
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version:
        version = None
    if version is None or version > FORMAT_VERSION:
        raise ModelError(
            f"{path}: model format version {header.get('format_version')!r} is not supported "
            f"(this rbm-tui reads versions 1 to {FORMAT_VERSION}; a newer rbm-tui wrote it?)"
        )
    return version
