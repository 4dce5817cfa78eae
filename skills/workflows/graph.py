"""A workflow's nodes as a ``networkx.DiGraph``: cycles, order, what runs side by side, and
the critical path. Edges point from a dependency to the node that depends on it."""

from __future__ import annotations

from collections.abc import Mapping

import networkx as nx

from skills.workflows.spec import WorkflowSpec


class WorkflowGraph:
    def __init__(self, spec: WorkflowSpec) -> None:
        self.graph = nx.DiGraph()
        self.graph.add_nodes_from(node.id for node in spec.nodes)
        self.unknown_dependencies: list[tuple[str, str]] = []  # (node, the id it names)
        for node in spec.nodes:
            for dependency in node.depends_on:
                if dependency in self.graph:
                    self.graph.add_edge(dependency, node.id)
                else:
                    self.unknown_dependencies.append((node.id, dependency))

    def cycles(self) -> list[list[str]]:
        """Every elementary cycle, each as its path back to its start (``a, b, a``: b depends on
        a, a on b), started at its smallest id so the answer is the same every time."""
        found = []
        for cycle in nx.simple_cycles(self.graph):
            start = cycle.index(min(cycle))
            rotated = cycle[start:] + cycle[:start]
            found.append(rotated + [rotated[0]])
        return sorted(found, key=lambda path: (len(path), path))

    def upstream(self, node_id: str) -> set[str]:
        """Every node ``node_id`` waits for, directly or not."""
        return nx.ancestors(self.graph, node_id)

    def related(self, a: str, b: str) -> bool:
        """True when one of the two waits for the other, so they never run at the same time."""
        return a in self.upstream(b) or b in self.upstream(a)

    def generations(self) -> list[list[str]]:
        """Nodes in waves: each wave's nodes depend only on earlier waves' (acyclic graphs only)."""
        return [sorted(generation) for generation in nx.topological_generations(self.graph)]

    def order(self) -> list[str]:
        return [node for generation in self.generations() for node in generation]

    def critical_path(self, seconds: Mapping[str, float]) -> tuple[list[str], float]:
        """The chain of nodes that takes longest, given each node's own duration, and its length."""
        finish: dict[str, float] = {}
        previous: dict[str, str | None] = {}
        for node in self.order():
            before = max(self.graph.predecessors(node), key=lambda p: finish[p], default=None)
            finish[node] = (finish[before] if before else 0.0) + seconds.get(node, 0.0)
            previous[node] = before
        if not finish:
            return [], 0.0
        last: str | None = max(finish, key=lambda n: finish[n])
        total = finish[last]
        path = []
        while last is not None:
            path.append(last)
            last = previous[last]
        return path[::-1], total
