"""The condition language: readable expressions parsed safely into the condition tree.

``parse_condition`` reads a string with Python's ``ast`` module and accepts only a whitelist of node
types (names, ``event.x`` / ``params.x``, literals, comparisons, ``in``, ``and``/``or``/``not``). Nothing
is evaluated: every other construct (calls, attribute chains, subscripts, lambdas, comprehensions, dunder
names) is rejected with a plain message. Field names, types, operators, enum values and parameter
references are checked against the profile schema at load time.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from engine import schema
from engine.cities import normalise_city
from engine.textnorm import ParseError
from engine.tree import (
    FLIPPED_OP,
    All,
    AnyOf,
    AsOf,
    Compare,
    Const,
    Contains,
    Derived,
    Field,
    Node,
    Not,
    OneOf,
    Param,
    depth,
    size,
)
from engine.vocabulary import ENUMS, enum_code

MAX_LENGTH = 2000
MAX_DEPTH = 24
MAX_NODES = 300
MAX_LIST = 100


class ConditionError(ValueError):
    def __init__(self, message_zh: str, message_en: str):
        self.message_zh = message_zh
        self.message_en = message_en
        super().__init__(f"{message_zh} / {message_en}")


@dataclass(frozen=True)
class Scope:
    """What names a condition may use: the rule's event type, derived facts and parameters."""

    event_type: str | None
    derived: frozenset[str]
    params: dict[str, str]  # name -> unit


_OPS = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_BOOL_WORDS = {"true": True, "false": False, "True": True, "False": False}
_NUMERIC_UNITS = ("rate", "yuan", "count", "number")


def parse_condition(text: str, scope: Scope) -> Node:
    """Parse and type-check one condition string. Raises ConditionError with a plain message."""
    if not isinstance(text, str):
        raise ConditionError("条件应为文本", "a condition must be a string")
    if len(text) > MAX_LENGTH:
        raise ConditionError(f"条件过长（超过{MAX_LENGTH}个字符）", f"condition too long (over {MAX_LENGTH} characters)")
    if text.count("(") > MAX_DEPTH or text.count("[") > MAX_DEPTH:
        raise ConditionError(f"条件嵌套过深（超过{MAX_DEPTH}层）", f"condition nested too deeply (over {MAX_DEPTH} levels)")
    source = text.strip()
    if not source:
        raise ConditionError("条件为空", "condition is empty")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ConditionError(f"条件写法有误（第{exc.offset or '?'}个字符附近）：{source}",
                             f"condition is not well formed (near character {exc.offset or '?'}): {source}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ConditionError("条件无法解析", "condition cannot be parsed") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ConditionError(f"条件过于复杂（超过{MAX_NODES}个元素）", f"condition too complex (over {MAX_NODES} elements)")
    node = _Builder(source, scope).build(tree.body)
    if depth(node) > MAX_DEPTH or size(node) > MAX_NODES:
        raise ConditionError("条件过于复杂", "condition too complex")
    return node


class _Builder:
    def __init__(self, source: str, scope: Scope):
        self.source = source
        self.scope = scope

    def build(self, node: ast.AST) -> Node:
        if isinstance(node, ast.BoolOp):
            items = tuple(self.build(v) for v in node.values)
            return All(items) if isinstance(node.op, ast.And) else AnyOf(items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return Not(self.build(node.operand))
        if isinstance(node, ast.Compare):
            parts = []
            left = node.left
            for op, right in zip(node.ops, node.comparators):
                parts.append(self.comparison(left, op, right))
                left = right
            return parts[0] if len(parts) == 1 else All(tuple(parts))
        if isinstance(node, (ast.Name, ast.Attribute)):
            return self.truthy(node)
        raise self.unsupported(node)

    # -- names ---------------------------------------------------------------------------------
    def name_of(self, node: ast.AST) -> Field | Param | Derived | AsOf | None:
        """The schema object a name refers to; None when the node is not a name."""
        if isinstance(node, ast.Name):
            ident = node.id
            if ident.startswith("_"):
                raise ConditionError(f"不允许的名称：{ident}", f"name not allowed: {ident}")
            if ident in _BOOL_WORDS:
                return None
            if ident == "as_of":
                return AsOf()
            if ident in self.scope.derived:
                return Derived(ident)
            if ident in schema.ENTITY_BY_NAME:
                return Field("entity", ident)
            if ident in ("event", "params"):
                raise ConditionError(f"「{ident}」后应接字段名，例如 {ident}.xxx", f"'{ident}' needs a field, e.g. {ident}.xxx")
            candidates = list(schema.ENTITY_BY_NAME) + sorted(self.scope.derived)
            raise self.unknown(ident, candidates, "字段", "field")
        if isinstance(node, ast.Attribute):
            if not isinstance(node.value, ast.Name) or node.value.id not in ("event", "params"):
                raise ConditionError("只允许 event.字段 或 params.参数 这两种点号写法",
                                     "only event.<field> and params.<name> may use a dot")
            if node.attr.startswith("_"):
                raise ConditionError(f"不允许的名称：{node.attr}", f"name not allowed: {node.attr}")
            if node.value.id == "params":
                if node.attr not in self.scope.params:
                    raise self.unknown(f"params.{node.attr}", [f"params.{p}" for p in self.scope.params], "参数", "parameter")
                return Param(node.attr)
            if self.scope.event_type is None:
                raise ConditionError(f"event.{node.attr}：此规则没有指定事件（event），不能使用事件字段",
                                     f"event.{node.attr}: this rule has no `event`, so event fields cannot be used")
            allowed = [f.name for f in schema.EVENT_BY_CODE[self.scope.event_type].fields + schema.EVENT_COMMON]
            if node.attr not in allowed:
                raise self.unknown(f"event.{node.attr}", [f"event.{a}" for a in allowed], "事件字段", "event field")
            return Field("event", node.attr)
        return None

    def unknown(self, name: str, candidates, what_zh: str, what_en: str) -> ConditionError:
        hint = schema.suggest(name, candidates)
        return ConditionError(
            f"未知{what_zh}「{name}」" + (f"，是否想写「{hint}」？" if hint else ""),
            f"unknown {what_en} '{name}'" + (f"; did you mean '{hint}'?" if hint else ""),
        )

    def spec(self, f: Field) -> schema.FieldSpec:
        if f.scope == "entity":
            return schema.ENTITY_BY_NAME[f.name]
        found = schema.event_field(self.scope.event_type, f.name)
        assert found is not None
        return found

    def truthy(self, node: ast.AST) -> Node:
        ref = self.name_of(node)
        if isinstance(ref, Derived):
            return ref
        if isinstance(ref, Field) and self.spec(ref).kind == schema.BOOL:
            return Compare(ref, "==", True)
        if ref is None and isinstance(node, ast.Name):
            return Const(_BOOL_WORDS[node.id])
        shown = ast.get_source_segment(self.source, node) or "?"
        raise ConditionError(f"「{shown}」不是“是/否”字段，请写成比较，例如 {shown} == …",
                             f"'{shown}' is not a yes/no field; write a comparison, e.g. {shown} == …")

    # -- comparisons ---------------------------------------------------------------------------
    def comparison(self, left: ast.AST, op: ast.cmpop, right: ast.AST) -> Node:
        if isinstance(op, (ast.In, ast.NotIn)):
            return self.membership(left, right, negated=isinstance(op, ast.NotIn))
        if type(op) not in _OPS:
            raise ConditionError("只支持比较运算 == != < <= > >= 以及 in / not in",
                                 "only == != < <= > >= and in / not in are supported")
        symbol = _OPS[type(op)]
        lref, rref = self.name_of(left), self.name_of(right)
        if not isinstance(lref, Field) and isinstance(rref, Field):
            left, right, lref, rref = right, left, rref, lref
            symbol = FLIPPED_OP[symbol]
        if not isinstance(lref, Field):
            raise ConditionError("比较的一侧应为字段", "one side of a comparison must be a field")
        if isinstance(rref, Field):
            raise ConditionError("不支持两个字段互相比较，请与数值、文字或参数比较",
                                 "comparing two fields is not supported; compare with a value or a parameter")
        spec = self.spec(lref)
        value = self.operand(spec, right, rref)
        if symbol not in ("==", "!=") and spec.kind not in (*schema.NUMERIC_KINDS, schema.DATE):
            raise ConditionError(f"字段「{lref}」不能比较大小，只能用 == 或 !=",
                                 f"field '{lref}' cannot be ordered; use == or !=")
        return Compare(lref, symbol, value)

    def operand(self, spec: schema.FieldSpec, node: ast.AST, ref) -> object:
        kind = spec.kind
        if isinstance(ref, AsOf):
            if kind != schema.DATE:
                raise ConditionError(f"as_of 是日期，不能与「{spec.name}」比较", f"as_of is a date; '{spec.name}' is not")
            return ref
        if isinstance(ref, Param):
            unit = self.scope.params[ref.name]
            ok = (kind in schema.NUMERIC_KINDS and unit in _NUMERIC_UNITS) or (kind == schema.DATE and unit == "date") \
                or (kind in (schema.TEXT, schema.ENUM) and unit == "text") or (kind == schema.BOOL and unit == "bool")
            if not ok:
                raise ConditionError(f"参数 params.{ref.name}（单位 {unit}）与字段「{spec.name}」类型不符",
                                     f"parameter params.{ref.name} (unit {unit}) does not fit field '{spec.name}'")
            return ref
        if isinstance(ref, Derived):
            raise ConditionError(f"派生事实「{ref.name}」不能作为比较的值", f"derived fact '{ref.name}' cannot be a value")
        literal = self.literal(node)
        return self.coerce(spec, literal)

    def literal(self, node: ast.AST) -> object:
        if isinstance(node, ast.Name) and node.id in _BOOL_WORDS:
            return _BOOL_WORDS[node.id]
        if isinstance(node, ast.Constant) and isinstance(node.value, bool):
            return node.value
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        negative = isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub)
        inner = node.operand if negative else node
        if isinstance(inner, ast.Constant) and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
            # Read the digits from the source, never through float.
            segment = ast.get_source_segment(self.source, inner) or str(inner.value)
            try:
                number = Decimal(segment.replace("_", ""))
            except InvalidOperation:
                raise ConditionError(f"无法识别的数值：{segment}", f"cannot read number: {segment}") from None
            # copy_abs, not abs(): abs() rounds to the context and raises decimal.Overflow on 1e999999999.
            if not number.is_finite() or number.copy_abs() > Decimal("1e15"):
                raise ConditionError(f"数值超出范围：{segment}", f"number out of range: {segment}")
            return number.copy_negate() if negative else number  # exact: unary minus rounds to 28 digits
        raise self.unsupported(node)

    def coerce(self, spec: schema.FieldSpec, literal: object) -> object:
        kind, name = spec.kind, spec.name
        if kind == schema.BOOL:
            if isinstance(literal, bool):
                return literal
            raise ConditionError(f"「{name}」是“是/否”字段，应与 true/false 比较", f"'{name}' is yes/no; compare with true/false")
        if kind in schema.NUMERIC_KINDS:
            if isinstance(literal, Decimal):
                return literal
            raise ConditionError(f"「{name}」是数值字段，应与数字比较", f"'{name}' is a number; compare with a number")
        if kind == schema.DATE:
            if isinstance(literal, str):
                try:
                    return date.fromisoformat(literal.strip())
                except ValueError:
                    pass
            raise ConditionError(f"「{name}」是日期字段，应写成 \"2016-01-01\" 或 as_of",
                                 f"'{name}' is a date; write \"2016-01-01\" or as_of")
        if not isinstance(literal, str):
            raise ConditionError(f"「{name}」是文字字段，应与带引号的文字比较", f"'{name}' is text; compare with quoted text")
        if kind in (schema.ENUM, schema.ENUM_LIST):
            code = enum_code(spec.enum, literal)
            if code is None:
                options = ENUMS[spec.enum]
                raise ConditionError(
                    f"「{literal}」不是「{name}」的有效取值，可选：" + "、".join(f"{c}（{z}）" for c, z in options.items()),
                    f"'{literal}' is not a value of '{name}'; choose one of: " + ", ".join(options))
            return code
        if kind in (schema.CITY, schema.PLACE):
            if kind == schema.PLACE and literal in ("省外", "outside"):
                return "省外"
            try:
                return normalise_city(literal)
            except ParseError as exc:
                raise ConditionError(exc.message_zh, exc.message_en) from None
        return literal

    def membership(self, left: ast.AST, right: ast.AST, negated: bool) -> Node:
        rref = self.name_of(right)
        if isinstance(rref, Field):
            spec = self.spec(rref)
            if spec.kind != schema.ENUM_LIST:
                raise ConditionError(f"「{rref}」不是列表字段，请写成 {rref} in [...]",
                                     f"'{rref}' is not a list field; write {rref} in [...]")
            return Contains(rref, self.coerce(spec, self.literal(left)), negated)
        lref = self.name_of(left)
        if not isinstance(lref, Field):
            raise ConditionError("in 的左侧应为字段（或列表字段的取值）", "the left of `in` must be a field")
        if not isinstance(right, (ast.List, ast.Tuple, ast.Set)):
            raise ConditionError("in 的右侧应为列表，例如 [\"small\", \"micro\"]", "the right of `in` must be a list")
        if len(right.elts) > MAX_LIST:
            raise ConditionError(f"列表过长（超过{MAX_LIST}项）", f"list too long (over {MAX_LIST} items)")
        spec = self.spec(lref)
        if spec.kind == schema.ENUM_LIST:
            raise ConditionError(f"「{lref}」是列表字段，请写成 \"取值\" in {lref}", f"'{lref}' is a list; write \"value\" in {lref}")
        values = tuple(self.coerce(spec, self.literal(e)) for e in right.elts)
        if not values:
            raise ConditionError("列表为空", "the list is empty")
        return OneOf(lref, tuple(dict.fromkeys(values)), negated)

    def unsupported(self, node: ast.AST) -> ConditionError:
        shown = ast.get_source_segment(self.source, node) or type(node).__name__
        what = {
            ast.Call: ("函数调用", "function calls"), ast.Subscript: ("下标", "subscripts"),
            ast.Lambda: ("lambda", "lambdas"), ast.BinOp: ("算术运算", "arithmetic"),
            ast.ListComp: ("推导式", "comprehensions"), ast.GeneratorExp: ("推导式", "comprehensions"),
            ast.SetComp: ("推导式", "comprehensions"), ast.DictComp: ("推导式", "comprehensions"),
            ast.IfExp: ("条件表达式", "if-expressions"), ast.NamedExpr: ("赋值", "assignments"),
            ast.Dict: ("字典", "dicts"), ast.JoinedStr: ("格式化字符串", "f-strings"),
        }.get(type(node), ("此写法", "this construct"))
        return ConditionError(f"条件中不允许使用{what[0]}：{shown}", f"{what[1]} are not allowed in conditions: {shown}")


# -- binding parameters and as_of ----------------------------------------------------------------

def bind(node: Node, param_value, as_of: date) -> Node:
    """Replace every ``Param`` by ``param_value(name)`` and ``as_of`` by the date.

    ``param_value`` returns the value or None when the parameter has none at the date in question; a
    comparison with a missing parameter is undetermined (``Const(None)``), so ``not (...)`` around it does
    not turn it true (the rules checker reports such gaps).
    """
    if isinstance(node, Compare):
        if isinstance(node.value, AsOf):
            return Compare(node.field, node.op, as_of)
        if isinstance(node.value, Param):
            value = param_value(node.value.name)
            return Const(None) if value is None else Compare(node.field, node.op, value)
        return node
    if isinstance(node, Not):
        return Not(bind(node.item, param_value, as_of))
    if isinstance(node, All):
        return All(tuple(bind(i, param_value, as_of) for i in node.items))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(bind(i, param_value, as_of) for i in node.items))
    return node


def bind_by_event_date(node: Node, steps_of, as_of: date) -> Node:
    """For compiled backends: expand parameters of an event rule over their dated steps.

    ``x >= params.p`` becomes ``(event.date >= s1 and event.date < s2 and x >= v1) or (...)``, so one
    compiled tree serves events of every date. ``steps_of(name)`` gives ``[(from_date, value), ...]``.
    """
    if isinstance(node, Compare):
        if isinstance(node.value, AsOf):
            return Compare(node.field, node.op, as_of)
        if isinstance(node.value, Param):
            steps = steps_of(node.value.name)
            when = Field("event", "date")
            # Before the first step the parameter has no value: undetermined, as in ``bind``.
            branches = [All((Compare(when, "<", steps[0][0]), Const(None)))] if steps else []
            for i, (start, value) in enumerate(steps):
                parts = [Compare(when, ">=", start)]
                if i + 1 < len(steps):
                    parts.append(Compare(when, "<", steps[i + 1][0]))
                parts.append(Compare(node.field, node.op, value))
                branches.append(All(tuple(parts)))
            return AnyOf(tuple(branches)) if branches else Const(None)
        return node
    if isinstance(node, Not):
        return Not(bind_by_event_date(node.item, steps_of, as_of))
    if isinstance(node, All):
        return All(tuple(bind_by_event_date(i, steps_of, as_of) for i in node.items))
    if isinstance(node, AnyOf):
        return AnyOf(tuple(bind_by_event_date(i, steps_of, as_of) for i in node.items))
    return node
