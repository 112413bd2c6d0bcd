"""Turn benchmark results (from `python -m evaluation.run`) into evaluation/BENCHMARKS.md and one picture.

    python -m evaluation.report evaluation/results/bench_cpu.json [more.json ...]
        [--md evaluation/BENCHMARKS.md] [--png evaluation/benchmarks.png]

One section per results file (its machine, versions and command), a table per dataset (medians over
repeats, with the range where there were several), the speed ratios of the same run, time to quality,
and a picture of quality against training time drawn from the time-to-quality ladder. Files written by
`evaluation.bench_ctgan` (CTGAN against SDV's in one process) and `evaluation.profile_ctgan_gpu`
(where a GPU fit spends its time) and `evaluation.noise_floor` (real rows against real rows) get a table
each.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from evaluation.run import QUALITY_LEVEL

ROOT = Path(__file__).resolve().parents[1]

COLUMNS = (  # (figure, header, format)
    ("fit_s", "fit s", "{:.1f}"),
    ("s_per_epoch", "s / epoch", "{:.2f}"),
    ("train_rows_per_s", "train rows/s", "{:,.0f}"),
    ("sample_rows_per_s", "sample rows/s", "{:,.0f}"),
    ("peak_host_mib", "peak host MiB", "{:,.0f}"),
    ("shape", "shape", "{:.3f}"),
    ("trend", "trend", "{:.3f}"),
    ("detection_auc", "detection AUC", "{:.3f}"),
    ("tstr_auc", "TSTR AUC", "{:.3f}"),
    ("dcr_share", "DCR share", "{:.3f}"),
    ("mia_auc_upper", "MIA AUC ub", "{:.3f}"),
)


def cell(line: dict[str, Any], figure: str, fmt: str) -> str:
    value = line.get(figure)
    if not value:
        return "-"
    text = fmt.format(value["median"])
    if line["repeats"] > 1 and value["max"] > value["min"]:
        text += f" ({fmt.format(value['min'])}-{fmt.format(value['max'])})"
    return text


def dataset_table(summary: list[dict[str, Any]], dataset: str) -> list[str]:
    lines = [s for s in summary if s["dataset"] == dataset]
    trtr = next((s["trtr_auc"]["median"] for s in lines if "trtr_auc" in s), None)
    columns = list(COLUMNS)
    if any("peak_gpu_mib" in s for s in lines):
        columns.insert(5, ("peak_gpu_mib", "peak GPU MiB", "{:,.0f}"))
    head = ["model", *[h for _, h, _ in columns], "gate passed"]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for line in lines:
        cells = [
            f"`{line['model']}`",
            *[cell(line, f, fmt) for f, _, fmt in columns],
            f"{line['gate_passed']}/{line['repeats']}",
        ]
        out.append("| " + " | ".join(cells) + " |")
    if trtr is not None:
        out.append("")
        out.append(
            f"TSTR AUC: XGBoost trained on synthetic rows, tested on the real holdout; trained on the real "
            f"training rows it scores {trtr:.3f}."
        )
    return out


def ttq_table(ttq: list[dict[str, Any]]) -> list[str]:
    if not ttq:
        return []
    level = ttq[0]["level"]
    out = [
        f"Time to quality: shape >= {level['shape']} and trend >= {level['trend']}, fit plus sampling the "
        f"training split's "
        "size, at the first rung of each model's budget ladder that gets there (an upper bound at the "
        "ladder's resolution).",
        "",
    ]
    reached = [t for t in ttq if t["reached"]]
    peers = [t for t in reached if not t["model"].startswith("synthgen.")]
    fastest_peer = min(peers, key=lambda t: t["seconds"]) if peers else None
    out += [
        "| dataset | model | reached | seconds (fit + sample) | budget | vs fastest peer |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in ttq:
        if t["reached"]:
            budget = (
                f"{t['budget']['epochs']} epochs"
                if t["budget"]["epochs"] is not None
                else (f"{t['budget']['seconds']:g} s" if t["budget"]["seconds"] is not None else "default")
            )
            ratio = (
                f"{fastest_peer['seconds'] / t['seconds']:.1f}x faster"
                if fastest_peer and t["model"].startswith("synthgen.")
                else "-"
            )
            out.append(
                f"| {t['dataset']} | `{t['model']}` | yes | {t['seconds']:.1f} ({t['fit_s']:.1f} + "
                f"{t['sample_s']:.1f}) | {budget} | {ratio} |"
            )
        else:
            best = max(t["points"], key=lambda p: min(p["shape"], p["trend"]), default=None)
            note = (
                f"best: shape {best['shape']:.3f}, trend {best['trend']:.3f} after {best['train_s']:.0f} s"
                if best
                else ""
            )
            out.append(f"| {t['dataset']} | `{t['model']}` | no | - | {note} | - |")
    ours = [t for t in reached if t["model"].startswith("synthgen.")]
    if ours and not peers:
        closest = max(
            (t for t in ttq if not t["model"].startswith("synthgen.") and t["points"]),
            key=lambda t: max(min(p["shape"], p["trend"]) for p in t["points"]),
            default=None,
        )
        if closest is not None:
            best = max(closest["points"], key=lambda p: min(p["shape"], p["trend"]))
            fastest = min(ours, key=lambda t: t["seconds"])
            out += [
                "",
                f"No peer reached the level. The closest, `{closest['model']}`, got shape {best['shape']:.3f} "
                f"and trend "
                f"{best['trend']:.3f} in {best['total_s']:.0f} s; `{fastest['model']}` passed both in "
                f"{fastest['seconds']:.1f} s "
                f"({best['total_s'] / fastest['seconds']:.1f}x less time).",
            ]
    return out


def ratios_table(ratios: list[dict[str, Any]]) -> list[str]:
    if not ratios:
        return []
    out = [
        "synthgen's CTGAN against SDV's at equal epochs and batch, medians of the same run:",
        "",
        "| dataset | whole fit | per epoch | sampling | shape (ours - SDV) | trend (ours - SDV) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in ratios:
        out.append(
            f"| {r['dataset']} | {r['whole_fit']:.2f}x | {r['s_per_epoch']:.2f}x | {r['sampling']:.2f}x | "
            f"{r['shape_diff']:+.3f} | {r['trend_diff']:+.3f} |"
        )
    return out


def split_text(settings: dict[str, Any]) -> str:
    """``80/20 stratified, seed 0`` (files from before recipes were recorded all used that split)."""

    def one(split: dict[str, Any]) -> str:
        held = round(100 * split["holdout"], 1)
        return f"{100 - held:g}/{held:g} stratified, seed {split['seed']}"

    if settings.get("split") or not settings.get("splits"):
        return one(settings.get("split") or {"holdout": 0.2, "seed": 0})
    return "; ".join(f"{name} {one(split)}" for name, split in settings["splits"].items())


def recipes_line(settings: dict[str, Any]) -> str:
    """Where each dataset's recipe is, when any is not a bundled one (nothing for the bundled datasets)."""
    recipes = settings.get("recipes") or {}
    if all(path.startswith("recipes/") for path in recipes.values()):
        return ""
    return "Recipes: " + ", ".join(f"{name} `{path}`" for name, path in recipes.items()) + ". "


def section(results: dict[str, Any], source: str, picture: str | None) -> list[str]:
    settings, machine = results["settings"], results["machine"]
    device = machine.get("gpu") or f"{machine['cpu_count']} CPU cores ({machine['processor']})"
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items() if v)
    budget = f"{settings['epochs']} epochs" if settings.get("epochs") else "default budgets"
    repeats = f"{settings['repeats']} repeat{'s' if settings['repeats'] != 1 else ''}"
    out = [
        f"## {device}: {', '.join(settings['models'])} on {', '.join(settings['datasets'])} ({budget}, {repeats})",
        "",
        f"`{results['command']}`, {results['created_at']}, {results['wall_s'] / 60:.0f} min; results in `{source}`.",
        "",
        f"{recipes_line(settings)}Split: {split_text(settings)}. "
        f"Repeats: {settings['repeats']} (model seeds {settings['seeds']}); "
        f"epochs of the epoch-based models: {settings['epochs'] or 'each model default'}; "
        f"torch threads {settings['threads']}. Versions: {versions}.",
        "",
    ]
    for note in results.get("notes", []):  # what the person who ran it saw, kept beside the figures
        out += [f"> {note}", ""]
    for dataset in settings["datasets"]:
        if not any(s["dataset"] == dataset for s in results["summary"]):
            failed = sorted({f["model"] for f in results.get("failed", []) if f["dataset"] == dataset})
            out += [
                f"### {dataset}",
                "",
                f"No run completed (failed: {', '.join(failed) or 'none recorded'}; "
                "their errors are under `failed` in the results file).",
                "",
            ]
            continue
        out += [f"### {dataset}", "", *dataset_table(results["summary"], dataset), ""]
    if results.get("speed_ratios"):
        out += ["### Speed", "", *ratios_table(results["speed_ratios"]), ""]
    if results.get("time_to_quality"):
        out += ["### Time to quality", "", *ttq_table(results["time_to_quality"]), ""]
        if picture:
            out += [f"![quality against training time]({picture})", ""]
    return out


def _x(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _num(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def ctgan_pair_section(results: dict[str, Any], source: str) -> list[str]:
    """A `python -m evaluation.bench_ctgan` file: synthgen's CTGAN and SDV's in one process."""
    ours, theirs, ratios = results["results"]["synthgen"], results["results"]["sdv"], results["speedups"]
    machine = results["machine"].get("gpu") or f"{results['machine'].get('torch_threads')} CPU threads"
    graphs = "" if ours.get("cuda_graph") is not False or results["device"] != "cuda" else " (ours without CUDA graphs)"
    out = [
        f"## {machine}: CTGAN against SDV's CTGAN, batch {results['batch_size']:,}, {results['epochs']} epochs{graphs}",
        "",
        f"`python -m evaluation.bench_ctgan --device {results['device']} --epochs {results['epochs']} "
        f"--batch-size {results['batch_size']}`"
        f" on {results['dataset']} ({results['train_rows']:,} training rows), both in one process after a "
        f"shared warm-up; "
        f"results in `{source}`. Steady figures leave out the first epoch or sampling call (kernel loading, "
        f"graph capture). "
        "Shape and trend here are SDMetrics' QualityReport on the training rows.",
        "",
    ]
    for note in results.get("notes", []):
        out += [f"> {note}", ""]

    def row(name: str, figures: dict[str, Any]) -> str:
        graph = {True: "yes", False: "no"}.get(figures.get("cuda_graph"), "-")
        return (
            f"| {name} | {graph} | {figures['s_per_epoch']:.3f} | {_num(figures.get('s_per_epoch_steady'), '.4f')} | "
            f"{figures['fit_total_s']:.1f} | {figures['sample_s']:.3f} | "
            f"{_num(figures.get('sample_s_steady'), '.3f')} | "
            f"{figures.get('peak_gpu_mib', 0):,.0f} | {figures['shape']:.3f} | {figures['trend']:.3f} |"
        )

    out += [
        "| | CUDA graph | s / epoch (all) | s / epoch (steady) | whole fit s | sample s | sample s (steady) | "
        "peak GPU MiB | shape | trend |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        row("synthgen", ours),
        row("SDV", theirs),
        f"| **speed-up** | | {_x(ratios['s_per_epoch'])} | {_x(ratios.get('s_per_epoch_steady'))} | "
        f"{_x(ratios['whole_fit'])} | "
        f"{_x(ratios['sampling_rows_per_s'])} | {_x(ratios.get('sampling_rows_per_s_steady'))} | | | |",
        "",
    ]
    return out


def gpu_profile_section(results: dict[str, Any], source: str) -> list[str]:
    """A `python -m evaluation.profile_ctgan_gpu` file: where a CTGAN fit's time goes on the GPU."""
    out = [
        f"## {results['machine'].get('gpu')}: where a CTGAN fit spends its time",
        "",
        f"`python -m evaluation.profile_ctgan_gpu`, credit_risk ({results['train_rows']:,} training rows); "
        f"results in `{source}`. "
        "GPU busy is the share of a replayed step's wall time spent inside kernels (the profiler's kernel "
        "time over wall time).",
        "",
    ]
    for note in results.get("notes", []):
        out += [f"> {note}", ""]
    out += [
        "| batch | s / step (replay) | kernels / step | GPU busy | steady epoch s | first epoch s (fresh "
        "process) | first epoch s (second fit) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for batch, entry in results["fits"].items():
        replay, first, second = entry["replay"], entry["first_fit"], entry["second_fit"]
        timings = (
            f"{_num(first['steady_epoch_s'], '.4f')} | {first['first_epoch_s']:.3f} | {second['first_epoch_s']:.3f} |"
        )
        if "error" in replay:
            out.append(f"| {int(batch):,} | profiler failed: {replay['error']} | | | {timings}")
        elif not replay.get("captured"):
            out.append(f"| {int(batch):,} | not captured | | | {timings}")
        else:
            out.append(
                f"| {int(batch):,} | {replay['s_per_step'] * 1e3:.2f} ms | {replay['kernels_per_step']:.0f} | "
                f"{replay['gpu_busy_share']:.0%} | {timings}"
            )
    start = results.get("start_up_s") or {}
    if start:
        out += [
            "",
            "Process start-up, first use of each piece in a fresh process (s): "
            + ", ".join(f"{k.replace('_', ' ')} {v:.3f}" for k, v in start.items())
            + ".",
        ]
    return out + [""]


def draw(results: dict[str, Any], path: Path) -> bool:
    ttq = results.get("time_to_quality") or []
    if not ttq:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    panels = (
        ("shape", "column shapes"),
        ("trend", "pair trends"),
        ("detection_auc", "detection AUC (0.5 = indistinguishable)"),
    )
    for t in ttq:
        xs = [p["total_s"] for p in t["points"]]
        for ax, (key, _) in zip(axes, panels):
            ax.plot(
                xs,
                [p[key] for p in t["points"]],
                marker="o",
                label=t["model"],
                linewidth=2.2 if t["model"].startswith("synthgen.") else 1.2,
            )
    for ax, (key, title) in zip(axes, panels):
        ax.set_xscale("log")
        ax.set_xlabel("training + sampling seconds (log)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        if key in QUALITY_LEVEL:
            ax.axhline(QUALITY_LEVEL[key], color="grey", linestyle="--", linewidth=1)
    axes[0].legend(fontsize=8)
    where = results["machine"].get("gpu") or f"{results['machine']['cpu_count']} CPU cores"
    fig.suptitle(f"{ttq[0]['dataset']}: quality against training time ({where})")
    fig.tight_layout()
    from synthgen.io import atomic_write

    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
    return True


def noise_floor_section(results: dict[str, Any], source: str) -> list[str]:
    """A `python -m evaluation.noise_floor` file: what real rows score against real rows."""
    out = [
        "## The noise floor: real rows scored against real rows",
        "",
        f"`python -m evaluation.noise_floor` ({results['repeats']} seeds); results in `{source}`. Shape and trend "
        "compare finite tables, so they stay below 1 even between two samples of one population. *Copies*: as many "
        "rows as the training split, drawn with replacement from it (a generator releasing its training rows, "
        "which the gate refuses); no sampler of that many rows scores better except by returning the training "
        "table itself. *Independent rows*: one half of the training rows against prefixes (1/8, 1/4, 1/2) of the "
        "other, the error fitted to c * sqrt(1/n_a + 1/n_b) and extrapolated to two tables of the training size: "
        "what a generator that had learned the population exactly would score. Detection: the detector on the two "
        "real halves.",
        "",
    ]
    for note in results.get("notes", []):
        out += [f"> {note}", ""]
    out += [
        "| recipe | train rows | trend: copies | trend: independent rows | shape: copies | "
        "shape: independent rows | largest fit residual (trend) | detection AUC, real halves |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for recipe, entry in results["recipes"].items():
        trend, shape = entry["floor"]["trend"], entry["floor"]["shape"]
        worst = max(trend["residuals"], key=abs)
        out.append(
            f"| `{recipe}` | {entry['train_rows']:,} | {trend['copies']:.3f} | "
            f"{trend['independent_at_train_size']:.3f} | {shape['copies']:.3f} | "
            f"{shape['independent_at_train_size']:.3f} | {worst:+.0%} | {entry['halves_detection_auc']:.3f} |"
        )
    return out + [""]


def render(paths: list[Path], md: Path, png: Path) -> str:
    from synthgen.io import atomic_write

    parts = [
        "# Benchmarks",
        "",
        "synthgen's generators against their peers on real lending data, every model on the same split and scored by "
        "the same code (synthgen's evaluation suite, default settings and gates). Written by `python -m "
        "evaluation.report` "
        "from the results files below; rerun `python -m evaluation.run` (see its `--help`) to reproduce them. "
        "Timings are from the machine named in each section: compare ratios within a section, not across.",
        "",
    ]
    picture_drawn = False
    for path in paths:
        results = json.loads(path.read_text())
        try:
            source = path.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            source = str(path)
        if results.get("benchmark") == "ctgan_vs_sdv":
            parts += ctgan_pair_section(results, source)
            continue
        if results.get("benchmark") == "ctgan_gpu_profile":
            parts += gpu_profile_section(results, source)
            continue
        if results.get("benchmark") == "noise_floor":
            parts += noise_floor_section(results, source)
            continue
        picture = None
        if not picture_drawn and draw(results, png):
            picture_drawn = True
            picture = png.relative_to(md.parent).as_posix() if png.is_relative_to(md.parent) else str(png)
        parts += section(results, source, picture)
    text = "\n".join(parts).rstrip() + "\n"
    atomic_write(md, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m evaluation.report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("results", nargs="+", type=Path)
    parser.add_argument("--md", type=Path, default=ROOT / "evaluation" / "BENCHMARKS.md")
    parser.add_argument("--png", type=Path, default=ROOT / "evaluation" / "benchmarks.png")
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.results if not p.is_file()]
    if missing:
        parser.error(f"no such results file: {', '.join(missing)}")
    render(args.results, args.md, args.png)
    print(f"wrote {args.md}")


if __name__ == "__main__":
    main()
