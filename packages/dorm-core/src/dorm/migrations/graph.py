"""The dependency graph of migrations across apps."""

from __future__ import annotations

from collections.abc import Iterable

from dorm.migrations.exceptions import MigrationError

__all__ = ["MigrationGraph", "Node"]

Node = tuple[str, str]


class MigrationGraph:
    """Nodes are ``(app_label, migration_name)``; an edge points from a migration to what it depends on."""

    def __init__(self) -> None:
        self.nodes: dict[Node, object] = {}
        self.parents: dict[Node, set[Node]] = {}
        self.children: dict[Node, set[Node]] = {}

    def add_node(self, key: Node, migration: object) -> None:
        self.nodes[key] = migration
        self.parents.setdefault(key, set())
        self.children.setdefault(key, set())

    def add_dependency(self, child: Node, parent: Node) -> None:
        if parent not in self.nodes:
            raise MigrationError(
                f"Migration {child[0]}.{child[1]} depends on {parent[0]}.{parent[1]}, which does not exist. "
                f"Fix the dependencies list of {child[1]}.py (or add the missing migration)."
            )
        self.parents[child].add(parent)
        self.children[parent].add(child)

    def _walk(self, start: Node, edges: dict[Node, set[Node]]) -> list[Node]:
        """Every node reachable from ``start`` (start included), dependencies first."""
        order: list[Node] = []
        seen: set[Node] = set()
        stack: list[tuple[Node, bool]] = [(start, False)]
        visiting: set[Node] = set()
        while stack:
            node, done = stack.pop()
            if done:
                visiting.discard(node)
                if node not in seen:
                    seen.add(node)
                    order.append(node)
                continue
            if node in seen:
                continue
            if node in visiting:
                raise MigrationError(f"Circular dependency between migrations at {node[0]}.{node[1]}")
            visiting.add(node)
            stack.append((node, True))
            for nxt in sorted(edges[node], reverse=True):
                if nxt not in seen:
                    stack.append((nxt, False))
        return order

    def forwards_plan(self, target: Node) -> list[Node]:
        """``target`` and everything it needs, dependencies first."""
        return self._walk(target, self.parents)

    def backwards_plan(self, target: Node) -> list[Node]:
        """``target`` and everything that needs it, dependents first."""
        # Walking the child edges appends the deepest dependents first.
        return self._walk(target, self.children)

    def leaf_nodes(self, app: str | None = None) -> list[Node]:
        leaves = [n for n in self.nodes if not any(c[0] == n[0] for c in self.children[n])]
        return sorted(n for n in leaves if app is None or n[0] == app)

    def root_nodes(self, app: str) -> list[Node]:
        return sorted(n for n in self.nodes if n[0] == app and not any(p[0] == app for p in self.parents[n]))

    def full_order(self, nodes: Iterable[Node] | None = None) -> list[Node]:
        """A topological order of every node (or of the given ones and what they need)."""
        order: list[Node] = []
        seen: set[Node] = set()
        for node in sorted(self.nodes if nodes is None else nodes):
            for n in self.forwards_plan(node):
                if n not in seen:
                    seen.add(n)
                    order.append(n)
        return order
