"""The API specification: the ``resources`` parameter read into typed resources and fields.

Each field type is one row of ``FIELD_TYPES``, saying how every generated layer spells it
(TypeScript, zod, Prisma, TypeORM, Sequelize, SQL, OpenAPI) and a sample value for the
generated tests; the templates only look these up, so adding a type is adding a row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from skills.errors import FieldIssue, InvalidParametersError


@dataclass(frozen=True)
class FieldType:
    typescript: str
    zod: str
    prisma: str
    typeorm: str  # column options
    sequelize: str
    sql: str
    openapi: dict[str, Any]
    sample: Any
    other_sample: Any  # a different valid value, for update tests


FIELD_TYPES = {
    "string": FieldType(
        "string", "z.string().min(1).max(255)", "String @db.VarChar(255)", 'type: "varchar", length: 255', "STRING(255)",
        "VARCHAR(255)", {"type": "string", "minLength": 1, "maxLength": 255}, "sample text", "changed text",
    ),
    "text": FieldType(
        "string", "z.string().max(65535)", "String", 'type: "text"', "TEXT", "TEXT",
        {"type": "string", "maxLength": 65535}, "a longer sample text", "changed longer text",
    ),
    "integer": FieldType(
        "number", "z.number().int().min(-2147483648).max(2147483647)", "Int", 'type: "integer"', "INTEGER", "INTEGER",
        {"type": "integer", "format": "int32"}, 42, 7,
    ),
    "number": FieldType(
        "number", "z.number()", "Float", 'type: "double precision"', "DOUBLE", "DOUBLE PRECISION",
        {"type": "number", "format": "double"}, 4.5, 1.25,
    ),
    "boolean": FieldType("boolean", "z.boolean()", "Boolean", 'type: "boolean"', "BOOLEAN", "BOOLEAN", {"type": "boolean"}, True, False),
    "datetime": FieldType(
        "Date", "z.iso.datetime({ offset: true }).transform((value) => new Date(value))", "DateTime @db.Timestamptz(3)", 'type: "timestamptz"', "DATE", "TIMESTAMPTZ(3)",
        {"type": "string", "format": "date-time"}, "2024-05-06T07:08:09.000Z", "2025-01-02T03:04:05.000Z",
    ),
}

# Columns every resource gets; a field may not take their names.
RESERVED_FIELDS = ("id", "createdAt", "updatedAt")
RESOURCE_NAME = re.compile(r"^[a-z][a-z0-9]{0,39}$")
FIELD_NAME = re.compile(r"^[a-z][a-zA-Z0-9]{0,39}$")
MAX_RESOURCES = 20
MAX_FIELDS = 40


@dataclass(frozen=True)
class Field:
    name: str
    type_name: str

    @property
    def type(self) -> FieldType:
        return FIELD_TYPES[self.type_name]

    @property
    def column(self) -> str:
        """The column name in PostgreSQL: snake_case, so SQL needs no quoting."""
        return re.sub(r"(?<!^)([A-Z])", r"_\1", self.name).lower()


@dataclass(frozen=True)
class Resource:
    name: str
    fields: tuple[Field, ...]

    @property
    def model(self) -> str:
        """The class/model name: ``item`` -> ``Item``."""
        return self.name[:1].upper() + self.name[1:]

    @property
    def plural(self) -> str:
        """The collection name used for paths and tables: ``item`` -> ``items``, ``category`` -> ``categories``."""
        if re.search(r"[^aeiou]y$", self.name):
            return self.name[:-1] + "ies"
        if re.search(r"(s|x|z|ch|sh)$", self.name):
            return self.name + "es"
        return self.name + "s"

    @property
    def path(self) -> str:
        return "/" + self.plural


def read_resources(raw: list[dict[str, Any]]) -> list[Resource]:
    """Check and read the ``resources`` parameter; every problem found is reported at once.

    >>> read_resources([{"name": "book", "fields": {"title": "string"}}])[0].path
    '/books'
    """
    issues: list[FieldIssue] = []
    if not raw:
        issues.append(FieldIssue("resources", "needs at least one resource", 'e.g. [{"name": "item", "fields": {"name": "string"}}]'))
    if len(raw) > MAX_RESOURCES:
        issues.append(FieldIssue("resources", f"has {len(raw)} resources; at most {MAX_RESOURCES} are supported"))
    resources = [_read_resource(index, entry, issues) for index, entry in enumerate(raw)]
    seen: set[str] = set()
    for index, resource in enumerate(resources):
        if resource is None:
            continue
        if resource.plural in seen:
            issues.append(FieldIssue(f"resources.{index}.name", f"{resource.name!r} is used by more than one resource"))
        seen.add(resource.plural)
    if issues:
        raise InvalidParametersError(issues)
    return [resource for resource in resources if resource is not None]


def _read_resource(index: int, entry: Any, issues: list[FieldIssue]) -> Resource | None:
    where = f"resources.{index}"
    if not isinstance(entry, dict) or set(entry) - {"name", "fields"}:
        issues.append(FieldIssue(where, "must be an object with only 'name' and 'fields'", '{"name": "book", "fields": {"title": "string"}}'))
        return None
    name, fields = entry.get("name"), entry.get("fields")
    if not isinstance(name, str) or not RESOURCE_NAME.match(name):
        issues.append(FieldIssue(f"{where}.name", f"{name!r} is not a resource name", "use a singular lowercase word of letters and digits, e.g. 'book'"))
        name = None
    if not isinstance(fields, dict) or not fields:
        issues.append(FieldIssue(f"{where}.fields", "must map at least one field name to a type", f"types: {', '.join(FIELD_TYPES)}"))
        return None
    if len(fields) > MAX_FIELDS:
        issues.append(FieldIssue(f"{where}.fields", f"has {len(fields)} fields; at most {MAX_FIELDS} are supported"))
    checked = []
    for field_name, type_name in fields.items():
        at = f"{where}.fields.{field_name}"
        if not FIELD_NAME.match(field_name):
            issues.append(FieldIssue(at, "is not a field name", "use camelCase letters and digits, starting with a lowercase letter"))
        elif field_name in RESERVED_FIELDS:
            issues.append(FieldIssue(at, "is added to every resource already", f"leave out {', '.join(RESERVED_FIELDS)}"))
        elif type_name not in FIELD_TYPES:
            issues.append(FieldIssue(at, f"{type_name!r} is not a field type", f"use one of: {', '.join(FIELD_TYPES)}"))
        else:
            checked.append(Field(field_name, type_name))
    return Resource(name, tuple(checked)) if name else None
