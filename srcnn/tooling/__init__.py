"""Tooling around the product path: training data, the training loop, evaluation against the
papers, model cards and publishing, benchmarks and the docs' figures. Imports the product path
(srcnn.*); nothing in the product path imports this."""
