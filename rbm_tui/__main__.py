from rbm_tui.cli import main

raise SystemExit(main())
