from hasim.cli import main

raise SystemExit(main())
