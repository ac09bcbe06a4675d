"""``python -m srcnn.study PHOTO --scale 3``: the same as ``python -m srcnn study``."""
from .walk import main

main()
