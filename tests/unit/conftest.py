from .module_harness import on_node1

# A fixture the module tests use.
__all__ = ["on_node1"]
