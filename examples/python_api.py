"""The Python API in one page: learn a table, sample, save, reload, judge.

python examples/python_api.py            # about 20 s on 2 CPU cores; ends "gate passed"

The diffusion generator with its defaults, as `recipes/german_credit.yaml` uses it: on this table's 800
training rows its ``max_epochs`` cap (350 passes) is the budget, and its 1,000 rows pass the release gate
(CTGAN's lose the target signal on this table: see the recipe).
The budget is counted in passes, not minutes, so the rows and the verdict are the same on any machine.
"""

import tempfile

import synthgen

frame = synthgen.load_builtin("german_credit")
schema = synthgen.infer_schema(frame, target="creditability")
train, holdout = synthgen.split_holdout(frame, fraction=0.2, seed=0, schema=schema)

model = synthgen.DDPM(device="auto", seed=0).fit(train, schema)  # help(synthgen.DDPM): every setting
rows = model.sample(1_000, seed=1)  # the same seed gives the same rows
print(rows.head())

with tempfile.TemporaryDirectory() as folder:
    model.save(f"{folder}/german")  # JSON + safetensors: safe to load, no pickle
    again = synthgen.load_model(f"{folder}/german")  # device="cpu" would move a CUDA-trained model
    assert again.sample(1_000, seed=1).equals(rows)

report = synthgen.evaluate(train, holdout, rows, schema)
print(report.summary())
print("gate passed" if report.passed else f"gate failed: {report.gate.failing}")
