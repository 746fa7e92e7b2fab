"""How much of PyTorch's public API exists here under the same name, per area.

    python scripts/api_coverage.py            # the table
    python scripts/api_coverage.py --missing  # and the missing names of each area

Areas: Tensor methods and attributes (in-place ``_`` variants included), torch functions,
nn.functional, nn module classes, optimizers, LR schedulers. The installed PyTorch is the
reference (the script exits 0 with a note when it is absent). A short list of families is
excluded, each with its reason (``EXCLUDED``); everything else counts. A name counts as
present when this project has a public attribute of that name in the matching place; the
test suite checks behaviour (this script only counts names).
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

import autograd  # noqa: E402
import nn  # noqa: E402
import nn.functional as F  # noqa: E402
import optim  # noqa: E402

# (regular expression on the name, reason): PyTorch features this project does not have by
# design, or internals no program should call.
EXCLUDED = [
    (r"sparse|coalesce|crow_|col_indices|ccol_|row_indices|_csr|_csc|_bsr|_bsc|to_dense|"
     r"^indices$|^values$|^dense_dim$|^sparse_dim$|^is_coalesced$|^SparseAdam$",
     "sparse tensors: no sparse layout here"),
    (r"quantiz|^q_|^int_repr$|dequantize|^qscheme$|fbgemm|^fake_", "quantized tensors"),
    (r"conj|^real$|^imag$|complex|^polar$|^view_as_real$|^resolve_neg$|^is_neg$|"
     r"^angle$|^adjoint$|^chalf$|^cfloat$|^cdouble$",
     "complex-only (complex tensors have values here but no gradients; the complex "
     "functions that exist are tested in tests/test_complex_parts.py)"),
    (r"^names$|rename|refine_names|align_to|align_as|^has_names$", "named tensors"),
    (r"nested", "nested tensors"),
    (r"xpu|mps|ipu|hpu|mtia|vulkan|mkldnn|cudnn|miopen|^hip|^is_meta$|^to_mkldnn$|"
     r"^is_vulkan$|^is_maia$|maia|^is_ort$|^is_xla$|lazy|^is_mkldnn$|^mkl",
     "vendor devices and backends other than CPU/CUDA"),
    (r"storage|data_ptr|^share_memory_|^is_shared$|^pin_memory$|^is_pinned$|^record_stream$|"
     r"^nbytes_$|^is_set_to$|^set_$|^resize|^_", "memory/storage internals"),
    (r"^dim_order$|^is_inference$|^is_quantized$|^layout$|^is_sparse|^output_nr$|^grad_fn$|"
     r"^has_torch_function|^module_load$|^new$|^apply_$|^map_$|^map2_$|^smm$|^sspaddmm$|"
     r"^hsmm$|^register_post_accumulate|^sym_|^as_subclass$|^__",
     "C++/dispatcher internals (grad_fn and hooks exist but are checked elsewhere)"),
    (r"^fft|^stft$|^istft$", "Fourier transforms (torch.fft exists, forward only, tested in "
     "tests/test_fft.py; stft/istft do not)"),
    (r"^solve$|^eig$|^symeig$|^lstsq$|^matrix_rank$|^reinforce$",
     "removed from PyTorch (they only raise there; torch.linalg has the replacements)"),
    (r"^to_padded_tensor$|fake_quant|^indices_copy$|^values_copy$|^view_as_real_copy$|"
     r"^slice_inverse$|^index$",
     "nested, quantized, sparse and complex forms, and functionalization internals"),
    (r"^fork$|^wait$|^parse_ir$|^parse_schema$|^parse_type_comment$|^import_ir_module|"
     r"^merge_type_from_type_comment$|^unify_type_list$|^get_file_path$|"
     r"^prepare_multiprocessing_environment$|^classproperty$|^autocast_(in|de)crement_nesting$",
     "TorchScript, process-setup and autocast-nesting internals"),
    (r"xla|qparams|^dsmm$|^hspmm$|^saddmm$|^spmm$",
     "XLA devices, quantization parameters and sparse GEMMs (families excluded above)"),
    (r"^batch_norm_(stats|elemt|gather_stats|gather_stats_with_counts|backward_elemt|"
     r"backward_reduce|update_stats)$|^norm_except_dim$",
     "the kernels behind SyncBatchNorm and weight_norm (the modules exist and are tested)"),
    (r"^Callable$|^DType$|^Optional$|^Tensor$|^boolean_dispatch$|^handle_torch_function$|"
     r"^assert_int_or_pair$",
     "typing names and dispatch helpers that torch.nn.functional happens to import"),
    (r"^scaled_mm$|^scaled_grouped_mm$|^grouped_mm$|^ScalingType$|^SwizzleType$",
     "float8 and grouped GEMM kernels for GPUs with float8 tensor cores"),
    (r"^compile|^export|^jit|^onnx|^fx|^package|^hub|^profiler|^library|^testing|^utils$|"
     r"^overrides|^compiler|^distributions|^special$|^masked|^sparse$|^ao$|^quasirandom",
     "compilers, exporters and other subsystems"),
]


def _excluded(name: str):
    for pat, why in EXCLUDED:
        if re.search(pat, name):
            return why
    return None


def _public(names):
    return {n for n in names if not n.startswith("_")}


def areas(torch):
    tn = torch.nn
    mod_cls = lambda m, base: {n for n in _public(dir(m))  # noqa: E731
                               if inspect.isclass(getattr(m, n, None))
                               and issubclass(getattr(m, n), base)}
    ours_mods = mod_cls(nn, nn.Module)
    sched_base = getattr(torch.optim.lr_scheduler, "LRScheduler", object)
    out = {
        "Tensor methods and attributes": (
            _public(dir(torch.Tensor)), _public(dir(autograd.Tensor))),
        "torch functions": (
            {n for n in _public(dir(torch)) if callable(getattr(torch, n, None))
             and not inspect.isclass(getattr(torch, n)) and not inspect.ismodule(getattr(
                 torch, n))},
            {n for n in _public(dir(autograd)) if callable(getattr(autograd, n, None))}),
        "nn.functional": (
            {n for n in _public(dir(tn.functional)) if callable(getattr(tn.functional, n))
             and not inspect.ismodule(getattr(tn.functional, n))},
            {n for n in _public(dir(F)) if callable(getattr(F, n))}),
        "nn module classes": (mod_cls(tn, tn.Module), ours_mods),
        "optimizers": (mod_cls(torch.optim, torch.optim.Optimizer),
                       mod_cls(optim, optim.Optimizer)),
        "lr_scheduler": (
            {n for n in mod_cls(torch.optim.lr_scheduler, sched_base)},
            {n for n in _public(dir(optim.lr_scheduler))
             if inspect.isclass(getattr(optim.lr_scheduler, n))}),
    }
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--missing", action="store_true", help="list the missing names")
    args = ap.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("api_coverage: PyTorch is not installed; nothing to compare against")
        return 0
    total_ref = total_have = 0
    rows = []
    for area, (ref, ours) in areas(torch).items():
        counted = {n for n in ref if not _excluded(n)}
        have = counted & ours
        total_ref += len(counted)
        total_have += len(have)
        rows.append((area, len(have), len(counted), sorted(counted - ours)))
    print(f"PyTorch {torch.__version__} public API present here under the same name")
    print(f"{'area':34s} {'present':>8s} {'counted':>8s} {'share':>7s}")
    for area, h, c, _ in rows:
        print(f"{area:34s} {h:8d} {c:8d} {h / max(c, 1):7.1%}")
    print(f"{'overall':34s} {total_have:8d} {total_ref:8d} {total_have / total_ref:7.1%}")
    if args.missing:
        for area, _, _, missing in rows:
            print(f"\nmissing in {area} ({len(missing)}):")
            print("  " + " ".join(missing))
    print("\nexcluded families: " + "; ".join(why for _, why in EXCLUDED))
    return 0


if __name__ == "__main__":
    sys.exit(main())
