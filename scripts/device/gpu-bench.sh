#!/usr/bin/env bash
# Issue 13's GPU figures on a machine without Node (the lent GPU machine of the `device` tool).
# Prepare here:  node scripts/device/pack-gpu-bench.mjs      (writes .device/gpu-bench.tar.xz, 36 MiB)
# Run there:     run(command="bash scripts/device/gpu-bench.sh", carry=[".device"], timeout_s=600)
# It unpacks Node, the npm packages and the Vulkan loader, finds NVIDIA's Vulkan driver (or writes
# its manifest when the container has the driver but not the manifest), then runs, each bounded:
#   1. the PyTorch reference (scripts/device/torch_b0_train.py), if python3 has torch there;
#   2. `npm run bench -- gpu-train`: first one step of a φ=−6 model on the engine beside TF.js CPU
#      (arm engine-check, ok true/false), then our engine and TF.js WebGPU, B0 224 px batch 32 on a GPU.
#   3. with the time left, `npm run bench -- gpu-run`: a whole `effitune train` of B0 at 224 px, batch 32
#      on 1,280 generated photo-like JPEGs, beside the data pipeline alone (who sets a real run's pace).
# Everything lands in $OUT: machine.txt, torch.json, gpu-train.jsonl/.err, gpu-run.jsonl/.err.
set -u
OUT=${OUT:-/tmp/gpu-bench-out}
mkdir -p "$OUT"
work=${EFFITUNE_DEVICE_DIR:-/tmp/effitune-device}
rm -rf "$work" && mkdir -p "$work"
if command -v xz >/dev/null; then
  tar -C "$work" -xJf .device/gpu-bench.tar.xz
else
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' .device/gpu-bench.tar.xz "$work"
fi
export PATH="$work/bin:$PATH"
# ldconfig lives in /sbin, which a non-login PATH may lack
LDCONFIG=$(command -v ldconfig || echo /sbin/ldconfig)
ldconfig() { "$LDCONFIG" "$@"; }
[ -e node_modules ] || ln -s "$work/node_modules" node_modules
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan.so.1'; then export LD_LIBRARY_PATH="$work/lib:${LD_LIBRARY_PATH:-}"; fi
if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  icd=$(ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json 2>/dev/null | head -1)
  if [ -z "$icd" ]; then
    glx=$(ldconfig -p 2>/dev/null | awk '/libGLX_nvidia\.so\.0/ {print $NF; exit}')
    if [ -n "$glx" ]; then
      icd="$work/nvidia_icd.json"
      printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$glx" > "$icd"
    fi
  fi
  [ -n "$icd" ] && export VK_ICD_FILENAMES="$icd"
fi
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
{
  echo "node $(node --version)"
  nvidia-smi -L; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  echo "VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-}"; echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  ls /usr/share/vulkan/icd.d /etc/vulkan/icd.d
  ldconfig -p | grep -i -E 'libvulkan|GLX_nvidia|nvidia-glcore'
  python3 -c 'import torch, torchvision; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
} > "$OUT/machine.txt" 2>&1
if python3 -c 'import torch, torchvision' 2>/dev/null; then
  timeout 150 python3 scripts/device/torch_b0_train.py > "$OUT/torch.json" 2> "$OUT/torch.err"
fi
# GPU_BENCH_ARGS chooses the model (default on a GPU: B0 224 px batch 32, 10 steps)
timeout "${GPU_BENCH_SECONDS:-390}" node --import tsx test/bench/run.ts gpu-train ${GPU_BENCH_ARGS:-} > "$OUT/gpu-train.jsonl" 2> "$OUT/gpu-train.err"
echo "gpu-train exit $?" >> "$OUT/gpu-train.err"
# the device's command limit is 600 s: gpu-run gets what is left of it, less a margin to copy $OUT back
left=$(( ${GPU_BENCH_TOTAL_SECONDS:-585} - SECONDS ))
if [ "$left" -ge 60 ]; then
  # the trainer process sizes libuv's pool to the machine; the pipeline arm gets the same
  UV_THREADPOOL_SIZE=$(( $(nproc) < 16 ? $(nproc) : 16 )) timeout "$left" node --import tsx test/bench/run.ts gpu-run ${GPU_RUN_ARGS:-} > "$OUT/gpu-run.jsonl" 2> "$OUT/gpu-run.err"
  echo "gpu-run exit $? (budget ${left} s)" >> "$OUT/gpu-run.err"
else
  echo "gpu-run skipped: ${left} s left" > "$OUT/gpu-run.err"
fi
cat "$OUT/machine.txt" "$OUT/torch.json" "$OUT/gpu-train.jsonl" "$OUT/gpu-run.jsonl" 2>/dev/null | cut -c1-2000
tail -20 "$OUT/gpu-train.err"
tail -5 "$OUT/gpu-run.err"
