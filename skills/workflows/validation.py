"""Checking a workflow before anything runs, every problem at once, and its plan.

Problems: the spec's shape, the inputs, dependencies on unknown nodes, every cycle (as its
path), unknown skills and workflows, sub-workflows that include themselves, references to
nodes that are not upstream or to outputs a skill does not declare, ``when`` conditions that
no input can make true, each node's parameters once the known template values are filled in
(the target skill's own dry run decides: one verdict, one code path), and two nodes working
in the same folder that could run at the same time.

The plan: the generations (which nodes run side by side), each node's own dry run (files,
commands, planned outputs) chained through one pretending workspace so a node sees what its
upstream nodes would have created, and an estimate along the critical path. The workflow
flow runs the same check first, so the API's verdict and the run's are the same.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from skills.catalog import SkillCatalog
from skills.definition import SkillDefinition
from skills.errors import UnknownSkillError, UserMessageError
from skills.parameters import validate_parameters
from skills.planning import WireModel, plan_skill
from skills.workflows.expressions import UNKNOWN, Condition, Reference, Scope, render, template_references
from skills.workflows.graph import WorkflowGraph
from skills.workflows.library import UnknownWorkflowError, WorkflowLibrary
from skills.workflows.spec import InvalidWorkflowSpecError, NodeSpec, WorkflowSpec, parse_workflow
from skills.workspace import Workspace

ProblemKind = Literal[
    "invalid_spec", "invalid_input", "cycle", "unknown_skill", "unknown_workflow", "recursion",
    "unknown_reference", "unknown_output", "invalid_parameters", "unreachable", "shared_target",
]
# Enough to decide a condition over booleans and selects by trying every combination.
_MAX_COMBINATIONS = 4096


class Problem(WireModel):
    kind: ProblemKind
    message: str
    node_id: str | None = None
    field: str | None = None


class NodePlan(WireModel):
    skill: str | None = None
    workflow: str | None = None
    generation: int
    depends_on: list[str]
    will_run: bool | None  # None: decided at run time (its condition needs an upstream output)
    skip_reason: str | None = None
    approval: bool = False
    for_each: bool = False
    items: int | None = None  # how many runs a for_each node makes, when known
    target: str | None = None
    files: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    outputs: Any = None  # planned; None where only the run will know
    estimated_seconds: float | None = None


class WorkflowPlan(WireModel):
    generations: list[list[str]]
    nodes: dict[str, NodePlan]
    critical_path: list[str]
    estimated_seconds: float


class WorkflowValidation(WireModel):
    valid: bool
    problems: list[Problem]
    plan: WorkflowPlan | None = None
    inputs: dict[str, Any] = Field(default_factory=dict, exclude=True)  # validated values
    spec: WorkflowSpec | None = Field(default=None, exclude=True)


@dataclass
class ValidationContext:
    """What a check needs beyond the spec; one pretending workspace shared by every dry run."""

    catalog: SkillCatalog
    library: WorkflowLibrary
    workspace_root: Path
    level: str = "expert"
    persona: str = "full-stack"
    including: tuple[str, ...] = ()  # the workflows that include this one, outermost first
    workspace: Workspace = field(init=False)

    def __post_init__(self) -> None:
        self.workspace = Workspace(self.workspace_root, pretend=True)

    def inside(self, workflow_id: str) -> ValidationContext:
        nested = ValidationContext(
            self.catalog, self.library, self.workspace_root, self.level, self.persona, (*self.including, workflow_id)
        )
        nested.workspace = self.workspace  # the sub-workflow's dry runs see the parent's files
        return nested


def validate_workflow(source: str | dict[str, Any] | WorkflowSpec, inputs: Any, context: ValidationContext) -> WorkflowValidation:
    try:
        spec = source if isinstance(source, WorkflowSpec) else parse_workflow(source)
    except InvalidWorkflowSpecError as invalid:
        problems = [Problem(kind="invalid_spec", field=where, message=reason) for where, reason in invalid.problems]
        return WorkflowValidation(valid=False, problems=problems)
    return _Validator(spec, context).run(inputs)


class _Validator:
    def __init__(self, spec: WorkflowSpec, context: ValidationContext) -> None:
        self.spec = spec
        self.context = context
        self.graph = WorkflowGraph(spec)
        self.problems: list[Problem] = []
        self.runs: dict[str, SkillDefinition | WorkflowSpec] = {}  # what each node runs, when known

    def run(self, raw_inputs: Any) -> WorkflowValidation:
        inputs = self._check_inputs(raw_inputs)
        for node_id, missing in self.graph.unknown_dependencies:
            self._problem("unknown_reference", f"depends on {missing!r}, which is not a node of this workflow",
                          node_id, f"nodes.{node_id}.depends_on")
        cycles = self.graph.cycles()
        for cycle in cycles:
            self._problem("cycle", f"cycle: {' -> '.join(cycle)}", cycle[0], f"nodes.{cycle[0]}.depends_on")
        for node in self.spec.nodes:
            self._check_runnable(node)
        for node in self.spec.nodes:
            self._check_references(node)
        plan = None if cycles else _Planner(self, inputs).plan()
        if plan is not None:
            self._check_shared_targets(plan)
        return WorkflowValidation(valid=not self.problems, problems=self.problems, plan=plan, inputs=inputs, spec=self.spec)

    def _problem(self, kind: ProblemKind, message: str, node_id: str | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(kind=kind, message=message, node_id=node_id, field=field))

    def _check_inputs(self, raw: Any) -> dict[str, Any]:
        validation = validate_parameters(self.spec.input_definition(), raw if raw is not None else {})
        for issue in validation.issues:
            self._problem("invalid_input", f"{issue.reason}" + (f" ({issue.hint})" if issue.hint else ""),
                          field=f"inputs.{issue.field}")
        return validation.values

    def _check_runnable(self, node: NodeSpec) -> None:
        where = f"nodes.{node.id}"
        if node.skill is not None:
            try:
                self.runs[node.id] = self.context.catalog.get(node.skill)
            except UnknownSkillError as unknown:
                self._problem("unknown_skill", unknown.message, node.id, f"{where}.skill")
            return
        assert node.workflow is not None, "spec checks one of skill and workflow"
        chain = (*self.context.including, self.spec.id)
        if node.workflow in chain:
            path = " -> ".join((*chain[chain.index(node.workflow):], node.workflow))
            self._problem("recursion", f"workflow {path} includes itself", node.id, f"{where}.workflow")
            return
        try:
            self.runs[node.id] = self.context.library.get(node.workflow)[0]
        except UnknownWorkflowError as unknown:
            self._problem("unknown_workflow", unknown.message, node.id, f"{where}.workflow")

    def _check_references(self, node: NodeSpec) -> None:
        references: list[tuple[Reference, str]] = []
        for name, value in node.parameters.items():
            references += [(ref, f"nodes.{node.id}.parameters.{name}") for ref in self._templates(node, value, name)]
        if node.for_each is not None:
            references += [(ref, f"nodes.{node.id}.for_each") for ref in self._templates(node, node.for_each, "for_each")]
        condition = self.condition(node)
        if condition is not None:
            references += [(ref, f"nodes.{node.id}.when") for ref in condition.references]
            self._check_reachable(node, condition)
        for reference, where in references:
            self._check_reference(node, reference, where)

    def _templates(self, node: NodeSpec, value: Any, name: str) -> list[Reference]:
        try:
            return template_references(value)
        except UserMessageError as bad:
            self._problem("invalid_spec", bad.message, node.id, f"nodes.{node.id}.{name}")
            return []

    def condition(self, node: NodeSpec) -> Condition | None:
        if node.when is None:
            return None
        try:
            return Condition.parse(node.when)
        except UserMessageError as bad:
            if not any(p.field == f"nodes.{node.id}.when" for p in self.problems):
                self._problem("invalid_spec", bad.message, node.id, f"nodes.{node.id}.when")
            return None

    def _check_reference(self, node: NodeSpec, reference: Reference, where: str) -> None:
        if reference.root == "inputs" and reference.path[0] not in self.spec.parameters:
            declared = ", ".join(self.spec.parameters) or "none"
            self._problem("unknown_reference", f"{reference.text}: the workflow has no input {reference.path[0]!r} (inputs: {declared})", node.id, where)
        elif reference.root == "item" and node.for_each is None:
            self._problem("unknown_reference", "'item' is only defined in a node with for_each", node.id, where)
        elif reference.node_id is not None:
            self._check_node_reference(node, reference, where)

    def _check_node_reference(self, node: NodeSpec, reference: Reference, where: str) -> None:
        upstream = reference.node_id
        assert upstream is not None
        if upstream not in self.graph.graph:
            self._problem("unknown_reference", f"{reference.text}: there is no node {upstream!r}", node.id, where)
            return
        if upstream not in self.graph.upstream(node.id):
            self._problem("unknown_reference", f"{reference.text}: {upstream!r} is not upstream of {node.id!r}; add it to depends_on", node.id, where)
            return
        runs = self.runs.get(upstream)
        if isinstance(runs, SkillDefinition) and reference.path and reference.path[0] not in runs.outputs:
            declared = ", ".join(runs.outputs) or "none"
            self._problem("unknown_output", f"{reference.text}: skill {runs.id} declares no output {reference.path[0]!r} (outputs: {declared})", node.id, where)

    def _check_reachable(self, node: NodeSpec, condition: Condition) -> None:
        """A condition on booleans and selects that no combination of inputs makes true."""
        domains = []
        for reference in condition.references:
            spec = self.spec.parameters.get(reference.path[0]) if reference.root == "inputs" else None
            if spec is None or len(reference.path) != 1 or spec.type not in ("boolean", "select"):
                return  # it depends on something else: only the run can tell
            domains.append((reference.path[0], [True, False] if spec.type == "boolean" else list(spec.options or [])))
        sizes = [len(values) for _, values in domains]
        if not domains or _product(sizes) > _MAX_COMBINATIONS:
            return
        for combination in itertools.product(*(values for _, values in domains)):
            inputs = dict(zip((name for name, _ in domains), combination))
            if condition.evaluate(Scope(inputs, {})) is True:
                return
        self._problem("unreachable", f"when {condition.source!r} is false for every value of its inputs: the node never runs",
                      node.id, f"nodes.{node.id}.when")

    def _check_shared_targets(self, plan: WorkflowPlan) -> None:
        working = [(node_id, p.target) for node_id, p in plan.nodes.items() if p.target and p.will_run is not False]
        for (a, target_a), (b, target_b) in itertools.combinations(working, 2):
            if _overlap(target_a, target_b) and not self.graph.related(a, b):
                self._problem(
                    "shared_target",
                    f"{a!r} and {b!r} both work in {target_a!r} and could run at the same time; make one depend on the other",
                    b, f"nodes.{b}.depends_on",
                )


class _Planner:
    """The chained dry runs, in generation order."""

    def __init__(self, validator: _Validator, inputs: dict[str, Any]) -> None:
        self.validator = validator
        self.context = validator.context
        self.inputs = inputs
        self.outputs: dict[str, Any] = {}

    def plan(self) -> WorkflowPlan:
        generations = self.validator.graph.generations()
        nodes: dict[str, NodePlan] = {}
        for number, generation in enumerate(generations):
            for node_id in generation:
                nodes[node_id] = self._plan_node(self.validator.spec.node(node_id), number)
        seconds = {node_id: p.estimated_seconds or 0.0 for node_id, p in nodes.items() if p.will_run is not False}
        path, total = self.validator.graph.critical_path(seconds)
        return WorkflowPlan(generations=generations, nodes=nodes, critical_path=path, estimated_seconds=total)

    def _plan_node(self, node: NodeSpec, generation: int) -> NodePlan:
        plan = NodePlan(
            skill=node.skill, workflow=node.workflow, generation=generation, depends_on=node.depends_on,
            will_run=True, approval=node.approval, for_each=node.for_each is not None,
        )
        scope = Scope(self.inputs, self.outputs)
        condition = self.validator.condition(node)
        decided = condition.evaluate(scope) if condition is not None else True
        if decided is False:
            plan.will_run, plan.skip_reason = False, f"when {node.when!r} is false"
            self.outputs[node.id] = UNKNOWN
            return plan
        plan.will_run = None if decided is UNKNOWN else True
        runs = self.validator.runs.get(node.id)
        if runs is None or any(p.node_id == node.id and p.kind != "unreachable" for p in self.validator.problems):
            self.outputs[node.id] = UNKNOWN
            return plan
        items: list[Any] = [UNKNOWN]
        if node.for_each is not None:
            values = render(node.for_each, scope)
            if isinstance(values, list):
                items, plan.items = values, len(values)
            elif values is not UNKNOWN:
                self.validator._problem("invalid_parameters", f"for_each must give a list, not {type(values).__name__}",
                                        node.id, f"nodes.{node.id}.for_each")
                items = []
        planned = [self._plan_run(node, runs, Scope(self.inputs, self.outputs, item), plan) for item in items]
        if node.for_each is None:
            self.outputs[node.id] = planned[0]
        else:
            self.outputs[node.id] = planned if plan.items is not None else UNKNOWN
        plan.outputs = _wire(self.outputs[node.id])
        return plan

    def _plan_run(self, node: NodeSpec, runs: SkillDefinition | WorkflowSpec, scope: Scope, plan: NodePlan) -> Any:
        """One run of the node (one item of a for_each): its dry run; its planned outputs."""
        parameters = render(node.parameters, scope)
        if isinstance(runs, WorkflowSpec):
            return self._plan_subworkflow(node, runs, parameters, plan)
        known = {name: value for name, value in parameters.items() if value is not UNKNOWN}
        if len(known) < len(parameters):
            self._check_known_parameters(node, runs, known, set(parameters) - set(known))
            plan.estimated_seconds = runs.estimated_seconds
            return UNKNOWN
        checked, skill_plan = plan_skill(
            runs, parameters, self.context.level, self.context.persona, self.context.workspace_root, self.context.workspace
        )
        for issue in checked.errors:
            self.validator._problem(
                "invalid_parameters", f"{runs.id}: {issue.reason}" + (f" ({issue.hint})" if issue.hint else ""),
                node.id, f"nodes.{node.id}.parameters.{issue.field}",
            )
        plan.estimated_seconds = runs.estimated_seconds
        if skill_plan is None:
            return UNKNOWN
        plan.target = skill_plan.output_path
        plan.files += skill_plan.files
        plan.commands += skill_plan.commands
        return {name: UNKNOWN if value is None else value for name, value in skill_plan.outputs.items()}

    def _check_known_parameters(self, node: NodeSpec, skill: SkillDefinition, known: dict[str, Any], unknown: set[str]) -> None:
        """Before upstream nodes ran, check what is known; a field waiting for a value is not missing."""
        for issue in validate_parameters(skill, known).issues:
            if issue.field not in unknown:
                self.validator._problem("invalid_parameters", f"{skill.id}: {issue.reason}", node.id,
                                        f"nodes.{node.id}.parameters.{issue.field}")

    def _plan_subworkflow(self, node: NodeSpec, spec: WorkflowSpec, parameters: dict[str, Any], plan: NodePlan) -> Any:
        known = {name: value for name, value in parameters.items() if value is not UNKNOWN}
        nested = validate_workflow(spec, known, self.context.inside(self.validator.spec.id))
        unknown = set(parameters) - set(known)
        for problem in nested.problems:
            if problem.kind == "invalid_input" and problem.field and problem.field.removeprefix("inputs.") in unknown:
                continue
            self.validator.problems.append(problem.model_copy(update={
                "node_id": f"{node.id}/{problem.node_id}" if problem.node_id else node.id,
                "message": f"in workflow {spec.id}: {problem.message}",
            }))
        if nested.plan is None:
            return UNKNOWN
        plan.estimated_seconds = nested.plan.estimated_seconds
        for inner in nested.plan.nodes.values():
            plan.files += inner.files
            plan.commands += inner.commands
        return {node_id: UNKNOWN if inner.outputs is None else inner.outputs for node_id, inner in nested.plan.nodes.items()}


def _wire(value: Any) -> Any:
    """Planned outputs for the API: unknown values become null."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    return value


def _overlap(a: str, b: str) -> bool:
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/") or "." in (a, b)


def _product(sizes: list[int]) -> int:
    total = 1
    for size in sizes:
        total *= size
    return total
