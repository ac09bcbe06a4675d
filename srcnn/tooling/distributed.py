"""Training on several processes: ``torchrun`` and DistributedDataParallel, PyTorch's own way.

``torchrun --nproc_per_node N train.py ...`` starts N copies of ``train.py`` with ``RANK``,
``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous in their environment; :func:`started` joins
them in one process group (gloo on CPUs, NCCL on GPUs), and srcnn.tooling.training wraps the
model in DistributedDataParallel, so that every step averages the gradients of all processes.
A plain ``python train.py`` has none of that environment: one process, no group, the same code
path with ``world() == 1``.

Conventions (srcnn.tooling.training): the configured batch is the *global* batch; each of the
N processes ("ranks") computes ``batch_size / N`` of it, its contiguous share, and the
averaged gradients are those of the whole batch, so the learning rate stays as configured.
Rank 0 alone validates and writes (weights, history, snapshots, state, cards); the others
wait for it at :func:`barrier` or receive what they need by :func:`broadcast`.

State lives in torch.distributed (the default process group), the environment and the
SIGTERM handler :func:`started` installs (:class:`StopSignal`): this module keeps none of its own.
"""

from __future__ import annotations

import contextlib
import os
import signal
from datetime import timedelta
from typing import Any, Iterator

import torch
import torch.distributed as dist

TIMEOUT = timedelta(minutes=30)     # how long a rank waits for the others (rank 0 validating, a card)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def launched() -> bool:
    """Whether this process was started by torchrun (or another launcher setting WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def backend(device: str = "auto") -> str:
    """"nccl" where the processes train on GPUs (``device`` auto with CUDA present, or cuda),
    else "gloo" (CPUs)."""
    on_gpu = device.startswith("cuda") or (device == "auto" and torch.cuda.is_available())
    return "nccl" if on_gpu else "gloo"


@contextlib.contextmanager
def started(device: str = "auto") -> Iterator[None]:
    """Join the process group torchrun set up (a no-op in a plain process), for the whole block.

    On GPUs each rank takes the GPU of its ``LOCAL_RANK``. SIGINT and SIGTERM (what torchrun
    passes on to its workers when Ctrl-C or a scheduler stops it) are noted (:class:`StopSignal`)
    instead of raising wherever they land: the ranks agree to stop before the next step
    (:func:`should_stop`), as a Ctrl-C stops a plain process, and rank 0 saves the state. On
    leaving the block normally the ranks wait for each other, then leave the group."""
    if not launched():
        yield
        return
    kind = backend(device)
    if kind == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(kind, timeout=TIMEOUT)
    handler = StopSignal()
    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
        dist.barrier()
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        dist.destroy_process_group()


class StopSignal:
    """The SIGINT and SIGTERM handler of a torchrun worker: it only notes the signal. Raising
    there could land inside a collective operation; the loop asks :func:`should_stop` between steps."""

    def __init__(self):
        self.seen = False

    def __call__(self, signum, frame) -> None:
        self.seen = True


def stop_requested() -> bool:
    """Whether this process got SIGINT or SIGTERM inside :func:`started` (torchrun interrupted)."""
    handler = signal.getsignal(signal.SIGTERM)
    return isinstance(handler, StopSignal) and handler.seen


def should_stop() -> bool:
    """Whether any rank was told to stop (:func:`stop_requested`), agreed by all ranks at once
    (one small all-reduce), so that they all stop before the same step. Every rank must call
    it; False in a plain process, where Ctrl-C raises KeyboardInterrupt as usual."""
    if not active():
        return False
    t = torch.tensor([float(stop_requested())])
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def active() -> bool:
    return dist.is_available() and dist.is_initialized()


def rank() -> int:
    """This process's rank, 0 .. world() - 1 (0 in a plain process)."""
    return dist.get_rank() if active() else 0


def world() -> int:
    """How many processes train together (1 in a plain process)."""
    return dist.get_world_size() if active() else 1


def local_rank() -> int:
    """This process's index on its own machine (LOCAL_RANK; 0 in a plain process)."""
    return int(os.environ.get("LOCAL_RANK", "0")) if active() else 0


def is_main() -> bool:
    """Rank 0: the process that validates and writes."""
    return rank() == 0


def barrier() -> None:
    """Wait until every rank gets here (nothing in a plain process)."""
    if active():
        dist.barrier()


def broadcast(obj: Any) -> Any:
    """Rank 0's ``obj`` on every rank (pickled; tensors arrive on the CPU); ``obj`` itself in a
    plain process. Every rank must call it; the others' ``obj`` is ignored."""
    if not active():
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def check_same(value: Any, what: str) -> None:
    """ValueError on every rank whose ``value`` differs from rank 0's (e.g. a folder's listing on
    another machine); nothing in a plain process."""
    if active() and broadcast(value) != value:
        raise ValueError(f"rank {rank()} sees other {what} than rank 0: every machine needs the same")


def mean(values: list[float]) -> list[float]:
    """Each value averaged over the ranks (the values themselves in a plain process)."""
    if not active():
        return values
    t = torch.tensor(values, dtype=torch.float64)
    if dist.get_backend() == "nccl":
        t = t.cuda()
    dist.all_reduce(t)
    return (t / world()).tolist()


def share(batch_size: int) -> int:
    """This rank's part of a global batch: ``batch_size / world()``; ValueError if it does not divide."""
    n = world()
    if batch_size % n:
        raise ValueError(f"batch_size {batch_size} does not split evenly over {n} processes: the batch is "
                         f"the global one, each process computes batch_size / {n} of it; choose a multiple of {n}")
    return batch_size // n


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """``model`` in DistributedDataParallel (gradients averaged over the ranks at each backward;
    rank 0's weights broadcast to all at the start), or ``model`` itself in a plain process."""
    if not active():
        return model
    ids = [device.index if device.index is not None else local_rank()] if device.type == "cuda" else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)
