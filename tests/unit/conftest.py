from .module_harness import on_node1  # noqa: F401  (a fixture the module tests use)
