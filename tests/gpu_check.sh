#!/usr/bin/env bash
# GPU check: run the CuPy cases of the test suite and the GPU/CPU benchmark on an NVIDIA machine.
#
# Usage, from the repository root:
#
#     bash tests/gpu_check.sh                          # everything lands in ./gpu_out/
#     OUT=/tmp/run1 SIZES=S INSTALL=0 bash tests/gpu_check.sh
#
# Settings (environment variables): OUT (output folder, default gpu_out), SIZES (benchmark
# sizes, default S,M,L), INSTALL=0 (skip step 1, e.g. offline), PYTHON (default python).
#
# Steps; each one's output is printed and saved under $OUT:
#   1. python -m pip install -e '.[gpu,test]'  (CuPy for CUDA 12, pytest). If it fails (an
#      offline machine), the script says so and carries on with what is installed. -> pip_install.log
#   2. nvidia-smi, and the device CuPy sees.                 -> nvidia_smi.txt, cupy_device.txt
#   3. python -m pytest -m gpu: the "cupy" case of every test that takes the `backend` fixture
#      (tests/conftest.py gives that case the `gpu` marker) and any test marked
#      @pytest.mark.gpu. Skips are listed with their reason; on a GPU machine there should be
#      none.                                                  -> pytest_gpu.txt, pytest_gpu.xml
#   4. python -m metanumpy bench on cupy, then on numpy with the same sizes (for the speed-up).
#                                                             -> bench_gpu.json, bench_cpu.json (+ .log)
# Every step runs even when an earlier one fails; the summary (summary.txt) lists each outcome,
# and the exit status is non-zero if any of steps 2-4 failed.

set -uo pipefail

OUT="${OUT:-gpu_out}"
SIZES="${SIZES:-S,M,L}"
INSTALL="${INSTALL:-1}"
PYTHON="${PYTHON:-python}"
mkdir -p "$OUT"
: > "$OUT/summary.txt"
failed=0

run() {  # run NAME LOGFILE COMMAND...: show and save the command's output; return its exit status
    local log="$OUT/$2"
    echo "=== $1: ${*:3}"
    shift 2
    "$@" 2>&1 | tee "$log"
    return "${PIPESTATUS[0]}"
}

check() {  # check NAME LOGFILE COMMAND...: run, and record the outcome in the summary
    if run "$@"; then
        echo "ok      $1" >> "$OUT/summary.txt"
    else
        echo "FAILED  $1 (see $OUT/$2)" >> "$OUT/summary.txt"
        failed=1
    fi
}

if [ "$INSTALL" = 0 ]; then
    echo "skipped install (INSTALL=0)" >> "$OUT/summary.txt"
elif run install pip_install.log "$PYTHON" -m pip install -e '.[gpu,test]'; then
    echo "ok      install" >> "$OUT/summary.txt"
else
    echo "warning install failed (offline?): using the packages already installed" \
        | tee -a "$OUT/summary.txt"
fi

check "nvidia-smi" nvidia_smi.txt nvidia-smi
check "cupy device" cupy_device.txt "$PYTHON" - <<'EOF'
import cupy

device = cupy.cuda.Device()
name = cupy.cuda.runtime.getDeviceProperties(device.id)["name"].decode()
free, total = device.mem_info
print(f"cupy {cupy.__version__}, CUDA runtime {cupy.cuda.runtime.runtimeGetVersion()}")
print(f"device {device.id}: {name}, compute capability {device.compute_capability}, "
      f"{free / 2**30:.1f} of {total / 2**30:.1f} GiB free")
EOF
check "pytest -m gpu" pytest_gpu.txt \
    "$PYTHON" -m pytest -m gpu -rs --junitxml="$OUT/pytest_gpu.xml" tests
check "bench cupy" bench_gpu.log \
    "$PYTHON" -m metanumpy bench --backend cupy --sizes "$SIZES" --json "$OUT/bench_gpu.json"
check "bench numpy" bench_cpu.log \
    "$PYTHON" -m metanumpy bench --backend numpy --sizes "$SIZES" --json "$OUT/bench_cpu.json"

echo "=== summary (also in $OUT/summary.txt)"
cat "$OUT/summary.txt"
exit "$failed"
