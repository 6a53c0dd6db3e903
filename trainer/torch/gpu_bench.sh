#!/usr/bin/env bash
# The GPU measurement of the torch backend: GPT-2-small shape (124M parameters, context 1024,
# vocabulary 50,304 = GPT-2's 50,257 padded to a multiple of 64 as nanoGPT does) trained for a few
# hundred steps on tinyshakespeare in GPT-2 tokens, bf16 autocast, flash SDPA, fused AdamW,
# torch.compile (falls back to eager, and says so, when compile fails).
#
#   node --import tsx trainer/torch/gpu_data.ts            # here: writes .gpu/{train,val}.bin
#   trainer/torch/gpu_bench.sh [dataDir] [outDir]          # there: outDir defaults to $OUT
#
# GPU_BENCH_TINY=1 runs a tiny config on the CPU to test the script itself.
# Writes gpu-train.jsonl (the trainer's JSON lines), gpu-summary.json (tokens/s, MFU against the
# measured bf16 matmul peak and against the 989 TFLOP/s dense bf16 spec of H100 SXM / H200) and
# gpu-env.txt into outDir.
set -uo pipefail
cd "$(dirname "$0")/../.."
DATA=${1:-.gpu}
OUTDIR=${2:-${OUT:-/tmp/sluice-gpu-bench}}
PY=${SLUICE_PYTHON:-python3}
STEPS=${GPU_BENCH_STEPS:-200}
export GPU_BENCH_BATCH=${GPU_BENCH_BATCH:-64}
mkdir -p "$OUTDIR"
WORK=$(mktemp -d)
{ nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1; "$PY" -c 'import torch,sys; print("torch", torch.__version__, "python", sys.version.split()[0])'; } > "$OUTDIR/gpu-env.txt"
cat "$OUTDIR/gpu-env.txt"

write_run() { # $1 compile(true|false) $2 run.json
  "$PY" - "$1" "$2" "$DATA" "$WORK" "$STEPS" <<'PY'
import json, os, sys
compile_, path, data, work, steps = sys.argv[1] == 'true', sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
tiny = os.environ.get('GPU_BENCH_TINY') == '1'
model = dict(vocabSize=50304, contextLength=1024, layers=12, dModel=768, heads=12) if not tiny else \
        dict(vocabSize=50304, contextLength=64, layers=2, dModel=64, heads=4)
run = dict(model=model, optimizer=dict(lr=6e-4, beta1=0.9, beta2=0.95, eps=1e-8, weightDecay=0.1, gradClip=1.0),
           schedule=dict(warmupSteps=min(50, steps // 10), minLrRatio=0.1, decay='cosine'),
           steps=steps, batchSize=int(os.environ['GPU_BENCH_BATCH']) if not tiny else 4, gradAccum=1, evalEvery=100 if not tiny else 5, evalBatches=2,
           checkpointEvery=10**9, logEvery=10 if not tiny else 1, seed=1337, valTokens=None,
           data=dict(train=[os.path.join(data, 'train.bin')], val=[os.path.join(data, 'val.bin')], eotToken=50256, tokenizer='gpt2'),
           outDir=os.path.join(work, 'out'), stateDir=os.path.join(work, 'state-' + str(compile_)),
           torch=dict(device='cpu' if tiny else 'cuda', compile=compile_ and not tiny, dtype='float32' if tiny else 'bfloat16'))
json.dump(run, open(path, 'w'))
PY
}

write_run true "$WORK/run.json"
export PYTHONUNBUFFERED=1
if ! timeout "${GPU_BENCH_TIMEOUT:-150}" "$PY" trainer/torch/train.py "$WORK/run.json" > "$OUTDIR/gpu-train.jsonl" 2> "$OUTDIR/gpu-train.stderr"; then
  echo "compiled run failed (see gpu-train.stderr); retrying eager" | tee -a "$OUTDIR/gpu-env.txt"
  tail -20 "$OUTDIR/gpu-train.stderr"
  mv "$OUTDIR/gpu-train.jsonl" "$OUTDIR/gpu-train-compiled-failed.jsonl"
  write_run false "$WORK/run.json"
  timeout "${GPU_BENCH_TIMEOUT:-150}" "$PY" trainer/torch/train.py "$WORK/run.json" > "$OUTDIR/gpu-train.jsonl" 2> "$OUTDIR/gpu-train.stderr"
fi
"$PY" - "$OUTDIR" <<'PY'
import json, os, sys
out = sys.argv[1]
recs = [json.loads(l) for l in open(f'{out}/gpu-train.jsonl') if l.startswith('{')]
info = next(r for r in recs if r['kind'] == 'info')
done = next((r for r in recs if r['kind'] == 'done'), None)
train = [r for r in recs if r['kind'] == 'train']
val = [r for r in recs if r['kind'] == 'val']
spec = 989e12
s = dict(device=info['deviceName'], torch=info['torch'], compile=info['compile'], fusedAdamW=info['fusedAdamW'], dtype=info['dtype'],
         params=info['params'], flopsPerToken=info['flopsPerToken'], measuredPeakFlops=info['peakFlops'], specPeakFlops=spec,
         batch=[int(os.environ['GPU_BENCH_BATCH']), 1024], steps=done and done['step'], tokens=done and done['tokens'],
         tokensPerSecond=done and done['tokensPerSecond'], mfuVsMeasuredPeak=done and done['mfu'],
         mfuVsSpecPeak=done and done['tokensPerSecond'] * info['flopsPerToken'] / spec, seconds=done and done['seconds'],
         firstLoss=train[0]['loss'] if train else None, finalLoss=done and done['finalLoss'], valLoss=[[v['step'], v['valLoss']] for v in val],
         lossCurve=[[r['step'], round(r['loss'], 4)] for r in train])
json.dump(s, open(f'{out}/gpu-summary.json', 'w'), indent=1)
print(json.dumps({k: v for k, v in s.items() if k != 'lossCurve'}))
PY
rm -rf "$WORK"
