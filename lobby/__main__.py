from lobby.cli import main

raise SystemExit(main())
