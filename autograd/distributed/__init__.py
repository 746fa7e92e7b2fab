"""Distributed training across processes: ``torch.distributed``'s API for the common subset,
on MPI (mpi4py, CPU tensors) and NCCL (CuPy, CUDA tensors).

Both backends are optional extras (``pip install ".[mpi]"``, ``".[cuda]"``); importing this
package never imports them. Launch every rank with the MPI launcher:

    mpirun -n 2 python train.py                          # one machine, 2 processes
    mpirun -H host1:2,host2:2 -n 4 python train.py       # two machines, 2 processes each

    import autograd.distributed as dist
    dist.init_process_group("mpi")
    dist.all_reduce(t, op=dist.ReduceOp.SUM)

See ``nn.parallel.DistributedDataParallel``, ``nn.SyncBatchNorm`` and
``autograd.data.DistributedSampler`` for data-parallel training.
"""

from ._common import DistributedError, ReduceOp, Work
from .distributed_c10d import (
    Backend,
    GroupMember,
    ProcessGroup,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    default_pg_timeout,
    destroy_process_group,
    gather,
    get_backend,
    get_debug_level,
    get_global_rank,
    get_group_rank,
    get_process_group_ranks,
    get_rank,
    get_world_size,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
    new_group,
    reduce,
    reduce_scatter,
    reduce_scatter_tensor,
    scatter,
    set_debug_level,
)

__all__ = ["Backend", "DistributedError", "GroupMember", "ProcessGroup", "ReduceOp", "Work",
           "all_gather", "all_gather_into_tensor", "all_gather_object", "all_reduce",
           "barrier", "broadcast", "broadcast_object_list", "default_pg_timeout",
           "destroy_process_group", "gather", "get_backend", "get_debug_level", "get_global_rank",
           "get_group_rank", "get_process_group_ranks", "get_rank", "get_world_size",
           "init_process_group", "is_available", "is_initialized", "is_mpi_available",
           "is_nccl_available", "new_group", "reduce", "reduce_scatter",
           "reduce_scatter_tensor", "scatter", "set_debug_level"]
