"""Scripts for the checkout, run from the repository root as ``python -m tools.<name>``: the app's
benchmark and load test, the 2018 checkpoint converter, the photo sets and the Space deploy."""
