#!/usr/bin/env bash
# The GPU checks of issue 17 as one prepared run, for a machine with an NVIDIA GPU (each step
# has its own timeout; results go to ${OUT:-results/gpu}). Without a GPU, `bash scripts/test.sh`
# already runs every "cuda" case on the CuPy stand-in (tests/cupy_sim).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-python}
OUT=${OUT:-results/gpu}
mkdir -p "$OUT"
"$PY" -m pip install -q -e ".[cuda,test,bf16]" || exit 1
"$PY" -c "import autograd as ag; assert ag.cuda.is_available(); print(ag.cuda.get_device_name())" \
  | tee "$OUT/device.txt" || exit 1
# 1. every device-parametrised "cuda" case and the amp/fused tests, on the real GPU
timeout 300 "$PY" -m pytest -q -p no:cacheprovider -m gpu tests 2>&1 | tail -15 | tee "$OUT/gpu_tests.txt"
timeout 120 "$PY" -m pytest -q -p no:cacheprovider tests/test_amp.py 2>&1 | tail -5 \
  | tee "$OUT/amp_tests.txt"
# 2. no host synchronisation inside a training step (CuPy's own detector)
timeout 120 "$PY" - <<'PY' 2>&1 | tee "$OUT/sync.txt"
import cupyx, numpy as np, autograd as ag, nn, nn.functional as F, optim
for name, model in [("mlp", nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(),
                                          nn.Linear(64, 10)))]:
    model = model.to("cuda"); opt = optim.Adam(model.parameters())
    x = ag.randn(64, 1, 28, 28, device="cuda"); y = ag.randint(0, 10, (64,), device="cuda")
    for _ in range(2):
        with cupyx.allow_synchronize(False):
            opt.zero_grad(); loss = F.cross_entropy(model(x), y); loss.backward(); opt.step()
        print(name, "step without a host sync; loss", loss.item())
PY
# 3. speed against PyTorch CUDA (when PyTorch with CUDA is installed)
timeout 300 "$PY" scripts/bench.py --device cuda --json "$OUT/bench_cuda.json" 2>&1 | tail -30 \
  | tee "$OUT/bench.txt"
