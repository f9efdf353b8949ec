"""Ratings data: the sparse :class:`~engine.data.ratings.Ratings` table, the loaders that read
MovieLens and CSV files into it (:mod:`.loaders` with :mod:`.sources`, :mod:`.parsing`,
:mod:`.movies`), its parse cache (:mod:`.cache`), splits (:mod:`.splits`), the per-person form
training reads (:mod:`.likes`) and the pairs files of ``rbm-tui predict`` (:mod:`.pairs`)."""
