"""`python -m ndgrad`: see ndgrad.demo."""
import sys

from .demo import main

sys.exit(main())
