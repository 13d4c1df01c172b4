from gemsym.cli import main

raise SystemExit(main())
