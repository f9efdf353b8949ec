from rbm_tui.cli import entry

raise SystemExit(entry())
