import sys

from streamer.report.cli import main

sys.exit(main())
