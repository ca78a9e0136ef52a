"""Limits on what one GraphQL operation may ask for: depth, aliases, root fields, cost, page size.

One walk over an operation (fragments followed, each fragment analysed once however often it is
spread, so nested spreads cannot blow up the walk) yields its :class:`OperationShape`; small
validation rules report the limits it breaks, each error with ``extensions.code``
``GRAPHQL_VALIDATION_FAILED``, the ``limit`` broken, its ``maximum`` and the ``actual`` value.
One more rule keeps fields that each try a secret (``login``) to one per operation, however
they are aliased or spread: its error is ``BAD_USER_INPUT``, since no smaller query text helps.

Cost follows Saleor: every field costs 1; a field that takes a page-size argument (``first`` or
``limit``) multiplies the cost of itself and its subtree by that argument — a literal, a variable,
the argument's schema default when absent, or ``default_page_size`` when it has none. Introspection
fields (``__schema``, ``__type``, ``__typename``) cost nothing and add no depth below themselves:
graphql-core's ``MaxIntrospectionDepthRule`` (one of the specified rules) guards those.

Variables are only known per request, while validated documents are cached per query text. So a
cost that depends on a variable is kept as a small *plan* (the cost tree with everything static
folded into integers) and evaluated against each request's variables by :func:`check_variables`
— microseconds, no AST walk; page-size arguments given by variables are checked there too. When
nothing depends on variables the rules report at validation time and the result is cached.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Union

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.language import Node, visitor

VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


@dataclass(frozen=True)
class GraphQLLimits:
    """What one operation may ask for.

    :param max_depth: deepest field nesting (``{ a { b } }`` is 2).
    :param max_aliases: aliased fields in an operation, counting each fragment spread.
    :param max_root_fields: fields at the top of an operation.
    :param max_cost: Saleor-style cost (see the module docstring).
    :param max_page_size: largest value of a page-size argument.
    :param max_query_bytes: longest query text, in UTF-8 bytes.
    :param max_tokens: most lexical tokens (and, separately, comments) the parser reads.
    :param default_page_size: the multiplier of a page-size argument that is absent.
    :param page_size_arguments: the argument names that size a page.
    :param once_per_operation: root fields an operation may hold at most once (aliases and
        fragments counted): each ``login`` tries a password, so ten of them in one request would
        try ten passwords past the login throttle's per-request check.
    """

    max_depth: int = 10
    max_aliases: int = 15
    max_root_fields: int = 10
    max_cost: int = 50_000
    max_page_size: int = 1000
    max_query_bytes: int = 20_000
    max_tokens: int = 2_000
    default_page_size: int = 100
    page_size_arguments: tuple[str, ...] = ("first", "limit")
    once_per_operation: tuple[str, ...] = ("login",)


# --- cost plans -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Scaled:
    """``inner`` multiplied by the value of variable ``variable`` (a page-size argument)."""

    variable: str
    if_missing: int  # the variable is not sent: its default, or the argument's fallback
    if_null: int  # the variable is null: the argument counts as absent
    inner: "Plan"


@dataclass(frozen=True, eq=False)
class Sum:
    constant: int
    parts: tuple["Plan", ...]


Plan = Union[int, Scaled, Sum, "_Product"]


def _plus(constant: int, parts: list[Plan]) -> Plan:
    dynamic = tuple(p for p in parts if not isinstance(p, int))
    constant += sum(p for p in parts if isinstance(p, int))
    return Sum(constant, dynamic) if dynamic else constant


def _times(factor: int, plan: Plan) -> Plan:
    if isinstance(plan, int):
        return factor * plan
    return plan if factor == 1 else _Product(factor, plan)


@dataclass(frozen=True, eq=False)
class _Product:
    factor: int
    inner: Plan


def page_value(value: Any, if_missing: int, if_null: int, *, missing: bool) -> int:
    """The multiplier a variable's raw value stands for (bad values are left to coercion)."""
    if missing:
        return if_missing
    if value is None:
        return if_null
    if isinstance(value, int) and not isinstance(value, bool):
        return max(value, 0)
    return if_null  # not an Int: variable coercion refuses the request anyway


def evaluate(plan: Plan, variables: Mapping[str, Any], _memo: dict[int, int] | None = None) -> int:
    """The cost a plan comes to with these (raw, JSON) variable values."""
    if isinstance(plan, int):
        return plan
    memo = {} if _memo is None else _memo  # plans are DAGs: fragments are shared
    key = id(plan)
    if key in memo:
        return memo[key]
    if isinstance(plan, Sum):
        result = plan.constant + sum(evaluate(p, variables, memo) for p in plan.parts)
    elif isinstance(plan, _Product):
        result = plan.factor * evaluate(plan.inner, variables, memo)
    else:
        missing = plan.variable not in variables
        factor = page_value(variables.get(plan.variable), plan.if_missing, plan.if_null,
                            missing=missing)
        result = factor * evaluate(plan.inner, variables, memo)
    memo[key] = result
    return result


# --- the shape of an operation --------------------------------------------------------------


@dataclass(frozen=True)
class PageArgument:
    """A page-size argument whose value comes from a variable."""

    argument: str
    field: str
    variable: str
    default: Any  # the variable's default (a literal int or None), used when it is not sent
    node: Node


@dataclass(frozen=True)
class OperationShape:
    depth: int
    aliases: int
    root_fields: int
    cost: Plan
    #: the names (not aliases) of the root fields, fragments followed, one per occurrence
    root_field_names: tuple[str, ...]
    #: page-size arguments over the limit, found in literals: (argument, field, value, node)
    static_page_violations: tuple[tuple[str, str, int, Node], ...]
    page_variables: tuple[PageArgument, ...]


@dataclass
class _Walk:
    depth: int = 0
    aliases: int = 0
    fields: int = 0
    cost: Plan = 0
    names: tuple[str, ...] = ()  # the field names at this level (fragments' included)


class _Analyser:
    def __init__(self, context: ValidationContext, limits: GraphQLLimits,
                 operation: OperationDefinitionNode) -> None:
        self.schema = context.schema
        self.context = context
        self.limits = limits
        self.page_args = limits.page_size_arguments
        self.variable_defaults: dict[str, Any] = {}
        for definition in operation.variable_definitions or ():
            default = definition.default_value
            self.variable_defaults[definition.variable.name.value] = (
                int(default.value) if isinstance(default, IntValueNode) else None)
        self.fragments: dict[str, _Walk] = {}
        self.visiting: set[str] = set()
        self.static_violations: list[tuple[str, str, int, Node]] = []
        self.page_variables: list[PageArgument] = []

    def selection_set(self, selection_set: SelectionSetNode | None,
                      parent: GraphQLNamedType | None) -> _Walk:
        walk = _Walk()
        if selection_set is None:
            return walk
        parts: list[Plan] = []
        names: list[str] = []
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                inner = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self.schema.get_type(condition.name.value) if condition else parent
                inner = self.selection_set(selection.selection_set, target)
            elif isinstance(selection, FragmentSpreadNode):
                inner = self.fragment(selection.name.value)
            else:  # pragma: no cover - no other selection kinds exist
                continue
            walk.depth = max(walk.depth, inner.depth)
            walk.aliases += inner.aliases
            walk.fields += inner.fields
            names.extend(inner.names)
            parts.append(inner.cost)
        walk.cost = _plus(0, parts)
        walk.names = tuple(names)
        return walk

    def fragment(self, name: str) -> _Walk:
        known = self.fragments.get(name)
        if known is not None:
            return known
        definition = self.context.get_fragment(name)
        if definition is None or name in self.visiting:  # unknown or cyclic: other rules report
            return _Walk()
        self.visiting.add(name)
        target = self.schema.get_type(definition.type_condition.name.value)
        walk = self.selection_set(definition.selection_set, target)
        self.visiting.discard(name)
        self.fragments[name] = walk
        return walk

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> _Walk:
        name = node.name.value
        aliases = 1 if node.alias else 0
        if name.startswith("__"):
            return _Walk(depth=1, aliases=aliases, fields=1, cost=0, names=(name,))
        definition = getattr(parent, "fields", {}).get(name) if parent is not None else None
        child_type = get_named_type(definition.type) if definition is not None else None
        children = self.selection_set(node.selection_set, child_type)
        cost = _plus(1, [children.cost])
        cost = self.scale(node, definition, cost)
        return _Walk(depth=1 + children.depth, aliases=aliases + children.aliases, fields=1,
                     cost=cost, names=(name,))

    def scale(self, node: FieldNode, definition: Any, cost: Plan) -> Plan:
        given = {argument.name.value: argument for argument in node.arguments or ()}
        for argument_name in self.page_args:
            schema_argument = definition.args.get(argument_name) if definition is not None else None
            if schema_argument is None and argument_name not in given:
                continue
            fallback = self.limits.default_page_size
            default = getattr(schema_argument, "default_value", None)
            if isinstance(default, int) and not isinstance(default, bool):
                fallback = default
            argument = given.get(argument_name)
            value = argument.value if argument is not None else None
            label = node.name.value
            if value is None or isinstance(value, NullValueNode):
                return _times(fallback, cost)
            if isinstance(value, IntValueNode):
                number = int(value.value)
                if number > self.limits.max_page_size:
                    self.static_violations.append((argument_name, label, number, argument))
                return _times(max(number, 0), cost)
            if isinstance(value, VariableNode):
                variable = value.name.value
                default_value = self.variable_defaults.get(variable)
                self.page_variables.append(
                    PageArgument(argument_name, label, variable, default_value, argument))
                if_missing = default_value if default_value is not None else fallback
                return Scaled(variable, max(if_missing, 0), fallback, cost)
            return _times(fallback, cost)  # a wrong literal type: other rules report it
        return cost


def analyse(context: ValidationContext, operation: OperationDefinitionNode,
            limits: GraphQLLimits) -> OperationShape:
    """The shape of one operation; memoised on the validation context for the other rules."""
    memo: dict[int, tuple[OperationDefinitionNode, OperationShape]] = context.__dict__.setdefault(
        "_databank_operation_shapes", {})
    known = memo.get(id(operation))
    if known is not None and known[0] is operation:
        return known[1]
    analyser = _Analyser(context, limits, operation)
    walk = analyser.selection_set(operation.selection_set, context.schema.get_root_type(
        operation.operation))
    shape = OperationShape(
        depth=walk.depth, aliases=walk.aliases, root_fields=walk.fields, cost=walk.cost,
        root_field_names=walk.names,
        static_page_violations=tuple(analyser.static_violations),
        page_variables=tuple(analyser.page_variables))
    memo[id(operation)] = (operation, shape)
    return shape


# --- errors and rules -----------------------------------------------------------------------


def limit_error(message: str, limit: str, maximum: int, actual: int,
                nodes: Any = None) -> GraphQLError:
    return GraphQLError(message, nodes, extensions={
        "code": VALIDATION_FAILED, "limit": limit, "maximum": maximum, "actual": actual})


def _operation_label(node: OperationDefinitionNode) -> str:
    return f"operation '{node.name.value}'" if node.name else "the operation"


def page_size_error(argument: str, field: str, value: int, limits: GraphQLLimits,
                    node: Any = None) -> GraphQLError:
    return limit_error(
        f"Argument '{argument}' of field '{field}' is {value}, over the page-size limit of "
        f"{limits.max_page_size}: page through the results, or use a bulk export.",
        "max_page_size", limits.max_page_size, value, node)


def cost_error(cost: int, limits: GraphQLLimits, node: OperationDefinitionNode) -> GraphQLError:
    return limit_error(
        f"Query cost {cost} of {_operation_label(node)} exceeds the limit of {limits.max_cost} "
        f"(every field costs 1, times its page size): ask for smaller pages or fewer fields.",
        "max_cost", limits.max_cost, cost, node)


ShapeSink = Callable[[ValidationContext, OperationDefinitionNode, OperationShape], None]


def make_limit_rules(limits: GraphQLLimits, sink: ShapeSink | None = None
                     ) -> tuple[type[ValidationRule], ...]:
    """The limit rules for ``limits``, to add to graphql-core's ``specified_rules``.

    :param sink: when given, called with the validation context, each operation and its shape,
        so a caller caching the document can check variable-dependent limits per request.
    """

    class _LimitRule(ValidationRule):
        def shape(self, node: OperationDefinitionNode) -> OperationShape:
            shape = analyse(self.context, node, limits)
            if sink is not None:
                sink(self.context, node, shape)
            return shape

        def enter_fragment_definition(self, *_args: Any) -> Any:
            return visitor.SKIP  # fragments are walked where they are spread

    class QueryDepthRule(_LimitRule):
        """Fields may nest at most ``max_depth`` deep (fragments followed)."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            depth = self.shape(node).depth
            if depth > limits.max_depth:
                self.report_error(limit_error(
                    f"Query depth {depth} of {_operation_label(node)} exceeds the limit of "
                    f"{limits.max_depth}.", "max_depth", limits.max_depth, depth, node))
            return visitor.SKIP

    class AliasCountRule(_LimitRule):
        """At most ``max_aliases`` aliased fields per operation (each fragment spread counts)."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            aliases = self.shape(node).aliases
            if aliases > limits.max_aliases:
                self.report_error(limit_error(
                    f"{aliases} aliases in {_operation_label(node)} exceed the limit of "
                    f"{limits.max_aliases}.", "max_aliases", limits.max_aliases, aliases, node))
            return visitor.SKIP

    class RootFieldCountRule(_LimitRule):
        """At most ``max_root_fields`` fields at the top of an operation."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            count = self.shape(node).root_fields
            if count > limits.max_root_fields:
                self.report_error(limit_error(
                    f"{count} root fields in {_operation_label(node)} exceed the limit of "
                    f"{limits.max_root_fields}: send separate requests.", "max_root_fields",
                    limits.max_root_fields, count, node))
            return visitor.SKIP

    class QueryCostRule(_LimitRule):
        """The cost must stay within ``max_cost`` (checked per request when it uses variables)."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            cost = self.shape(node).cost
            if isinstance(cost, int) and cost > limits.max_cost:
                self.report_error(cost_error(cost, limits, node))
            return visitor.SKIP

    class OncePerOperationRule(_LimitRule):
        """Each field of ``once_per_operation`` at most once at the top of an operation."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            names = self.shape(node).root_field_names
            for name in limits.once_per_operation:
                count = names.count(name)
                if count > 1:
                    self.report_error(GraphQLError(
                        f"{count} '{name}' fields in {_operation_label(node)}: at most one "
                        f"'{name}' per request (send one request per attempt).", node,
                        extensions={"code": "BAD_USER_INPUT", "limit": "once_per_operation",
                                    "field": name, "maximum": 1, "actual": count}))
            return visitor.SKIP

    class PageSizeRule(_LimitRule):
        """Literal page sizes at most ``max_page_size`` (variables are checked per request)."""

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> Any:
            for argument, field, value, argument_node in self.shape(node).static_page_violations:
                self.report_error(page_size_error(argument, field, value, limits, argument_node))
            return visitor.SKIP

    return (QueryDepthRule, AliasCountRule, RootFieldCountRule, QueryCostRule, PageSizeRule,
            OncePerOperationRule)


def check_variables(shape: OperationShape, operation: OperationDefinitionNode,
                    variables: Mapping[str, Any], limits: GraphQLLimits) -> list[GraphQLError]:
    """Errors of the limits that depend on this request's variables (page sizes, then cost)."""
    if isinstance(shape.cost, int) and not shape.page_variables:
        return []  # fully checked at validation time: the common, cached case
    errors = []
    for page in shape.page_variables:
        missing = page.variable not in variables
        value = page.default if missing else variables.get(page.variable)
        if isinstance(value, int) and not isinstance(value, bool) and value > limits.max_page_size:
            errors.append(page_size_error(page.argument, page.field, value, limits, page.node))
    if not isinstance(shape.cost, int):
        cost = evaluate(shape.cost, variables)
        if cost > limits.max_cost:
            errors.append(cost_error(cost, limits, operation))
    return errors
