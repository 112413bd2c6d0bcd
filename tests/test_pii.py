"""PII with Faker: realistic, format-valid, seeded, chunkable values that never equal a source value;
random ids that are unique and never a source id."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from faker import Faker

from synthgen.errors import ModelFileError, RecipeError
from synthgen.pii import PROVIDERS, PiiSpec, infer_provider, normalise, sampler
from synthgen.recipe import parse_recipe
from synthgen.schema import Column, ColumnKind, ColumnSpec, IdSpec, TableSchema, infer_schema
from synthgen.unmodelled import fill_unmodelled, learn_unmodelled, pii_exclusions, upgrade_unmodelled

SSN = re.compile(r"^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$")
EN_US_DOMAINS = {"gmail.com", "yahoo.com", "hotmail.com"}
# Faker's own method for each built-in provider, to put Faker's likely outputs into the source.
FAKER_METHOD = {"email": "free_email", "zipcode": "zipcode", "date_of_birth": "date_of_birth"}


def _schema(**pii: PiiSpec | None) -> TableSchema:
    columns = [Column(name="x", kind=ColumnKind.NUMERIC)]
    columns += [Column(name=name, kind=ColumnKind.PII, nullable=True, pii=spec) for name, spec in pii.items()]
    return TableSchema(columns=columns)


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.zeros(n)})


def _fill(schema, templates, n, seed=0, exclude=None, offset=0):
    return fill_unmodelled(_rows(n), schema, templates, seed=seed, exclude=exclude, offset=offset)


def _faker_values(provider: str, n: int, seed: int) -> list[str]:
    fake = Faker("en_US")
    fake.seed_instance(seed)
    method = getattr(fake, FAKER_METHOD.get(provider, provider))
    return [str(method()) for _ in range(n)]


@pytest.mark.parametrize("provider", list(PROVIDERS))
def test_no_output_value_equals_a_source_value(provider):
    """The source is made of what synthgen itself draws with the same seed (every row of it would
    otherwise come back) and of Faker's own values: with the source excluded, none comes back, not
    even up to case and punctuation."""
    schema = _schema(col=PiiSpec(faker=provider))
    template = learn_unmodelled(pd.DataFrame({"x": np.zeros(50), "col": _faker_values(provider, 50, 0)}), schema)
    ours = _fill(schema, template, 3000, seed=5)["col"].tolist()
    source = pd.DataFrame({"x": np.zeros(5000), "col": ours + _faker_values(provider, 2000, seed=5)})
    templates = learn_unmodelled(source, schema)
    assert templates["col"]["style"] == "faker" and templates["col"]["provider"] == provider
    without = _fill(schema, templates, 3000, seed=5)["col"]
    assert (without == pd.Series(ours)).mean() > 0.99, "the same seed draws the source's values again"
    out = _fill(schema, templates, 3000, seed=5, exclude=pii_exclusions(source, schema))["col"]
    assert out.notna().all()
    assert not set(out) & set(source["col"])
    assert not set(normalise(out.tolist()).tolist()) & set(normalise(source["col"].tolist()).tolist())
    assert out.nunique() > 20


def test_exclusion_when_every_value_of_a_short_list_is_real():
    """Every en_US first name is real: the column falls back to random strings of a name's shape."""
    fake = Faker("en_US")
    names = list(dict.fromkeys(fake.first_name.__self__.first_names))
    schema = _schema(col=PiiSpec(faker="first_name"))
    source = pd.DataFrame({"x": np.zeros(len(names)), "col": names})
    out = _fill(schema, learn_unmodelled(source, schema), 500, exclude=pii_exclusions(source, schema))["col"]
    assert not set(normalise(out.tolist()).tolist()) & set(normalise(names).tolist())
    assert out.str.match(r"^[A-Z][a-z]+$").all()


def test_ssns_are_valid_and_keep_bare_digits():
    schema = _schema(ssn=PiiSpec(faker="ssn"))
    source = pd.DataFrame({"x": [0.0] * 3, "ssn": ["123-45-6789", "987-65-4321", "078-05-1120"]})
    ssns = _fill(schema, learn_unmodelled(source, schema), 100_000, seed=1)["ssn"]
    assert ssns.str.match(SSN).all()
    assert ssns.is_unique or ssns.nunique() > 99_990
    areas = ssns.str[:3].astype(int)
    assert areas.min() == 1 and areas.max() == 899 and 666 not in set(areas)
    bare = pd.DataFrame({"x": [0.0] * 3, "ssn": ["123456789", "987654321", "078051120"]})
    digits = _fill(schema, learn_unmodelled(bare, schema), 5000, seed=1)["ssn"]
    assert digits.str.match(r"^\d{9}$").all()
    assert (digits.str[:3] + "-" + digits.str[3:5] + "-" + digits.str[5:]).str.match(SSN).all()


def test_emails_are_on_real_free_mail_domains():
    schema = _schema(email=PiiSpec(faker="email"), mail=PiiSpec(faker="email", locale="de_DE"))
    source = pd.DataFrame({"x": [0.0], "email": ["a@b.io"], "mail": ["c@d.de"]})
    rows = _fill(schema, learn_unmodelled(source, schema), 20_000, seed=2)
    local, domain = rows["email"].str.split("@", n=1, expand=True).T.values
    assert set(domain) == EN_US_DOMAINS
    assert pd.Series(local).str.match(r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$").all()
    german = set(Faker("de_DE").free_email_domain.__self__.free_email_domains)
    assert set(rows["mail"].str.split("@").str[1]) <= german
    assert rows["email"].nunique() > 15_000


def test_formats_of_the_other_providers():
    providers = ["name", "first_name", "last_name", "phone_number", "address", "street_address", "city"]
    providers += ["zipcode", "company", "iban", "date_of_birth", "user_name"]
    schema = _schema(**{p: PiiSpec(faker=p) for p in providers})
    rows = _fill(schema, learn_unmodelled(_rows(1).assign(**{p: "v" for p in providers}), schema), 20_000, seed=3)
    assert rows["name"].str.match(r"^[A-Z][A-Za-z.' -]+$").all() and rows["name"].str.contains(" ").all()
    assert rows["first_name"].str.match(r"^[A-Z][a-z]+$").all()
    phone = rows["phone_number"].str.replace(r"^\+1-", "", regex=True).str.replace(r"\D", "", regex=True)
    assert phone.str.match(r"^[2-9](?!11)\d\d[2-9](?!11)\d\d\d{4}$").all(), "NANP: NXX-NXX-XXXX, never N11"
    assert not rows["address"].str.contains("\n").any() and rows["address"].str.match(r"^.+, .+$").all()
    assert rows["zipcode"].str.match(r"^\d{5}$").all()
    assert rows["zipcode"].astype(int).between(501, 99_950).all()
    iban = rows["iban"]
    assert iban.str.match(r"^GB\d{2}[A-Z]{4}\d{14}$").all()
    moved = (iban.str[4:] + iban.str[:4]).map(lambda s: "".join(str(int(c, 36)) for c in s))
    assert (moved.map(int) % 97 == 1).all(), "ISO 7064 check digits"
    born = pd.to_datetime(rows["date_of_birth"])
    reference = pd.Timestamp(
        learn_unmodelled(_rows(1).assign(**{p: "v" for p in providers}), schema)["date_of_birth"]["reference"]
    )
    assert born.max() <= reference - pd.DateOffset(years=18) and born.min() > reference - pd.DateOffset(years=81)
    assert rows["first_name"].nunique() > 300 and rows["city"].nunique() > 1000


def test_seeded_and_chunk_invariant():
    providers = ["name", "email", "ssn", "phone_number", "address", "first_name", "iban", "date_of_birth"]
    schema = TableSchema(
        columns=[
            Column(name="loan_id", kind=ColumnKind.ID, id=IdSpec(style="random")),
            Column(name="ref", kind=ColumnKind.ID, id=IdSpec(style="random")),
            Column(name="seq", kind=ColumnKind.ID),
            *_schema(job=PiiSpec(faker="job"), **{p: PiiSpec(faker=p) for p in providers}).columns,
        ]
    )
    source = _rows(300).assign(
        loan_id=np.arange(300) + 70_000,
        ref=[f"LN-{i:05d}" for i in range(300)],
        seq=np.arange(300),
        job=_faker_values("job", 300, 0),
        **{p: _faker_values(p, 300, 0) for p in providers},
    )
    source.loc[::6, providers] = None
    templates = learn_unmodelled(source, schema)
    banned = pii_exclusions(source, schema)
    assert set(banned) == {"loan_id", "ref", "job", *providers}
    whole = _fill(schema, templates, 10_000, seed=4, exclude=banned)
    parts, offset = [], 0
    for size in (1, 4094, 3001, 2904):
        parts.append(_fill(schema, templates, size, seed=4, exclude=banned, offset=offset))
        offset += size
    pd.testing.assert_frame_equal(pd.concat(parts, ignore_index=True), whole)
    pd.testing.assert_frame_equal(_fill(schema, templates, 10_000, seed=4, exclude=banned), whole)
    other = _fill(schema, templates, 10_000, seed=5, exclude=banned)
    for column in ["loan_id", "ref", "job", *providers]:
        assert (other[column] != whole[column]).mean() > 0.5, column
    assert whole["seq"].tolist() == other["seq"].tolist(), "sequential ids do not depend on the seed"
    for p in providers:
        assert abs(whole[p].isna().mean() - source[p].isna().mean()) < 0.01, p


def test_null_rates_within_one_point():
    rng = np.random.default_rng(0)
    source = _rows(5_000).assign(name=_faker_values("name", 5_000, 1), ssn=_faker_values("ssn", 5_000, 1))
    source.loc[rng.random(5_000) < 0.173, "name"] = None
    source.loc[rng.random(5_000) < 0.02, "ssn"] = None
    schema = infer_schema(source)
    assert schema["name"].pii == PiiSpec(faker="name") and schema["ssn"].pii == PiiSpec(faker="ssn")
    out = _fill(schema, learn_unmodelled(source, schema), 20_000, seed=9, exclude=pii_exclusions(source, schema))
    for column in ("name", "ssn"):  # 20,000 draws: one point is about 4 standard errors
        assert abs(out[column].isna().mean() - source[column].isna().mean()) < 0.01, column


# -- ids --------------------------------------------------------------------------------------------------
def test_random_ids_are_unique_in_the_source_format_and_never_a_source_id():
    source = _rows(5000).assign(
        loan_id=np.random.default_rng(0).choice(np.arange(100_000, 1_000_000), 5000, replace=False),
        ref=[f"ACC-{i:07d}" for i in np.random.default_rng(1).choice(10**7, 5000, replace=False)],
    )
    spec = {"loan_id": ColumnSpec(id={"style": "random"}), "ref": ColumnSpec(id=IdSpec(style="random"))}
    schema = infer_schema(source, spec)
    assert schema["loan_id"].kind is ColumnKind.ID and schema["ref"].kind is ColumnKind.ID
    templates = learn_unmodelled(source, schema)
    start = int(source["loan_id"].min())
    assert templates["loan_id"] == {
        "style": "integer",
        "start": start,
        "null_rate": 0.0,
        "order": "random",
        "digits": 6,
    }
    assert templates["ref"]["prefix"] == "ACC-" and templates["ref"]["digits"] == 7
    banned = pii_exclusions(source, schema)
    chunks = [_fill(schema, templates, 30_000, exclude=banned, offset=o) for o in (0, 30_000, 60_000)]
    rows = pd.concat(chunks, ignore_index=True)
    assert rows["loan_id"].is_unique and rows["ref"].is_unique
    assert rows["loan_id"].between(100_000, 999_999).all() and rows["loan_id"].dtype == np.int64
    assert rows["ref"].str.match(r"^ACC-\d{7}$").all()
    assert not set(rows["loan_id"]) & set(source["loan_id"])
    assert not set(rows["ref"]) & set(source["ref"])
    assert not (np.diff(rows["loan_id"].to_numpy()[:100]) == 1).all(), "random, not sequential"


def test_random_ids_outgrow_a_full_width_without_repeating():
    """Two-digit ids, most of them real: the free ones come first, then ids grow a digit."""
    source = _rows(80).assign(code=[f"K{i:02d}" for i in range(1, 81)])
    schema = infer_schema(source, {"code": ColumnSpec(id={"style": "random"})})
    templates = learn_unmodelled(source, schema)
    rows = _fill(schema, templates, 300, exclude=pii_exclusions(source, schema))["code"]
    assert rows.is_unique and not set(rows) & set(source["code"])
    assert set(rows[:19]) == {f"K{i}" for i in range(81, 100)}, "the 19 free two-digit ids first"
    assert rows[19:].str.match(r"^K\d{3}$").all()


def test_sequential_ids_stay_the_default():
    source = _rows(10).assign(loan_id=np.arange(10) + 500)
    schema = infer_schema(source, {"loan_id": ColumnSpec(kind="id")})
    assert schema["loan_id"].id is None
    assert _fill(schema, learn_unmodelled(source, schema), 4)["loan_id"].tolist() == [500, 501, 502, 503]


# -- the recipe and the schema -----------------------------------------------------------------------------
def _recipe_error(columns: str) -> str:
    with pytest.raises(RecipeError) as info:
        parse_recipe(f"name: x\nsource: a.csv\nschema:\n  columns:\n{columns}", source="r.yaml")
    return str(info.value)


def test_a_wrong_provider_names_the_column_and_close_matches():
    message = _recipe_error("    borrower: {pii: {faker: nmae}}\n")
    assert "r.yaml:5: schema.columns.borrower.pii" in message
    assert "unknown Faker provider 'nmae'" in message and "did you mean 'name'" in message
    message = _recipe_error("    borrower: {pii: {faker: emial, locale: en_US}}\n")
    assert "borrower" in message and "'email'" in message
    message = _recipe_error("    borrower: {pii: {faker: name, locale: en_XX}}\n")
    assert "borrower" in message and "unknown Faker locale 'en_XX'" in message
    message = _recipe_error("    borrower: {pii: {faker: pyint_range}}\n")
    assert "borrower" in message and "unknown Faker provider" in message
    message = _recipe_error("    borrower: {pii: {faker: enum}}\n")
    assert "needs argument" in message
    message = _recipe_error("    borrower: {kind: numeric, pii: {faker: name}}\n")
    assert "borrower" in message and "applies to pii columns" in message
    message = _recipe_error("    ref: {id: {style: shuffled}}\n")
    assert "ref" in message and "sequential" in message


def test_a_pii_block_implies_kind_pii_and_aliases_are_read():
    recipe = parse_recipe(
        "name: x\nsource: a.csv\nschema:\n  columns:\n    contact: {pii: {faker: phone}}\n"
        "    who: {pii: {faker: job}}\n    ref: {id: {style: random}}\n"
    )
    columns = recipe.schema_.columns
    assert columns["contact"].pii == PiiSpec(faker="phone_number", locale="en_US")
    frame = pd.DataFrame({"contact": ["1"] * 30, "who": ["a"] * 30, "ref": range(30), "x": np.arange(30.0)})
    schema = infer_schema(frame, columns)
    assert schema["contact"].kind is ColumnKind.PII and schema["who"].pii.faker == "job"
    assert schema["ref"].kind is ColumnKind.ID and schema["ref"].id == IdSpec(style="random")
    assert TableSchema.from_json_dict(json.loads(json.dumps(schema.to_json_dict()))) == schema


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("email", ["a.b@x.org", "c@y.com"], "email"),
        ("contact", ["a.b@x.org", "c@y.com"], "email"),
        ("ssn", ["123-45-6789", "987-65-4321"], "ssn"),
        ("SSN", ["123456789", "987654321"], "ssn"),
        ("first_name", ["Mary", "José"], "first_name"),
        ("lastName", ["Smith", "O'Neil"], "last_name"),
        ("borrower_name", ["Mary Smith", "Dr. John Doe"], "name"),
        ("name", ["Mary Smith", "John Doe"], "name"),
        ("username", ["msmith", "jdoe42"], "user_name"),
        ("mobile_phone", ["(555) 123-4567", "+1-555-987-6543x123"], "phone_number"),
        ("home_address", ["12 Main St, Springfield, IL 62704", "3 Elm Rd"], "address"),
        ("street", ["12 Main St", "3 Elm Rd"], "street_address"),
        ("iban", ["GB82 WEST 1234 5698 7654 32", "DE89370400440532013000"], "iban"),
        ("full_name", ["Иван Петров", "Ольга Смирнова"], None),  # another script: the masked filler keeps it
        ("phone", [5551234567, 5559876543], None),  # numbers stay numbers
        ("email", ["3f2a9c", "77be01"], None),  # hashed: not e-mails
        ("notes", ["free text", "more"], None),
        ("account_number", ["0012345", "0098765"], None),
    ],
)
def test_obvious_providers_are_inferred(name, values, expected):
    schema = infer_schema(pd.DataFrame({name: values, "x": [1.0, 2.0]}), {name: ColumnSpec(kind="pii")})
    assert (schema[name].pii.faker if schema[name].pii else None) == expected


def test_inference_keeps_a_declared_locale():
    frame = pd.DataFrame({"email": ["a@b.de", "c@d.de"], "x": [1.0, 2.0]})
    schema = infer_schema(frame, {"email": ColumnSpec(pii={"locale": "de_DE"})})
    assert schema["email"].pii == PiiSpec(faker="email", locale="de_DE")
    assert infer_provider("email", pd.Series([None, None])) is None


def test_the_source_case_is_kept():
    source = _rows(50).assign(name=[v.upper() for v in _faker_values("name", 50, 0)])
    schema = infer_schema(source)
    templates = learn_unmodelled(source, schema)
    assert templates["name"]["case"] == "upper"
    out = _fill(schema, templates, 500)["name"]
    assert (out == out.str.upper()).all()


# -- model directories -------------------------------------------------------------------------------------
def test_the_stored_template_is_json_and_holds_no_source_value():
    providers = list(PROVIDERS)
    source = _rows(200).assign(**{p: _faker_values(p, 200, 3) for p in providers})
    schema = _schema(**{p: PiiSpec(faker=p) for p in providers})
    templates = learn_unmodelled(source, schema)
    dumped = json.dumps(templates)
    assert json.loads(dumped) == templates
    for p in providers:
        assert set(templates[p]) <= {
            "style",
            "version",
            "provider",
            "locale",
            "null_rate",
            "case",
            "compact",
            "reference",
        }
        for value in source[p]:
            assert value not in dumped
    assert upgrade_unmodelled(json.loads(dumped)) == templates


@pytest.mark.parametrize(
    "template",
    [
        {"style": "faker", "version": 2, "provider": "name", "locale": "en_US", "null_rate": 0.0},
        {"style": "faker", "version": 1, "provider": "John Smith", "locale": "en_US", "null_rate": 0.0},
        {"style": "faker", "version": 1, "provider": "name", "locale": "en US!", "null_rate": 0.0},
        {"style": "faker", "version": 1, "provider": "name", "locale": "en_US", "null_rate": 0.0, "case": "title"},
        {"style": "faker", "version": 1, "provider": "name", "locale": "en_US", "null_rate": 0.0, "example": "Ann"},
        {"style": "faker", "version": 1, "provider": "date_of_birth", "locale": "en_US", "reference": "soon"},
        {"style": "integer", "start": 1, "order": "shuffled"},
        {"style": "integer", "start": 1, "order": "random"},  # no digits
        {"style": "prefixed", "prefix": "A", "digits": 0, "order": "random"},
    ],
)
def test_corrupt_faker_and_id_templates_are_model_file_errors(template):
    with pytest.raises(ModelFileError):
        upgrade_unmodelled({"col": template})


def test_a_real_generator_fills_realistic_pii(tmp_path):
    from synthgen import CTGAN
    from synthgen.models import load_model

    n = 300
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "loan_id": np.arange(n) + 1000,
            "name": _faker_values("name", n, 11),
            "email": _faker_values("email", n, 11),
            "ssn": _faker_values("ssn", n, 11),
            "amount": np.round(rng.gamma(2.0, 1000.0, n), 2),
            "grade": rng.choice(list("ABC"), n),
        }
    )
    frame.loc[::5, "email"] = None
    schema = infer_schema(frame, {"loan_id": ColumnSpec(id={"style": "random"})})
    model = CTGAN(device="cpu", epochs=1, batch_size=100, seed=0).fit(frame, schema)
    rows = model.sample(2000, seed=3)
    for column in ("name", "email", "ssn", "loan_id"):
        assert not set(rows[column].dropna()) & set(frame[column].dropna()), column
    assert rows["ssn"].str.match(SSN).all()
    assert set(rows["email"].dropna().str.split("@").str[1]) <= EN_US_DOMAINS
    assert abs(rows["email"].isna().mean() - 0.2) < 0.03
    assert rows["name"].str.match(r"^[A-Z][A-Za-z.' -]+ [A-Za-z.' -]+$").all()
    assert rows["loan_id"].is_unique and rows["loan_id"].between(1000, 9999).all()
    directory = model.save(tmp_path / "model")
    stored = "".join(p.read_text(encoding="utf-8") for p in directory.rglob("*.json"))
    assert not [v for v in frame[["name", "email", "ssn"]].stack() if v in stored]
    # reloaded, the model samples the same rows; with the source excluded again, the same ids and PII too
    pd.testing.assert_frame_equal(
        load_model(directory, device="cpu").sample(2000, seed=3).drop(columns=["loan_id", "name", "email", "ssn"]),
        rows.drop(columns=["loan_id", "name", "email", "ssn"]),
    )
    reloaded = load_model(directory, device="cpu")
    reloaded.exclude_source_pii(frame)
    pd.testing.assert_frame_equal(reloaded.sample(2000, seed=3), rows)


def test_faker_is_imported_only_to_fill():
    code = (
        "import sys, synthgen\n"
        "from synthgen.recipe import parse_recipe\n"
        "parse_recipe('name: x\\nsource: a.csv\\nschema:\\n  columns:\\n    e: {pii: {faker: email}}\\n')\n"
        "import pandas as pd\n"
        "from synthgen.schema import infer_schema\n"
        "infer_schema(pd.DataFrame({'email': ['a@b.io'], 'first_name': ['Ann']}))\n"
        "print('faker' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_any_faker_provider_without_arguments_fills_a_column():
    schema = _schema(job=PiiSpec(faker="job"), card=PiiSpec(faker="credit_card_number"))
    templates = learn_unmodelled(_rows(1).assign(job="x", card="1"), schema)
    rows = _fill(schema, templates, 5000, seed=1)
    assert rows["job"].nunique() > 100 and rows["card"].str.match(r"^\d{12,19}$").all()


def test_sampler_speed_is_bulk():
    """Faker draws 2,000-4,000 names a second; the built-in providers draw in bulk (a loose bound)."""
    import time

    draw = sampler("name", "en_US")
    draw(10, np.random.default_rng(0))
    start = time.perf_counter()
    for block in range(25):
        draw(4096, np.random.default_rng(block))
    assert time.perf_counter() - start < 5.0
