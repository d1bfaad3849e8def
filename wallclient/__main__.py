from wallclient.cli import main

raise SystemExit(main())
