"""The person's taste beyond thumbs, as Browse's keys: marks ("not interested", "seen, no
opinion"), the watchlist, clear all, profiles, importing ratings and watching together.

:class:`TasteScreen` is the base of the Browse screen: it holds these actions and asks the
app's :class:`~engine.session.Session` (and :mod:`engine.together`); Browse supplies the
movie under the cursor (:meth:`TasteScreen.target_movie`) and its redraws
(:meth:`TasteScreen.thumbs_reloaded`, :meth:`TasteScreen.movie_changed`,
:meth:`TasteScreen.show_watchlist`). Every action changes the store in one transaction and
redraws once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.binding import Binding
from textual.content import Content

from engine.errors import RbmTuiError
from rbm_tui.screens.base import AppScreen, display_name
from rbm_tui.screens.dialogs import ConfirmDialog
from rbm_tui.screens.import_dialog import ImportDialog
from rbm_tui.screens.profiles import ProfilePicker, ProfilesDialog
from rbm_tui.widgets.likebar import thumb

if TYPE_CHECKING:
    from engine.taste import Imported

__all__ = [
    "PALETTE",
    "TASTE_ACTIONS",
    "TASTE_BINDINGS",
    "TasteScreen",
    "mine_cell",
    "palette_commands",
    "together_words",
]

_MARK = Binding.Group("Mark", compact=True)

#: Browse's keys for the person's taste (Browse lists them in its BINDINGS).
TASTE_BINDINGS = [
    Binding(
        "x", "mark('not_interested')", "Not interested", id="browse.not_interested", group=_MARK
    ),
    Binding("v", "mark('seen')", "Seen, no opinion", id="browse.seen", group=_MARK),
    Binding("w", "watch", "Watchlist +/-", id="browse.watch", group=_MARK),
    Binding("W", "watchlist", "Watchlist view", id="browse.watchlist", show=False),
    Binding("C", "clear_all", "Clear all my thumbs", id="browse.clear_all", show=False),
    Binding("p", "profiles", "Profiles", id="browse.profiles", show=False),
    Binding("t", "together", "Watch together", id="browse.together", show=False),
    Binding("i", "import_ratings", "Import ratings", id="browse.import", show=False),
]
#: Their action names (enabled once a dataset is loaded).
TASTE_ACTIONS = frozenset(b.action.split("(")[0] for b in TASTE_BINDINGS)
#: A line of the recommendations panel: (dataset index, match or None, words).
RecLine = tuple[int, float | None, str]
_MARK_WORDS = {"not_interested": "not interested", "seen": "seen, no opinion"}


def mine_cell(session: Any, i: int) -> Content:
    """The table's one-cell "yours" column for movie ``i``: the thumb (♥ ✗), else the mark
    (⊘ not interested, · seen), else + when it is on the watchlist."""
    if session is None:
        return Content("")
    liked = session.thumb(i)
    if liked is not None:
        return thumb(liked)
    item = session.item_id(i)
    mark = session.marks.get(item)
    if mark is not None:
        return Content.styled("⊘" if mark == "not_interested" else "·", "$text-muted")
    return Content.styled("+", "$accent") if item in session.watchlist else Content("")


def together_words(names: list[str], pick: Any) -> str:
    """A together pick's words: each person's match, and whose taste it came from."""
    each = " · ".join(f"{n} {round(100 * m)}%" for n, m in zip(names, pick.match))
    return f"{each} · from {names[pick.source]}"


class TasteScreen(AppScreen):
    """Browse's base: the taste actions. ``together_people`` is the people of the together
    list (None: the person's own recommendations); ``watch_only`` the watchlist view."""

    def __init__(self) -> None:
        super().__init__()
        self.together_people: list[str] | None = None
        self.watch_only = False

    # ------------------------------------------------------------ Browse's part
    @property
    def session(self) -> Any:
        """The app's :class:`~engine.session.Session`."""
        return self.rbm.session

    def target_movie(self) -> int | None:  # pragma: no cover - Browse's
        """The movie the keys act on (a dataset index)."""
        return None

    def movie_changed(self, i: int) -> None:  # pragma: no cover - Browse's
        """Redraw what a change of movie ``i`` changed."""

    def thumbs_reloaded(self) -> None:  # pragma: no cover - Browse's
        """Redraw the list and the scores once after many thumbs changed."""

    def show_watchlist(self, on: bool) -> None:  # pragma: no cover - Browse's
        """List only the watchlist (``on``) or the movies again."""

    def cursor_to(self, i: int) -> None:  # pragma: no cover - Browse's
        """Put the cursor on movie ``i`` when it is listed."""

    def listed_only(self) -> list[int]:
        """The movies a "mine" view lists: the watchlist's in the watchlist view, else the
        ones the person rated (dataset indices)."""
        s = self.session
        if s is None:
            return []
        if self.watch_only:
            return self.watchlist_indices()
        likes, dislikes = s.thumb_indices()
        return likes + dislikes

    # ------------------------------------------------------------------- undo
    def action_undo(self) -> None:
        """Undo the last step: a thumb, a mark, the watchlist, a clear all or an import."""
        s = self.session
        if s is None:
            return
        before = (dict(s.thumbs), dict(s.marks), set(s.watchlist))
        try:
            change = s.undo()
        except RbmTuiError as e:
            self.rbm.show_error("Cannot undo", str(e))
            return
        if change is None:
            self.notify("nothing to undo", timeout=2)
            return
        n = _differences(before, s)
        i = s.ratings.item_index.get(change.item_id)
        if n > 1 or i is None:
            self.thumbs_reloaded()
            self.notify(f"undone: {n} movies are as they were", timeout=2)
            return
        self.movie_changed(i)
        self.cursor_to(i)
        self.notify(f"undone: {self._title(i)} is {_state_words(change)} again", timeout=2)

    # ------------------------------------------------------------------ marks
    def action_mark(self, mark: str) -> None:
        """Mark the movie ``mark`` ("not_interested", "seen"); the same key again clears it."""
        i = self.target_movie()
        s = self.session
        if s is None or i is None:
            return
        new = None if s.marks.get(s.item_id(i)) == mark else mark
        if self._saved("Cannot save the mark", s.mark, i, new):
            self.movie_changed(i)
            what = "no longer marked" if new is None else f"marked {_MARK_WORDS[mark]}"
            self.notify(f"{self._title(i)}: {what} · z undoes it", timeout=2)

    def action_watch(self) -> None:
        """Put the movie on the watchlist, or take it off."""
        i = self.target_movie()
        s = self.session
        if s is None or i is None:
            return
        on = s.item_id(i) not in s.watchlist
        if self._saved("Cannot save the watchlist", s.set_watch, i, on):
            self.movie_changed(i)
            what = "on your watchlist" if on else "off your watchlist"
            self.notify(f"{self._title(i)}: {what}", timeout=2)

    def action_watchlist(self) -> None:
        """Toggle the watchlist view (only the movies on the watchlist)."""
        self.watch_only = not self.watch_only
        self.show_watchlist(self.watch_only)

    def watchlist_indices(self) -> list[int]:
        """Dataset indices of the movies on the watchlist (of this dataset)."""
        s = self.session
        if s is None:
            return []
        index = s.ratings.item_index
        return [i for i in map(index.get, s.watchlist) if i is not None]

    def _saved(self, title: str, what, *args) -> bool:
        """Run ``what(*args)`` (a store write); an engine error is shown, False returned."""
        try:
            what(*args)
        except RbmTuiError as e:
            self.rbm.show_error(title, str(e))
            return False
        return True

    def _title(self, i: int) -> str:
        return str(self.session.ratings.movies["title"].iat[i])

    # -------------------------------------------------------------- clear all
    def action_clear_all(self) -> None:
        """Clear every thumb of the profile on this dataset, after a confirmation."""
        s = self.session
        if s is None:
            return
        n = len(s.thumbs)
        if n == 0:
            self.notify("no thumbs to clear", timeout=2)
            return

        def answer(yes: bool | None) -> None:
            if yes and self._saved("Cannot clear the thumbs", s.clear_all):
                self.thumbs_reloaded()
                self.notify(f"cleared {n} thumbs of {s.profile} · z undoes it", timeout=3)

        where = display_name(self.rbm.dataset_name or "")
        question = (
            f"Clear all {n} thumbs of {s.profile} on {where}? Marks and the watchlist stay; "
            "z undoes it."
        )
        self.app.push_screen(ConfirmDialog("Clear all my thumbs?", question, "Clear all"), answer)

    # --------------------------------------------------------------- profiles
    def action_profiles(self) -> None:
        """The profiles dialog; the profile chosen becomes the one shown."""
        s = self.session
        if s is None or s.store is None:
            self.notify("profiles need your ratings store", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name is not None:
                self.switch_to(name)

        self.app.push_screen(ProfilesDialog(s.store, self.rbm.dataset_name), chosen)

    def switch_to(self, name: str) -> None:
        """Show profile ``name``'s thumbs (the store's active profile from now on)."""
        s = self.session
        if not self._saved("Cannot switch the profile", s.switch_profile, name):
            return
        if self.together_people is not None:
            known = set(s.store.profiles())
            if not set(self.together_people) <= known:
                self.together_people = None
        self.thumbs_reloaded()
        self.notify(f"{name}: {len(s.thumbs)} thumbs", title="Profile", timeout=2)

    # ----------------------------------------------------------------- import
    def action_import_ratings(self) -> None:
        """The import dialog; once the thumbs are in, the screen redraws once."""
        s = self.session
        if s is None or self.rbm.dataset_name is None:
            self.notify("choose a dataset first (1)", severity="warning")
            return
        self.app.push_screen(ImportDialog(s, self.rbm.dataset_name, self.imported))

    def imported(self, outcome: Imported) -> None:
        """An import ended: read the profile's thumbs again and redraw, once."""
        s = self.session
        if s is not None and outcome.profile == s.profile:
            self._saved("Cannot read your ratings", s.switch_profile, s.profile)
            self.thumbs_reloaded()

    # --------------------------------------------------------------- together
    def action_together(self) -> None:
        """Watch together: pick the people (on), or back to the person's own list (off)."""
        s = self.session
        if s is None:
            return
        if self.together_people is not None:
            self.together_people = None
            self.thumbs_reloaded()
            return
        if s.store is None or s.model is None:
            what = "a model (2 trains one)" if s.model is None else "your ratings store"
            self.notify(f"watching together needs {what}", severity="warning")
            return
        names = s.store.profiles()
        if len(names) < 2:
            self.notify("watching together needs two profiles: p, then n adds one", timeout=4)
            return

        def picked(people: list[str] | None) -> None:
            if people:
                self.together_people = people
                self.thumbs_reloaded()

        self.app.push_screen(ProfilePicker(names, [s.profile]), picked)

    def together_list(self, n: int, candidates=None) -> tuple[str, list[RecLine]] | None:
        """``(heading, [(dataset index, together match, words), ...])`` of the together
        list, or None when it is off (or cannot be made: then it goes off, and says why)."""
        people = self.together_people
        s = self.session
        if people is None or s is None:
            return None
        from engine.people import profile_sessions
        from engine.together import together

        try:
            sessions = profile_sessions(s.ratings, s.store, s.key, s.model, people)
            picks = together(sessions, n, candidates)
        except RbmTuiError as e:
            self.together_people = None
            self.notify(str(e), title="Watch together", severity="warning")
            return None
        lines: list[RecLine] = [(p.index, p.score, together_words(people, p)) for p in picks]
        return f"Together: {', '.join(people)} (t: back to yours)", lines


def _differences(before: tuple[dict, dict, set], s: Any) -> int:
    """How many movies' thumb, mark or watchlist flag differ between ``before`` (thumbs,
    marks, watchlist) and session ``s`` now."""
    thumbs, marks, watch = before
    items = set(thumbs) | set(s.thumbs) | set(marks) | set(s.marks) | (watch ^ s.watchlist)
    return sum(
        (thumbs.get(k), marks.get(k), k in watch)
        != (s.thumbs.get(k), s.marks.get(k), k in s.watchlist)
        for k in items
    )


def _state_words(change: Any) -> str:
    """What a movie is after an undo: on or off the watchlist, liked, disliked, marked, or
    not rated."""
    if change.watch_before != change.watch_after:
        return "on your watchlist" if change.watch_after else "off your watchlist"
    if change.after is not None:
        return "liked" if change.after else "disliked"
    if change.state_after in _MARK_WORDS:
        return f"marked {_MARK_WORDS[change.state_after]}"
    return "not rated"


#: The command palette's taste entries: (title, Browse action, help).
PALETTE = [
    (
        "Import ratings (IMDb, Letterboxd, MovieLens)",
        "import_ratings",
        "Read your ratings export into thumbs of the current profile",
    ),
    ("Profiles: switch, create, rename, delete", "profiles", "Several people, their own thumbs"),
    ("Clear all my thumbs", "clear_all", "Every thumb on this dataset, after asking (z undoes)"),
    ("Watch together", "together", "One list for two or more profiles"),
    ("Watchlist view", "watchlist", "Only the movies on your watchlist"),
]


def palette_commands(app: Any) -> list[tuple[str, Any, str]]:
    """The command palette's taste entries as ``(title, callback, help)``: each goes to
    Browse and runs its action there."""

    def command(action: str):
        async def run() -> None:
            if app.ratings is None:
                app.notify("choose a dataset first (1)", severity="warning")
                return
            if app.current_mode != "browse":
                await app.switch_mode("browse")
            screen = app.screen
            if isinstance(screen, TasteScreen):
                await screen.run_action(action)

        return run

    return [(title, command(action), words) for title, action, words in PALETTE]
