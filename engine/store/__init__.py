"""The person's ratings store, in parts: the SQLite plumbing (:mod:`.db`), the schema and its
ordered migrations (:mod:`.schema`), repair of a damaged file (:mod:`.salvage`) and profiles
(:mod:`.profiles`). The store itself is :class:`engine.userstore.UserStore`.

Nothing here imports Textual or torch.
"""
