from hasim.cli.main import main

raise SystemExit(main())
