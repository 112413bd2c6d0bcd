#!/usr/bin/env bash
# GPU checks and benchmarks, run on a CUDA machine from the repository root:
#     bash evaluation/bench_gpu.sh OUTDIR
# Each step is its own process with its own time limit, so one failure leaves the others' figures.
# GPU utilisation is sampled once a second by nvidia-smi while it runs (OUTDIR/gpu_util.txt).
# STEPS (space-separated names below) runs a subset, e.g. STEPS="versions ctgan_b500" bash ...
set -u
STEPS=${STEPS:-"versions cuda_tests ctgan_profile ctgan_b500 ctgan_b500_eager ctgan_b10000 ddpm_time_to_quality ddpm_budgets ddpm_gpu_profile ddpm_sampler ddpm_guidance_base ddpm_guidance ddpm_rare_off ddpm_rare_10 ddpm_rare_5 ddpm_rare_20"}
OUT=${1:-evaluation/results}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv | tee "$OUT/gpu.txt"
nvidia-smi dmon -s um -d 1 > "$OUT/gpu_util.txt" 2>&1 &
DMON=$!
step() { local name=$1 limit=$2; shift 2; [[ " $STEPS " == *" $name "* ]] || return 0; echo "== $name $(date +%T)"; timeout "$limit" "$@" > "$OUT/$name.log" 2>&1; echo "   rc=$? $(date +%T)"; tail -4 "$OUT/$name.log"; }
step versions 30 python3 -c "import torch, pandas, numpy, sklearn, xgboost, pydantic; print(torch.__version__, torch.cuda.get_device_name(0), pandas.__version__, numpy.__version__, sklearn.__version__, xgboost.__version__)"
step cuda_tests 120 python3 -m pytest -q -p no:cacheprovider tests/test_device.py tests/models -k "cuda or contract or graph" -x
step ctgan_profile 60 python3 -m evaluation.profile_ctgan_gpu --out "$OUT/ctgan_gpu_profile.json"
step ctgan_b500 100 python3 -m evaluation.bench_ctgan --epochs 10 --device cuda --out "$OUT/ctgan_vs_sdv_cuda.json"
step ctgan_b500_eager 100 python3 -m evaluation.bench_ctgan --epochs 10 --device cuda --no-cuda-graphs --out "$OUT/ctgan_vs_sdv_cuda_eager.json"
step ctgan_b10000 80 python3 -m evaluation.bench_ctgan --epochs 60 --device cuda --batch-size 10000 --out "$OUT/ctgan_vs_sdv_cuda_b10000.json"
step ddpm_time_to_quality 120 python3 -m evaluation.run --device cuda --datasets credit_risk --models synthgen.ddpm --threads 8 --ladder credit_risk --ladder-seconds 1,2 --out "$OUT/bench_cuda_ddpm.json"
step ddpm_budgets 180 python3 -m evaluation.run --device cuda --datasets credit_risk,german_credit --models synthgen.ddpm --threads 8 --ladder credit_risk --ladder-seconds 10,30 --out "$OUT/ddpm_cuda.json"
# The diffusion model's GPU preset (`profile: gpu`): the credit_risk recipe with that one line added.
sed -e "s|^name: .*|name: credit_risk_gpu_profile|" -e "s|^source: data/|source: $PWD/recipes/data/|" \
    -e "s|^  type: ddpm$|  type: ddpm\n  profile: gpu|" recipes/credit_risk_ddpm.yaml > "$OUT/credit_risk_gpu_profile.yaml"
step ddpm_gpu_profile 90 python3 -m evaluation.run --device cuda --datasets "$OUT/credit_risk_gpu_profile.yaml" --models synthgen.ddpm --threads 8 --ladder credit_risk_gpu_profile --ladder-seconds 15 --out "$OUT/ddpm_cuda_gpu_profile.json"
# Issue 15: spikes and the sampler on the GPU, the quality per step count and rows/s split into denoising and decoding.
step ddpm_sampler 300 python3 -m evaluation.sampler_bench --device cuda --recipes recipes/lending_club.yaml recipes/credit_risk_ddpm.yaml \
    --settings dpm++2m-sde:15 dpm++2m-sde:5 --speed-rows 200000 --sample-batch 65536 --out "$OUT/sampler_bench_cuda.json"
# Issue 15: classifier-free guidance. One model trained with label_dropout 0.1 sampled at several guidance
# weights, beside the recipe's plain model (label_dropout 0), with the same seeds.
GUIDED="--device cuda --speed-rows 100000 --sample-batch 65536"
step ddpm_guidance_base 130 python3 -m evaluation.sampler_bench $GUIDED --recipes recipes/credit_risk_ddpm.yaml recipes/lending_club.yaml \
    --seeds 0 1 --settings dpm++2m-sde:15 --out "$OUT/sampler_bench_cuda_guidance_base.json"
step ddpm_guidance 310 python3 -m evaluation.sampler_bench $GUIDED --recipes recipes/credit_risk_ddpm.yaml recipes/lending_club.yaml \
    --seeds 0 1 --set label_dropout=0.1 --settings dpm++2m-sde:15 dpm++2m-sde:15:0.5 dpm++2m-sde:15:1 dpm++2m-sde:15:2 \
    --out "$OUT/sampler_bench_cuda_guidance.json"
# Issue 15: rare levels pooled (rare_level_rows) on lending_club's 813 zip prefixes, beside no pooling.
RARE="python3 -m evaluation.sampler_bench $GUIDED --recipes recipes/lending_club.yaml --settings dpm++2m-sde:15"
step ddpm_rare_off 110 $RARE --seeds 0 1 --set rare_level_rows=0 --out "$OUT/sampler_bench_cuda_rare_off.json"
step ddpm_rare_10 110 $RARE --seeds 0 1 --set rare_level_rows=10 --out "$OUT/sampler_bench_cuda_rare_10.json"
step ddpm_rare_5 60 $RARE --seeds 0 --set rare_level_rows=5 --out "$OUT/sampler_bench_cuda_rare_5.json"
step ddpm_rare_20 60 $RARE --seeds 0 --set rare_level_rows=20 --out "$OUT/sampler_bench_cuda_rare_20.json"
kill $DMON 2>/dev/null
