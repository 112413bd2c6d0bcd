"""Recipes: YAML files that say where the data is, what it is, how to learn it and what to release.

Validation is strict (unknown keys are errors, with a "did you mean"; so are duplicate keys, and
YAML anchors and aliases, which could expand a short file into gigabytes) and every message names
the recipe file, the line and the key path, because recipes live in users' repositories and are
edited by hand.

    name: german_credit
    source: {builtin: german_credit}        # or a CSV/Parquet path relative to this file
    schema:
      target: creditability
      columns:
        age_in_years: {kind: integer, min: 18}
    generator: {type: ctgan, epochs: 300}   # default type: ddpm
    split: {holdout: 0.2, seed: 0}           # the real rows the model never sees
    generate: {rows: 1000, output: out/german_credit_synthetic.csv}
    evaluate: {seed: 0}                      # how the judge measures
    gates: {min_shape: 0.85}                 # what it demands before release

Keys renamed since 0.1 are still read, with a `RecipeWarning` naming the line: ``model:`` is now
``generator:`` ("model" is what training makes), and ``evaluate.holdout`` is ``split.holdout`` (the
judge never read it; ``evaluate.seed`` of an old recipe without ``split:`` also seeds the split, as it
did then).

This module is the bottom layer: it imports pydantic and YAML, and the torch-free configs of the
generators and the judge, so that reading or validating a recipe does not load torch.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import types
import typing
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal, Union

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from synthgen.constraints import ConstraintSpec
from synthgen.datasets import BUILTIN
from synthgen.errors import RecipeError
from synthgen.judge.settings import EvaluateSettings, GateSettings
from synthgen.models.configs import DEFAULT_TYPE, REGISTRY, training_settings
from synthgen.schema import ColumnSpec

_CONFIGS = tuple(entry.config for entry in REGISTRY.values())
GeneratorSpec = Annotated[Union[_CONFIGS], Field(discriminator="type")]  # noqa: UP007 (a union built from the registry)


class RecipeWarning(UserWarning):
    """A recipe uses a key that still works but has a new name."""


class SourceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str | None = Field(
        default=None,
        description="CSV or Parquet file, or a Parquet dataset (a directory or a glob such as data/parts/*.parquet, "
        "read in record batches: synthgen.sources), relative to the recipe file.",
    )
    builtin: str | None = Field(default=None, description=f"A bundled dataset: {', '.join(BUILTIN)}.")
    sample_rows: int | None = Field(
        default=None,
        ge=100,
        description="A streamed source (a Parquet directory or glob) only: rows of the seeded uniform sample the "
        "schema, the column statistics and the judge's distance checks and attacks see (default 200,000). Training "
        "reads every row, and the exact copy and verbatim record checks hash every row, whatever this is.",
    )

    @model_validator(mode="after")
    def _one_of(self) -> SourceSpec:
        if (self.path is None) == (self.builtin is None):
            raise ValueError("give exactly one of 'path' or 'builtin'")
        if self.sample_rows is not None and self.path is None:
            raise ValueError("'sample_rows' applies to a streamed source (a Parquet directory or glob), not a builtin")
        if self.builtin is not None and self.builtin not in BUILTIN:
            raise ValueError(f"unknown builtin dataset {self.builtin!r}; available: {', '.join(BUILTIN)}")
        return self


class SchemaSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str | None = Field(default=None, description="The column models are scored on predicting.")
    columns: dict[str, ColumnSpec] = Field(default_factory=dict, description="Declared columns; others are inferred.")


class SplitSpec(BaseModel):
    """The cut of the real table into training rows and holdout rows, made before training.

    The holdout is never shown to the generator; the judge compares the synthetic rows with both.
    """

    model_config = ConfigDict(extra="forbid")

    holdout: float = Field(
        default=0.2,
        gt=0.0,
        lt=1.0,
        description="Share of the real rows held out from training (the privacy audit needs them).",
    )
    seed: int = Field(default=0, description="Seed of the split (stratified on a discrete target).")


class GenerateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rows: int | None = Field(default=None, ge=1, description="Rows to generate; default: as many as the source.")
    output: str | None = Field(default=None, description="Output path (.csv or .parquet), relative to the recipe file.")
    seed: int | None = Field(default=None, description="Sampling seed; default: the model's seed.")
    conditions: dict[str, Any] = Field(
        default_factory=dict,
        description="What every generated row holds: {column: value | [values] | {min: a, max: b}}, e.g. "
        "{loan_status: Charged Off, addr_state: [CA, TX], annual_inc: {min: 50000}}. Exactly the rows asked "
        "for, or an error naming the acceptance rate.",
    )
    rebalance: dict[str, dict[Any, float]] = Field(
        default_factory=dict,
        description="Shares of categories of discrete columns, e.g. {loan_status: {Charged Off: 0.5}}; the "
        "other rows keep the model's mix of the remaining categories.",
    )


class Recipe(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    source: SourceSpec
    schema_: SchemaSpec = Field(default_factory=SchemaSpec, alias="schema")
    generator: GeneratorSpec = Field(default_factory=lambda: REGISTRY[DEFAULT_TYPE].config())
    split: SplitSpec = Field(default_factory=SplitSpec)
    generate: GenerateSpec = Field(default_factory=GenerateSpec)
    evaluate: EvaluateSettings = Field(default_factory=EvaluateSettings)
    gates: GateSettings = Field(default_factory=GateSettings)
    constraints: list[ConstraintSpec] = Field(
        default_factory=list,
        description="Rules every generated row obeys: inequality (low <= high), expression ('a <= 0.8 * b'), "
        "fixed_combinations (only value combinations seen in the data), unique. See synthgen.constraints.",
    )
    model_dir: str | None = Field(
        default=None, description="Where the trained model is kept and reused; default .synthgen/models/<name>."
    )
    threads: Annotated[int, Field(ge=1)] | Literal["auto"] = Field(
        default="auto",
        description="CPU threads for training, sampling and the judge's learners: a positive integer, or 'auto' "
        "(SYNTHGEN_THREADS when set, else the cores this process may use). See synthgen.threads.",
    )

    _path: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data, notes = migrate(data)
            for _, message in notes:
                warnings.warn(message, RecipeWarning, stacklevel=2)
            if isinstance(data.get("source"), str):
                data["source"] = {"path": data["source"]}
            if isinstance(data.get("generator"), dict) and "type" not in data["generator"]:
                data["generator"] = {"type": DEFAULT_TYPE, **data["generator"]}
        return data

    # -- paths are relative to the recipe file -----------------------------------------------------
    @property
    def path(self) -> Path | None:
        return self._path

    @property
    def base_dir(self) -> Path:
        return self._path.parent if self._path is not None else Path.cwd()

    def resolve(self, relative: str) -> Path:
        candidate = Path(relative).expanduser()
        return candidate if candidate.is_absolute() else self.base_dir / candidate

    @property
    def output_path(self) -> Path:
        return self.resolve(self.generate.output or f"out/{self.name}_synthetic.csv")

    @property
    def model_path(self) -> Path:
        return self.resolve(self.model_dir or f".synthgen/models/{self.name}")

    @property
    def label(self) -> str:
        return str(self._path) if self._path is not None else f"recipe {self.name!r}"

    def fingerprint(self) -> str:
        """Hash of everything that decides the trained model: the source, schema, split and the
        generator's training settings. Not the device, the generator's sampling-only settings (see
        `GeneratorConfig.sampling_fields`), the output, the judge or the gates."""
        schema = self.schema_.model_dump(mode="json")
        for column in (schema.get("columns") or {}).values():
            if column.get("spikes") is None:  # unset: inferred from the data, which the fingerprint covers
                del column["spikes"]  # (and models saved before spikes existed stay valid)
        unset_sample = {"sample_rows"} if self.source.sample_rows is None else None  # older models stay valid
        payload = {
            "source": self.source.model_dump(mode="json", exclude=unset_sample),
            "schema": schema,
            "generator": training_settings(self.generator),
            "split": self.split.model_dump(mode="json"),
        }
        if self.constraints:  # they change what the model learns; absent, old fingerprints stay valid
            payload["constraints"] = [c.model_dump(mode="json") for c in self.constraints]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


# -- renamed keys ----------------------------------------------------------------------------------
_RENAMED: dict[tuple[str, ...], dict[str, str]] = {
    (): {"model": "generator"},
    ("evaluate",): {"holdout": "split.holdout"},
}
"""Old key -> new name, by the key path of the mapping that held it (for "did you mean")."""


def migrate(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[list[str], str]]]:
    """A recipe mapping with renamed keys moved to their new place, and a note per move: the key path
    of the old key (for its line) and the message. Giving both the old and the new key is an error,
    raised as `_RefusedKey` with the old key's path."""
    data, notes = dict(data), []
    if "model" in data:
        if "generator" in data:
            raise _RefusedKey(["model"], "give the generator once: 'model:' is the old name of 'generator:'")
        data["generator"] = data.pop("model")
        notes.append((["model"], "'model:' is now 'generator:' (the old key is still read; rename it)"))
    evaluate = data.get("evaluate")
    if not isinstance(evaluate, dict):
        return data, notes
    split = dict(data["split"]) if isinstance(data.get("split"), dict) else {}
    if "holdout" in evaluate:
        if "holdout" in split:
            raise _RefusedKey(
                ["evaluate", "holdout"], "give the holdout once: 'evaluate.holdout' is the old name of 'split.holdout'"
            )
        split["holdout"] = evaluate["holdout"]
        data["evaluate"] = {k: v for k, v in evaluate.items() if k != "holdout"}
        notes.append((["evaluate", "holdout"], "'evaluate.holdout' is now 'split.holdout' (still read; rename it)"))
    if "seed" in evaluate and "split" not in data:
        # A recipe without `split:` was written when `evaluate.seed` also cut the split: keep its split.
        split["seed"] = evaluate["seed"]
        notes.append(
            (
                ["evaluate", "seed"],
                "'evaluate.seed' seeds the judge only; this recipe has no 'split:' block, so it still seeds the "
                f"split too, as it did in synthgen 0.1: add 'split: {{seed: {evaluate['seed']}}}' to say so",
            )
        )
    if split:
        data["split"] = split
    return data, notes


class _RefusedKey(ValueError):
    """An old and a new key given together; ``keys`` is the old key's path, for the line number."""

    def __init__(self, keys: list[str], message: str) -> None:
        super().__init__(message)
        self.keys = keys


# -- loading -------------------------------------------------------------------------------------
def load_recipe(path: str | Path) -> Recipe:
    """Read and validate a recipe file; raise `RecipeError` naming the file, line and key."""
    path = Path(path)
    if not path.is_file():
        raise RecipeError(f"{path}: recipe file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RecipeError(f"{path}: cannot read the recipe: {exc}") from None
    return parse_recipe(text, source=path)


def parse_recipe(text: str, source: Path | str = "<recipe>") -> Recipe:
    root, data = _load_yaml(text, source)
    if not isinstance(data, dict):
        raise RecipeError(
            f"{source}: a recipe is a mapping of keys (name, source, schema, generator, ...), got {type(data).__name__}"
        )
    try:
        data, notes = migrate(data)
    except _RefusedKey as exc:
        line = _line_of(root, exc.keys)
        raise RecipeError(f"{source}{f':{line}' if line else ''}: {exc}") from None
    for keys, message in notes:
        line = _line_of(root, keys)
        warnings.warn(f"{source}{f':{line}' if line else ''}: {message}", RecipeWarning, stacklevel=2)
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(_explain(exc, root, source)) from None
    if isinstance(source, Path):
        recipe._path = source.resolve()
    return recipe


class _RecipeLoader(yaml.SafeLoader):
    """A safe loader that refuses anchors, aliases and duplicate keys while composing.

    An alias is a pointer: nested aliases expand exponentially once objects are built (a few hundred
    bytes of "billion laughs" took 7 GB), and recipes gain nothing from them, so the first anchor or
    alias stops the parse before any object exists. YAML keeps the last of two equal keys; in a hand
    edited recipe that silently discards a setting, so the composer reports both lines instead.
    """

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _RefusedYAML(
                event.start_mark.line + 1,
                "YAML aliases are not allowed in recipes (found an anchor or alias); write the value out",
            )
        return super().compose_node(parent, index)

    def compose_mapping_node(self, anchor: Any) -> yaml.MappingNode:
        node = super().compose_mapping_node(anchor)
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a complex key: construction refuses it as unhashable
            key = self._key(key_node)
            line = key_node.start_mark.line + 1
            if key in seen:
                raise _RefusedYAML(
                    line,
                    f"duplicate key {key_node.value!r} (first at line {seen[key]}); YAML would silently keep "
                    f"only the last",
                )
            seen[key] = line
        return node

    def _key(self, node: yaml.ScalarNode) -> Any:
        """The key as YAML compares it: `1` and `0x1` collide, `1` and `"1"` do not."""
        construct = self.yaml_constructors.get(node.tag)
        if construct is None:
            return (node.tag, node.value)
        try:
            value = construct(self, node)
        except (yaml.YAMLError, ValueError, TypeError):
            return (node.tag, node.value)
        return (node.tag, value) if isinstance(value, typing.Hashable) else (node.tag, node.value)


class _RefusedYAML(Exception):
    """Raised inside the loader; `_load_yaml` turns it into a `RecipeError` naming the file."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.message = message


def _load_yaml(text: str, source: Path | str) -> tuple[yaml.Node | None, Any]:
    """Compose the text once, refusing aliases and duplicate keys, and build the objects from that node.

    The node is kept for the line numbers of validation messages.
    """
    loader = _RecipeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except _RefusedYAML as exc:
        raise RecipeError(f"{source}:{exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(f"{source}{where}: not valid YAML: {problem}") from None
    except RecursionError:
        raise RecipeError(f"{source}: not valid YAML for a recipe: nested too deeply") from None
    finally:
        loader.dispose()
    return root, data


def _explain(exc: ValidationError, root: yaml.Node | None, source: Path | str) -> str:
    lines = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        line = _line_of(root, loc)
        where = f"{source}:{line}" if line else str(source)
        keys = [part for part in loc if part not in _UNION_TAGS]
        dotted = ".".join(keys) or "(top level)"
        if error["type"] == "extra_forbidden":
            hint = _did_you_mean(loc)
            lines.append(f"{where}: {dotted}: unknown key{hint}")
        elif error["type"] == "missing":
            lines.append(f"{where}: {dotted}: required key is missing")
        else:
            message = error["msg"].removeprefix("Value error, ")
            lines.append(f"{where}: {dotted}: {message} (got {error.get('input')!r})")
    return "\n".join(lines)


_UNION_TAGS = set(REGISTRY)


def _line_of(root: yaml.Node | None, loc: list[str]) -> int | None:
    """1-based line of the deepest YAML node along ``loc``."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((pair for pair in node.value if str(pair[0].value) == key), None)
            if match is None:
                continue  # a union tag or a default, not a key of the file
            line = match[0].start_mark.line + 1
            node = match[1]
        elif isinstance(node, yaml.SequenceNode) and key.isdigit() and int(key) < len(node.value):
            node = node.value[int(key)]
            line = node.start_mark.line + 1
    return line


def _did_you_mean(loc: list[str]) -> str:
    """``loc`` is pydantic's location, union tags included: they pick the config's fields."""
    keys = loc
    allowed = _fields_at(Recipe, loc[:-1])
    if not allowed:
        return ""
    renamed = _RENAMED.get(tuple(keys[:-1]), {})
    close = difflib.get_close_matches(keys[-1], [*allowed, *renamed], n=1, cutoff=0.6)
    if close and close[0] in renamed:
        return f" (did you mean {renamed[close[0]]!r}? it was called {close[0]!r} before)"
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f"; allowed keys: {', '.join(sorted(allowed))}"


def _fields_at(model: Any, keys: list[str]) -> list[str]:
    """Allowed keys of the mapping at ``keys`` below ``model`` (follows dicts and the model union)."""
    current: Any = model
    for key in keys:
        member = _union_member(current, key)
        if member is not None:  # the key is the union tag pydantic put in the location
            current = member
            continue
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {(f.alias or name): f for name, f in current.model_fields.items()}
            if key not in fields:
                return []
            current = fields[key].annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [(f.alias or name) for name, f in current.model_fields.items()]
    return []


def _union_member(annotation: Any, tag: str) -> Any:
    """The member of a discriminated union of configs whose ``type`` is ``tag``, if any."""
    while typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    for member in typing.get_args(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel) and "type" in member.model_fields:
            if member.model_fields["type"].default == tag:
                return member
    return None


def _unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated; a union of configs collapses to its first member's fields."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in typing.get_args(annotation) if a is not type(None)]
            models = [m for m in members if isinstance(m, type) and issubclass(m, BaseModel)]
            annotation = models[0] if models else members[0]
        else:
            return annotation


def as_recipe(recipe: Recipe | str | Path) -> Recipe:
    """Accept a loaded recipe or a path to one."""
    return recipe if isinstance(recipe, Recipe) else load_recipe(recipe)
