"""rbm-tui: the Textual app and the headless CLI."""

__version__ = "0.1.0"
