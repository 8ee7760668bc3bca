"""The composition root: wires core, adapters, API and workers into processes."""
