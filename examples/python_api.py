"""The Python API in one page: learn a table, sample, save, reload, judge.

python examples/python_api.py            # about a minute on a laptop CPU
"""

import os
import tempfile

import synthgen

epochs = int(os.environ.get("SYNTHGEN_EXAMPLE_EPOCHS", "100"))

frame = synthgen.load_builtin("german_credit")
schema = synthgen.infer_schema(frame, target="creditability")
train, holdout = synthgen.split_holdout(frame, fraction=0.2, seed=0, schema=schema)

model = synthgen.CTGAN(epochs=epochs, batch_size=100, device="auto", seed=0).fit(train, schema)
rows = model.sample(800, seed=1)
print(rows.head())

with tempfile.TemporaryDirectory() as folder:
    model.save(f"{folder}/german")  # JSON + safetensors: safe to load, no pickle
    again = synthgen.load_model(f"{folder}/german", device="cpu")
    assert again.sample(800, seed=1).equals(rows)

report = synthgen.evaluate(train, holdout, rows, schema)
print(report.summary())
print("gate passed" if report.passed else f"gate failed: {report.gate.failing}")
