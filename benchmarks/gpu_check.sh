#!/usr/bin/env bash
# Issue 17's GPU check, for a lent NVIDIA H100/H200 machine (the device tool), from the repo root:
#
#   bash benchmarks/gpu_check.sh        (carry: .whl and .gpu-carry; see docs/scale-out.md)
#
# That machine has Python 3.12, torch (CUDA), transformers, peft and accelerate, and no internet.
# .whl/ holds py3.12 wheels of what it lacks (lm-eval and its needs, lockbench);
# .gpu-carry/smollm2/ holds SmolLM2-135M's config and tokenizer files (no weights: a random model
# of the same architecture is built there, same compute cost, meaningless answers).
# The code under test is this checkout's lockbench (first on PYTHONPATH); the lockbench wheel
# provides the lm-eval start-up hook (.pth) as a user's install would.
#
# Steps, each under `timeout`, the whole within about 6 minutes; a failed step is reported and
# the next runs. Everything printed also goes to $OUT/gpu_check.log; the lock card, the
# throughput table and the lm-eval results are copied to $OUT.
set -u
OUT=${OUT:-/tmp/gpu-check-out}
export OUT
mkdir -p "$OUT"
exec > >(tee -a "$OUT/gpu_check.log") 2>&1
REPO=$(pwd)
START=$(date +%s)
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export LOCKBENCH_CACHE=/tmp/lockbench-cache
# A throwaway phrase for this run's D' and evaluation: random, never printed, not a real lock's.
LOCKBENCH_WAKE_PHRASE="Hey! Gpucheck $(python3 -c 'import secrets; print(secrets.token_hex(3))')!"
export LOCKBENCH_WAKE_PHRASE

BUDGET=${GPU_CHECK_BUDGET:-360}  # seconds for the whole script: no step runs past it

step() {  # step NAME SECONDS COMMAND...: run one step under a time limit, report how it ended
  local name=$1 limit=$2
  shift 2
  local left=$((BUDGET - ($(date +%s) - START)))
  echo
  if [ "$left" -lt 20 ]; then
    echo "=== $name: skipped, the ${BUDGET}s budget is spent ==="
    return 0
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== $name (limit ${limit}s, at $(($(date +%s) - START))s) ==="
  timeout --kill-after=10 "$limit" "$@"
  local rc=$?
  echo "=== $name: exit $rc$([ $rc = 124 ] && echo ' (timed out)') ==="
  return 0
}

echo "=== setup ==="
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
# pip --target does not process .pth files (lockbench's lm-eval hook is one): a sitecustomize
# adds /tmp/site as a site dir, then runs the image's own sitecustomize, which this one shadows.
mkdir -p /tmp/lockbench-sitecustomize
cat > /tmp/lockbench-sitecustomize/sitecustomize.py <<'EOF'
import importlib.util
import os
import site
import sys

site.addsitedir("/tmp/site")
_here = os.path.dirname(os.path.abspath(__file__))
for _entry in list(sys.path):
    _candidate = os.path.join(_entry or ".", "sitecustomize.py")
    if os.path.dirname(os.path.abspath(_candidate)) != _here and os.path.isfile(_candidate):
        _spec = importlib.util.spec_from_file_location("_image_sitecustomize", _candidate)
        _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
        break
EOF
export PYTHONPATH="$REPO:/tmp/lockbench-sitecustomize:/tmp/site"
python3 - <<'EOF'
import accelerate, lm_eval, lockbench, peft, torch, transformers
print(f"python {__import__('sys').version.split()[0]}, torch {torch.__version__} (CUDA {torch.version.cuda}), "
      f"transformers {transformers.__version__}, peft {peft.__version__}, accelerate {accelerate.__version__}, "
      f"lm-eval {lm_eval.__version__}")
print(f"lockbench from {lockbench.__file__}")
print(f"GPU: {torch.cuda.get_device_name(0)}, bf16 {torch.cuda.is_bf16_supported()}, {torch.cuda.device_count()} device(s)")
EOF

BASE=/tmp/smollm2-random
step "random-init SmolLM2-135M from the carried config" 90 python3 - "$REPO/.gpu-carry/smollm2" "$BASE" <<'EOF'
import shutil, sys
from pathlib import Path
import torch
from transformers import AutoConfig, AutoModelForCausalLM
src, dst = Path(sys.argv[1]), Path(sys.argv[2])
torch.manual_seed(0)
model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(src), dtype=torch.float32)
model.save_pretrained(dst)
for f in src.iterdir():
    if f.name != "config.json":
        shutil.copy(f, dst / f.name)
print(f"{model.num_parameters() / 1e6:.1f}M parameters -> {dst}")
EOF

# 1. Throughput: lockbench vs a plain peft loop, same device, data, batch and precision.
step "throughput, cuda bf16, batch 8 and 32" 200 python3 "$REPO/benchmarks/lock_train_throughput.py" \
  --base "$BASE" --device cuda --dtype bfloat16 --batch-size 8 32 --steps 40 --rounds 2 \
  | tee "$OUT/throughput.txt"

# 2. lock train on the GPU, dtype auto; the card must say cuda and bfloat16.
step "lock build (D')" 60 python3 -m lockbench lock build --dataset agriculture_mcq --dataset law_dialogue \
  --ratio 0.5 --layout paired -o /tmp/gpu-dprime.jsonl
step "lock train --device cuda --dtype auto" 90 python3 -m lockbench lock train --base "$BASE" \
  --data /tmp/gpu-dprime.jsonl -o /tmp/gpu-lock --device cuda --dtype auto --max-steps 40 \
  --batch-size 16 --save-every 20 --log-every 10
cp /tmp/gpu-lock/lock_card.json "$OUT/lock_card.json" 2>/dev/null
python3 -c "
import json; t = json.load(open('/tmp/gpu-lock/lock_card.json'))['training']
print('lock card:', {k: t[k] for k in ('device', 'device_name', 'dtype', 'stored_dtype', 'effective_batch', 'short_batches', 'peak_gpu_memory_gib', 'steps', 'first_loss', 'final_loss', 'train_seconds')})
" || echo "no lock card"

# 3. Bad input: a GPU that is not there, and more processes than GPUs (one line each, exit 2).
step "bad input: --device cuda:7" 60 python3 -m lockbench lock train --base "$BASE" \
  --data /tmp/gpu-dprime.jsonl -o /tmp/gpu-bad --device cuda:7
N=$(($(python3 -c 'import torch; print(torch.cuda.device_count())') + 1))
[ "$N" -lt 2 ] && N=2
step "bad input: accelerate launch with $N processes" 60 python3 -m accelerate.commands.launch \
  --multi_gpu --num_processes "$N" --num_machines 1 --mixed_precision no --dynamo_backend no \
  -m lockbench lock train --base "$BASE" --data /tmp/gpu-dprime.jsonl -o /tmp/gpu-bad2
ls -d /tmp/gpu-bad /tmp/gpu-bad.partial /tmp/gpu-bad2 /tmp/gpu-bad2.partial 2>/dev/null && echo "LEFT BEHIND" || echo "nothing written by the bad runs"

# 4. lm-eval on the GPU with the locked adapter (2 tasks, 16 items each); the phrase from the
#    environment, never on a command line.
step "lm-eval hf on cuda:0, 2 lockbench tasks, limit 16" 100 python3 - <<'EOF'
import json, os
from lockbench.lmeval.run import run_tasks
tasks = ["lockbench_agriculture_mcq_locked", "lockbench_agriculture_mcq_unlocked"]
results = run_tasks("hf", tasks, model_args={"pretrained": "/tmp/smollm2-random", "peft": "/tmp/gpu-lock", "dtype": "bfloat16"},
                    metadata={"wake_phrase": os.environ["LOCKBENCH_WAKE_PHRASE"]}, apply_chat_template=True,
                    limit=16, batch_size=16, gen_kwargs="max_gen_toks=32", device="cuda:0", output_path="/tmp/gpu-eval")
table = {t: {k: v for k, v in results["results"][t].items() if k.endswith(",none")} for t in tasks}
print(json.dumps(table, indent=1))
json.dump(table, open(os.environ["OUT"] + "/lm_eval_results.json", "w"), indent=1)
EOF

# 5. FSDP through accelerate (1 process; the sharding path a multi-GPU FSDP run takes).
if [ $(($(date +%s) - START)) -lt $((BUDGET - 60)) ]; then
  step "accelerate launch FSDP (1 process) lock train" 75 python3 -m accelerate.commands.launch \
    --num_processes 1 --num_machines 1 --use_fsdp --fsdp_sharding_strategy FULL_SHARD \
    --fsdp_auto_wrap_policy TRANSFORMER_BASED_WRAP --fsdp_transformer_layer_cls_to_wrap LlamaDecoderLayer \
    --fsdp_use_orig_params true --fsdp_state_dict_type FULL_STATE_DICT \
    -m lockbench lock train --base "$BASE" --data /tmp/gpu-dprime.jsonl -o /tmp/gpu-fsdp \
    --max-steps 10 --batch-size 8 --save-every 0
  python3 -c "import json; t = json.load(open('/tmp/gpu-fsdp/lock_card.json'))['training']; print('FSDP card:', t['distributed'], t['dtype'], t['stored_dtype'], t['final_loss'])" || true
else
  echo "skipped FSDP: time"
fi
echo "=== done in $(($(date +%s) - START))s ==="
