#!/usr/bin/env bash
# Every GPU check in one run, for a bare machine with CuPy, PyTorch (CUDA), NumPy and pytest but no
# package index and no nox: array-api-compat and array-api-strict travel as wheels in .whl/
# (benchmarks/README.md says how to fetch them). Run from the repository root:
#
#     OUT=/some/folder bash benchmarks/gpu_check.sh          # about 6 minutes, 9 at most
#
# Each part has its own time limit and writes its log under $OUT as it goes; $OUT/summary.txt gets
# one line per part (its exit status and seconds) and the figures come last on stdout.
# GPU_CHECK_DRY=1 runs the same parts on the CPU (torch on cpu instead of cuda, cupy left out),
# to check the script itself where there is no GPU.
set -u
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
: > "$OUT/summary.txt"
export PYTHONUNBUFFERED=1
PY=${PYTHON:-python3}

if ls .whl/*.whl >/dev/null 2>&1; then
    $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/xb-site \
        .whl/*.whl || { echo "the carried wheels did not install" | tee -a "$OUT/summary.txt"; exit 1; }
    export PYTHONPATH=/tmp/xb-site:$PWD
else
    export PYTHONPATH=$PWD
fi

if [ "${GPU_CHECK_DRY:-0}" = 1 ]; then
    TORCH_DEVICE=cpu; GPU_BACKENDS="torch"; TORCH_TARGET=torch
else
    TORCH_DEVICE=cuda; GPU_BACKENDS="cupy torch"; TORCH_TARGET=torch:cuda
fi

part() {  # part NAME SECONDS COMMAND...: run with a time limit, log under $OUT, one summary line
    local name=$1 limit=$2 start rc
    shift 2
    start=$(date +%s)
    timeout "$limit" "$@" > "$OUT/$name.log" 2>&1
    rc=$?
    echo "$name: exit $rc after $(( $(date +%s) - start )) s (limit $limit s)" | tee -a "$OUT/summary.txt"
}

part versions 30 $PY -c "
import sys, numpy, array_api_compat, torch
print('python', sys.version.split()[0], 'numpy', numpy.__version__, 'array-api-compat', array_api_compat.__version__)
print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')
try:
    import cupy; print('cupy', cupy.__version__, 'devices', cupy.cuda.runtime.getDeviceCount())
except Exception as exc:
    print('cupy unavailable:', exc)
"

# the suite: every test that runs on a backend (-k selects them by the backend's name in their ids)
# on CuPy, and on torch with CUDA as its default device (XPBACKPROP_DEVICE); the agreement tests
# against NumPy float64 and the no-sync tests (tests/test_devices.py) among them
for backend in $GPU_BACKENDS; do
    device=""
    [ "$backend" = torch ] && device=$TORCH_DEVICE
    part "suite-$backend" 170 env XPBACKPROP_BACKENDS=$backend XPBACKPROP_DEVICE=$device \
        $PY -m pytest -q -p no:cacheprovider -k "$backend" --ignore=tests/test_examples.py \
        --ignore=tests/test_io_fuzz.py --ignore=tests/test_dask.py
done

part agreement 45 $PY benchmarks/gpu_agreement.py $([ "${GPU_CHECK_DRY:-0}" = 1 ] || echo cupy) $TORCH_TARGET \
    --json "$OUT/agreement.json"

for backend in $GPU_BACKENDS; do
    device_arg=""
    [ "$backend" = torch ] && device_arg="--device $TORCH_DEVICE"
    part "bench-$backend" 70 $PY benchmarks/gpu_benchmark.py --backend "$backend" $device_arg --main --memory \
        --settle 0 --repeats 10 --json "$OUT/bench-$backend.json"
done

echo
cat "$OUT/summary.txt"
for f in "$OUT"/suite-*.log; do echo "== $f"; tail -n 3 "$f"; done
echo "== agreement"; cat "$OUT/agreement.log"
for f in "$OUT"/bench-*.log; do echo "== $f"; grep -A8 -E "^(config|Memory)" "$f" | head -n 30; done
