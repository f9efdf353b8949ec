"""How values read in text, one way for the CLI and the app: durations, byte sizes, scores
and setting values."""

from __future__ import annotations

import math


def format_duration(seconds: float | None) -> str:
    """``m:ss`` (or ``h:mm:ss``); ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = int(round(seconds))
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_bytes(n: float | None) -> str:
    """``4.9 MB``, ``265 MB`` (powers of 1000, like the download sizes GroupLens shows; at
    most four digits, so a size fits a narrow column); ``?`` when unknown."""
    if n is None or n != n:
        return "?"
    size = float(n)
    units = ("B", "KB", "MB", "GB")
    unit = units[0]
    for unit in units:
        if abs(size) < 1000 or unit == units[-1]:
            break
        size /= 1000
    digits = 0 if unit == "B" or abs(size) >= 100 else 1
    return f"{size:.{digits}f} {unit}"


def format_count(n: int, noun: str) -> str:
    """``1 epoch``, ``2 epochs``, ``1,682 movies``: a count with its noun in the number's form
    (nouns that take an ``s``)."""
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def format_score(v: object, digits: int = 3) -> str:
    """A metric as ``0.734``; ``–`` when missing or not a finite number."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        return "–"
    return f"{float(v):.{digits}f}"


def format_value(v: object) -> str:
    """A setting's value as typed in a form or on a command line: ``true``, ``0.01``, ``64``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return f"{v:.12g}"
    return str(v)


def format_chosen(meta: dict) -> str:
    """What training chose for the data's shape (a model's ``meta["chosen"]``), in words:
    ``64 people per batch; negative phase over every movie (9,125); 2 replicas joined``
    (replicas only when more than one); ``""`` for a model
    trained before these were recorded."""
    chosen = meta.get("chosen") or {}
    parts = []
    if isinstance(chosen.get("batch_size"), int):
        parts.append(f"{chosen['batch_size']:,} people per batch")
    n = chosen.get("negative_movies")
    total = (meta.get("dataset") or {}).get("n_items")
    if isinstance(n, int):
        if n == total:
            parts.append(f"negative phase over every movie ({n:,})")
        else:
            parts.append(f"negative phase over {n:,} sampled movies per update")
    replicas = chosen.get("replicas")
    if isinstance(replicas, int) and replicas > 1:
        parts.append(f"{replicas} replicas joined")
    return "; ".join(parts)


def json_safe(x: object) -> object:
    """NaN/inf -> None, numpy scalars -> Python, recursively (JSON has no NaN)."""
    if isinstance(x, dict):
        return {str(k): json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        try:
            x = x.item()
        except (TypeError, ValueError):
            pass
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x
