import sys

from scaleboard.cli import main

sys.exit(main())
